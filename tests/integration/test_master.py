"""master, the daemon skeleton and `postern start/stop/reload/status`
against a real instance (system mode with separate uids when run as root).
"""
import os
import pwd
import signal
import socket
import subprocess
import time

import pytest

from instance import (Instance, alive, make_root, proc_status, remove_root,
                      wait_for)


def expected_service_uid(inst):
    if inst.system:
        return pwd.getpwnam("postern").pw_uid, pwd.getpwnam("postern").pw_gid
    return os.getuid(), os.getgid()


def test_service_runs_under_its_uid(instance):
    instance.echo_service()
    instance.start()
    s, f, greeting = instance.connect()
    assert greeting.startswith(b"hello ")
    answer = instance.ask(f, "whoami")
    pid = int(answer.split("pid=")[1].split()[0])
    uid, gid = expected_service_uid(instance)
    status = proc_status(pid)
    assert status["Uid"] == [uid] * 4, status
    assert status["Gid"] == [gid] * 4, status
    assert f"uid={uid} gid={gid}" in answer
    if instance.system:
        # master keeps root; the service is not root and has no root group.
        assert proc_status(instance.master_pid())["Uid"][0] == 0
        assert 0 not in status["Groups"]
    s.close()


def test_killed_child_is_restarted(instance):
    instance.echo_service()
    instance.start()
    s, f, _ = instance.connect()
    pid = int(instance.ask(f, "whoami").split("pid=")[1].split()[0])
    os.kill(pid, signal.SIGKILL)
    s.close()
    wait_for(lambda: not alive(pid), what="killed child to go")
    s2, f2, greeting = instance.connect()
    assert greeting.startswith(b"hello ")
    pid2 = int(instance.ask(f2, "whoami").split("pid=")[1].split()[0])
    assert pid2 != pid
    s2.close()
    wait_for(lambda: "killed by signal 9" in instance.log,
             what="log line for the killed child")


def test_crash_loop_is_throttled(instance):
    instance.add_service(f"127.0.0.1:{instance.port(201)} inet n - n - 1 "
                         "test-crash")
    instance.start()
    # Each connection attempt makes master start a process, which fails.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(
                    ("127.0.0.1", instance.port(201)), timeout=1) as s:
                s.settimeout(0.5)
                try:
                    s.recv(10)
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(0.2)
        instance.children()
    starts = instance.log.count("failing at start on purpose")
    assert 2 <= starts <= 6, instance.log
    assert "throttl" in instance.log


def test_pool_grows_to_maxproc(instance):
    instance.echo_service(maxproc=3)
    instance.start()
    conns = []
    for _ in range(3):
        s, f, greeting = instance.connect()
        assert greeting.startswith(b"hello ")
        conns.append((s, f))
    pids = {instance.ask(f, "whoami").split("pid=")[1].split()[0]
            for _, f in conns}
    assert len(pids) == 3
    # A fourth client waits in the backlog until a process is free.
    s4 = socket.create_connection(("127.0.0.1", instance.port(200)),
                                  timeout=10)
    s4.settimeout(1)
    with pytest.raises(socket.timeout):
        s4.recv(100)
    assert len(instance.children("127.0.0.1:%d" % instance.port(200))) == 3
    conns[0][1].write(b"quit\r\n")
    conns[0][0].close()
    s4.settimeout(10)
    assert s4.recv(100).startswith(b"hello ")
    s4.close()
    for s, _ in conns[1:]:
        s.close()


def test_reload_adds_service_without_dropping_connections(instance):
    instance.echo_service()
    instance.start()
    s, f, _ = instance.connect()
    assert instance.ask(f, "before") == "before"
    instance.echo_service(offset=202)
    r = instance.postern("reload")
    assert r.returncode == 0, r.stderr
    s2, f2, greeting = wait_for(lambda: _try_connect(instance, 202),
                                what="the new service")
    assert greeting.startswith(b"hello ")
    # The open connection on the unchanged service still works.
    assert instance.ask(f, "after") == "after"
    s.close()
    s2.close()


def _try_connect(inst, offset):
    try:
        return inst.connect(offset)
    except OSError:
        return None


def test_wakeup_timer_triggers_service(instance):
    instance.add_service("wake unix n - n 1 1 test-trigger")
    instance.start()
    log = instance.queue / "private" / "triggers.log"
    wait_for(lambda: log.exists() and log.read_text().count("W") >= 2,
             timeout=15, what="two wake-ups")


def test_sigterm_leaves_no_process(instance):
    instance.echo_service()
    instance.start()
    conns = [instance.connect() for _ in range(2)]
    children = instance.children()
    assert len(children) >= 2
    mpid = instance.master_pid()
    os.kill(mpid, signal.SIGTERM)
    instance.master.wait(timeout=20)
    for pid in children + [mpid]:
        wait_for(lambda: not alive(pid), timeout=5, what=f"pid {pid} gone")
    assert not (instance.queue / "pid" / "master.pid").exists()
    for s, _, _ in conns:
        s.close()
    instance.master = None
    instance.log_file.close()


def test_second_start_fails(instance):
    instance.echo_service()
    pid = instance.start()
    r = instance.postern("start")
    assert r.returncode != 0
    assert f"already running (pid {pid})" in r.stderr
    assert instance.master_pid() == pid


def test_status_and_stop(instance):
    instance.echo_service()
    pid = instance.start()
    instance.connect()
    r = instance.postern("status")
    assert r.returncode == 0, r.stderr
    assert f"running (pid {pid})" in r.stdout + r.stderr
    assert f"127.0.0.1:{instance.port(200)}" in r.stdout
    r = instance.postern("stop")
    assert r.returncode == 0, r.stderr
    instance.master.wait(timeout=20)
    r = instance.postern("status")
    assert r.returncode == 1
    assert "not running" in r.stdout + r.stderr
    instance.master = None
    instance.log_file.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
def test_single_user_instance_as_non_root():
    """init + start as an ordinary user gives a running instance."""
    root = make_root()
    try:
        nobody = pwd.getpwnam("nobody")
        home = os.path.join(root, "home")
        os.mkdir(home)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        inst_dir = os.path.join(home, "inst")
        daemon_dir = os.path.join(root, "libexec")
        from conftest import tool_path
        os.mkdir(daemon_dir)
        for name in ("master", "test-echo"):
            os.symlink(tool_path(name), os.path.join(daemon_dir, name))
        env = dict(os.environ, POSTERN_DAEMON_DIR=daemon_dir, HOME=home)
        as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}",
                     f"--regid={nobody.pw_gid}", "--clear-groups"]
        postern = str(tool_path("postern"))
        from instance import free_port_base
        base = free_port_base()
        r = subprocess.run(as_nobody + [postern, "-c", inst_dir, "init",
                                        "--port-base", str(base)],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        assert "demo@example.test password:" in r.stdout + r.stderr
        with open(os.path.join(inst_dir, "master.cf"), "a") as f:
            f.write(f"127.0.0.1:{base + 200} inet n - n - 2 test-echo\n")
        r = subprocess.run(as_nobody + [postern, "-c", inst_dir, "start"],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        pidfile = os.path.join(inst_dir, "queue", "pid", "master.pid")
        mpid = int(open(pidfile).read())
        try:
            assert proc_status(mpid)["Uid"][0] == nobody.pw_uid
            with socket.create_connection(("127.0.0.1", base + 200),
                                          timeout=10) as s:
                f = s.makefile("rwb", buffering=0)
                assert f.readline().startswith(b"hello ")
                f.write(b"whoami\r\n")
                assert f"uid={nobody.pw_uid} ".encode() in f.readline()
        finally:
            r = subprocess.run(as_nobody + [postern, "-c", inst_dir, "stop"],
                               capture_output=True, text=True, env=env,
                               timeout=60)
            if alive(mpid):
                os.kill(mpid, signal.SIGKILL)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: not alive(mpid), timeout=10, what="master gone")
    finally:
        remove_root(root)
