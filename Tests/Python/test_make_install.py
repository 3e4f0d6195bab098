"""`make install` as an administrator runs it, into a DESTDIR: it installs the binaries
already built without calling swift (`sudo` has no swift on Debian), refuses to build under
sudo, says what to do next on a first installation and on an upgrade, and puts every file
at the path the README names. It runs on a copy of the repository's install inputs with
stand-in binaries, so it needs no Swift build and never touches the host."""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def tree(tmp_path):
    """A copy of what `make install` reads, with stand-in binaries newer than the sources."""
    source = tmp_path / "repo"
    for name in ["Makefile", "README.md", "Package.swift", "Package.resolved"]:
        source.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    for folder in ["docs", "systemd", "Regions", "Workflows", "Sources"]:
        shutil.copytree(ROOT / folder, source / folder)
    build = source / ".build" / "release"
    build.mkdir(parents=True)
    later = time.time() + 60
    for binary in ["jointopsd", "jointopsctl"]:
        (build / binary).write_text("#!/bin/sh\necho stand-in\n")
        (build / binary).chmod(0o755)
        os.utime(build / binary, (later, later))
        page = build / "man" / f"{binary}.1"
        page.parent.mkdir(exist_ok=True)
        page.write_text(f".Nm {binary}\n")
        os.utime(page, (later + 1, later + 1))
    return source


def make(tree, destdir, *arguments, sudo_user=None):
    environment = {key: value for key, value in os.environ.items() if key != "SUDO_USER"}
    if sudo_user:
        environment["SUDO_USER"] = sudo_user
    # SWIFT=false: any call of swift fails the install, as a missing swift does under sudo.
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(tree), "install", f"DESTDIR={destdir}", "PREFIX=/usr/local", "SWIFT=false", *arguments],
        capture_output=True, text=True, env=environment)


def test_install_uses_the_built_binaries_and_never_calls_swift(tree, tmp_path):
    destdir = tmp_path / "root"
    first = make(tree, destdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (destdir / "usr/local/bin/jointopsd").read_text() == "#!/bin/sh\necho stand-in\n"
    assert first.stdout.rstrip().endswith(
        "installed; start it now and at every boot with: systemctl enable --now jointopsd"), first.stdout


def test_an_upgrade_says_to_restart_the_running_service(tree, tmp_path):
    destdir = tmp_path / "root"
    assert make(tree, destdir).returncode == 0
    (destdir / "etc/jointops/jointopsd.yaml").write_text("units: /etc/jointops/units.yaml\nlog_level: info\n")
    again = make(tree, destdir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "upgrade: /etc/jointops kept as it is" in again.stdout
    last = again.stdout.rstrip().splitlines()[-1]
    assert "restart it to run the new binary: systemctl restart jointopsd" in last, again.stdout
    assert "enable --now" not in last.split("(")[0], last
    assert (destdir / "etc/jointops/jointopsd.yaml").read_text().endswith("log_level: info\n"), "an upgrade keeps /etc"


def test_stale_binaries_are_not_built_under_sudo(tree, tmp_path):
    later = time.time() + 120
    os.utime(tree / "Sources/jointopsd/JointOpsD.swift", (later, later))
    refused = make(tree, tmp_path / "root", sudo_user="alice")
    assert refused.returncode != 0
    assert "build it as alice first (make build-release), then sudo make install again" in refused.stderr, refused.stderr
    assert not (tmp_path / "root/usr/local/bin/jointopsd").exists()
    # As yourself, the stale binaries are built (here by a stand-in swift) and then installed.
    built = make(tree, tmp_path / "root", "SWIFT=echo swift")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "swift build -c release --product jointopsd" in built.stdout


def test_stale_manual_pages_are_not_made_under_sudo(tree, tmp_path):
    later = time.time() + 180
    os.utime(tree / ".build/release/jointopsctl", (later, later))
    refused = make(tree, tmp_path / "root", sudo_user="alice")
    assert refused.returncode != 0
    assert "make them as alice first (make build-release), then sudo make install again" in refused.stderr, refused.stderr
    assert not (tmp_path / "root/usr/local/share/man/man1/jointopsctl.1").exists()


def test_the_manual_pages_are_installed(tree, tmp_path):
    destdir = tmp_path / "root"
    assert make(tree, destdir).returncode == 0
    for page in ["jointopsd", "jointopsctl"]:
        assert (destdir / f"usr/local/share/man/man1/{page}.1").read_text() == f".Nm {page}\n"


def test_every_installed_path_the_readme_names_exists(tree, tmp_path):
    destdir = tmp_path / "root"
    assert make(tree, destdir).returncode == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(\$\(PREFIX\)/[^`\s]*|/etc/jointops/[^`\s]*)`", readme))
    assert "$(PREFIX)/share/doc/jointops/systemd/metrics.conf.example" in named
    missing = [path for path in sorted(named)
               if not list(destdir.glob(path.replace("$(PREFIX)", "usr/local").strip("/")))]
    assert not missing, f"the README names paths make install does not create: {missing}"


def test_the_installed_catalog_names_the_installed_documents(tree, tmp_path):
    destdir = tmp_path / "root"
    assert make(tree, destdir).returncode == 0
    catalog = (destdir / "usr/local/lib/systemd/catalog/jointops.catalog").read_text(encoding="utf-8")
    assert "@DOCDIR@" not in catalog
    assert "/usr/local/share/doc/jointops/docs/storage.md" in catalog
    assert (destdir / "usr/local/share/doc/jointops/docs/storage.md").exists()
    assert "jointopsctl acknowledge @OPERATION_ID@ --deadline NAME" in catalog
