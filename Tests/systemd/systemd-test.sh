#!/usr/bin/env bash
# jointopsd under a real systemd: a throwaway systemd boots as PID 1 of new PID and mount
# namespaces (the recipe of ../shared/DESIGN.md, "systemd on these machines"), `make install`
# runs inside it, and the service is driven with systemctl, journalctl and jointopsctl.
#
# The host is protected: /run, /tmp and /var/tmp are private tmpfs mounts; /etc, /var and
# /usr are overlays whose writes land in .build/systemd-test (so users, units, state and the
# journal stay in the namespace); the boot target is minimal. Every wait is bounded, and the
# namespace's PID 1 is killed by its PID at the end. Prints "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
passed=0
failed=0

if [ "$(id -u)" != 0 ]; then
    echo "SKIPPED: the systemd test needs root (it boots a throwaway systemd in new namespaces)"
    exit 0
fi
for tool in unshare nsenter setsid /lib/systemd/systemd; do
    command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is missing"; exit 0; }
done
[ -x "$ROOT/.build/debug/jointopsd" ] && [ -x "$ROOT/.build/debug/jointopsctl" ] || { echo "build first: swift build"; exit 1; }

WORK="$ROOT/.build/systemd-test"
rm -rf "$WORK"
mkdir -p "$WORK"
LOG="$WORK/test.log"

check() {
    local name=$1
    shift
    if "$@" >>"$LOG" 2>&1; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "FAILED - $name (details in $LOG)"
        failed=$((failed + 1))
    fi
}

# --- Boot the throwaway systemd -------------------------------------------------------
cat >"$WORK/inner.sh" <<INNER
set -e
for dir in /etc /var /usr; do
    mkdir -p "$WORK/overlay\$dir/upper" "$WORK/overlay\$dir/work"
    mount -t overlay overlay -o "lowerdir=\$dir,upperdir=$WORK/overlay\$dir/upper,workdir=$WORK/overlay\$dir/work" "\$dir"
done
# The checkout may live under /tmp (CI clones anywhere): keep it reachable at its own path.
mkdir -p /var/lib/jointops-test-checkout
mount --rbind "$ROOT" /var/lib/jointops-test-checkout
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
if [ ! -d "$ROOT/.git" ]; then
    mkdir -p "$ROOT"
    mount --rbind /var/lib/jointops-test-checkout "$ROOT"
fi
mkdir -p /run/systemd/system
cat > /run/systemd/system/jointops-test.target <<TARGET
[Unit]
Description=jointops systemd test
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
TARGET
exec /lib/systemd/systemd --system --unit=jointops-test.target
INNER
setsid unshare --pid --fork --mount --mount-proc --propagation private --cgroup --uts --ipc bash "$WORK/inner.sh" >"$WORK/systemd.log" 2>&1 &
UNSHARE=$!
PID1=""
for _ in $(seq 100); do
    PID1=$(pgrep -P "$UNSHARE" | head -1)
    [ -n "$PID1" ] && nsenter -t "$PID1" -a systemctl is-system-running >/dev/null 2>&1 && break
    state=$(nsenter -t "$PID1" -a systemctl is-system-running 2>/dev/null)
    [ "$state" = "running" ] || [ "$state" = "degraded" ] && break
    sleep 0.2
done
if [ -z "$PID1" ]; then
    echo "FAILED - the throwaway systemd did not boot:"
    cat "$WORK/systemd.log"
    echo "0 passed, 1 failed"
    exit 1
fi
cleanup() {
    kill -9 "$PID1" 2>/dev/null
    wait "$UNSHARE" 2>/dev/null
    rm -rf "$WORK/overlay"
}
trap cleanup EXIT INT TERM

ns() { nsenter -t "$PID1" -a "$@"; }
# Bounded wait: until the command succeeds, at most $1 seconds.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq $((seconds * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
ctl() { ns /usr/local/bin/jointopsctl "$@" --socket /run/jointops/control.sock; }
main_pid() { ns systemctl show -p MainPID --value jointopsd.service; }

check "systemd boots in the namespace" wait_for 30 ns systemctl is-system-running --wait

# --- Install, for real, inside the namespace --------------------------------------------
check "make install (BUILD=debug)" ns make -s -C "$ROOT" install BUILD=debug
check "make install puts the manual pages in place, every jointopsctl command in its page" ns sh -c '
    for page in jointopsd jointopsctl; do test -s /usr/local/share/man/man1/$page.1 || exit 1; done
    for command in start list show history watch board units regions admin backup verify reload; do
        grep -q "^\.It Em $command\$" /usr/local/share/man/man1/jointopsctl.1 || { echo "no $command"; exit 1; }
    done'
if ns sh -c 'command -v man' >/dev/null 2>&1; then
    check "man jointopsctl finds the installed page" sh -c "nsenter -t $PID1 -a sh -c 'MANWIDTH=100 man jointopsctl 2>/dev/null' | grep -q 'Drive jointops operations'"
else
    echo "SKIPPED - man jointopsctl: man is not installed in this system (the page's content was checked above)"
fi
# The minimal target has no sysinit.target: let the units start without it (the units'
# own settings, hardening included, are what is tested).
for unit in jointopsd.socket jointopsd.service; do
    ns mkdir -p "/run/systemd/system/$unit.d"
    ns sh -c "printf '[Unit]\nDefaultDependencies=no\n' > /run/systemd/system/$unit.d/test.conf"
done
ns systemctl daemon-reload

check "systemd-analyze verify is clean" sh -c "! nsenter -t $PID1 -a systemd-analyze verify /usr/local/lib/systemd/system/jointopsd.socket /usr/local/lib/systemd/system/jointopsd.service 2>&1 | grep ."
exposure=$(ns systemd-analyze security --offline=yes /usr/local/lib/systemd/system/jointopsd.service 2>/dev/null | sed -n 's/.*Overall exposure level for jointopsd.service: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure" >>"$LOG"
check "systemd-analyze security exposure ≤ 1.0 (is $exposure)" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 1.0) }'
# The README enables the service (deadlines fire inside jointopsd, so it must run at boot
# without waiting for a client); Also= enables the socket with it. Nothing starts yet here.
check "enabling the service enables the socket too (Also=)" sh -c "nsenter -t $PID1 -a systemctl enable jointopsd.service >/dev/null 2>&1 && [ \"\$(nsenter -t $PID1 -a systemctl is-enabled jointopsd.service)\" = enabled ] && [ \"\$(nsenter -t $PID1 -a systemctl is-enabled jointopsd.socket)\" = enabled ]"
check "the enabled service is wanted at boot (multi-user.target)" sh -c "nsenter -t $PID1 -a systemctl show -p WantedBy --value jointopsd.service | grep -qw multi-user.target"
check "the service may open 65536 files (room for max_connections up to 16384)" sh -c "nsenter -t $PID1 -a systemctl show -p LimitNOFILE jointopsd.service | grep -qx LimitNOFILE=65536"
check "journald does not rate-limit the service (one entry per event; a restart's catch-up is a burst)" sh -c "nsenter -t $PID1 -a systemctl show -p LogRateLimitIntervalUSec jointopsd.service | grep -qx LogRateLimitIntervalUSec=0"

# --- Socket activation, readiness, status ------------------------------------------------
check "the socket starts" ns systemctl start jointopsd.socket
check "the service is not running before the first connection" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.service)\" != active ]"
check "the first connection starts the service and is answered" ctl workflows
check "the service is active (READY=1 was sent)" wait_for 10 sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.service)\" = active ]"
check "STATUS= shows the operations at a glance" wait_for 10 sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q 'open operation'"

check "an operation starts" ctl start armed-response --id OP-SD-1 --region hexi -a incident_type=armed_robbery -a priority=P1
acknowledged=0
for n in $(seq 20); do ctl note OP-SD-1 "report $n" >>"$LOG" 2>&1 && acknowledged=$((acknowledged + 1)); done
check "20 notes acknowledged" [ "$acknowledged" = 20 ]
# make install put the sample jurisdiction and roster in /etc/jointops; the first start imported the roster.
# (Outputs are captured first: with pipefail, grep -q closing the pipe early would fail the check.)
units_loaded() {
    local regions units
    regions=$(ctl regions) && units=$(ctl units --json) || return 1
    grep -q hexi-liulin <<<"$regions" && [ "$(grep -o '"status":"available"' <<<"$units" | wc -l)" -gt 100 ]
}
check "the installed jurisdiction and roster are loaded" units_loaded
dispatched() {
    local units
    ctl fire OP-SD-1 assess && ctl fire OP-SD-1 dispatch && units=$(ctl units --json) && grep -q '"operation":"OP-SD-1"' <<<"$units"
}
check "a dispatch under systemd commits real units" dispatched

# --- journald -------------------------------------------------------------------------
check "journalctl OPERATION_ID=… tells the operation's story" sh -c "nsenter -t $PID1 -a journalctl --no-pager OPERATION_ID=OP-SD-1 | grep -q 'note: report 20'"
journal_entry_is_the_logged_event() {
    local history sequence
    history=$(nsenter -t $PID1 -a /usr/local/bin/jointopsctl history OP-SD-1 --json --socket /run/jointops/control.sock) || return 1
    sequence=$(python3 -c 'import json, sys; print([e["sequence"] for e in json.load(sys.stdin)["events"] if e["description"] == "note: report 20"][0])' <<<"$history") || return 1
    nsenter -t $PID1 -a journalctl --no-pager EVENT_SEQUENCE="$sequence" | grep -q 'note: report 20'
}
check "journalctl EVENT_SEQUENCE=… finds the entry of that event of the log" journal_entry_is_the_logged_event
check "the journal says commits are synced (synchronous=FULL)" sh -c "nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service | grep -q 'commits synchronous=FULL'"
check "journalctl -x explains the start with the catalog text" sh -c "nsenter -t $PID1 -a journalctl --no-pager -x OPERATION_ID=OP-SD-1 | grep -q 'Follow it with: jointopsctl show OP-SD-1'"

# --- Reload ---------------------------------------------------------------------------
check "a valid systemctl reload succeeds" ns systemctl reload jointopsd.service
pid=$(main_pid)
[ "${pid:-0}" -gt 0 ] && ns kill -HUP "$pid"
check "SIGHUP reloads as well" wait_for 10 sh -c "[ \"\$(nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service | grep -c 'reloaded 6 workflows')\" -ge 2 ]"
ns cp /etc/jointops/workflows/public-assistance.yaml /tmp/public-assistance.yaml
ns sed -i 's/^version: 1/version: one/' /etc/jointops/workflows/public-assistance.yaml
check "an invalid systemctl reload fails" sh -c "! nsenter -t $PID1 -a systemctl reload jointopsd.service"
check "the validator's message is in the journal" sh -c "nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service | grep -q \"public-assistance.yaml:3:10: error: 'version' must be an integer\""
check "after a failed reload the service still answers" ctl workflows
ns cp /tmp/public-assistance.yaml /etc/jointops/workflows/public-assistance.yaml

# --- kill -9: restart, nothing lost, queued commands succeed ------------------------------
before=$(main_pid)
# Never 'kill 0' (the whole process group) when the service is not running.
[ "${before:-0}" -gt 0 ] && ns kill -9 "$before"
check "a command sent during the restart waits in the socket and succeeds" ctl note OP-SD-1 "during restart"
check "kill -9 leads to a restart" wait_for 30 sh -c "p=\$(nsenter -t $PID1 -a systemctl show -p MainPID --value jointopsd.service); [ \"\$p\" != 0 ] && [ \"\$p\" != $before ]"
check "every acknowledged command is still there" sh -c "[ \"\$(nsenter -t $PID1 -a /usr/local/bin/jointopsctl history OP-SD-1 --socket /run/jointops/control.sock | grep -c 'note: ')\" = 21 ]"
check "the event log verifies" ctl admin verify
# PrivateTmp=yes: the unit's /tmp is its own and deleted when it stops, so a backup there is
# refused with where to write it (it used to say "backup written" and be gone after a restart).
backup_refused() {
    local out
    out=$(ctl admin backup "$1/nightly.sqlite" 2>&1) && { echo "accepted: $out"; return 1; }
    echo "$out"
    echo "$out" | grep -q "private $1 (its unit has PrivateTmp=yes)"
}
check "a backup to /tmp is refused, saying why" backup_refused /tmp
check "a backup to /var/tmp is refused, saying why" backup_refused /var/tmp

# --- A break that admin verify finds is in the journal and leads systemctl status -----------
# Event 3 edited behind jointopsd's back (its append-only triggers dropped first), then mended.
db=/var/lib/jointops/jointops.sqlite
ns sqlite3 "$db" "DROP TRIGGER event_is_append_only_update; DROP TRIGGER event_is_append_only_delete; UPDATE event SET at = at + 1 WHERE sequence = 3;"
check "admin verify names the break (exit 1)" sh -c "! nsenter -t $PID1 -a /usr/local/bin/jointopsctl admin verify --socket /run/jointops/control.sock"
check "the journal has the break at critical level, with its MESSAGE_ID" sh -c "nsenter -t $PID1 -a journalctl --no-pager -p crit -u jointopsd.service MESSAGE_ID=86458f346f234193b2e47d5d1280778d | grep -q 'jointopsctl admin verify found the event log broken at event 3: '"
check "journalctl -x explains it with the catalog text" sh -c "nsenter -t $PID1 -a journalctl --no-pager -x MESSAGE_ID=86458f346f234193b2e47d5d1280778d | grep -q 'Subject: The event log is broken: jointopsctl admin verify found a break'"
check "STATUS= leads with EVENT LOG BROKEN at event 3" wait_for 10 sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q '^EVENT LOG BROKEN at event 3 (see the journal) — [0-9]* open operation'"
ns sqlite3 "$db" "UPDATE event SET at = at - 1 WHERE sequence = 3;
CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed'); END;
CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;"
check "mended, admin verify finds the chain intact" ctl admin verify
check "the journal has the intact verify's head (notice)" sh -c "nsenter -t $PID1 -a journalctl --no-pager -p notice -u jointopsd.service | grep -q 'event log verified (jointopsctl admin verify): chain intact: [0-9]* events, head [0-9a-f]*'"
check "STATUS= no longer leads with the break" wait_for 10 sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q '^[0-9]* open operation'"

# --- A wedged daemon: the watchdog restarts it ---------------------------------------------
before=$(main_pid)
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
start=$(date +%s)
[ "${before:-0}" -gt 0 ] && ns kill -STOP "$before"
check "SIGSTOP → the watchdog restarts the service" wait_for 60 sh -c "p=\$(nsenter -t $PID1 -a systemctl show -p MainPID --value jointopsd.service); [ \"\$p\" != 0 ] && [ \"\$p\" != $before ] && [ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.service)\" = active ]"
echo "watchdog kill to ready again: $(($(date +%s) - start)) s (WatchdogSec=10s)" | tee -a "$LOG"
check "NRestarts went up" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service)\" -gt $restarts ]"
check "it answers after the watchdog restart" ctl show OP-SD-1

# --- The configuration file is what the service follows (the unit passes no path flags) ----
ns cp -r /etc/jointops/workflows /etc/jointops/workflows-from-file
ns sh -c "echo 'workflows: /etc/jointops/workflows-from-file' >> /etc/jointops/jointopsd.yaml"
check "a restart with workflows: set in jointopsd.yaml loads that folder" sh -c "nsenter -t $PID1 -a systemctl restart jointopsd.service && nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service | grep -q 'workflows loaded from /etc/jointops/workflows-from-file'"
check "it answers after that restart" ctl show OP-SD-1

# --- metrics_listen without the unit's drop-in: refused before READY=1, not a restart loop ----
# The shipped unit allows Unix sockets only; the listener needs the README's drop-in. It used
# to be bound after READY=1: the restart "succeeded", then jointopsd died (exit 1) and
# Restart= looped until the service and its socket failed.
ns cp /etc/jointops/jointopsd.yaml /tmp/jointopsd.yaml.before-metrics
ns sh -c "echo 'metrics_listen: 127.0.0.1:0' >> /etc/jointops/jointopsd.yaml"
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
check "metrics_listen without the drop-in: systemctl restart fails (bound before READY=1)" sh -c "! nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it exited 78 (EX_CONFIG) and was not restarted" sh -c "sleep 3; [ \"\$(nsenter -t $PID1 -a systemctl show -p ExecMainStatus --value jointopsd.service)\" = 78 ] && [ \"\$(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service)\" = $restarts ]"
check "STATUS= says the unit allows no IP sockets and names the drop-in" sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q \"^failed to start: cannot listen for metrics on 127.0.0.1:0: .* — jointopsd's unit allows it no IP sockets .*install the metrics drop-in /etc/systemd/system/jointopsd.service.d/metrics.conf\""
check "the journal says so at critical level" sh -c "nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service -p crit | grep -q \"jointopsd does not start: cannot listen for metrics on 127.0.0.1:0: .* — jointopsd's unit allows it no IP sockets\""
check "the socket stays up (the next command is not lost to a failed socket)" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.socket)\" = active ]"
ns mkdir -p /etc/systemd/system/jointopsd.service.d
ns cp "$ROOT/systemd/metrics.conf.example" /etc/systemd/system/jointopsd.service.d/metrics.conf
ns systemctl daemon-reload
metrics_served() {
    local port
    nsenter -t $PID1 -a systemctl restart jointopsd.service || return 1
    port=$(nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service -n 200 | sed -n 's|.*serving metrics at http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' | tail -1)
    [ -n "$port" ] && python3 -c "import sys, urllib.request; sys.exit(b'jointops_open_operations' not in urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read())"
}
check "with the README's drop-in, it starts and serves GET /metrics" metrics_served
ns rm /etc/systemd/system/jointopsd.service.d/metrics.conf
ns systemctl daemon-reload
ns cp /tmp/jointopsd.yaml.before-metrics /etc/jointops/jointopsd.yaml
check "without metrics_listen it starts as before" ns systemctl restart jointopsd.service

# --- A mistake in jointopsd.yaml: one clear failure, not a restart loop ---------------------
ns cp /etc/jointops/jointopsd.yaml /tmp/jointopsd.yaml.good
ns sh -c "echo 'max_conections: 10' >> /etc/jointops/jointopsd.yaml"
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
check "a restart with a mistake in jointopsd.yaml fails" sh -c "! nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it exited 78 (EX_CONFIG) and was not restarted" sh -c "sleep 3; [ \"\$(nsenter -t $PID1 -a systemctl show -p ExecMainStatus --value jointopsd.service)\" = 78 ] && [ \"\$(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service)\" = $restarts ]"
check "the mistake is in the journal at error level, with FILE:LINE:COLUMN" sh -c "nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service -p err | grep -q \"jointopsd.yaml:[0-9]*:1: error: unknown setting 'max_conections'; did you mean 'max_connections'\""
check "systemctl status says what to correct" sh -c "nsenter -t $PID1 -a systemctl status jointopsd.service --no-pager 2>&1 | grep -q 'configuration error in /etc/jointops/jointopsd.yaml'"
# A client reaching the socket meanwhile starts the failing service again. The connection was
# never accepted, so systemd started it 4 times in under a second until the socket failed
# (service-start-limit-hit), and jointopsctl said "it may be restarting — run the command
# again". Now that start answers it with why, and leaves nothing waiting to start it again.
ns sh -c "echo 'watch_bufer: 3' >> /etc/jointops/jointopsd.yaml"
refusals() { nsenter -t $PID1 -a journalctl --no-pager -o cat -u jointopsd.service | grep -c 'jointopsd does not start: 2 mistakes'; }
before=$(refusals)
told_why() {
    local out
    out=$(ctl list 2>&1)
    [ $? = 69 ] || return 1
    grep -q "^jointopsctl: jointopsd cannot start (the first of 2 problems): /etc/jointops/jointopsd.yaml:[0-9]*:1: error: unknown setting 'max_conections'" <<<"$out" &&
        grep -qF "Fix it, then: systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd" <<<"$out"
}
check "jointopsctl list is told why jointopsd cannot start (exit 69)" told_why
started_once() { sleep 3; [ $(($(refusals) - before)) = 1 ]; }
check "that client started it once, not in a loop" started_once
check "the journal says the waiting connection was answered" sh -c "nsenter -t $PID1 -a journalctl --no-pager -u jointopsd.service | grep -q 'answered 1 connection waiting in the socket: jointopsd cannot start'"
check "the socket is still listening (no service-start-limit-hit)" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.socket)\" = active ] && [ \"\$(nsenter -t $PID1 -a systemctl show -p Result --value jointopsd.socket)\" = success ]"
ns cp /tmp/jointopsd.yaml.good /etc/jointops/jointopsd.yaml
# As docs/configuration.md says after a client reached the socket meanwhile.
check "once corrected, reset-failed then restart starts it again" sh -c "nsenter -t $PID1 -a systemctl reset-failed jointopsd.service jointopsd.socket && nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it answers after the correction" ctl show OP-SD-1

# --- Start failures a restart cannot mend: 78 (or 64), not a loop into the start limit -------
# Each of these exited 1, so Restart=on-failure retried a start that could not succeed until
# systemd's start limit failed the service (and its socket). Each section begins with the
# start-limit counter reset: the quick starts of the sections before are not what is tested.
status_text() { nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service; }
exited_78_once() {
    sleep 3
    [ "$(nsenter -t $PID1 -a systemctl show -p ExecMainStatus --value jointopsd.service)" = "${2:-78}" ] &&
        [ "$(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service)" = "$1" ]
}

# A database copied into place as root (a restore with cp): root's, mode 0600.
ns systemctl reset-failed jointopsd.service jointopsd.socket
ns systemctl stop jointopsd.service >>"$LOG" 2>&1
ns sh -c "chown root:root /var/lib/jointops/jointops.sqlite && chmod 0600 /var/lib/jointops/jointops.sqlite"
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
check "a database owned by root: the start fails" sh -c "! nsenter -t $PID1 -a systemctl start jointopsd.service"
check "it exited 78 and was not restarted" exited_78_once "$restarts"
check "STATUS= says Permission denied, whose the file is, who jointopsd runs as, and the chown" sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -qF 'cannot open /var/lib/jointops/jointops.sqlite: Permission denied — the file belongs to root:root with mode 0600, and jointopsd runs as jointops, which may not use it (a backup copied into place as root?). Give the store'\''s files back to jointopsd'\''s user: chown jointops:jointops /var/lib/jointops/jointops.sqlite*'"
# Every failed start was sent as ERRNO=5 (EIO), so `systemctl status` said "Error: 5
# (Input/output error)" under the STATUS= that gave the real reason: none is sent when no errno is the cause.
check "systemctl status shows no errno that is not the cause (StatusErrno=0, no 'Error: 5')" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl show -p StatusErrno --value jointopsd.service)\" = 0 ] && ! nsenter -t $PID1 -a systemctl status jointopsd.service --no-pager 2>&1 | grep -q 'Error: 5'"
ns sh -c "chown jointops:jointops /var/lib/jointops/jointops.sqlite*"
check "after the chown it says, it starts with its operations" sh -c "nsenter -t $PID1 -a systemctl start jointopsd.service && nsenter -t $PID1 -a /usr/local/bin/jointopsctl show OP-SD-1 --socket /run/jointops/control.sock >/dev/null"

# state_directory outside /var/lib/jointops without the ReadWritePaths= drop-in: the unit's
# sandbox (ProtectSystem=strict) makes it read-only. (/var/opt: inside this test's overlay.)
ns systemctl reset-failed jointopsd.service jointopsd.socket
ns cp /etc/jointops/jointopsd.yaml /tmp/jointopsd.yaml.before-state
ns sh -c "echo 'state_directory: /var/opt/jointops-state' >> /etc/jointops/jointopsd.yaml"
ns rm -rf /var/opt/jointops-state
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
check "state_directory outside the sandbox, folder missing: the restart fails" sh -c "! nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it exited 78 and was not restarted" exited_78_once "$restarts"
check "STATUS= blames the sandbox, not the volume, and says to make the folder and the drop-in" sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q 'cannot make the state directory /var/opt/jointops-state: the unit.s sandbox (ProtectSystem=strict) makes /var/opt read-only for jointopsd, which may write only in its StateDirectory, /var/lib/jointops — make the folder yourself (install -d -o jointops -g jointops -m 0750 /var/opt/jointops-state), open it to jointopsd with a drop-in, systemctl edit jointopsd: \[Service\] ReadWritePaths=/var/opt/jointops-state'"
ns install -d -o jointops -g jointops -m 0750 /var/opt/jointops-state
ns systemctl reset-failed jointopsd.service jointopsd.socket
check "the folder made but no drop-in: the restart fails" sh -c "! nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it exited 78 and was not restarted" exited_78_once "$restarts"
check "STATUS= says the sandbox makes it read-only and names ReadWritePaths=, not a remount" sh -c "s=\$(nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service); echo \"\$s\" | grep -q 'the state directory /var/opt/jointops-state is read-only for jointopsd: the unit.s sandbox (ProtectSystem=strict) lets it write only in its StateDirectory, /var/lib/jointops — open the folder to it with a drop-in, systemctl edit jointopsd: \[Service\] ReadWritePaths=/var/opt/jointops-state' && ! echo \"\$s\" | grep -q '^failed to start: cannot open .*remount it read-write'"
ns mkdir -p /etc/systemd/system/jointopsd.service.d
ns sh -c "printf '[Service]\nReadWritePaths=/var/opt/jointops-state\n' > /etc/systemd/system/jointopsd.service.d/state.conf"
ns systemctl daemon-reload
ns systemctl reset-failed jointopsd.service jointopsd.socket
check "with the drop-in it says, it starts there" sh -c "nsenter -t $PID1 -a systemctl restart jointopsd.service && nsenter -t $PID1 -a test -e /var/opt/jointops-state/jointops.sqlite"
ns rm /etc/systemd/system/jointopsd.service.d/state.conf
ns systemctl daemon-reload
ns cp /tmp/jointopsd.yaml.before-state /etc/jointops/jointopsd.yaml
ns systemctl reset-failed jointopsd.service jointopsd.socket
check "back in /var/lib/jointops, with its operations" sh -c "nsenter -t $PID1 -a systemctl restart jointopsd.service && nsenter -t $PID1 -a /usr/local/bin/jointopsctl show OP-SD-1 --socket /run/jointops/control.sock >/dev/null"

# A mistake in the command line (a drop-in's ExecStart=): 64, not restarted, said in STATUS=.
ns systemctl reset-failed jointopsd.service jointopsd.socket
ns sh -c "printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/jointopsd --config /etc/jointops/jointopsd.yaml --log-levle debug\n' > /run/systemd/system/jointopsd.service.d/usage.conf"
ns systemctl daemon-reload
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
check "a usage error in ExecStart=: the restart fails" sh -c "! nsenter -t $PID1 -a systemctl restart jointopsd.service"
check "it exited 64 and was not restarted (RestartPreventExitStatus=78 64)" exited_78_once "$restarts" 64
check "STATUS= says the usage error and where to correct it" sh -c "nsenter -t $PID1 -a systemctl show -p StatusText --value jointopsd.service | grep -q \"^usage error in jointopsd's command line: .*--log-levle.* — correct ExecStart= in a drop-in (systemctl edit jointopsd\""
ns rm /run/systemd/system/jointopsd.service.d/usage.conf
ns systemctl daemon-reload
ns systemctl reset-failed jointopsd.service jointopsd.socket
check "once corrected, it starts again" ns systemctl restart jointopsd.service

# --- A full disk at start: tried again until there is room, then up by itself --------------
# A full disk exits 1 (a restart may mend it), but under systemd's default start limit the
# service and its socket failed within seconds (service-start-limit-hit) and stayed failed
# once space was freed. The state directory is a small tmpfs here, with the store as a
# clean stop or a restore leaves it (no -wal, no -shm), filled to its last byte.
ns systemctl reset-failed jointopsd.service jointopsd.socket
ns systemctl stop jointopsd.service >>"$LOG" 2>&1
ns rm -rf /tmp/state-before-full /tmp/state-after-full
ns cp -a /var/lib/jointops /tmp/state-before-full
ns mount -t tmpfs -o size=16m,mode=0750 tmpfs /var/lib/jointops
ns cp -a /tmp/state-before-full/. /var/lib/jointops/
ns chown jointops:jointops /var/lib/jointops
ns sh -c 'rm -f /var/lib/jointops/jointops.sqlite-wal /var/lib/jointops/jointops.sqlite-shm
    dd if=/dev/zero of=/var/lib/jointops/filler bs=64k 2>/dev/null; dd if=/dev/zero of=/var/lib/jointops/filler-tail bs=1 2>/dev/null; true'
echo "full state disk: $(ns df -B1 --output=avail /var/lib/jointops | tail -1) bytes free" >>"$LOG"
restarts=$(ns systemctl show -p NRestarts --value jointopsd.service)
ns systemctl start --no-block jointopsd.service
still_tried() {
    sleep 15
    local state
    state=$(nsenter -t $PID1 -a systemctl show -p ActiveState --value jointopsd.service)
    echo "after 15 s: $state, NRestarts $(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service) (was $restarts)"
    # activating (auto-restart, or starting again), never failed or given up on.
    [ "$state" = activating ] || [ "$state" = deactivating ] || return 1
    [ "$(nsenter -t $PID1 -a systemctl show -p NRestarts --value jointopsd.service)" -ge $((restarts + 2)) ]
}
check "a full state disk at start: still being tried after 15 s, not failed" still_tried
check "the socket stays up meanwhile (no service-start-limit-hit)" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.socket)\" = active ] && [ \"\$(nsenter -t $PID1 -a systemctl show -p Result --value jointopsd.socket)\" = success ]"
said_full() {
    local said
    said=$(nsenter -t $PID1 -a journalctl --no-pager -o cat -u jointopsd.service -n 300 | grep 'jointopsd cannot run: ')
    echo "$said" | tail -3
    grep -q 'jointopsd cannot run: opening the store failed: the disk holding /var/lib/jointops/jointops.sqlite is full (0.0 MB free of 16.8 MB on the file system holding /var/lib/jointops; ' <<<"$said" &&
        ! grep -q 'Check the disk (dmesg)' <<<"$said"
}
check "the journal says the disk is full, not an I/O error to check with dmesg" said_full
# A command sent meanwhile waits in the socket.
(ctl show OP-SD-1 >"$WORK/waited.out" 2>&1; echo $? >"$WORK/waited.rc") &
waiting=$!
sleep 1
ns rm /var/lib/jointops/filler /var/lib/jointops/filler-tail
check "space freed, it comes up by itself (nobody runs systemctl)" wait_for 30 sh -c "[ \"\$(nsenter -t $PID1 -a systemctl is-active jointopsd.service)\" = active ]"
check "the command that waited meanwhile is answered" wait_for 30 sh -c "[ \"\$(cat $WORK/waited.rc 2>/dev/null)\" = 0 ] && grep -q OP-SD-1 $WORK/waited.out"
kill "$waiting" 2>/dev/null
wait "$waiting" 2>/dev/null
check "it serves its operations" ctl show OP-SD-1
ns systemctl stop jointopsd.service >>"$LOG" 2>&1
ns cp -a /var/lib/jointops /tmp/state-after-full
ns umount /var/lib/jointops
ns cp -a /tmp/state-after-full/. /var/lib/jointops/
check "back on its own disk, it starts with its operations" sh -c "nsenter -t $PID1 -a systemctl start jointopsd.service && nsenter -t $PID1 -a /usr/local/bin/jointopsctl show OP-SD-1 --socket /run/jointops/control.sock >/dev/null"

# --- A clean stop ---------------------------------------------------------------------
check "systemctl stop is clean" ns systemctl stop jointopsd.service
check "the stop ended with Result=success" sh -c "[ \"\$(nsenter -t $PID1 -a systemctl show -p Result --value jointopsd.service)\" = success ]"

echo "systemd: $passed passed, $failed failed"
[ "$failed" = 0 ]
