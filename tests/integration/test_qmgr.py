"""qmgr against a real instance: incoming -> active -> removed, deferral
and back-off, bounces as RFC 3464 reports, DSN NOTIFY, the null sender,
and kill -9 in the middle of deliveries.

The instance runs qmgr with tests/service's test-agent as its local and
virtual transport ("test"): the agent answers each recipient by its local
part (defer-*, bounce-*, slow-*, else delivered) and logs deliveries in
DIR/test-agent/deliveries. Mail is put into the queue with test-inject
(queue_writer), so these tests need no smtpd.
"""
import email
import email.policy
import os
import pwd
import signal
import subprocess
import time

import pytest

from conftest import tool_path
from instance import Instance, alive, make_root, remove_root, wait_for

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
