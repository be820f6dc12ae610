"""qmgr against a real instance: incoming -> active -> removed, deferral
and back-off, bounces as RFC 3464 reports, DSN NOTIFY, the null sender,
kill -9 in the middle of deliveries, per-destination scheduling (slow
start, dead destinations, recipient limits) and queue files taken out of
active/ by the admin.

The instance runs qmgr with tests/service's test-agent as its local and
virtual transport ("test"): the agent answers each recipient by its local
part (defer-*, bounce-*, slow-*, else delivered) and logs deliveries in
DIR/test-agent/deliveries. Mail is put into the queue with test-inject
(queue_writer), so these tests need no smtpd. Where the test needs to
hold requests or count them as they overlap, FakeAgent plays the agent
on a socket of its own.
"""
import email
import email.policy
import os
import pwd
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import tool_path
from instance import Instance, alive, make_root, remove_root, wait_for
from postern_proto import attr_encode, attr_recv

DOMAIN = "example.test"
SENDER = f"alice@{DOMAIN}"
BODY = ("From: Alice <alice@example.test>\n"
        "To: bob@example.test\n"
        "Subject: qmgr test\n"
        "Message-ID: <qmgr-test@example.test>\n"
        "\n"
        "Hello from the qmgr tests.\n")


class QmgrInstance:
    """An instance whose master.cf has qmgr and the test agent."""

    def __init__(self, root, main_cf=()):
        self.inst = Instance(root, daemons=("qmgr",))
        os.symlink(tool_path("test-agent"),
                   self.inst.daemon_dir / "test-agent")
        self.owner = ("postern" if self.inst.system
                      else pwd.getpwuid(os.getuid()).pw_name)
        settings = ["local_transport = test", "virtual_transport = test",
                    "minimal_backoff_time = 1s",
                    "maximal_backoff_time = 2s", "queue_run_delay = 1s",
                    *main_cf]
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
        wait_for(lambda: self.qmgr_pid(), what="qmgr process")

    def qmgr_pid(self):
        pids = self.inst.children("qmgr")
        return pids[0] if pids else None

    def inject(self, rcpts, sender=SENDER, body=BODY, ret=None, envid=None):
        """Queues a message; returns its queue id."""
        args = [str(tool_path("test-inject")), "-f", sender]
        if ret:
            args += ["-r", ret]
        if envid:
            args += ["-e", envid]
        args += [str(self.queue), *rcpts]
        kw = {}
        if self.inst.system:
            kw = {"user": self.owner, "group": pwd.getpwnam(
                self.owner).pw_gid}
        r = subprocess.run(args, input=body, capture_output=True, text=True,
                           timeout=30, **kw)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def deliveries(self):
        """(queue id, index, address) of every delivery the agent made."""
        p = self.agent_dir / "deliveries"
        if not p.exists():
            return []
        return [tuple(line.split("\t")) for line in
                p.read_text().splitlines()]

    def requests(self):
        """(queue id, recipient count, transport, next hop) per request."""
        p = self.agent_dir / "requests"
        return ([tuple(line.split("\t")) for line in
                 p.read_text().splitlines()] if p.exists() else [])

    def repeats(self):
        """Requests for recipients already done (the agent skipped them)."""
        p = self.agent_dir / "repeats"
        return p.read_text().splitlines() if p.exists() else []

    def files(self, sub):
        return sorted(os.listdir(self.queue / sub))

    def queue_empty(self):
        return all(not self.files(d) for d in
                   ("incoming", "active", "deferred", "defer", "bounce"))

    def log(self):
        return self.inst.log

    def messages_to(self, rcpt):
        """Queue ids of the delivered messages addressed to rcpt."""
        return [qid for qid, _, addr in self.deliveries() if addr == rcpt]

    def stop(self):
        self.inst.stop()


@pytest.fixture
def qm():
    root = make_root()
    q = QmgrInstance(root)
    try:
        yield q
    finally:
        q.stop()
        remove_root(root)


@pytest.fixture
def qm_expiring():
    """Deferred mail expires after its first attempt."""
    root = make_root()
    q = QmgrInstance(root, main_cf=("maximal_queue_lifetime = 0s",
                                    "bounce_queue_lifetime = 0s"))
    try:
        yield q
    finally:
        q.stop()
        remove_root(root)


def test_message_goes_through_active_and_is_removed(qm):
    qm.start()
    qid = qm.inject([f"bob@{DOMAIN}", f"carol@{DOMAIN}"])
    wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
    assert sorted(qm.deliveries()) == [
        (qid, "0", f"bob@{DOMAIN}"), (qid, "1", f"carol@{DOMAIN}")]
    log = qm.log()
    assert (f"{qid}: from=<{SENDER}>, size={len(BODY)}, nrcpt=2 "
            "(queue active)") in log
    line = next(ln for ln in log.splitlines()
                if f"{qid}: to=<bob@{DOMAIN}>" in ln)
    assert "relay=test, delay=" in line and ", delays=" in line
    assert "dsn=2.0.0, status=sent (delivered to the test log)" in line
    assert qm.queue_empty()
    assert qm.repeats() == []


def test_mail_queued_before_start_and_left_in_active(qm):
    # A file in active/ (what a crash leaves) and one in incoming/ are
    # both taken when qmgr starts.
    first = qm.inject([f"bob@{DOMAIN}"])
    second = qm.inject([f"carol@{DOMAIN}"])
    os.rename(qm.queue / "incoming" / first, qm.queue / "active" / first)
    qm.start()
    wait_for(lambda: len(qm.deliveries()) == 2, what="two deliveries")
    wait_for(qm.queue_empty, what="empty queue")
    assert {d[0] for d in qm.deliveries()} == {first, second}


def test_orcpt_is_logged_as_orig_to(qm):
    qm.start()
    qid = qm.inject([f"bob@{DOMAIN}//rfc822;Robert@{DOMAIN}"])
    wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
    assert (f"{qid}: to=<bob@{DOMAIN}>, orig_to=<Robert@{DOMAIN}>, "
            "relay=test") in qm.log()


def test_deferral_backs_off_and_is_retried(qm):
    qm.start()
    qid = qm.inject([f"defer-bob@{DOMAIN}", f"carol@{DOMAIN}"])
    # Tried, deferred with its reason in defer/, then tried again.
    wait_for(lambda: qm.log().count(
        f"{qid}: to=<defer-bob@{DOMAIN}>") >= 3, timeout=30,
        what="three attempts")
    log = qm.log()
    assert "dsn=4.2.0, status=deferred (test deferral)" in log
    # carol was delivered once, on the first attempt, and not asked for
    # again.
    assert qm.deliveries() == [(qid, "1", f"carol@{DOMAIN}")]
    assert qm.repeats() == []
    wait_for(lambda: qid in qm.files("deferred"), what="file in deferred/")
    defer_log = (qm.queue / "defer" / qid).read_text()
    assert defer_log.startswith("0\tdelayed\t4.2.0\t")
    assert "test deferral" in defer_log
    assert not qm.files("bounce")


def test_transport_unavailable_defers(qm):
    qm.start()
    qid = qm.inject(["someone@remote.invalid"])
    wait_for(lambda: "status=deferred (mail transport unavailable)"
             in qm.log(), what="deferral")
    assert f"{qid}: to=<someone@remote.invalid>, relay=none" in qm.log()
    wait_for(lambda: qid in qm.files("deferred"), what="file in deferred/")


def notice(qm, orig_qid, to=SENDER, timeout=30):
    """Waits for the notice qmgr wrote about orig_qid, delivered to `to`;
    returns (its queue id, the parsed message)."""
    def find():
        for line in qm.log().splitlines():
            marker = f"{orig_qid}: delivery status notification: "
            if marker in line:
                nid = line.split(marker, 1)[1].strip()
                if nid in qm.messages_to(to):
                    return nid
        return None
    nid = wait_for(find, timeout=timeout, what=f"notice to {to}")
    raw = (qm.agent_dir / f"{nid}.msg").read_bytes()
    return nid, email.message_from_bytes(raw, policy=email.policy.compat32)


def report_parts(msg):
    """The three parts of an RFC 3464 report, checked for their types."""
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert len(parts) == 3
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    return parts


def test_bounce_is_an_rfc3464_report_to_the_sender(qm):
    qm.start()
    qid = qm.inject([f"bounce-bob@{DOMAIN}", f"carol@{DOMAIN}"])
    nid, msg = notice(qm, qid)
    assert msg["From"] == \
        "MAILER-DAEMON@mail.example.test (Mail Delivery System)"
    assert msg["To"] == f"<{SENDER}>"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    text, status, original = report_parts(msg)
    assert f"<bounce-bob@{DOMAIN}>: failed: test bounce" in \
        text.get_payload()
    blocks = status.get_payload()
    assert len(blocks) == 2     # per message, one recipient
    assert blocks[0]["Reporting-MTA"] == "dns; mail.example.test"
    assert blocks[0]["X-Postern-Queue-ID"] == qid
    assert blocks[0]["Arrival-Date"]
    rcpt = blocks[1]
    assert rcpt["Final-Recipient"] == f"rfc822; bounce-bob@{DOMAIN}"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.1"
    assert rcpt["Remote-MTA"] == "dns; mx.test.invalid"
    assert rcpt["Diagnostic-Code"] == "smtp; 550 5.1.1 no such user here"
    assert original.get_content_type() == "message/rfc822"
    inner = original.get_payload()[0]
    assert inner["Subject"] == "qmgr test"
    assert inner.get_payload() == "Hello from the qmgr tests.\n"
    # The notice has the null sender; the original is gone, carol got
    # it once, and the notice went to the sender once.
    assert f"{nid}: from=<>, " in qm.log()
    wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
    assert qm.messages_to(f"carol@{DOMAIN}") == [qid]
    assert qm.messages_to(SENDER) == [nid]
    wait_for(qm.queue_empty, what="empty queue")


def test_ret_hdrs_envid_and_orcpt(qm):
    qm.start()
    qid = qm.inject([f"bounce-bob@{DOMAIN}/FAILURE/rfc822;Bob@{DOMAIN}"],
                    ret="HDRS", envid="envid-42")
    _, msg = notice(qm, qid)
    _, status, original = report_parts(msg)
    assert original.get_content_type() == "text/rfc822-headers"
    headers = original.get_payload()
    assert "Subject: qmgr test" in headers
    assert "Hello from the qmgr tests." not in headers
    per_msg, rcpt = status.get_payload()
    assert per_msg["Original-Envelope-Id"] == "envid-42"
    assert rcpt["Original-Recipient"] == f"rfc822; Bob@{DOMAIN}"


def test_notify_never_sends_no_notice(qm):
    qm.start()
    never = qm.inject([f"bounce-bob@{DOMAIN}/NEVER"])
    delay_only = qm.inject([f"bounce-carol@{DOMAIN}/DELAY"])
    # A third message shows when qmgr is done with the first two.
    last = qm.inject([f"dave@{DOMAIN}"])
    for qid in (never, delay_only, last):
        wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
    assert "delivery status notification" not in qm.log()
    assert qm.messages_to(SENDER) == []
    assert "status=bounced (test bounce)" in qm.log()


def test_notify_success_sends_a_delivered_report(qm):
    qm.start()
    qid = qm.inject([f"bob@{DOMAIN}/SUCCESS", f"carol@{DOMAIN}"])
    _, msg = notice(qm, qid)
    assert msg["Subject"] == "Successful Mail Delivery Report"
    _, status, original = report_parts(msg)
    blocks = status.get_payload()
    assert len(blocks) == 2     # bob only: carol did not ask
    assert blocks[1]["Final-Recipient"] == f"rfc822; bob@{DOMAIN}"
    assert blocks[1]["Action"] == "delivered"
    assert blocks[1]["Status"] == "2.0.0"
    assert original.get_content_type() == "text/rfc822-headers"


def test_null_sender_bounce_goes_to_postmaster(qm):
    qm.start()
    qid = qm.inject([f"bounce-bob@{DOMAIN}"], sender="")
    _, msg = notice(qm, qid, to="postmaster@mail.example.test")
    assert msg["To"] == "<postmaster@mail.example.test>"
    wait_for(qm.queue_empty, what="empty queue")


def test_expired_deferral_bounces(qm_expiring):
    qm = qm_expiring
    qm.start()
    qid = qm.inject([f"defer-bob@{DOMAIN}"])
    _, msg = notice(qm, qid)
    assert ("status=bounced (delivery time expired: test deferral)"
            in qm.log())
    _, status, _ = report_parts(msg)
    rcpt = status.get_payload()[1]
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "4.2.0"
    assert rcpt["Diagnostic-Code"] == \
        "x-postern; delivery time expired: test deferral"
    wait_for(qm.queue_empty, what="empty queue")


def test_undeliverable_notice_to_postmaster_is_dropped():
    # Mail to postmaster goes to a transport that does not exist and
    # expires at once: the notice about a null-sender message fails and
    # is dropped instead of bouncing again.
    root = make_root()
    qm = QmgrInstance(root, main_cf=(
        "maximal_queue_lifetime = 0s", "bounce_queue_lifetime = 0s",
        "transport_maps = inline:{postmaster@mail.example.test=nosuch}"))
    try:
        qm.start()
        qid = qm.inject([f"bounce-bob@{DOMAIN}"], sender="")
        wait_for(lambda: "undeliverable notice to postmaster dropped"
                 in qm.log(), what="the dropped notice")
        wait_for(qm.queue_empty, what="empty queue")
        assert qm.log().count("delivery status notification") == 1
        assert f"{qid}: delivery status notification" in qm.log()
        assert qm.deliveries() == []
    finally:
        qm.stop()
        remove_root(root)


def test_kill_qmgr_mid_delivery_loses_and_repeats_nothing(qm):
    qm.start()
    rcpts = [f"slow-a@{DOMAIN}", f"b@{DOMAIN}", f"slow-c@{DOMAIN}"]
    ids = [qm.inject(rcpts) for _ in range(8)]
    for _ in range(3):
        before = len(qm.deliveries())
        wait_for(lambda: len(qm.deliveries()) > before, timeout=30,
                 what="progress")
        pid = qm.qmgr_pid()
        if pid is None:
            continue
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), what="qmgr gone")
        # Master starts qmgr again on its next wake-up.
        qm.inject([f"d@{DOMAIN}"])
    wait_for(qm.queue_empty, timeout=90, what="empty queue")
    got = [(qid, idx) for qid, idx, _ in qm.deliveries() if qid in ids]
    assert sorted(got) == sorted((qid, str(i)) for qid in ids
                                 for i in range(3))
    assert "killed by signal 9" in qm.log()


def test_active_limit_bounds_what_is_taken_in():
    root = make_root()
    qm = QmgrInstance(root, main_cf=("qmgr_message_active_limit = 3",))
    try:
        ids = [qm.inject([f"slow-{i}@{DOMAIN}"]) for i in range(12)]
        qm.start()
        # Sample active/ until everything is delivered: it never holds
        # more than the limit.
        most = 0
        deadline = time.monotonic() + 60
        while not qm.queue_empty():
            assert time.monotonic() < deadline, "queue not emptied"
            most = max(most, len(qm.files("active")))
            assert most <= 3, qm.files("active")
            time.sleep(0.02)
        assert most >= 1
        assert sorted(d[0] for d in qm.deliveries()) == sorted(ids)
    finally:
        qm.stop()
        remove_root(root)


def test_abandoned_temporary_files_and_damaged_files(qm):
    incoming = qm.queue / "incoming"
    old = incoming / "tmp.abandoned"
    new = incoming / "tmp.writing"
    for p in (old, new):
        p.write_bytes(b"partial")
    six_hours_ago = os.path.getmtime(new) - 6 * 3600
    os.utime(old, (six_hours_ago, six_hours_ago))
    damaged = qm.inject([f"bob@{DOMAIN}"])
    (incoming / damaged).write_bytes(b"not a queue file")
    good = qm.inject([f"carol@{DOMAIN}"])
    if qm.inst.system:
        pw = pwd.getpwnam(qm.owner)
        for p in (old, new):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    qm.start()
    wait_for(lambda: f"{good}: removed" in qm.log(), what="good mail")
    wait_for(lambda: damaged in qm.files("corrupt"), what="quarantine")
    assert f"{damaged}: damaged queue file" in qm.log()
    assert qm.files("incoming") == ["tmp.writing"]
    assert "removed abandoned temporary file incoming/tmp.abandoned" \
        in qm.log()
    assert qm.messages_to(f"bob@{DOMAIN}") == []


def test_flush_retries_deferred_mail_at_once():
    root = make_root()
    qm = QmgrInstance(root, main_cf=(
        "minimal_backoff_time = 1h", "maximal_backoff_time = 2h",
        "queue_run_delay = 1h"))
    try:
        qm.start()
        qid = qm.inject([f"defer-bob@{DOMAIN}"])
        wait_for(lambda: qid in qm.files("deferred"), what="deferral")
        attempt = f"{qid}: to=<defer-bob@{DOMAIN}>"
        assert qm.log().count(attempt) == 1
        # The next try is an hour away: the file's time says so.
        assert os.path.getmtime(qm.queue / "deferred" / qid) > \
            time.time() + 3000
        r = qm.inst.postern("flush")
        assert r.returncode == 0, r.stderr
        wait_for(lambda: qm.log().count(attempt) == 2, what="second try")
        wait_for(lambda: qid in qm.files("deferred"), what="deferral")
    finally:
        qm.stop()
        remove_root(root)


def test_recipients_are_grouped_per_destination():
    # batch.test goes to a transport that takes many recipients per
    # request; the local transport takes one per request.
    root = make_root()
    qm = QmgrInstance(root, main_cf=(
        "transport_maps = inline:{batch.test=batch, "
        "other.test=batch:[relay.test]:2525}",))
    qm.inst.add_service("batch unix - - n - - test-agent")
    try:
        qm.start()
        qid = qm.inject(["a@batch.test", f"bob@{DOMAIN}", "b@batch.test",
                         f"carol@{DOMAIN}", "c@other.test",
                         "d@batch.test"])
        wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
        assert sorted(qm.requests()) == sorted([
            (qid, "3", "batch", "batch.test"),
            (qid, "1", "batch", "[relay.test]:2525"),
            (qid, "1", "test", DOMAIN),
            (qid, "1", "test", DOMAIN)])
        assert len(qm.deliveries()) == 6
        assert qm.repeats() == []
    finally:
        qm.stop()
        remove_root(root)


def test_killed_agent_defers_and_mail_is_retried(qm):
    qm.start()
    qid = qm.inject([f"slow-bob@{DOMAIN}"])
    # The agent has the request and sleeps a second before delivering.
    wait_for(lambda: qm.requests(), what="request")
    pids = qm.inst.children("test")
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: f"{qid}: removed" in qm.log(), timeout=30,
             what="removal")
    assert f"warning: {qid}: delivery agent test failed" in qm.log()
    assert "status=deferred (delivery agent test failed" in qm.log()
    assert qm.deliveries() == [(qid, "0", f"slow-bob@{DOMAIN}")]


def test_delay_warning_is_sent_once():
    root = make_root()
    qm = QmgrInstance(root, main_cf=("delay_warning_time = 1s",))
    try:
        qm.start()
        qid = qm.inject([f"defer-bob@{DOMAIN}",
                         f"defer-carol@{DOMAIN}/NEVER",
                         f"defer-dave@{DOMAIN}/FAILURE",
                         f"defer-erin@{DOMAIN}/DELAY,FAILURE"])
        wait_for(lambda: f"{qid}: delay notification: " in qm.log(),
                 timeout=30, what="delay notification")
        nid = qm.log().split(f"{qid}: delay notification: ")[1].split()[0]
        wait_for(lambda: nid in qm.messages_to(SENDER), what="delivery")
        msg = email.message_from_bytes(
            (qm.agent_dir / f"{nid}.msg").read_bytes(),
            policy=email.policy.compat32)
        assert msg["Subject"] == "Delayed Mail (still being retried)"
        _, status, original = report_parts(msg)
        blocks = status.get_payload()[1:]
        assert [b["Final-Recipient"] for b in blocks] == [
            f"rfc822; defer-bob@{DOMAIN}", f"rfc822; defer-erin@{DOMAIN}"]
        assert all(b["Action"] == "delayed" and b["Status"] == "4.2.0"
                   for b in blocks)
        assert original.get_content_type() == "text/rfc822-headers"
        # Two more tries, and no second warning.
        tries = qm.log().count(f"{qid}: to=<defer-bob@{DOMAIN}>")
        wait_for(lambda: qm.log().count(
            f"{qid}: to=<defer-bob@{DOMAIN}>") >= tries + 2, timeout=30,
            what="more tries")
        assert qm.log().count("delay notification") == 1
        assert "warned\t" in (qm.queue / "defer" / qid).read_text()
    finally:
        qm.stop()
        remove_root(root)


# Per-destination scheduling and the admin's hands on active/ ---------------

class FakeAgent:
    """A delivery agent on queue/private/NAME, run by the test: it records
    each request (queue id, next hop, recipient count, and how many
    requests it held at that moment, itself included), holds every
    request until release() and then for hold seconds more, and answers
    every recipient with answer(nexthop): (status, dsn, reason). It marks
    nothing done: qmgr takes "sent" as the agent's word."""

    def __init__(self, queue, name, answer, hold=0.0, held=False):
        self.path = queue / "private" / name
        self.answer = answer
        self.hold = hold
        self.gate = threading.Event()
        if not held:
            self.gate.set()
        self.lock = threading.Lock()
        self.requests = []
        self.active = 0
        self.max_active = 0
        self.stopping = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(30)
            rec = attr_recv(conn)
            count = int(rec["rcpt_count"])
            nexthop = rec["nexthop"].decode()
            with self.lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                self.requests.append((rec["queue_id"].decode(), nexthop,
                                      count, self.active))
            self.gate.wait(30)
            time.sleep(self.hold)
            status, dsn, reason = self.answer(nexthop)
            records = [("rcpt_count", count)]
            for i in range(count):
                records += [(f"rcpt_{i}", rec[f"rcpt_{i}"]),
                            (f"status_{i}", status), (f"dsn_{i}", dsn),
                            (f"reason_{i}", reason),
                            (f"relay_{i}", f"{nexthop}[192.0.2.1]:25")]
            with self.lock:
                self.active -= 1
            conn.sendall(attr_encode(records))

    def release(self):
        self.gate.set()

    def held(self):
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.stopping = True
        self.gate.set()
        self.sock.close()
        self.thread.join(5)


def sent(nexthop):
    return ("sent", "2.0.0", "250 2.0.0 queued")


def refused_at_down_test(nexthop):
    if nexthop == "down.test":
        return ("deferred", "4.4.1",
                "connect to down.test[192.0.2.1]:25: Connection refused")
    return sent(nexthop)


def deferred_4_2_0(nexthop):
    return ("deferred", "4.2.0", "450 4.2.0 try again later")


@pytest.fixture
def fake_qm():
    """An instance routing the .test domains other than example.test to
    the transport "fake", one delivery at a time to each destination at
    first, and slow to retry."""
    root = make_root()
    q = QmgrInstance(root, main_cf=(
        "transport_maps = inline:{slow.test=fake, down.test=fake, "
        "up.test=fake, hold.test=fake}",
        "initial_destination_concurrency = 1",
        "default_destination_concurrency_limit = 3",
        "minimal_backoff_time = 60s", "maximal_backoff_time = 60s"))
    agents = []

    def agent(*args, **kw):
        a = FakeAgent(q.queue, "fake", *args, **kw)
        agents.append(a)
        return a
    q.agent = agent
    try:
        yield q
    finally:
        for a in agents:
            a.stop()
        q.stop()
        remove_root(root)


def test_slow_start_grows_concurrency_per_destination(fake_qm):
    qm = fake_qm
    qm.start()
    agent = qm.agent(sent, hold=0.5, held=True)
    first = qm.inject(["a@slow.test"])
    wait_for(lambda: len(agent.held()) == 1, what="first request")
    ids = [first] + [qm.inject([f"r{i}@slow.test"]) for i in range(11)]
    wait_for(lambda: qm.log().count("(queue active)") == 12,
             what="messages taken in")
    # The window is one: the others wait for the first delivery.
    time.sleep(0.5)
    assert len(agent.held()) == 1
    agent.release()
    for qid in ids:
        wait_for(lambda: f"{qid}: removed" in qm.log(), timeout=30,
                 what=f"{qid} removed")
    counts = [c for _, _, _, c in agent.held()]
    assert len(counts) == 12
    # One, then two at once after a success, then the limit of three.
    assert counts[:2] == [1, 1]
    assert agent.max_active == 3
    assert counts.index(2) < counts.index(3)


def test_dead_destination_is_suspended(fake_qm):
    qm = fake_qm
    qm.start()
    agent = qm.agent(refused_at_down_test)
    first = qm.inject(["a@down.test"])
    wait_for(lambda: "transport fake, destination down.test: suspended "
             "for 60s: connect to down.test[192.0.2.1]:25: Connection "
             "refused" in qm.log(), what="suspension")
    wait_for(lambda: first in qm.files("deferred"), what="deferral")
    second = qm.inject(["b@down.test"])
    other = qm.inject(["c@up.test"])
    wait_for(lambda: f"{other}: removed" in qm.log(), what="other domain")
    wait_for(lambda: second in qm.files("deferred"), what="second deferred")
    assert (f"{second}: to=<b@down.test>, relay=none" in qm.log())
    assert ("dsn=4.4.1, status=deferred (delivery temporarily suspended: "
            "connect to down.test[192.0.2.1]:25: Connection refused)"
            in qm.log())
    assert "delivery temporarily suspended" in \
        (qm.queue / "defer" / second).read_text()
    # One request reached down.test; the second message made none.
    assert [(q, n) for q, n, _, _ in agent.held()] == [
        (first, "down.test"), (other, "up.test")]


def test_four_deliveries_at_once_to_one_local_recipient():
    """local_destination_concurrency_limit, 4 by default, bounds the
    deliveries to one local recipient at once: a Maildir needs no order."""
    root = make_root()
    qm = QmgrInstance(root, main_cf=("local_transport = fake",
                                     "virtual_transport = fake"))
    agent = None
    try:
        qm.start()
        agent = FakeAgent(qm.queue, "fake", sent, hold=0.2, held=True)
        ids = [qm.inject([f"bob@{DOMAIN}"]) for _ in range(10)]
        wait_for(lambda: len(agent.held()) == 4, what="four deliveries")
        time.sleep(0.5)
        assert len(agent.held()) == 4
        agent.release()
        for qid in ids:
            wait_for(lambda: f"{qid}: removed" in qm.log(), timeout=30,
                     what=f"{qid} removed")
        assert agent.max_active == 4
    finally:
        if agent is not None:
            agent.stop()
        qm.stop()
        remove_root(root)


def test_recipient_limit_per_request():
    root = make_root()
    qm = QmgrInstance(root, main_cf=(
        "transport_maps = inline:{batch.test=batch}",
        "default_destination_recipient_limit = 2"))
    qm.inst.add_service("batch unix - - n - - test-agent")
    try:
        qm.start()
        qid = qm.inject([f"{u}@batch.test" for u in "abcde"] +
                        [f"bob@{DOMAIN}", f"carol@{DOMAIN}"])
        wait_for(lambda: f"{qid}: removed" in qm.log(), what="removal")
        assert sorted(qm.requests()) == sorted([
            (qid, "2", "batch", "batch.test"),
            (qid, "2", "batch", "batch.test"),
            (qid, "1", "batch", "batch.test"),
            (qid, "1", "test", DOMAIN), (qid, "1", "test", DOMAIN)])
        assert len(qm.deliveries()) == 7
    finally:
        qm.stop()
        remove_root(root)


def forgotten(qm, qid):
    return f"{qid}: removed from the active queue by the administrator"


def test_message_moved_to_hold_while_delivered_is_forgotten(fake_qm):
    qm = fake_qm
    qm.start()
    pid = qm.qmgr_pid()
    agent = qm.agent(deferred_4_2_0, held=True)
    qid = qm.inject(["a@hold.test"])
    wait_for(lambda: len(agent.held()) == 1, what="request")
    (qm.queue / "hold").mkdir(exist_ok=True)
    os.rename(qm.queue / "active" / qid, qm.queue / "hold" / qid)
    agent.release()
    wait_for(lambda: forgotten(qm, qid) in qm.log(), what="forgotten")
    # qmgr goes on delivering.
    agent.answer = sent
    other = qm.inject(["b@up.test"])
    wait_for(lambda: f"{other}: removed" in qm.log(), what="other message")
    assert qm.qmgr_pid() == pid
    assert qm.log().count(forgotten(qm, qid)) == 1
    assert qm.files("hold") == [qid]
    assert qid not in qm.files("deferred") + qm.files("active")
    assert qid not in qm.files("defer")
    assert f"{qid}: to=<a@hold.test>" not in qm.log()
    assert "error" not in qm.log()


def test_message_deleted_from_active_is_forgotten(fake_qm):
    qm = fake_qm
    qm.start()
    pid = qm.qmgr_pid()
    agent = qm.agent(deferred_4_2_0, held=True)
    # One delivery at a time to slow.test: the second message waits.
    qid = qm.inject(["a@slow.test"])
    wait_for(lambda: len(agent.held()) == 1, what="request")
    waiting = qm.inject(["b@slow.test"])
    wait_for(lambda: f"{waiting}: from=<" in qm.log(), what="second")
    os.unlink(qm.queue / "active" / qid)
    os.unlink(qm.queue / "active" / waiting)
    agent.release()
    wait_for(lambda: forgotten(qm, qid) in qm.log() and
             forgotten(qm, waiting) in qm.log(), what="forgotten")
    agent.answer = sent
    other = qm.inject(["c@slow.test"])
    wait_for(lambda: f"{other}: removed" in qm.log(), what="other message")
    assert qm.qmgr_pid() == pid
    # The waiting message never went to the agent.
    assert [q for q, _, _, _ in agent.held()] == [qid, other]
    for gone in (qid, waiting):
        assert qm.log().count(forgotten(qm, gone)) == 1
        assert gone not in qm.files("deferred") + qm.files("defer")
    assert "error" not in qm.log()


def test_suspension_ends_after_minimal_backoff_time():
    root = make_root()
    qm = QmgrInstance(root, main_cf=(
        "transport_maps = inline:{down.test=fake}",
        "initial_destination_concurrency = 1",
        "minimal_backoff_time = 2s", "maximal_backoff_time = 2s"))
    agent = None
    try:
        qm.start()
        agent = FakeAgent(qm.queue, "fake", refused_at_down_test)
        qid = qm.inject(["a@down.test"])
        wait_for(lambda: "destination down.test: suspended for 2s"
                 in qm.log(), what="suspension")
        # Retried once the suspension is over: the agent is asked again.
        wait_for(lambda: len(agent.held()) >= 2, timeout=30,
                 what="second request")
        assert {q for q, _, _, _ in agent.held()} == {qid}
    finally:
        if agent:
            agent.stop()
        qm.stop()
        remove_root(root)
