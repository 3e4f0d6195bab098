"""jointopsd through an independent Varlink client: the PyPI `varlink` package, both its
client API and `python3 -m varlink.cli`. The test starts the daemon built by `swift build`
itself and stops it by its PID."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import varlink

ROOT = Path(__file__).resolve().parent.parent.parent
DAEMON = ROOT / ".build" / "debug" / "jointopsd"


@pytest.fixture()
def daemon():
    yield from running_daemon("")


@pytest.fixture()
def daemon_of_two_connections():
    yield from running_daemon("max_connections: 2\n")


@pytest.fixture()
def daemon_with_a_one_second_assessment():
    """The shipped workflows, armed-response's 2-minute assessment deadline cut to 1 s."""
    workflows = Path(tempfile.mkdtemp(prefix="jointopsd-py-workflows-"))
    try:
        shutil.copytree(ROOT / "Workflows", workflows, dirs_exist_ok=True)
        armed = workflows / "armed-response.yaml"
        text = armed.read_text()
        assert "from: started\n    within: 2m" in text
        armed.write_text(text.replace("from: started\n    within: 2m", "from: started\n    within: 1s", 1))
        yield from running_daemon("", workflows)
    finally:
        shutil.rmtree(workflows, ignore_errors=True)


def running_daemon(configuration, workflows=ROOT / "Workflows"):
    assert DAEMON.exists(), f"build the daemon first (swift build): {DAEMON} is missing"
    folder = Path(tempfile.mkdtemp(prefix="jointopsd-py-"))
    socket_path = folder / "control.sock"
    log = open(folder / "jointopsd.log", "w")
    (folder / "jointopsd.yaml").write_text(configuration)
    process = subprocess.Popen(
        [str(DAEMON), "--config", str(folder / "jointopsd.yaml"), "--state-directory", str(folder / "state"),
         "--socket", str(socket_path), "--workflows", str(workflows)],
        stdout=log, stderr=log)
    deadline = time.time() + 10
    while not socket_path.exists():
        assert process.poll() is None, (folder / "jointopsd.log").read_text()
        assert time.time() < deadline, "jointopsd did not listen within 10 s"
        time.sleep(0.05)
    try:
        yield f"unix:{socket_path}"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def start(operations, id):
    return operations.Start(workflow="armed-response", region="hexi", id=id,
                            attributes={"incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"})


def test_the_client_api_drives_an_operation(daemon):
    with varlink.Client(address=daemon) as client, client.open("io.jointops.Operations") as operations:
        started = start(operations, "OP-PY-1")
        assert started["operation"]["phase"] == "reported"
        operations.Fire(id="OP-PY-1", event="assess")
        reply = operations.Fire(id="OP-PY-1", event="dispatch")
        assert reply["operation"]["phase"] == "responding"
        assert {branch["instance"] for branch in reply["operation"]["branches"]} == {"public_order", "swat", "traffic"}
        reply = operations.Advance(id="OP-PY-1", branch="swat", step="on_scene")
        swat = next(branch for branch in reply["operation"]["branches"] if branch["instance"] == "swat")
        assert swat["step"] == "on_scene"
        history = operations.History(id="OP-PY-1")["events"]
        assert [event["kind"] for event in history][-1] == "step_entered"
        paged, after = [], 0
        while after is not None:
            page = operations.History(id="OP-PY-1", limit=3, after=after)
            paged += page["events"]
            after = page.get("next")
        assert paged == history, "History's pages (limit, after, next) concatenate to the whole trail"


def test_typed_errors_reach_the_client(daemon):
    with varlink.Client(address=daemon) as client, client.open("io.jointops.Operations") as operations:
        start(operations, "OP-PY-2")
        with pytest.raises(varlink.VarlinkError) as refused:
            operations.Close(id="OP-PY-2", disposition="resolved")
        assert refused.value.error() == "io.jointops.Operations.CommandRefused"
        assert refused.value.parameters()["phase"] == "reported"
        assert "fire assess" in refused.value.parameters()["allowed"]
        with pytest.raises(varlink.VarlinkError) as missing:
            operations.Show(id="OP-NOPE")
        assert missing.value.error() == "io.jointops.Operations.OperationNotFound"


def test_the_interface_description_parses_in_an_independent_implementation(daemon):
    with varlink.Client(address=daemon) as client:
        interface = client.get_interface("io.jointops.Operations")
        assert interface.name == "io.jointops.Operations"
        assert interface.get_method("Start") is not None
        assert {"CommandRefused", "Operation", "Watch"} <= set(interface.members)
        assert client.get_interfaces() == ["org.varlink.service", "io.jointops.Operations", "io.jointops.Admin", "io.jointops.Units"]


def test_no_interface_gives_one_name_to_two_members(daemon):
    # Types, methods and errors share one namespace (varlink.org, Interface Definition): a
    # client keeps one member per name, so a type named as a method breaks the method's replies.
    with varlink.Client(address=daemon) as client:
        for name in client.get_interfaces():
            description = client.get_interface(name).description
            names = [line.split()[1].split("(")[0] for line in description.splitlines()
                     if line.split()[:1] in (["type"], ["method"], ["error"])]
            assert len(names) == len(set(names)), f"{name}: {sorted(n for n in names if names.count(n) > 1)}"


def test_late_deadlines_reach_the_client_typed(daemon_with_a_one_second_assessment):
    with varlink.Client(address=daemon_with_a_one_second_assessment) as client, \
            client.open("io.jointops.Operations") as operations:
        start(operations, "OP-PY-LATE")
        deadline = time.time() + 10
        overdue = []
        while not overdue and time.time() < deadline:
            overdue = operations.Overdue()["overdue"]
            time.sleep(0.2)
        assert [entry["operation"] for entry in overdue] == ["OP-PY-LATE"]
        assert overdue[0]["deadline"] == "assessment"
        assert overdue[0]["alerted"][0] == "command_center"


def test_the_command_line_client_calls_and_reports_errors(daemon):
    call = [sys.executable, "-m", "varlink.cli", "call"]
    result = subprocess.run(call + [f"{daemon}/io.jointops.Operations.Workflows", "{}"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    workflows = json.loads(result.stdout)["workflows"]
    assert len(workflows) >= 6
    result = subprocess.run(call + [f"{daemon}/io.jointops.Operations.Show", '{"id": 5}'], capture_output=True, text=True, timeout=30)
    assert "org.varlink.service.InvalidParameter" in result.stdout + result.stderr
    info = subprocess.run([sys.executable, "-m", "varlink.cli", "info", daemon], capture_output=True, text=True, timeout=30)
    assert "io.jointops.Operations" in info.stdout


def test_a_connection_beyond_the_limit_is_told_why(daemon_of_two_connections):
    address = daemon_of_two_connections
    held = []
    for _ in range(2):
        connection = socket.socket(socket.AF_UNIX)
        connection.connect(address.removeprefix("unix:"))
        held.append(connection)
    time.sleep(0.2)
    with pytest.raises(varlink.VarlinkError) as refused:
        with varlink.Client(address=address) as client, client.open("io.jointops.Operations") as operations:
            operations.Workflows()
    assert refused.value.error() == "io.jointops.Operations.TooManyConnections"
    assert refused.value.parameters()["limit"] == 2
    assert "max_connections" in str(refused.value)
    result = subprocess.run([sys.executable, "-m", "varlink.cli", "call", f"{address}/io.jointops.Operations.Workflows", "{}"],
                            capture_output=True, text=True, timeout=30)
    assert "TooManyConnections" in result.stdout + result.stderr
    for connection in held:
        connection.close()


def test_set_attributes_dispatches_swat_once_a_weapon_is_confirmed(daemon):
    with varlink.Client(address=daemon) as client, client.open("io.jointops.Operations") as operations:
        operations.Start(workflow="armed-response", region="hexi", id="OP-PY-SET",
                         attributes={"incident_type": "armed_robbery", "priority": "P2"})
        operations.Fire(id="OP-PY-SET", event="assess")
        reply = operations.Fire(id="OP-PY-SET", event="dispatch")
        assert "swat" not in {branch["instance"] for branch in reply["operation"]["branches"]}
        assert client.get_interface("io.jointops.Operations").get_method("SetAttributes") is not None
        reply = operations.SetAttributes(id="OP-PY-SET", attributes={"weapon_involved": "true"}, requestId="py-set-1")
        assert reply["operation"]["attributes"]["weapon_involved"] == "true"
        assert "swat" in {branch["instance"] for branch in reply["operation"]["branches"]}
        with pytest.raises(varlink.VarlinkError) as refused:
            operations.SetAttributes(id="OP-PY-SET", attributes={"weapon_involved": "true"})
        assert refused.value.error() == "io.jointops.Operations.CommandRefused"
        assert refused.value.parameters()["reason"] == "weapon_involved is already true: nothing changes"
