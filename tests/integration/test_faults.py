"""Fault tests: what acknowledged mail survives.

Runs an instance with the mail daemons (the `mta` fixture) and breaks it
while mail flows: SIGKILL of smtpd, qmgr and local at seeded random
moments during a stream of 500 messages over SMTP, and of pickup during
a stream through sendmail (master restarts them), a full queue
filesystem and a full mailbox filesystem, a Maildir its owner cannot
write, damaged queue files in incoming/, active/ and deferred/, and
master stopped or killed with mail in flight. Every message carries a
Message-ID of its own; the check is always that each message
acknowledged to its client (SMTP 250, sendmail exit 0) lands in the
mailbox exactly once, and that nothing else does twice, except where a
killed local or pickup can leave one message it was handling delivered
twice (see their tests). The seed of each random run is printed and
named in the assertion; set POSTERN_FAULT_SEED to run one again.
"""
import collections
import os
import pwd
import random
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import tool_path
from instance import alive, wait_for
from test_receive import IS_ROOT, conf, kill_service, small_fs_mta  # noqa
from test_sendmail import inject, sendmail  # noqa

DOMAIN = "example.test"
RCPT = f"demo@{DOMAIN}"
SENDER = "sender@example.org"
# Retries within a second, and crashed services back within a second.
FAST_RETRY = dict(minimal_backoff_time="1s", maximal_backoff_time="1s",
                  queue_run_delay="1s", service_throttle_time="1s")
STREAM = 500            # messages in each kill test over SMTP
# Through sendmail each message costs two execs (sendmail, postern-drop),
# about 0.1 s of CPU with the sanitizers: fewer, to stay near a minute.
SENDMAIL_STREAM = 200
SETTLE = 90             # seconds for the queue to drain after a stream


def message(tag, lines=0):
    """A message whose Message-ID is <tag@faults.example>, with lines
    lines of 78 octets added to its body."""
    return (f"From: Sender <{SENDER}>\r\n"
            f"To: <{RCPT}>\r\n"
            f"Subject: fault {tag}\r\n"
            f"Message-ID: <{tag}@faults.example>\r\n"
            "\r\n"
            f"body of {tag}\r\n" + ("x" * 76 + "\r\n") * lines).encode()


def mailbox(inst, user="demo"):
    return inst.dir / "mail" / DOMAIN / user


def delivered(inst, user="demo"):
    """How many times each Message-ID tag is in the user's Maildir."""
    counts = collections.Counter()
    for sub in ("new", "cur"):
        d = mailbox(inst, user) / sub
        if not d.is_dir():
            continue
        for p in d.iterdir():
            with open(p, "rb") as f:
                for line in f:
                    if line in (b"\n", b"\r\n"):
                        break
                    if line.lower().startswith(b"message-id: <"):
                        tag = line.split(b"<", 1)[1].split(b"@", 1)[0]
                        counts[tag.decode()] += 1
                        break
    return counts


def queued(inst):
    """Queue files (not temporary ones) waiting in the queue."""
    names = []
    for sub in ("maildrop", "incoming", "active", "deferred"):
        d = inst.queue / sub
        names += [f"{sub}/{n}" for n in os.listdir(d)
                  if not n.startswith("tmp.")]
    return names


def settle(inst, acked, timeout=SETTLE):
    """Flushes until every acknowledged message is in the mailbox and the
    queue is empty, or timeout passes; the counts of delivered()."""
    def done():
        inst.postern("flush")
        counts = delivered(inst)
        return not queued(inst) and all(counts[t] for t in acked) and counts
    try:
        return wait_for(done, timeout=timeout, interval=0.5,
                        what="the queue to drain")
    except TimeoutError:
        return delivered(inst)


def check_exactly_once(inst, counts, acked, tried, context="",
                       may_repeat=0):
    """Every acknowledged message delivered, none twice, nothing that was
    never sent; may_repeat messages may be there twice (a process killed
    in a window between a durable write and the record of it)."""
    lost = sorted(t for t in acked if counts[t] == 0)
    dups = sorted(t for t, n in counts.items() if n > 1)
    strays = sorted(t for t in counts if t not in tried)
    report = (f"{context}{len(acked)} acknowledged of {len(tried)} tried; "
              f"LOST {len(lost)}: {lost[:20]}; "
              f"DUPLICATED {len(dups)} (at most {may_repeat} allowed): "
              f"{[(t, counts[t]) for t in dups[:20]]}; "
              f"never sent {strays[:20]}; still queued {queued(inst)[:20]}")
    assert not lost and not strays, report
    assert len(dups) <= may_repeat, report
    assert all(counts[t] == 2 for t in dups), report


def check_stream(inst, stream, context="", may_repeat=0):
    """Waits for the queue to drain, then checks the stream's mail."""
    counts = settle(inst, stream.acked)
    check_exactly_once(inst, counts, stream.acked, stream.tried,
                       f"{context}client errors {dict(stream.errors)}; ",
                       may_repeat)


class Stream:
    """Threads that each send their share of count messages, one at a
    time, until each is acknowledged: a message that is refused or cut
    off is sent again as a new message with a new Message-ID (one refused
    for good, send() giving None, is not); pace is a
    pause after each acknowledged one, to spread the stream over time.
    Records the tags tried and acknowledged, and what the failures
    were. As a context manager it runs until left, then stops."""

    def __init__(self, inst, name, count, clients=4, lines=0, pace=0.0,
                 deadline=120):
        self.inst = inst
        self.name = name
        self.count = count
        self.lines = lines
        self.pace = pace
        self.deadline = time.monotonic() + deadline
        self.tried = set()
        self.acked = set()
        self.errors = collections.Counter()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.clients = clients
        self.threads = [threading.Thread(target=self._client, args=(k,))
                        for k in range(clients)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for t in self.threads:
            t.join()

    def join(self):
        """Waits for the stream to end; every message acknowledged."""
        for t in self.threads:
            t.join()
        assert len(self.acked) == self.count, (
            f"only {len(self.acked)} of {self.count} acknowledged; "
            f"client errors {dict(self.errors)}")

    def _failed(self, what):
        with self.lock:
            self.errors[what] += 1

    def _client(self, k):
        session = {}
        for n in range(k, self.count, self.clients):
            attempt = 0
            while time.monotonic() < self.deadline and \
                    not self.stopped.is_set():
                tag = f"{self.name}.{n}.{attempt}"
                attempt += 1
                with self.lock:
                    self.tried.add(tag)
                sent = self.send(session, tag)
                if sent:
                    with self.lock:
                        self.acked.add(tag)
                if sent is not False:
                    break
                self.stopped.wait(0.05)
            self.stopped.wait(self.pace)
        self.close(session)

    def close(self, session):
        pass


class SmtpStream(Stream):
    """Sends over SMTP, one session per thread, reconnecting after an
    error; with one_each, one session per message."""

    def __init__(self, *args, one_each=False, **kw):
        super().__init__(*args, **kw)
        self.one_each = one_each

    def send(self, session, tag):
        try:
            if "c" not in session:
                session["c"] = smtplib.SMTP("127.0.0.1",
                                            self.inst.port(25), timeout=30)
                session["c"].ehlo("client.example")
            session["c"].sendmail(SENDER, [RCPT],
                                  message(tag, self.lines))
            if self.one_each:
                session.pop("c").quit()
            return True
        except smtplib.SMTPResponseException as e:
            code, text = e.smtp_code, e.smtp_error
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
        except (smtplib.SMTPException, OSError) as e:
            code, text = 0, type(e).__name__.encode()
        self._failed(f"{code} {text[:5].decode()}" if code else
                     text.decode())
        self.close(session)
        return None if code >= 500 else False

    def close(self, session):
        c = session.pop("c", None)
        if c is not None:
            try:
                c.close()
            except OSError:
                pass


class SendmailStream(Stream):
    """Sends through the built sendmail (postern-drop into maildrop/)."""

    def send(self, session, tag):
        r = sendmail(self.inst, "-i", "-f", SENDER, RCPT,
                     input=message(tag, self.lines))
        if r.returncode != 0:
            self._failed(f"exit {r.returncode}")
        return r.returncode == 0


class Killer(threading.Thread):
    """Sends SIGKILL to every process of a service at random moments
    (gaps drawn from a seeded generator), at most max_kills times."""

    def __init__(self, inst, service, seed, max_kills=15, gap=(0.2, 1.0)):
        super().__init__()
        self.inst = inst
        self.service = service
        self.rng = random.Random(seed)
        self.max_kills = max_kills
        self.gap = gap
        self.stopped = threading.Event()
        self.kills = 0
        self.killed = 0         # processes

    def run(self):
        while self.kills < self.max_kills and \
                not self.stopped.wait(self.rng.uniform(*self.gap)):
            pids = self.inst.children(self.service)
            if pids:
                kill_service(self.inst, self.service)
                self.kills += 1
                self.killed += len(pids)

    def stop(self):
        self.stopped.set()
        self.join()


def fault_seed():
    seed = int(os.environ.get("POSTERN_FAULT_SEED",
                              random.randrange(2**31)))
    print(f"fault seed {seed} (POSTERN_FAULT_SEED={seed} repeats it)")
    return seed


def kill_during_stream(inst, service, stream, window=False):
    """Kills service during the stream, then checks every message. With
    window, a killed process may leave one message delivered twice."""
    seed = fault_seed()
    killer = Killer(inst, service, seed)
    with stream:
        wait_for(lambda: len(stream.acked) >= 20, timeout=60,
                 what="the stream to start")
        killer.start()
        try:
            stream.join()
        finally:
            killer.stop()
    assert killer.kills >= 3, f"seed {seed}: only {killer.kills} kills"
    check_stream(inst, stream, f"seed {seed}: ",
                 may_repeat=killer.killed if window else 0)
    assert "killed by signal 9" in inst.log


@pytest.mark.parametrize("service", ["smtpd", "qmgr"])
def test_kill_service_during_smtp_stream(mta, service):
    conf(mta, **FAST_RETRY)
    mta.start()
    name = f"127.0.0.1:{mta.port(25)}" if service == "smtpd" else service
    kill_during_stream(mta, name, SmtpStream(mta, service, STREAM,
                                             pace=0.08))


def test_kill_local_during_smtp_stream(mta):
    """local marks a recipient done after the delivery child has linked
    the message into new/, fsynced new/ and exited: a local killed in
    between leaves a delivered recipient pending, delivered again."""
    conf(mta, **FAST_RETRY)
    mta.start()
    kill_during_stream(mta, "local",
                       SmtpStream(mta, "local", STREAM, pace=0.08),
                       window=True)


def test_kill_pickup_during_sendmail_stream(inject):
    """pickup removes a maildrop file after the queue file's commit: a
    pickup killed in between picks the file up again."""
    conf(inject, **FAST_RETRY)
    inject.start()
    kill_during_stream(inject, "pickup",
                       SendmailStream(inject, "pickup", SENDMAIL_STREAM),
                       window=True)


def fill(path, leave):
    """Writes path until its filesystem has about leave octets free."""
    st = os.statvfs(path.parent)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with open(path, "wb", buffering=0) as f:
        while size > 0:
            try:
                size -= f.write(b"\0" * min(size, 1 << 20))
            except OSError:     # full already
                break


def temporary_files(inst):
    """Files left half written in incoming/ and the mailbox's tmp/."""
    tmp = mailbox(inst) / "tmp"
    return ([n for n in os.listdir(inst.queue / "incoming")
             if n.startswith("tmp.")] +
            (os.listdir(tmp) if tmp.is_dir() else []))


def test_queue_filesystem_fills_during_stream(small_fs_mta):
    inst = small_fs_mta
    conf(inst, **FAST_RETRY)
    inst.start()
    filler = inst.root / "filler"
    with SmtpStream(inst, "queue-full", 150, clients=3, lines=50,
                    pace=0.02) as stream:
        wait_for(lambda: len(stream.acked) >= 30, timeout=60,
                 what="mail before the filesystem fills")
        fill(filler, 64 * 1024)
        wait_for(lambda: stream.errors["452 4.3.1"] >= 10, timeout=60,
                 what="452 4.3.1 while the filesystem is full")
        filler.unlink()
        stream.join()
    check_stream(inst, stream)
    assert set(stream.errors) == {"452 4.3.1"}, dict(stream.errors)
    assert temporary_files(inst) == []


@pytest.fixture
def small_mailbox_mta(mta):
    """The mta instance with its virtual mailboxes on a 4 MB tmpfs."""
    if not IS_ROOT:
        pytest.skip("needs root to mount a tmpfs")
    owner = pwd.getpwnam("vmail")
    domain = mta.dir / "mail" / DOMAIN
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size=4m,mode=700,uid={owner.pw_uid},"
                    f"gid={owner.pw_gid}", "tmpfs", str(domain)],
                   check=True)
    try:
        yield mta
    finally:
        mta.stop()
        subprocess.run(["umount", "-l", str(domain)])


def deferred_lines(inst, why):
    return [line for line in inst.log.splitlines()
            if f"to=<{RCPT}>" in line and "status=deferred" in line and
            why in line]


def test_mailbox_filesystem_full(small_mailbox_mta):
    inst = small_mailbox_mta
    conf(inst, **FAST_RETRY)
    inst.start()
    filler = mailbox(inst).parent / "filler"
    fill(filler, 0)
    with SmtpStream(inst, "mailbox-full", 20, clients=2,
                    lines=100) as stream:
        stream.join()
    wait_for(lambda: len(deferred_lines(inst, "No space left on device"))
             >= 20, timeout=60, what="deferrals for lack of space")
    assert sum(delivered(inst).values()) == 0
    assert len(queued(inst)) == 20
    filler.unlink()
    check_stream(inst, stream)
    assert temporary_files(inst) == []


def test_unwritable_maildir_defers_until_fixed(mta):
    conf(mta, **FAST_RETRY)
    box = mailbox(mta)
    owner = pwd.getpwnam("vmail") if mta.system else pwd.getpwuid(
        os.getuid())
    for d in (box, box / "cur", box / "new", box / "tmp"):
        d.mkdir()
        os.chown(d, owner.pw_uid, owner.pw_gid)
        os.chmod(d, 0o700)
    # Its owner (the delivery user) can no longer write into it.
    for d in (box / "new", box / "tmp"):
        os.chmod(d, 0o500)
    mta.start()
    with SmtpStream(mta, "unwritable", 5, clients=1) as stream:
        stream.join()
    wait_for(lambda: len(deferred_lines(mta, "Permission denied")) >= 5,
             timeout=60, what="deferrals naming the permission problem")
    assert sum(delivered(mta).values()) == 0
    assert len(queued(mta)) == 5
    for d in (box / "new", box / "tmp"):
        os.chmod(d, 0o700)
    r = mta.postern("flush")
    assert r.returncode == 0, r.stderr
    check_stream(mta, stream)


def inject_queue_file(inst, tag):
    """Commits a queue file for tag into incoming/ with test-inject, as
    the queue's owner; its queue id."""
    kw = {}
    if inst.system:
        pw = pwd.getpwnam("postern")
        kw = {"user": pw.pw_uid, "group": pw.pw_gid}
    r = subprocess.run([str(tool_path("test-inject")), "-f", SENDER,
                        str(inst.queue), RCPT], input=message(tag),
                       capture_output=True, timeout=30, **kw)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def truncate(path):
    os.truncate(path, path.stat().st_size // 2)


def garbage(path):
    path.write_bytes(random.Random(path.name).randbytes(600))


def bad_record(path):
    """Turns the protocol record (after the version and arrival time
    records, at octet 33) into an unknown record type."""
    with open(path, "r+b") as f:
        f.seek(33)
        assert f.read(1) == b"P"
        f.seek(33)
        f.write(b"Z")


def test_damaged_queue_files_go_to_corrupt(mta):
    conf(mta, **FAST_RETRY)
    damaged = {}
    good = []
    for where in ("incoming", "active", "deferred"):
        for damage in (truncate, garbage, bad_record):
            qid = inject_queue_file(mta, f"{where}-{damage.__name__}")
            damage(mta.queue / "incoming" / qid)
            damaged[qid] = where
        good.append(inject_queue_file(mta, f"good-{where}"))
        for qid in list(damaged)[-3:] + good[-1:]:
            if where != "incoming":
                os.rename(mta.queue / "incoming" / qid,
                          mta.queue / where / qid)
    mta.start()
    wait_for(lambda: set(os.listdir(mta.queue / "corrupt")) >= set(damaged),
             timeout=60, what="damaged files in corrupt/")
    for qid, where in damaged.items():
        assert any(line.endswith("; moved to corrupt/") and
                   f"{qid}: damaged queue file (" in line
                   for line in mta.log.splitlines()), (qid, where, mta.log)
    sent = {f"good-{w}" for w in ("incoming", "active", "deferred")}
    check_exactly_once(mta, settle(mta, sent), sent, sent)
    assert set(os.listdir(mta.queue / "corrupt")) == set(damaged)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_master_restarted_with_mail_in_flight(mta, how):
    """The stream lasts at least 10 s (400 messages, 4 clients, 0.1 s
    apart, a session each); master goes and comes back twice in it. Its
    children finish what they hold first (the session a killed master's
    smtpd is in) and then exit."""
    conf(mta, **FAST_RETRY)
    mta.start()
    with SmtpStream(mta, f"master-{how}", 400, pace=0.1,
                    one_each=True) as stream:
        for when in (50, 150):
            wait_for(lambda: len(stream.acked) >= when, timeout=60,
                     what=f"{when} messages acknowledged")
            children = mta.children()
            if how == "stop":
                r = mta.postern("stop")
                assert r.returncode == 0, r.stderr
            else:
                os.kill(mta.master_pid(), signal.SIGKILL)
            mta.master.wait(timeout=30)
            # Its children notice and go, letting go of the sockets.
            wait_for(lambda: not any(alive(p) for p in children),
                     timeout=30, what="master's children to exit")
            assert len(stream.acked) < stream.count, "not in flight"
            mta.log_file.close()
            mta.start()
        stream.join()
    check_stream(mta, stream)


def test_killed_master_frees_its_ports_during_a_session(mta):
    """An smtpd in the middle of a session when master is killed lets go
    of the listening socket at once (so a new master can start), and
    still finishes its client, whose message is delivered."""
    conf(mta, **FAST_RETRY)
    mta.start()
    with smtplib.SMTP("127.0.0.1", mta.port(25), timeout=30) as c:
        c.ehlo("client.example")
        os.kill(mta.master_pid(), signal.SIGKILL)
        mta.master.wait(timeout=30)
        mta.log_file.close()
        mta.start()
        c.sendmail(SENDER, [RCPT], message("held-session"))
    counts = settle(mta, ["held-session"])
    assert counts and counts["held-session"] == 1, counts
