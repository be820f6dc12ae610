"""A Postern instance for integration tests.

Creates an instance with `postern -c DIR init` in a fresh directory on
free loopback ports, with a daemon directory holding the built master and
the test services (tests/service), starts master in the foreground with
its log in DIR/master.log, and stops it afterwards, making sure every
process it started is gone (by pid). Run as root, the instance is in
system mode with the real separate uids; otherwise single-user.
"""
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from conftest import BUILDDIR, tool_path

SERVICE_PROGRAMS = ("test-echo", "test-crash", "test-trigger")
# The mail daemons, linked into the daemon directory when asked for, so
# that "postern init" writes their master.cf lines.
MAIL_DAEMONS = ("smtpd", "qmgr", "local", "anvil", "pickup", "smtp")


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base():
    """A base N such that N+1 .. N+999 are free on 127.0.0.1 (sampled)."""
    for _ in range(50):
        base = random.randrange(20000, 60000, 1000)
        if all(port_free(base + off) for off in (25, 110, 143, 465, 587,
                                                 993, 995, 200, 201, 202)):
            return base
    raise RuntimeError("no free port range on 127.0.0.1")


def proc_parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def proc_status(pid):
    """The Uid/Gid lines of /proc/PID/status as {'Uid': [...], ...}."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(v) for v in value.split()]
    return out


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False    # it went between the two looks


class Instance:
    """One Postern instance under a temporary directory."""

    def __init__(self, root, daemons=()):
        self.root = pathlib.Path(root)
        self.system = os.geteuid() == 0
        self.port_base = free_port_base()
        self.dir = self.root / "inst"
        self.daemon_dir = self.root / "libexec"
        self.daemon_dir.mkdir()
        for name in ("master",) + SERVICE_PROGRAMS + tuple(daemons):
            os.symlink(tool_path(name), self.daemon_dir / name)
        self.master = None
        self.seen = set()
        self.log_file = None
        r = self.postern("init", "--port-base", self.port_base,
                         "--password", "test-password")
        assert r.returncode == 0, r.stderr
        self.queue = self.dir / "queue"

    def port(self, offset):
        return self.port_base + offset

    def postern(self, *args, timeout=60):
        env = dict(os.environ, POSTERN_DAEMON_DIR=str(self.daemon_dir))
        env.pop("MAIL_CONFIG", None)
        return subprocess.run([str(tool_path("postern")), "-c",
                               str(self.dir), *map(str, args)],
                              capture_output=True, text=True, env=env,
                              timeout=timeout)

    def add_service(self, line):
        """Appends a master.cf line (program names from SERVICE_PROGRAMS)."""
        with open(self.dir / "master.cf", "a") as f:
            f.write(line.rstrip("\n") + "\n")

    def echo_service(self, name="echo", offset=200, maxproc=5, extra=""):
        self.add_service(f"127.0.0.1:{self.port(offset)} inet n - n - "
                         f"{maxproc} test-echo {extra}")

    @property
    def log(self):
        p = self.dir / "master.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def start(self):
        env = dict(os.environ, POSTERN_DAEMON_DIR=str(self.daemon_dir))
        self.log_file = open(self.dir / "master.log", "ab")
        self.master = subprocess.Popen(
            [str(tool_path("postern")), "-c", str(self.dir), "start", "-F"],
            stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: self.master_pid() or self.master.poll() is not None,
                 what="master pid file")
        assert self.master.poll() is None, self.log
        return self.master_pid()

    def master_pid(self):
        """The pid in the pid file when that process is alive, else None."""
        try:
            pid = int((self.queue / "pid" / "master.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def children(self, service=None):
        """Live child pids of master, optionally of one service."""
        mpid = self.master_pid()
        if mpid is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if proc_parent(pid) != mpid or not alive(pid):
                continue
            argv = proc_cmdline(pid)
            if service is not None and (
                    b"-n" not in argv or
                    argv[argv.index(b"-n") + 1] != service.encode()):
                continue
            pids.append(pid)
        self.seen.update(pids)
        return pids

    def connect(self, offset=200, timeout=10):
        """Connects to a loopback service; returns (socket, file, greeting)."""
        s = socket.create_connection(("127.0.0.1", self.port(offset)),
                                     timeout=timeout)
        f = s.makefile("rwb", buffering=0)
        return s, f, f.readline()

    def ask(self, f, line):
        f.write(line.encode() + b"\r\n")
        return f.readline().decode().rstrip("\r\n")

    def stop(self):
        """Stops master and checks that every process it started is gone."""
        if self.master is None:
            return
        self.children()
        mpid = self.master_pid()
        if mpid is not None:
            os.kill(mpid, signal.SIGTERM)
        try:
            self.master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.master.kill()
            self.master.wait()
        leftovers = [pid for pid in self.seen if alive(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        self.master = None
        self.log_file.close()
        assert not leftovers, f"processes left behind: {leftovers}"


def make_root():
    """A temporary directory every service user can traverse."""
    root = tempfile.mkdtemp(prefix="postern-it.")
    os.chmod(root, 0o755)
    return root


def remove_root(root):
    shutil.rmtree(root, ignore_errors=True)
