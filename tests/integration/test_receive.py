"""The receive path end to end: SMTP in, the queue, local delivery out.

Runs an instance with smtpd, qmgr, local and anvil (the `mta` fixture):
swaks puts a message byte-exact into a local user's Maildir and a virtual
mailbox, unknown recipients and relaying are refused at RCPT, a command
that fails with EX_TEMPFAIL is retried and finally bounced with an RFC 3464
report, kill -9 of qmgr and local in the middle of deliveries loses and
duplicates nothing, and a full queue filesystem gives 452 4.3.1 and
leaves nothing behind. As root the instance runs in system mode with the
real uids and test users made with useradd; otherwise single-user.
"""
import email
import email.policy
import os
import pathlib
import pwd
import random
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import run
from instance import wait_for

IS_ROOT = os.geteuid() == 0
DOMAIN = "example.test"


def conf(inst, **settings):
    """Sets main.cf parameters of the instance (before it starts)."""
    args = [f"{k}={v}" for k, v in settings.items()]
    r = run("postern-conf", "-c", inst.dir, "-e", *args)
    assert r.returncode == 0, r.stderr


def demo_new(inst):
    return inst.dir / "mail" / DOMAIN / "demo" / "new"


def maildir_files(new):
    return sorted(new.iterdir()) if new.is_dir() else []


def queue_empty(inst):
    for sub in ("incoming", "active", "deferred"):
        if any((inst.queue / sub).iterdir()):
            return False
    return True


@pytest.fixture
def local_user(tmp_path):
    """A real user with a home directory (system mode only)."""
    if not IS_ROOT:
        pytest.skip("needs root to make a user")
    name = f"pt{random.randrange(10**6):06d}"
    home = pathlib.Path("/tmp") / f"postern-home.{name}"
    subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/bin/sh",
                    name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True)
        subprocess.run(["rm", "-rf", str(home)])


MESSAGE = (b"From: Sender <sender@example.org>\r\n"
           b"To: someone\r\n"
           b"Subject: byte-exact delivery\r\n"
           b"Message-ID: <byte-exact@example.org>\r\n"
           b"\r\n"
           b"First line.\r\n"
           b"Trailing spaces   \r\n"
           b"\tA tab, and 8-bit: \xc3\xa9\r\n"
           b"\r\n"
           b"Last line.\r\n")


def swaks(inst, to, data_file, sender="sender@example.org"):
    """Sends the file's message; swaks itself ends its last line."""
    return subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(inst.port(25)),
         "--from", sender, "--to", to, "--data", f"@{data_file}",
         "--timeout", "30"],
        capture_output=True, text=True, timeout=60)


def check_delivered(path, recipient, sender="sender@example.org"):
    """The file is Return-Path, Delivered-To, Received, then MESSAGE."""
    data = path.read_bytes()
    body = MESSAGE.replace(b"\r\n", b"\n")
    assert data.endswith(body), data
    head = data[:-len(body)].decode()
    lines = head.split("\n")
    assert lines[0] == f"Return-Path: <{sender}>", head
    assert lines[1] == f"Delivered-To: {recipient}", head
    assert lines[2].startswith("Received: from "), head
    assert all(l.startswith(("\t", " ")) for l in lines[3:-1]), head
    assert lines[-1] == ""


def test_swaks_to_local_user_maildir(mta, local_user, tmp_path):
    mta.start()
    data = tmp_path / "msg"
    data.write_bytes(MESSAGE[:-2])
    to = f"{local_user.pw_name}@localhost"
    r = swaks(mta, to, data)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0" in r.stdout
    new = pathlib.Path(local_user.pw_dir) / "Maildir" / "new"
    files = wait_for(lambda: maildir_files(new), timeout=30,
                     what="delivery into ~/Maildir/new")
    assert len(files) == 1
    check_delivered(files[0], to)
    st = files[0].stat()
    assert (st.st_uid, st.st_gid) == (local_user.pw_uid, local_user.pw_gid)
    wait_for(lambda: queue_empty(mta), what="queue to empty")
    assert "status=sent" in mta.log


def test_swaks_to_virtual_mailbox(mta, tmp_path):
    mta.start()
    data = tmp_path / "msg"
    data.write_bytes(MESSAGE[:-2])
    r = swaks(mta, f"Demo@{DOMAIN}", data)
    assert r.returncode == 0, r.stdout + r.stderr
    files = wait_for(lambda: maildir_files(demo_new(mta)), timeout=30,
                     what="delivery into the virtual mailbox")
    check_delivered(files[0], f"Demo@{DOMAIN}")
    owner = pwd.getpwnam("vmail").pw_uid if mta.system else os.getuid()
    assert files[0].stat().st_uid == owner


def test_unknown_recipient_and_relay(mta):
    # 127.0.0.1 outside mynetworks: a client from the Internet.
    conf(mta, mynetworks="192.0.2.0/24")
    mta.start()
    with smtplib.SMTP("127.0.0.1", mta.port(25), timeout=30) as c:
        c.ehlo("client.example")
        c.mail("sender@example.org")
        code, text = c.rcpt(f"no-such-user@{DOMAIN}")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        code, text = c.rcpt("nobody-here@localhost")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        code, text = c.rcpt("someone@foreign.example")
        assert code == 554 and text.startswith(b"5.7.1"), (code, text)
        assert b"Relay access denied" in text
        code, text = c.rcpt(f"demo@{DOMAIN}")
        assert code == 250, (code, text)
        code, text = c.rcpt("postmaster@localhost")
        assert code == 250, (code, text)


def test_relay_allowed_from_mynetworks(mta):
    mta.start()
    with smtplib.SMTP("127.0.0.1", mta.port(25), timeout=30) as c:
        c.ehlo("client.example")
        c.mail("sender@example.org")
        code, _ = c.rcpt("someone@foreign.example")
        assert code == 250


def dsn_parts(path):
    msg = email.message_from_bytes(path.read_bytes(),
                                   policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    return msg, parts


def test_tempfail_pipe_retried_then_bounced(mta):
    with open(mta.dir / "aliases", "a") as f:
        f.write('failer: "|exit 75"\n')
    conf(mta, minimal_backoff_time="1s", maximal_backoff_time="2s",
         queue_run_delay="1s", maximal_queue_lifetime="8s")
    mta.start()
    with smtplib.SMTP("127.0.0.1", mta.port(25), timeout=30) as c:
        c.sendmail(f"demo@{DOMAIN}", ["failer@localhost"],
                   b"Subject: to a failing command\r\n\r\nbody\r\n")
    files = wait_for(lambda: maildir_files(demo_new(mta)), timeout=90,
                     what="the bounce")
    msg, parts = dsn_parts(files[0])
    status = parts[1].get_payload()
    text = "".join(str(p) for p in status)
    assert "Action: failed" in text, text
    assert "Final-Recipient: rfc822; failer@localhost" in text, text
    assert "Status: 4." in text or "Status: 5." in text, text
    assert msg["From"].lower().startswith("mail delivery") or \
        "mailer-daemon" in msg["From"].lower()
    assert b"to a failing command" in files[0].read_bytes()
    # It was tried more than once before it bounced.
    assert mta.log.count("status=deferred") >= 2, mta.log
    wait_for(lambda: queue_empty(mta), what="queue to empty")


def kill_service(inst, name):
    for pid in inst.children(name):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_kill_qmgr_and_local_mid_delivery(mta):
    conf(mta, minimal_backoff_time="1s", maximal_backoff_time="1s",
         queue_run_delay="1s")
    mta.start()
    count = 30
    acked = []
    with smtplib.SMTP("127.0.0.1", mta.port(25), timeout=30) as c:
        for i in range(count):
            c.sendmail("sender@example.org", [f"demo@{DOMAIN}"],
                       f"Subject: crash-{i}\r\n\r\nbody {i}\r\n".encode())
            acked.append(f"crash-{i}")
            if i % 7 == 3:
                kill_service(mta, "qmgr")
            if i % 7 == 5:
                kill_service(mta, "local")
    for _ in range(3):
        time.sleep(0.2)
        kill_service(mta, "local")
        kill_service(mta, "qmgr")

    def all_delivered():
        mta.postern("flush")
        return queue_empty(mta) and \
            len(maildir_files(demo_new(mta))) >= count
    wait_for(all_delivered, timeout=120, interval=0.5,
             what="every message delivered")
    subjects = []
    for f in maildir_files(demo_new(mta)):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("Subject: "):
                subjects.append(line[len("Subject: "):])
                break
    assert sorted(subjects) == sorted(acked)


@pytest.fixture
def small_fs_mta():
    """An instance on a 24 MB tmpfs of its own (root only)."""
    if not IS_ROOT:
        pytest.skip("needs root to mount a tmpfs")
    from instance import MAIL_DAEMONS, Instance, make_root, remove_root
    root = make_root()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=755",
                    "tmpfs", root], check=True)
    inst = None
    try:
        inst = Instance(root, daemons=MAIL_DAEMONS)
        yield inst
    finally:
        if inst is not None:
            inst.stop()
        subprocess.run(["umount", "-l", root])
        remove_root(root)


def test_queue_filesystem_full(small_fs_mta):
    inst = small_fs_mta
    conf(inst, message_size_limit="20m")
    inst.start()
    st = os.statvfs(inst.queue)
    filler = inst.root / "filler"
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - 256 * 1024))
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 2000
    with smtplib.SMTP("127.0.0.1", inst.port(25), timeout=60) as c:
        c.ehlo("client.example")
        with pytest.raises(smtplib.SMTPDataError) as e:
            c.sendmail("sender@example.org", [f"demo@{DOMAIN}"], big)
        assert e.value.smtp_code == 452, e.value
        assert e.value.smtp_error.startswith(b"4.3.1"), e.value
    assert not [p for p in (inst.queue / "incoming").iterdir()], \
        "a half-written queue file was left behind"
    filler.unlink()
    with smtplib.SMTP("127.0.0.1", inst.port(25), timeout=60) as c:
        c.sendmail("sender@example.org", [f"demo@{DOMAIN}"], big)
    files = wait_for(lambda: maildir_files(demo_new(inst)), timeout=30,
                     what="delivery after space was freed")
    assert len(files) == 1
