"""postern: init, check, setup, and start/stop/reload/status/flush.

Everything here runs without the real master: the control commands are
driven against a stand-in (FAKE_MASTER) that does what postern relies on
(locks queue/pid/master.pid, starts children with "-n NAME -t TYPE",
handles SIGTERM and SIGHUP, takes wake-ups on public/qmgr). Run as root,
init makes system-mode instances (creating the postern users) and the
single-user cases run as nobody through setpriv; otherwise every instance
is single-user.
"""
import grp
import os
import pathlib
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

from conftest import run, tool_path

EX_USAGE, EX_UNAVAILABLE, EX_CANTCREAT = 64, 69, 73
EX_NOPERM, EX_CONFIG = 77, 78
IS_ROOT = os.geteuid() == 0
PORT_BASE = 41000
PASSWORD = "test-password"

QUEUE_MODES = {
    "": 0o755, "maildrop": 0o1730, "incoming": 0o700, "active": 0o700,
    "deferred": 0o700, "hold": 0o700, "corrupt": 0o700, "defer": 0o700,
    "bounce": 0o700, "free": 0o700, "private": 0o700, "public": 0o710,
    "pid": 0o755,
}

# A stand-in for master(8), run by "postern start" from daemon_directory.
FAKE_MASTER = r'''#!{python}
import fcntl, os, signal, socket, subprocess, sys, threading, time
args = sys.argv[1:]
conf = args[args.index("-c") + 1]
settings = {{}}
for line in open(os.path.join(conf, "main.cf")):
    if "=" in line and not line.startswith("#"):
        k, v = line.split("=", 1)
        settings[k.strip()] = v.strip()
queue = settings["queue_directory"]
services = []
for line in open(os.path.join(conf, "master.cf")):
    if line.strip() and not line[0].isspace() and not line.startswith("#"):
        f = line.split()
        services.append((f[0], f[1], f[2], int(f[6]) if f[6].isdigit() else 1))
log = os.path.join(queue, "fake-master.log")
def note(text):
    with open(log, "a") as f:
        f.write(text + "\n")
ready = None
if "-F" not in args:
    # Like master: the first process exits 0 once the daemon is ready,
    # else with the daemon's status.
    rfd, ready = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready)
        if os.read(rfd, 1):
            os._exit(0)
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) or 1)
    os.close(rfd)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
children = []
for name, typ, private, count in services:
    for _ in range(count):
        children.append(subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)",
             "-c", conf, "-n", name, "-t", typ]))
        note("child %d" % children[-1].pid)
def finish(code):
    for c in children:
        c.kill()
        c.wait()
    os._exit(code)
pidfile = os.path.join(queue, "pid", "master.pid")
fd = os.open(pidfile, os.O_RDWR | os.O_CREAT, 0o644)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("fake master: already running", file=sys.stderr)
    finish(1)
os.ftruncate(fd, 0)
os.write(fd, b"%d\n" % os.getpid())
for name, typ, private, count in services:
    if (name, typ) == ("qmgr", "unix"):
        path = os.path.join(queue, "private" if private != "n" else "public",
                            name)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(5)
        def serve(sock=sock):
            while True:
                conn, _ = sock.accept()
                note("trigger %s" % conn.recv(16).decode())
                conn.close()
        threading.Thread(target=serve, daemon=True).start()
def term(sig, frame):
    os.unlink(pidfile)
    note("stopped")
    finish(0)
signal.signal(signal.SIGTERM, term)
signal.signal(signal.SIGHUP, lambda sig, frame: note("reload"))
note("started %d" % os.getpid())
if ready is not None:
    os.write(ready, b"R")
    os.close(ready)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    time.sleep(0.2)
note("gave up")
finish(0)
'''


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def as_nobody():
    nobody = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}", "--clear-groups"]


def postern(inst, *args, daemon_dir=None, user=None, timeout=60):
    """Runs postern -c INST ARGS; user "nobody" runs it through setpriv."""
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)
    if daemon_dir is not None:
        env["POSTERN_DAEMON_DIR"] = str(daemon_dir)
    cmd = [str(tool_path("postern")), "-c", str(inst), *map(str, args)]
    if user == "nobody":
        cmd = as_nobody() + cmd
    return subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=timeout)


class Instance:
    """A directory for instances, traversable by every user."""

    def __init__(self, root, user=None):
        self.root = root
        self.user = user
        self.home = root / "home"
        self.home.mkdir()
        self.daemon_dir = root / "libexec"
        self.daemon_dir.mkdir()
        if user == "nobody":
            nobody = pwd.getpwnam("nobody")
            os.chown(self.home, nobody.pw_uid, nobody.pw_gid)
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.dir = self.home / "inst"
        self.queue = self.dir / "queue"
        self.system = self.uid == 0

    def postern(self, *args, **kw):
        kw.setdefault("daemon_dir", self.daemon_dir)
        kw.setdefault("user", self.user)
        return postern(self.dir, *args, **kw)

    def init(self, *args):
        r = self.postern("init", "--port-base", PORT_BASE, *args)
        assert r.returncode == 0, r.stderr
        return r

    def program(self, name, text="#!/bin/sh\nexit 0\n"):
        p = self.daemon_dir / name
        p.write_text(text)
        p.chmod(0o755)

    def expected_owner(self, sub):
        """(uid, gid) that queue/SUB must have."""
        return expected_owner(self.system, self.uid, self.gid, sub)


def expected_owner(system, uid, gid, sub):
    """(uid, gid) of queue/SUB: the user's, or as setup makes them."""
    if not system:
        return uid, gid
    if sub in ("", "pid"):
        return 0, 0
    postern_pw = pwd.getpwnam("postern")
    if sub in ("maildrop", "public"):
        return postern_pw.pw_uid, grp.getgrnam("posterndrop").gr_gid
    return postern_pw.pw_uid, postern_pw.pw_gid


def make_root():
    root = pathlib.Path(tempfile.mkdtemp(prefix="postern-cmd."))
    root.chmod(0o755)
    return root


@pytest.fixture
def inst():
    """An instance of the user running the tests (system mode as root)."""
    root = make_root()
    try:
        yield Instance(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def single():
    """A single-user instance: of nobody when root, else of the user."""
    root = make_root()
    try:
        yield Instance(root, "nobody" if IS_ROOT else None)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid


def settings(path):
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def service_lines(inst):
    """The non-comment lines of master.cf."""
    return [line for line in (inst.dir / "master.cf").read_text().splitlines()
            if line and not line.startswith("#")]


@pytest.mark.parametrize("kind", ["inst", "single"])
def test_init_creates_instance(kind, request):
    i = request.getfixturevalue(kind)
    i.init("--password", PASSWORD)
    d = i.dir
    for name, want in (("main.cf", 0o644), ("master.cf", 0o644),
                       ("users", 0o600), ("tls/cert.pem", 0o644),
                       ("tls/key.pem", 0o640), ("mail", 0o700),
                       ("vmailbox", 0o644), ("aliases", 0o644)):
        assert mode(d / name) == want, name
    for sub, want in QUEUE_MODES.items():
        path = i.queue / sub if sub else i.queue
        assert stat.S_ISDIR(os.lstat(path).st_mode), sub
        assert mode(path) == want, sub
        assert owner(path) == i.expected_owner(sub), sub
    s = settings(d / "main.cf")
    assert s["config_directory"] == str(d)
    assert s["queue_directory"] == str(i.queue)
    assert s["daemon_directory"] == str(i.daemon_dir)
    assert s["myhostname"] == "mail.example.test"
    assert s["mydomain"] == "example.test"
    assert s["virtual_mailbox_base"] == str(d / "mail")
    assert s["smtpd_tls_key_file"] == str(d / "tls" / "key.pem")
    assert s["inet_interfaces"] == "loopback-only"
    if i.system:
        assert s["mail_owner"] == "postern"
        vmail = pwd.getpwnam("vmail")
        auth = pwd.getpwnam("posternauth")
        assert owner(d / "mail") == (vmail.pw_uid, vmail.pw_gid)
        assert owner(d / "users") == (auth.pw_uid, auth.pw_gid)
        # smtpd, as postern, reads the key through its group.
        postern = pwd.getpwnam("postern")
        assert owner(d / "tls" / "key.pem") == (0, postern.pw_gid)
        for user in ("postern", "posternauth", "posternlogin", "vmail"):
            assert pwd.getpwnam(user).pw_shell == "/usr/sbin/nologin"
    else:
        assert s["mail_owner"] == pwd.getpwuid(i.uid).pw_name
        for name in ("main.cf", "users", "mail", "tls/key.pem"):
            assert owner(d / name) == (i.uid, i.gid), name
    # No daemon programs: master.cf holds only its header, and parses.
    assert service_lines(i) == []
    r = run("postern-conf", "-c", d, "-M")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    # The users file: one line, its fields as the auth service reads them.
    line = (d / "users").read_text()
    f = line.rstrip("\n").split(":")
    assert line.count("\n") == 1 and len(f) == 8, line
    assert f[0] == "demo@example.test"
    assert f[1].startswith("{CRYPT}$y$")
    uid, gid = owner(d / "mail")
    assert (f[2], f[3]) == (str(uid), str(gid))
    assert f[5] == str(d / "mail" / "example.test" / "demo")
    # The demo mailbox is in a virtual domain; aliases go to it.
    assert s["virtual_mailbox_domains"] == "$mydomain"
    assert "demo@example.test\texample.test/demo/" in \
        (d / "vmailbox").read_text()
    assert "postmaster: demo@example.test" in (d / "aliases").read_text()
    assert (d / "mail" / "example.test").is_dir()


def test_init_certificate(inst):
    inst.init("--domain", "Mail-Test.Example", "--password", PASSWORD)
    cert = inst.dir / "tls" / "cert.pem"
    key = inst.dir / "tls" / "key.pem"
    r = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert ("DNS:mail-test.example, DNS:mail.mail-test.example, "
            "DNS:localhost") in r.stdout
    assert "CA:FALSE" in r.stdout
    assert "TLS Web Server Authentication" in r.stdout
    r = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate",
                        "-checkend", str(9 * 365 * 86400)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "certificate expires within nine years"
    r = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                        "-checkend", str(11 * 365 * 86400)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, "certificate lasts more than eleven years"
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-pubkey"], capture_output=True, text=True,
                         timeout=30)
    keypub = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"],
                            capture_output=True, text=True, timeout=30)
    assert pub.returncode == 0 and keypub.returncode == 0
    assert pub.stdout == keypub.stdout, "key does not match certificate"
    r = subprocess.run(["openssl", "verify", "-CAfile", cert, cert],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert settings(inst.dir / "main.cf")["mydomain"] == "mail-test.example"


def test_init_services_for_installed_programs(inst):
    for prog in ("smtpd", "pop3d", "imapd", "qmgr"):
        inst.program(prog)
    (inst.daemon_dir / "local").write_text("not executable")
    inst.init("--port-base", "20000", "--password", PASSWORD)
    lines = service_lines(inst)
    heads = [line.split()[:2] for line in lines
             if not line[0].isspace()]
    names = {tuple(h) for h in heads}
    for port in (20025, 20587, 20465, 20110, 20143):
        assert (f"127.0.0.1:{port}", "inet") in names, lines
    assert ("qmgr", "unix") in names
    assert ("local", "unix") not in names
    assert ("pickup", "unix") not in names
    # pop3s and imaps appear once their TLS parameter exists.
    for port, param in ((20995, "pop3d_tls_wrappermode"),
                        (20993, "imapd_tls_wrappermode")):
        known = run("postern-conf", "-d", param).returncode == 0
        assert ((f"127.0.0.1:{port}", "inet") in names) == known
    r = run("postern-conf", "-c", inst.dir, "-M")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert re.search(r"127\.0\.0\.1:20587 .*smtpd.*"
                     r"-o smtpd_tls_security_level=encrypt", text)
    assert re.search(r"127\.0\.0\.1:20465 .*smtpd.*"
                     r"-o smtpd_tls_wrappermode=yes", text)
    r = inst.postern("check")
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_init_refuses_existing_instance(inst):
    inst.init("--password", PASSWORD)
    before = (inst.dir / "main.cf").read_bytes()
    users = (inst.dir / "users").read_bytes()
    r = inst.postern("init", "--domain", "other.test")
    assert r.returncode == EX_CANTCREAT
    assert "already holds an instance" in r.stderr
    assert (inst.dir / "main.cf").read_bytes() == before
    assert (inst.dir / "users").read_bytes() == users


@pytest.mark.parametrize("args", [
    ["--port-base", "-1"], ["--port-base", "64543"],
    ["--port-base", "100000"], ["--port-base", "abc"],
    ["--port-base", "10000x"], ["--port-base", ""],
    ["--domain", "bad domain"], ["--domain", "-x.test"],
    ["--domain", "a..b"], ["--domain", ""], ["--domain", "x" * 64 + ".t"],
    ["--password", ""], ["--bogus"], ["extra"],
])
def test_init_bad_options(inst, args):
    r = inst.postern("init", *args)
    assert r.returncode == EX_USAGE, r.stderr
    assert not inst.dir.exists()


def test_init_highest_port_base(inst):
    inst.program("imapd")
    inst.init("--port-base", "64542", "--password", PASSWORD)
    assert any(line.startswith("127.0.0.1:64685 ")
               for line in service_lines(inst))


def test_init_needs_directory():
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)
    r = subprocess.run([str(tool_path("postern")), "init"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == EX_USAGE
    assert "postern -c DIR init" in r.stderr


def hash_of(inst):
    return (inst.dir / "users").read_text().split(":")[1][len("{CRYPT}"):]


def verify(password, hashed):
    """crypt(3) verification where Python still has it, else None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return None
    return crypt.crypt(password, hashed) == hashed


def test_password_printed_once(single):
    r = single.init()
    out = r.stdout + r.stderr
    m = re.fullmatch(r"demo@example\.test password: ([A-Za-z0-9_-]{16})\n",
                     r.stdout)
    assert m, r.stdout
    password = m.group(1)
    assert out.count(password) == 1
    hashed = hash_of(single)
    assert re.fullmatch(r"\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$"
                        r"[./A-Za-z0-9]{43}", hashed), hashed
    assert password not in (single.dir / "users").read_text()
    assert verify(password, hashed) in (True, None)
    assert verify(password + "x", hashed) in (False, None)


def test_given_password_not_printed_and_salted(inst):
    r = inst.init("--password", PASSWORD)
    assert PASSWORD not in r.stdout + r.stderr
    assert "password:" not in r.stdout
    first = hash_of(inst)
    assert verify(PASSWORD, first) in (True, None)
    shutil.rmtree(inst.dir)
    inst.init("--password", PASSWORD)
    second = hash_of(inst)
    assert first.startswith("$y$") and second.startswith("$y$")
    salt = lambda h: h.rsplit("$", 1)[0]
    assert salt(first) != salt(second)


def test_check_fresh_instance(single):
    single.init("--password", PASSWORD)
    r = single.postern("check")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_check_table_older_than_source(inst):
    inst.init("--password", PASSWORD)
    src = inst.dir / "virtual"
    src.write_text("a@example.test b@example.test\n")
    with open(inst.dir / "main.cf", "a") as f:
        f.write(f"virtual_alias_maps = cdb:{src}, texthash:{src}\n")
    r = inst.postern("check")
    assert r.returncode == 0, r.stderr
    assert (f"warning: {src}.cdb does not exist but its source {src} "
            f"does: run postern-map cdb:{src}") in r.stderr
    assert run("postern-map", f"cdb:{src}").returncode == 0
    r = inst.postern("check")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    later = os.stat(f"{src}.cdb").st_mtime + 60
    os.utime(src, (later, later))
    r = inst.postern("check")
    assert r.returncode == 0
    assert (f"warning: {src}.cdb is older than its source {src}: run "
            f"postern-map cdb:{src}") in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr


def test_check_alias_table_hint(inst):
    inst.init("--password", PASSWORD)
    src = inst.dir / "aliases"
    src.write_text("postmaster: root\n")
    with open(inst.dir / "main.cf", "a") as f:
        f.write(f"alias_maps = db:{src}\nalias_database = db:{src}\n")
    r = inst.postern("check")
    assert r.returncode == 0
    # Named once although two parameters list it, with -a for aliases(5).
    assert r.stderr.count(f"run postern-map -a db:{src}") == 1, r.stderr


def test_check_wrong_mode_and_missing_dir(single):
    single.init("--password", PASSWORD)
    active = single.queue / "active"
    active.chmod(0o755)
    r = single.postern("check")
    assert r.returncode == 0
    assert re.search(rf"warning: {re.escape(str(active))} has owner \S+ mode "
                     r"0755, expected \S+ mode 0700", r.stderr), r.stderr
    shutil.rmtree(single.queue / "hold")
    r = single.postern("check")
    assert r.returncode == EX_CONFIG
    assert f"{single.queue / 'hold'} does not exist" in r.stderr


def test_check_wrong_owner_system_mode(inst):
    if not IS_ROOT:
        pytest.skip("needs root: system mode")
    inst.init("--password", PASSWORD)
    public = inst.queue / "public"
    os.chown(public, 0, 0)
    r = inst.postern("check")
    assert r.returncode == 0
    assert re.search(rf"{re.escape(str(public))} has owner root:root mode "
                     r"0710, expected postern:posterndrop mode 0710: run "
                     r"postern setup", r.stderr), r.stderr


@pytest.mark.parametrize("where,text,message", [
    ("main.cf", "this is not a setting\n", "main.cf, line"),
    ("main.cf", "message_size_limit = lots\n", "message_size_limit"),
    ("master.cf", "smtp inet n - n - - smtpd extra\nsmtp inet x\n",
     "master.cf, line"),
    ("master.cf", "pickup unix n - n 60 1 pickup\n", "cannot run"),
])
def test_check_errors(inst, where, text, message):
    inst.init("--password", PASSWORD)
    with open(inst.dir / where, "a") as f:
        f.write(text)
    r = inst.postern("check")
    assert r.returncode == EX_CONFIG, r.stderr
    assert message in r.stderr
    assert "error:" in r.stderr


def test_check_unknown_parameter_is_a_warning(inst):
    inst.init("--password", PASSWORD)
    with open(inst.dir / "main.cf", "a") as f:
        f.write("no_such_parameter = 1\n")
    r = inst.postern("check")
    assert r.returncode == 0
    assert "warning:" in r.stderr and "no_such_parameter" in r.stderr


def test_missing_configuration_directory(inst):
    for cmd in ("check", "status", "stop", "start"):
        r = inst.postern(cmd)
        assert r.returncode == EX_CONFIG, cmd
        assert str(inst.dir) in r.stderr


def test_setup_refuses_non_root():
    root = make_root()
    try:
        etc = root / "etc"
        cmd = [str(tool_path("postern")), "-c", str(etc), "setup"]
        if IS_ROOT:
            cmd = as_nobody() + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode == EX_NOPERM
        assert "only root" in r.stderr
        assert not etc.exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(not IS_ROOT, reason="setup needs root")
def test_setup_creates_and_fixes():
    root = make_root()
    try:
        etc, queue = root / "etc", root / "spool" / "postern"
        etc.mkdir()
        # No alias tables: the host's /etc/aliases must not add warnings.
        main_cf = (f"queue_directory = {queue}\n"
                   "alias_maps =\nalias_database =\n")
        (etc / "main.cf").write_text(main_cf)
        r = run("postern", "-c", etc, "setup")
        assert r.returncode == 0, r.stderr
        assert f"created {etc}/master.cf" in r.stderr
        assert f"created directory {queue}/maildrop" in r.stderr
        assert (etc / "main.cf").read_text() == main_cf
        assert run("postern-conf", "-c", etc, "-M").stdout == ""
        for sub, want in QUEUE_MODES.items():
            path = queue / sub if sub else queue
            assert mode(path) == want, sub
            assert owner(path) == expected_owner(True, 0, 0, sub), sub
        # A second run changes nothing.
        r = run("postern", "-c", etc, "setup")
        assert r.returncode == 0, r.stderr
        assert "nothing to change" in r.stderr
        assert "created" not in r.stderr
        # Wrong modes and owners are fixed, and said.
        (queue / "active").chmod(0o755)
        os.chown(queue / "maildrop", 0, 0)
        r = run("postern", "-c", etc, "check")
        assert r.returncode == 0 and r.stderr.count("warning:") == 2
        r = run("postern", "-c", etc, "setup")
        assert r.returncode == 0, r.stderr
        assert f"changed mode of {queue}/active from 0755 to 0700" \
            in r.stderr
        assert f"changed owner of {queue}/maildrop from root:root to " \
            "postern:posterndrop" in r.stderr
        assert mode(queue / "maildrop") == 0o1730
        r = run("postern", "-c", etc, "check")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        # A fresh directory gets both files.
        etc2 = root / "etc2"
        r = run("postern", "-c", etc2, "setup")
        assert (etc2 / "main.cf").exists() and (etc2 / "master.cf").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(not IS_ROOT, reason="needs root and nobody")
def test_root_leaves_single_user_instance_alone(single):
    single.init("--password", PASSWORD)
    single.program("master", FAKE_MASTER.format(python=sys.executable))
    r = postern(single.dir, "setup")
    assert r.returncode == EX_CONFIG
    assert "single-user" in r.stderr
    assert owner(single.queue / "active") == (single.uid, single.gid)
    r = postern(single.dir, "start")
    assert r.returncode == EX_NOPERM
    assert "start it as that user" in r.stderr
    assert not (single.queue / "pid" / "master.pid").exists()


def test_not_running(single):
    single.init("--password", PASSWORD)
    for cmd in ("stop", "reload", "status"):
        r = single.postern(cmd)
        assert r.returncode == 1, cmd
        assert "the Postern mail system is not running" in r.stderr, cmd
    r = single.postern("flush")
    assert r.returncode == EX_UNAVAILABLE
    assert f"no qmgr service is configured in {single.dir}/master.cf" \
        in r.stderr
    with open(single.dir / "master.cf", "a") as f:
        f.write("qmgr unix n - n 300 1 qmgr\n")
    r = single.postern("flush")
    assert r.returncode == 1
    assert "not running" in r.stderr


def test_stale_pid_file_is_not_running(single):
    single.init("--password", PASSWORD)
    (single.queue / "pid" / "master.pid").write_text(f"{os.getpid()}\n")
    r = single.postern("status")
    assert r.returncode == 1
    assert "not running" in r.stderr


class FakeRun:
    """Processes a fake master started, for cleanup by pid."""

    def __init__(self, inst):
        self.inst = inst
        self.log = inst.queue / "fake-master.log"

    def pids(self):
        pids = []
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                word, _, pid = line.partition(" ")
                if word in ("child", "started"):
                    pids.append(int(pid))
        return pids

    def notes(self):
        return self.log.read_text() if self.log.exists() else ""

    def cleanup(self):
        for pid in self.pids():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def fake(inst):
    inst.program("master", FAKE_MASTER.format(python=sys.executable))
    inst.program("qmgr")
    inst.program("smtpd")
    inst.init("--password", PASSWORD)
    with open(inst.dir / "master.cf", "a") as f:
        f.write("127.0.0.1:41300 inet n - n - 2 smtpd\n")
    f = FakeRun(inst)
    try:
        yield f
    finally:
        f.cleanup()


def test_start_status_reload_flush_stop(fake):
    inst = fake.inst
    r = inst.postern("start")
    assert r.returncode == 0, r.stderr
    m = re.search(r"the Postern mail system is running \(pid (\d+)\)",
                  r.stderr)
    assert m, r.stderr
    pid = int(m.group(1))
    assert f"started {pid}" in fake.notes()
    assert int((inst.queue / "pid" / "master.pid").read_text()) == pid

    r = inst.postern("status")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"the Postern mail system is running (pid {pid})"
    assert "qmgr/unix: 1 process" in lines
    assert "127.0.0.1:41300/inet: 2 processes" in lines
    assert f"127.0.0.1:{PORT_BASE + 25}/inet: 1 process" in lines

    r = inst.postern("start")
    assert r.returncode == 1
    assert f"already running (pid {pid})" in r.stderr

    r = inst.postern("reload")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "reload" in fake.notes(), what="SIGHUP")

    r = inst.postern("flush")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "trigger F" in fake.notes(), what="flush trigger")

    children = fake.pids()
    r = inst.postern("stop")
    assert r.returncode == 0, r.stderr
    assert "stopped" in fake.notes()
    # The lock is gone the moment stop returns.
    r = inst.postern("status")
    assert r.returncode == 1
    wait_for(lambda: not any(alive(p) for p in children),
             what="fake master and children to go")


def test_start_foreground_execs_master(fake):
    inst = fake.inst
    env = dict(os.environ, POSTERN_DAEMON_DIR=str(inst.daemon_dir))
    env.pop("MAIL_CONFIG", None)
    with open(inst.root / "fg.log", "wb") as log:
        p = subprocess.Popen([str(tool_path("postern")), "-c", str(inst.dir),
                              "start", "-F"], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: f"started {p.pid}" in fake.notes(),
                 what="master in the foreground")
        r = inst.postern("status")
        assert r.returncode == 0
        assert f"running (pid {p.pid})" in r.stdout
        r = inst.postern("stop")
        assert r.returncode == 0, r.stderr
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_start_stops_on_check_errors(fake):
    inst = fake.inst
    with open(inst.dir / "master.cf", "a") as f:
        f.write("pickup unix n - n 60 1 pickup\n")
    r = inst.postern("start")
    assert r.returncode == EX_CONFIG
    assert "cannot run" in r.stderr and "not starting" in r.stderr
    assert fake.notes() == ""
    assert not (inst.queue / "pid" / "master.pid").exists()


def test_start_without_master_program(inst):
    inst.init("--password", PASSWORD)
    r = inst.postern("start")
    assert r.returncode == EX_UNAVAILABLE
    assert f"{inst.daemon_dir}/master" in r.stderr
