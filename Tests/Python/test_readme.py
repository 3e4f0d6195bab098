"""The README's walk-through, run as written: `make run` starts the daemon, then every line
of the walk-through block runs in one shell, in order, and must succeed."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def block(name):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name}:.*?```sh\n(.*?)```\n<!-- end {name} -->", text, re.S)
    assert found, f"the README has no {name} block"
    return found.group(1)


def walkthrough():
    return block("walkthrough")


def test_the_readme_walkthrough_works_as_written():
    script = walkthrough()
    assert "jointopsctl close OP-DEMO-1" in script
    folder = Path(tempfile.mkdtemp(prefix="jointops-readme-"))
    # The walk-through runs in "the same folder" as make run: .jointops and .build are there.
    (folder / ".build").symlink_to(ROOT / ".build")
    home = folder / ".jointops"
    daemon = subprocess.Popen(["make", "-s", "-C", str(ROOT), "run", f"JOINTOPS_HOME={home}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 300
        while not (home / "control.sock").exists():
            assert daemon.poll() is None, daemon.stdout.read().decode()
            assert time.time() < deadline, "make run did not start jointopsd within 5 minutes"
            time.sleep(0.2)
        result = subprocess.run(["bash", "-e", "-x", "-c", script], cwd=folder, capture_output=True, text=True, timeout=400,
                                env={**os.environ, "NO_COLOR": "1"})
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "OP-DEMO-1: phase reported" in out
        assert re.search(r"OP-DEMO-1\s+armed-response\s+reported\s+hexi\s+P1\s+0\s+1", out), "list --overdue shows the escalation"
        assert re.search(r"OP-DEMO-1\s+P1\s+hexi\s+assessment\s+-\s+.*#1\s+command_center, duty_commander\s+no", out), "overdue lists the late step"
        assert re.search(r"hx-swat-01\s+\S+\s+swat\s+hexi-swat\s+armed\s+dispatched\s+OP-DEMO-1 swat", out), "the dispatch took real units"
        assert re.search(r"hx-swat-02\s+\S+\s+swat\s+hexi-swat\s+\S+\s+returning\s+-", out), "SWAT comes back through returning"
        assert re.search(r"^hexi\s+district\s+.*OP-DEMO-1", out, re.M), "regions shows the operation in hexi"
        assert "OP-DEMO-1: phase closed" in out
        assert "closed: suspect_arrested" in out
        assert "deadline assessment missed" in out, "history and watch show the escalation"
        assert "chain intact" in out
        assert "## Deadlines, planned against actual" in out
        assert re.search(r"\| assessment \| operation \| .* \| met, [0-9dhms]+ late \(escalation #1\) \|", out), "the report shows the late assessment"
        # The supervisor's day runs in the same folder and shell setup as the walk-through.
        setup = script.splitlines()[0]
        assert setup.startswith("export PATH=")
        result = subprocess.run(["bash", "-e", "-x", "-o", "pipefail", "-c", setup + "\n" + block("supervisor")], cwd=folder,
                                capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "No late steps." in out, "the board shows nothing late once the walk-through is done"
        assert "OP-DEMO-1 rated 2/5; dissatisfied: rectification OP-" in out
        assert re.search(r"OP-\d{8}-\d{4}\s+service-evaluation-followup\s+received\s+hexi", out), "the follow-up runs in hexi"
        assert re.search(r"operations started\s+2\s+0\s+-", out), "the demo and its follow-up were reported today"
        assert re.search(r"deadline assessment met on time\s+0\.0%", out), "the assessment was met late"
        assert re.search(r"ratings dissatisfied \(1–2\)\s+1\s+0", out)
        assert "operations.started,operations started,count,1,0," in out, "hexi with swat: the demo only"
        assert 'jointops_commands_total{method=' in out
    finally:
        try:
            # SIGTERM to make and jointopsd alike; jointopsd shuts down gracefully.
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=30)
            log = daemon.stdout.read().decode()
            assert "stopped" in log, log
            assert not (home / "control.sock").exists()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
