#!/usr/bin/env python3
"""units.py: start installed systemd units the way systemd would, where there is no systemd
(test_package.sh runs it in a chroot with the Debian package installed).

    units.py UNITDIR STATEDIR UNIT... -- COMMAND...

starts the units, runs COMMAND (the test's checks) while they run, then stops them with SIGTERM
as systemctl stop does (KillSignal=SIGTERM) and waits; its exit status is COMMAND's, or 1 when
a unit failed to start or did not exit 0 within TimeoutStopSec= (default 30 s).

Of a unit it reads what running the service needs: Environment=, EnvironmentFile= (a leading
"-" lets the file be missing), ExecStart= with ${VAR} (one word) and %i (the instance of a
template such as newswire-parse@9201), User=, Group=, WorkingDirectory=, Type=, WatchdogSec=
and TimeoutStopSec=. Each unit gets its own NOTIFY_SOCKET (a Unix datagram socket in STATEDIR
that a watcher process reads, as systemd's manager does), WATCHDOG_USEC from WatchdogSec=
(UNITS_WATCHDOG_SEC, when set, replaces the units' intervals, as a drop-in would, so a short
test sees the pings) and WATCHDOG_PID. The units start at once (After= orders nothing that
matters here: a service connects to a broker that comes up later); COMMAND runs once every
Type=notify unit sent READY=1, which is when `systemctl start` returns. A unit that exits
first, or sends no READY=1 within UNITS_READY_TIMEOUT seconds (default 60), fails the run.
Every datagram is appended to STATEDIR/<unit>.notify, one line per assignment, so a test can
check that READY=1, WATCHDOG=1 and STOPPING=1 arrived; a unit's output goes to
STATEDIR/<unit>.log. Sandboxing (ProtectSystem=...) is not applied: this checks the units'
command lines, users and environment, not systemd.
"""
import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time


def parse_unit(path):
    keys = {}
    section = None
    for raw in open(path):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        if section == "Service":
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def env_file(path, env):
    for raw in open(path):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        k, _, v = line.partition("=")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        env[k.strip()] = v


def seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|min)?", text)
    if not m:
        raise SystemExit(f"units.py: cannot read the duration {text!r}")
    n = int(m.group(1))
    return {"ms": n / 1000, "s": n, None: n, "min": n * 60}[m.group(2)]


def watch(sock_path, log_path):
    """The manager's side of sd_notify: append each datagram's assignments to log_path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    os.chmod(sock_path, 0o666)  # the service runs as its own user, as under systemd
    pid = os.fork()
    if pid:
        s.close()
        return pid
    try:
        with open(log_path, "a", buffering=1) as log:
            while True:
                data = s.recv(4096)
                for assignment in data.decode("utf-8", "replace").split("\n"):
                    if assignment:
                        log.write(f"{time.monotonic():.3f} {assignment}\n")
    finally:
        os._exit(0)


def start(unitdir, state, names):
    os.makedirs(state, exist_ok=True)
    started = {}
    for name in names:
        template, instance = name, ""
        if "@" in name:
            base, instance = name.split("@", 1)
            template = base + "@"
        keys = parse_unit(os.path.join(unitdir, template + ".service"))
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        for line in keys.get("Environment", []):
            k, _, v = line.partition("=")
            env[k] = v
        for line in keys.get("EnvironmentFile", []):
            optional = line.startswith("-")
            path = line.lstrip("-")
            if os.path.exists(path):
                env_file(path, env)
            elif not optional:
                raise SystemExit(f"units.py: {name}: EnvironmentFile {path} is missing")
        (exec_start,) = keys["ExecStart"]
        argv = []
        for word in exec_start.replace("%i", instance).split():
            argv.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word))
        user = keys.get("User", ["root"])[0]
        group = keys.get("Group", [user])[0]
        uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        wd = keys.get("WorkingDirectory", ["/"])[0]
        kind = keys.get("Type", ["simple"])[0]
        wdog = keys.get("WatchdogSec", [None])[0]
        if wdog and os.environ.get("UNITS_WATCHDOG_SEC"):
            wdog = os.environ["UNITS_WATCHDOG_SEC"]

        sock_path = os.path.join(state, name + ".sock")
        notify_log = os.path.join(state, name + ".notify")
        watcher = watch(sock_path, notify_log)
        env["NOTIFY_SOCKET"] = sock_path
        if wdog:
            env["WATCHDOG_USEC"] = str(int(seconds(wdog) * 1e6))
        out = open(os.path.join(state, name + ".log"), "ab")
        pid = os.fork()
        if pid == 0:
            try:
                os.chdir(wd)
                os.setgroups([gid])
                os.setgid(gid)
                os.setuid(uid)
                if wdog:
                    env["WATCHDOG_PID"] = str(os.getpid())
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                os.execve(argv[0], argv, env)
            except BaseException as e:  # noqa: B036 (report anything, then leave the child)
                os.write(2, f"units.py: {name}: cannot start {argv}: {e}\n".encode())
            os._exit(127)
        stop_s = seconds(keys.get("TimeoutStopSec", ["30"])[0])
        started[name] = {"pid": pid, "watcher": watcher, "type": kind, "stop_s": stop_s}
        print(f"{name}: pid {pid} user {user} type {kind} watchdog {wdog}: {' '.join(argv)}")
    # Type=notify: started means READY=1 arrived, as systemd's `systemctl start` waits for.
    deadline = time.monotonic() + float(os.environ.get("UNITS_READY_TIMEOUT", "60"))
    for name, u in started.items():
        if u["type"] != "notify":
            continue
        notify_log = os.path.join(state, name + ".notify")
        while True:
            if os.path.exists(notify_log) and "READY=1" in open(notify_log).read().split():
                break
            done, status = os.waitpid(u["pid"], os.WNOHANG)
            if done:
                u["pid"] = 0
                print(f"units.py: {name} exited (status {status}) before READY=1")
                return started, False
            if time.monotonic() > deadline:
                print(f"units.py: {name} sent no READY=1 in time")
                return started, False
            time.sleep(0.05)
        print(f"{name}: READY=1")
    return started, True


def stop(started):
    """SIGTERM every unit still running, wait up to its TimeoutStopSec=; 0 if all exited 0."""
    bad = 0
    for u in started.values():
        if u["pid"]:
            os.kill(u["pid"], signal.SIGTERM)
    t0 = time.monotonic()
    for name, u in started.items():
        while u["pid"]:
            done, status = os.waitpid(u["pid"], os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                print(f"{name}: exited {code} after SIGTERM")
                bad |= code != 0
                break
            if time.monotonic() - t0 > u["stop_s"]:
                print(f"{name}: still running {u['stop_s']} s after SIGTERM; killed")
                os.kill(u["pid"], signal.SIGKILL)
                os.waitpid(u["pid"], 0)
                bad = 1
                break
            time.sleep(0.05)
        os.kill(u["watcher"], signal.SIGTERM)
        os.waitpid(u["watcher"], 0)
    return bad


def main(argv):
    if "--" not in argv or argv.index("--") < 3 or argv.index("--") == len(argv) - 1:
        sys.exit(__doc__)
    sep = argv.index("--")
    unitdir, state, names, command = argv[0], argv[1], argv[2:sep], argv[sep + 1:]
    started, ok = start(unitdir, state, names)
    rc = 1
    if ok:
        sys.stdout.flush()
        rc = subprocess.call(command)
    if stop(started) and rc == 0:
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
