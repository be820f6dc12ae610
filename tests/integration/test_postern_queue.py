"""postern-queue against a real queue: the text and JSON listings (with
delay reasons after a deferral), hold, release, requeue, delete (by id,
ALL, sender, recipient), -s rendering, flushing, and its errors.

Messages are put into the queue with test-inject while master is down,
so they stay where the test puts them; when delivery is wanted, master
runs qmgr with tests/service's test-agent as the local and virtual
transport (defer-* recipients are deferred, others delivered and logged
in DIR/test-agent/deliveries).
"""
import json
import os
import pwd
import subprocess
import time

import pytest

from conftest import tool_path
from instance import Instance, make_root, remove_root, wait_for

DOMAIN = "example.test"
SENDER = f"alice@{DOMAIN}"
BODY = ("From: Alice <alice@example.test>\n"
        "To: bob@example.test\n"
        "Subject: postern-queue test\n"
        "\n"
        "Hello from the postern-queue tests.\n")

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_NOPERM, EX_CONFIG = \
    64, 65, 66, 69, 77, 78


class QueueInstance:
    """An instance with qmgr and the test agent, not started at first."""

    def __init__(self, root):
        self.inst = Instance(root, daemons=("qmgr",))
        os.symlink(tool_path("test-agent"),
                   self.inst.daemon_dir / "test-agent")
        self.owner = ("postern" if self.inst.system
                      else pwd.getpwuid(os.getuid()).pw_name)
        settings = ["local_transport = test", "virtual_transport = test",
                    "minimal_backoff_time = 1h",
                    "maximal_backoff_time = 2h", "queue_run_delay = 1h"]
        with open(self.inst.dir / "main.cf", "a") as f:
            f.write("\n".join(settings) + "\n")
        self.inst.add_service("test unix - - n - - test-agent")
        self.agent_dir = self.inst.dir / "test-agent"
        self.agent_dir.mkdir()
        if self.inst.system:
            pw = pwd.getpwnam(self.owner)
            os.chown(self.agent_dir, pw.pw_uid, pw.pw_gid)
        self.queue = self.inst.queue

    def start(self):
        self.inst.start()
        wait_for(lambda: (self.queue / "public" / "qmgr").exists(),
                 what="qmgr socket")
        wait_for(lambda: self.inst.children("qmgr"), what="qmgr process")

    def inject(self, rcpts, sender=SENDER, body=BODY):
        """Queues a message into incoming/; returns its queue id."""
        kw = {}
        if self.inst.system:
            kw = {"user": self.owner,
                  "group": pwd.getpwnam(self.owner).pw_gid}
        r = subprocess.run([str(tool_path("test-inject")), "-f", sender,
                            str(self.queue), *rcpts], input=body,
                           capture_output=True, text=True, timeout=30, **kw)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def defer(self, qid):
        """Moves a message to deferred/, due for a retry in an hour, as
        qmgr leaves a deferred one."""
        to = self.queue / "deferred" / qid
        os.rename(self.queue / "incoming" / qid, to)
        later = time.time() + 3600
        os.utime(to, (later, later))

    def pq(self, *args, env=None, **kw):
        full_env = dict(os.environ)
        full_env.pop("MAIL_CONFIG", None)
        full_env.update(env or {})
        if "-c" not in args and not (env and "MAIL_CONFIG" in env):
            args = ("-c", str(self.inst.dir), *args)
        return subprocess.run([str(tool_path("postern-queue")),
                               *map(str, args)], capture_output=True,
                              text=True, timeout=60, env=full_env, **kw)

    def listing(self):
        r = self.pq("--json")
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()]

    def by_id(self):
        return {m["queue_id"]: m for m in self.listing()}

    def files(self, sub):
        return sorted(os.listdir(self.queue / sub))

    def delivered(self):
        p = self.agent_dir / "deliveries"
        if not p.exists():
            return set()
        return {line.split("\t")[0] for line in p.read_text().splitlines()}

    def stop(self):
        self.inst.stop()


@pytest.fixture
def qi():
    root = make_root()
    q = QueueInstance(root)
    try:
        yield q
    finally:
        q.stop()
        remove_root(root)


def test_json_listing(qi):
    a = qi.inject([f"bob@{DOMAIN}", f"carol@{DOMAIN}"])
    b = qi.inject([f"dave@{DOMAIN}"], sender="")
    qi.defer(b)
    msgs = qi.by_id()
    assert set(msgs) == {a, b}
    assert msgs[a]["queue_name"] == "incoming"
    assert msgs[a]["sender"] == SENDER
    assert msgs[a]["message_size"] == len(BODY.encode())
    assert abs(msgs[a]["arrival_time"] - time.time()) < 3600
    assert [r["address"] for r in msgs[a]["recipients"]] == \
        [f"bob@{DOMAIN}", f"carol@{DOMAIN}"]
    assert "held" not in msgs[a]
    assert msgs[b]["queue_name"] == "deferred"
    assert msgs[b]["sender"] == ""
    assert msgs[b]["recipients"] == [{"address": f"dave@{DOMAIN}"}]


def test_text_listing(qi):
    r = qi.pq("-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"
    a = qi.inject([f"bob@{DOMAIN}"])
    b = qi.inject([f"carol@{DOMAIN}"], sender="")
    assert qi.pq("-h", b).returncode == 0
    r = qi.pq("-p")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("-Queue ID-")
    assert lines[-1] == "-- 1 Kbytes in 2 Requests."
    first = {line.split()[0]: line for line in lines
             if line[:1].isalnum()}
    assert set(first) == {a, b + "!"}
    assert first[a].split()[1] == str(len(BODY.encode()))
    assert first[a].endswith(" " + SENDER)
    assert first[b + "!"].endswith(" <>")
    assert f"bob@{DOMAIN}" in [line.strip() for line in lines]


def test_mail_config_selects_the_instance(qi):
    qid = qi.inject([f"bob@{DOMAIN}"])
    r = qi.pq("-p", env={"MAIL_CONFIG": str(qi.inst.dir)})
    assert r.returncode == 0, r.stderr
    assert qid in r.stdout


def test_delay_reason_after_a_deferral(qi):
    qi.start()
    qid = qi.inject([f"defer-bob@{DOMAIN}", f"carol@{DOMAIN}"])
    wait_for(lambda: qid in qi.files("deferred"), what="deferral")
    msg = qi.by_id()[qid]
    assert msg["queue_name"] == "deferred"
    # carol was delivered: only the waiting recipient is listed.
    assert msg["recipients"] == [{"address": f"defer-bob@{DOMAIN}",
                                  "delay_reason": "test deferral"}]
    r = qi.pq("-p")
    lines = [line.strip() for line in r.stdout.splitlines()]
    at = lines.index(f"defer-bob@{DOMAIN}")
    assert lines[at - 1] == "(test deferral)"


def test_hold_and_release(qi):
    qid = qi.inject([f"bob@{DOMAIN}"])
    r = qi.pq("-h", qid)
    assert r.returncode == 0, r.stderr
    assert f"{qid}: placed on hold" in r.stderr
    assert qi.files("hold") == [qid] and qi.files("incoming") == []
    msg = qi.by_id()[qid]
    assert msg["queue_name"] == "hold" and msg["held"] is True
    # Holding it again changes nothing.
    r = qi.pq("-h", qid)
    assert r.returncode == 0 and "already in hold/" in r.stderr
    qi.start()
    r = qi.pq("-H", qid)
    assert r.returncode == 0, r.stderr
    assert f"{qid}: released from hold" in r.stderr
    wait_for(lambda: qid in qi.delivered(), what="delivery after release")
    wait_for(lambda: not any(qi.files(d) for d in
                             ("incoming", "active", "deferred", "hold")),
             what="an empty queue")


def test_hold_and_release_all(qi):
    ids = {qi.inject([f"bob@{DOMAIN}"]) for _ in range(3)}
    qi.defer(sorted(ids)[0])
    r = qi.pq("-h", "ALL")
    assert r.returncode == 0, r.stderr
    assert set(qi.files("hold")) == ids
    assert all(m["held"] for m in qi.listing())
    r = qi.pq("-H", "ALL")
    assert r.returncode == 0, r.stderr
    assert set(qi.files("incoming")) == ids and qi.files("hold") == []


def test_requeue(qi):
    a = qi.inject([f"bob@{DOMAIN}"])
    b = qi.inject([f"carol@{DOMAIN}"])
    qi.defer(a)
    assert qi.pq("-h", b).returncode == 0
    r = qi.pq("-r", "ALL")
    assert r.returncode == 0, r.stderr
    assert f"{a}: requeued" in r.stderr and f"{b}: requeued" in r.stderr
    assert qi.files("incoming") == sorted([a, b])
    # Already in incoming/: nothing to do.
    r = qi.pq("-r", a)
    assert r.returncode == 0 and "already in incoming/" in r.stderr


def test_delete_by_id_and_all(qi):
    a = qi.inject([f"bob@{DOMAIN}"])
    b = qi.inject([f"carol@{DOMAIN}"])
    c = qi.inject([f"dave@{DOMAIN}"])
    qi.defer(b)
    (qi.queue / "defer" / b).write_text("0\tdelayed\t4.2.0\t1\tx\t\t\n")
    r = qi.pq("-d", b)
    assert r.returncode == 0, r.stderr
    assert f"{b}: removed" in r.stderr
    assert qi.files("deferred") == [] and qi.files("defer") == []
    assert set(qi.by_id()) == {a, c}
    assert qi.pq("-h", c).returncode == 0
    r = qi.pq("-d", "ALL")
    assert r.returncode == 0, r.stderr
    assert qi.listing() == []
    assert qi.pq("-p").stdout == "Mail queue is empty\n"


def test_delete_by_sender_and_recipient(qi):
    a = qi.inject([f"bob@{DOMAIN}"], sender=f"spammer@{DOMAIN}")
    b = qi.inject([f"carol@{DOMAIN}"], sender=f"spammer@{DOMAIN}")
    c = qi.inject([f"bob@{DOMAIN}", f"dave@{DOMAIN}"])
    d = qi.inject([f"erin@{DOMAIN}"])
    e = qi.inject([f"frank@{DOMAIN}"], sender="")
    qi.defer(b)
    r = qi.pq("--delete-sender", f"<SPAMMER@{DOMAIN}>")
    assert r.returncode == 0, r.stderr
    assert "2 messages removed" in r.stderr
    assert set(qi.by_id()) == {c, d, e}
    r = qi.pq("--delete-recipient", f"dave@{DOMAIN}")
    assert r.returncode == 0, r.stderr
    assert set(qi.by_id()) == {d, e}
    r = qi.pq("--delete-sender", "<>")
    assert r.returncode == 0, r.stderr
    assert set(qi.by_id()) == {d}
    r = qi.pq("--delete-recipient", f"nobody@{DOMAIN}")
    assert r.returncode == 0 and "0 messages removed" in r.stderr
    assert set(qi.by_id()) == {d}
    assert a not in qi.files("incoming")


def base36(n):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = digits[d] + out
        if n == 0:
            return out


def test_many_messages(qi):
    """A queue of many messages is listed and changed as a whole (copies
    of one queue file under other queue ids)."""
    qid = qi.inject([f"bob@{DOMAIN}"])
    data = (qi.queue / "incoming" / qid).read_bytes()
    os.unlink(qi.queue / "incoming" / qid)
    count = 600
    for n in range(1, count + 1):
        path = qi.queue / "deferred" / (qid[:11] + base36(n))
        path.write_bytes(data)
        os.chmod(path, 0o700)
    assert len(qi.listing()) == count
    r = qi.pq("-p")
    assert r.returncode == 0, r.stderr
    kbytes = (count * len(BODY.encode()) + 1023) // 1024
    assert r.stdout.splitlines()[-1] == \
        f"-- {kbytes} Kbytes in {count} Requests."
    r = qi.pq("-h", "ALL")
    assert r.returncode == 0, r.stderr
    assert len(qi.files("hold")) == count and qi.files("deferred") == []
    r = qi.pq("-d", "ALL")
    assert r.returncode == 0, r.stderr
    assert qi.files("hold") == []
    assert qi.pq("-p").stdout == "Mail queue is empty\n"


def test_show(qi):
    qid = qi.inject([f"bob@{DOMAIN}"])
    r = qi.pq("-s", qid)
    assert r.returncode == 0, r.stderr
    head, _, content = r.stdout.partition("\n\n")
    lines = head.splitlines()
    assert f"sender: {SENDER}" in lines
    assert f"recipient: bob@{DOMAIN}\tpending" in lines
    assert content == BODY


def test_damaged_file(qi):
    """A file that is not a queue file is skipped by the listing with a
    warning, and -s refuses it; the other messages are listed."""
    qid = qi.inject([f"bob@{DOMAIN}"])
    bad = qid[:-1] + ("1" if qid[-1] != "1" else "2")
    (qi.queue / "deferred" / bad).write_text("damaged\n")
    r = qi.pq("--json")
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["queue_id"] for line in
            r.stdout.splitlines()] == [qid]
    assert f"warning: {bad}" in r.stderr
    r = qi.pq("-s", bad)
    assert r.returncode == EX_DATAERR and bad in r.stderr
    assert r.stdout == ""


def test_flush_one_delivers_a_deferred_message(qi):
    a = qi.inject([f"bob@{DOMAIN}"])
    b = qi.inject([f"carol@{DOMAIN}"])
    qi.defer(a)
    qi.defer(b)
    qi.start()
    r = qi.pq("-i", a)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: a in qi.delivered(), what="delivery of the flushed one")
    # The other one waits for its retry time.
    assert qi.files("deferred") == [b]


def test_flush_all_delivers_deferred_mail(qi):
    ids = [qi.inject([f"bob@{DOMAIN}"]) for _ in range(2)]
    for qid in ids:
        qi.defer(qid)
    qi.start()
    r = qi.pq("-f")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: set(ids) <= qi.delivered(), what="deliveries")


def test_flush_without_the_mail_system(qi):
    r = qi.pq("-f")
    assert r.returncode == EX_UNAVAILABLE, r.stderr
    assert "cannot reach qmgr" in r.stderr


def test_errors(qi):
    qid = qi.inject([f"bob@{DOMAIN}"])
    missing = qid[:-1] + ("1" if qid[-1] != "1" else "2")
    for args in (("-d", missing), ("-h", missing), ("-s", missing),
                 ("-i", missing)):
        r = qi.pq(*args)
        assert r.returncode == EX_NOINPUT, (args, r.stderr)
        assert f"{missing}: no such message in the queue" in r.stderr
    r = qi.pq("-H", qid)
    assert r.returncode == EX_NOINPUT
    assert f"{qid}: cannot release a message in incoming/" in r.stderr
    for args in ((), ("-d", "../x"), ("-s", "tmp.abc"), ("-p", "x"),
                 ("-d", qid, "-h", qid), ("-d", qid, "-d", "bad"),
                 ("-i", "ALL")):
        r = qi.pq(*args)
        assert r.returncode == EX_USAGE, (args, r.stderr)
    assert qi.files("incoming") == [qid]
    r = qi.pq("-p", "-c", str(qi.inst.dir / "nonexistent"))
    assert r.returncode == EX_CONFIG
    assert "configuration directory" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs other users")
def test_only_root_and_the_mail_owner_use_the_queue(qi):
    qid = qi.inject([f"bob@{DOMAIN}"])
    for args in (("-p",), ("-d", qid)):
        r = qi.pq(*args, user="nobody")
        assert r.returncode == EX_NOPERM, (args, r.stderr)
        assert "only root and postern" in r.stderr
    assert qi.files("incoming") == [qid]
    r = qi.pq("-h", qid, user="postern")
    assert r.returncode == 0, r.stderr
    r = qi.pq("-p", user="postern")
    assert r.returncode == 0 and f"{qid}!" in r.stdout


def test_hold_and_release_while_qmgr_delivers(qi):
    """Every message is delivered exactly once when it is held and
    released again and again while qmgr works on the queue."""
    qi.start()
    ids = [qi.inject([f"slow-{n}@{DOMAIN}"]) for n in range(20)]
    for _ in range(5):
        assert qi.pq("-h", "ALL").returncode == 0
        assert qi.pq("-H", "ALL").returncode == 0
    p = qi.agent_dir / "deliveries"
    wait_for(lambda: set(ids) <= qi.delivered(), timeout=120,
             what="every delivery")
    done = [line.split("\t")[0] for line in p.read_text().splitlines()]
    assert sorted(done) == sorted(ids)
    wait_for(lambda: not any(qi.files(d) for d in
                             ("incoming", "active", "deferred", "hold")),
             what="an empty queue")
