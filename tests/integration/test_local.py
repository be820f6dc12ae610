"""The local delivery agent, driven directly: a queue file written into
queue/active/ and a delivery request sent to queue/private/local, as qmgr
would, in an instance whose master.cf has local alone (so nothing else
touches the queue). As root the instance is in system mode and the tests make
their own users (useradd) to check ownership and privilege switching."""
import os
import pathlib
import pwd
import random
import string
import subprocess

import pytest

import postern_proto as proto
from instance import wait_for

SENDER = "sender@example.org"
CONTENT = (b"Subject: local test\n"
           b"Message-Id: <1@example.org>\n"
           b"\n"
           b"First line\n"
           b"Text with From inside: not quoted\n"
           b"From here on, quoted in mbox\n"
           b">From already quoted\n")

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root for users")


class User:
    """A system user made for one test, with a home in the test root."""

    def __init__(self, root, stem):
        suffix = "".join(random.choices(string.ascii_lowercase, k=5))
        self.name = f"pl{stem}{suffix}"
        self.home = pathlib.Path(root) / "home" / self.name
        self.home.parent.mkdir(exist_ok=True)
        os.chmod(self.home.parent, 0o755)
        subprocess.run(["useradd", "-M", "-U", "-d", str(self.home), "-s",
                        "/bin/sh", self.name], check=True,
                       capture_output=True, timeout=60)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.home.mkdir()
        os.chown(self.home, self.uid, self.gid)
        os.chmod(self.home, 0o755)

    def remove(self):
        """Removes the user (and its group), waiting for its last
        processes to be gone: userdel refuses while any is alive."""
        def gone():
            subprocess.run(["userdel", self.name], capture_output=True,
                           timeout=60)
            try:
                pwd.getpwnam(self.name)
            except KeyError:
                return True
            return False
        wait_for(gone, timeout=20, interval=0.2, what=f"userdel {self.name}")

    def write(self, rel, text, mode=0o644, owner=None):
        p = self.home / rel
        p.write_text(text)
        uid, gid = owner if owner else (self.uid, self.gid)
        os.chown(p, uid, gid)
        os.chmod(p, mode)
        return p

    def maildir_new(self, rel="Maildir"):
        d = self.home / rel / "new"
        return sorted(d.iterdir()) if d.is_dir() else []


@pytest.fixture
def users(mta):
    made = []

    def make(stem):
        u = User(mta.root, stem)
        made.append(u)
        return u
    try:
        yield make
    finally:
        for u in made:
            u.remove()


def configure(inst, **params):
    with open(inst.dir / "main.cf", "a") as f:
        for name, value in params.items():
            f.write(f"{name} = {value}\n")


def start_local_only(inst):
    """Starts inst with local as the only service of master.cf: no qmgr
    to take the test's queue files, no listeners on inet ports."""
    cf = inst.dir / "master.cf"
    kept = [line for line in cf.read_text().splitlines(keepends=True)
            if line.startswith("#") or line.startswith("local ")]
    cf.write_text("".join(kept))
    inst.start()
    wait_for(lambda: (inst.queue / "private" / "local").exists(),
             what="private/local")


def queue_owner():
    if not ROOT:
        return None
    pw = pwd.getpwnam("postern")
    return pw.pw_uid, pw.pw_gid


def enqueue(inst, rcpts, content=CONTENT, sender=SENDER, **kw):
    return proto.write_queue_file(inst.queue / "active", sender, rcpts,
                                  content, owner=queue_owner(), **kw)


def deliver(inst, qid, indexes, **kw):
    return proto.deliver(inst.queue / "private" / "local", qid, indexes,
                         **kw)


def done_flags(inst, qid):
    env = proto.read_queue_file(inst.queue / "active" / qid)
    return [r["done"] for r in env["rcpts"]]


def prefix(recipient, sender=SENDER):
    return (f"Return-Path: <{sender}>\nDelivered-To: {recipient}\n"
            .encode())


@pytest.fixture
def mta_root(mta):
    """The mta instance, system mode only."""
    if not ROOT:
        pytest.skip("system mode needs root")
    return mta


def test_maildir_delivery_is_byte_exact_and_owned(mta_root, users):
    alice = users("alice")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"], res["relay"]) == \
        ("sent", "2.0.0", "local")
    assert res["reason"] == "delivered to maildir"
    [msg] = alice.maildir_new()
    assert msg.read_bytes() == prefix(f"{alice.name}@localhost") + CONTENT
    st = msg.stat()
    assert (st.st_uid, st.st_gid) == (alice.uid, alice.gid)
    assert st.st_mode & 0o777 == 0o600
    assert done_flags(mta_root, qid) == [True]


def test_second_request_for_done_recipient_is_refused(mta_root, users):
    alice = users("alice")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost",
                             f"{alice.name}+x@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent"
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "deferred"
    assert "already done" in res["reason"]
    assert len(alice.maildir_new()) == 1
    assert done_flags(mta_root, qid) == [True, False]
    [res] = deliver(mta_root, qid, [5])
    assert res["status"] == "deferred"
    assert "not in the queue file" in res["reason"]
    assert "already done: refused" in mta_root.log


def test_extension_and_case_reach_the_user(mta_root, users):
    alice = users("alice")
    start_local_only(mta_root)
    rcpt = f"{alice.name.upper()}+News@localhost"
    qid = enqueue(mta_root, [rcpt])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    [msg] = alice.maildir_new()
    assert msg.read_bytes().startswith(
        prefix(f"{alice.name}+news@localhost"))


def test_mbox_in_spool_with_from_quoting(mta_root, users):
    alice = users("alice")
    spool = mta_root.dir / "spool"
    spool.mkdir()
    os.chmod(spool, 0o755)          # users cannot create files here
    configure(mta_root, home_mailbox="", mail_spool_directory=spool)
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["reason"]) == ("sent", "delivered to mailbox")
    box = spool / alice.name
    data = box.read_bytes()
    first, rest = data.split(b"\n", 1)
    assert first.startswith(f"From {SENDER} ".encode())
    assert rest == (prefix(f"{alice.name}@localhost") +
                    CONTENT.replace(b"\nFrom here", b"\n>From here")
                    .replace(b"\n>From already", b"\n>>From already") +
                    b"\n")
    assert box.stat().st_uid == alice.uid
    # A second message is appended after a blank line.
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent"
    assert box.read_bytes().startswith(data)
    assert box.read_bytes()[len(data):].startswith(b"From ")


def test_home_mbox(mta_root, users):
    alice = users("alice")
    configure(mta_root, home_mailbox="Mailbox")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["reason"]) == ("sent", "delivered to mailbox")
    assert (alice.home / "Mailbox").stat().st_uid == alice.uid


def test_unknown_user_bounces(mta_root):
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["no.such.user@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.1.1")
    assert res["reason"] == 'unknown user: "no.such.user"'
    assert done_flags(mta_root, qid) == [False]   # qmgr marks bounces


def test_misrouted_domain_is_deferred(mta_root):
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["someone@remote.example"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("deferred", "4.3.5")
    assert "misrouted" in mta_root.log


def test_virtual_mailbox(mta):
    """Runs in either mode: virtual mailboxes belong to vmail in a system
    instance and to the invoking user in a single-user one."""
    start_local_only(mta)
    qid = enqueue(mta, ["demo@example.test", "nobody@example.test"])
    res = deliver(mta, qid, [0, 1])
    assert [(r["rcpt"], r["status"]) for r in res] == \
        [(0, "sent"), (1, "bounced")]
    assert res[1]["dsn"] == "5.1.1"
    [msg] = sorted((mta.dir / "mail" / "example.test" / "demo" /
                    "new").iterdir())
    assert msg.read_bytes() == prefix("demo@example.test") + CONTENT
    owner = pwd.getpwnam("vmail").pw_uid if ROOT else os.geteuid()
    assert msg.stat().st_uid == owner
    assert done_flags(mta, qid) == [True, False]


@pytest.mark.skipif(ROOT, reason="single-user mode needs a non-root run")
def test_single_user_defers_other_users(mta):
    start_local_only(mta)
    qid = enqueue(mta, ["root@localhost"])
    [res] = deliver(mta, qid, [0])
    assert (res["status"], res["dsn"]) == ("deferred", "4.3.0")
    assert "a single-user instance cannot deliver as root" in res["reason"]


def test_aliases_lists_and_include(mta_root, users):
    alice, bob = users("alice"), users("bob")
    inc = mta_root.dir / "team.inc"
    inc.write_text(f"# the team\n{bob.name}\n")
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f"both: {alice.name}, :include:{inc}\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["both@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert res["reason"] == "delivered to maildir; delivered to maildir"
    [a] = alice.maildir_new()
    [b] = bob.maildir_new()
    # Unqualified alias items take myorigin's domain.
    assert a.read_bytes() == \
        prefix(f"{alice.name}@mail.example.test") + CONTENT
    assert b.read_bytes() == \
        prefix(f"{bob.name}@mail.example.test") + CONTENT


def test_users_alternate_and_edited_aliases_apply(mta_root, users):
    """One local process delivers as one user after another with each
    one's ownership, and an alias table edited while it runs applies to
    the next delivery."""
    alice, bob = users("alice"), users("bob")
    aliases = mta_root.dir / "aliases"
    original = aliases.read_text()
    start_local_only(mta_root)
    for _ in range(3):
        for who in (alice, bob):
            qid = enqueue(mta_root, [f"{who.name}@localhost"])
            [res] = deliver(mta_root, qid, [0])
            assert res["status"] == "sent", res
    for who in (alice, bob):
        files = who.maildir_new()
        assert len(files) == 3
        assert {(f.stat().st_uid, f.stat().st_gid) for f in files} == \
            {(who.uid, who.gid)}
    for who, count in ((bob, 4), (alice, 4)):
        aliases.write_text(original + f"team: {who.name}\n")
        qid = enqueue(mta_root, ["team@localhost"])
        [res] = deliver(mta_root, qid, [0])
        assert res["status"] == "sent", res
        assert len(who.maildir_new()) == count


def test_alias_naming_itself_means_the_mailbox(mta_root, users):
    alice = users("alice")
    out = pipe_dir(mta_root)
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f'{alice.name}: {alice.name}, "|cat > {out}/copy"\n')
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert len(alice.maildir_new()) == 1
    assert (out / "copy").read_bytes() == \
        prefix(f"{alice.name}@localhost") + CONTENT


def test_include_file_writable_by_others_defers(mta_root, users):
    alice = users("alice")
    inc = mta_root.dir / "bad.inc"
    inc.write_text(f"{alice.name}\n")
    os.chmod(inc, 0o666)
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f"bad: :include:{inc}\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["bad@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "deferred"
    assert "writable by others" in res["reason"]
    assert alice.maildir_new() == []


def test_alias_loop_bounces(mta_root):
    with open(mta_root.dir / "aliases", "a") as f:
        f.write("loopa: loopb\nloopb: loopa\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["loopa@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.4.6")


def test_delivered_to_loop_bounces(mta_root, users):
    alice = users("alice")
    start_local_only(mta_root)
    rcpt = f"{alice.name}@localhost"
    qid = enqueue(mta_root, [rcpt],
                  content=f"Delivered-To: {rcpt.upper()}\n".encode() +
                  CONTENT)
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.4.6")
    assert alice.maildir_new() == []


def pipe_dir(inst):
    """A directory every user may write, for commands' output."""
    d = inst.dir / "out"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o1777)
    return d


def test_pipe_from_alias_runs_as_nobody_with_env(mta_root):
    out = pipe_dir(mta_root)
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f'filter: "|cat > {out}/msg; env > {out}/env; id -u > '
                f'{out}/uid; pwd > {out}/cwd"\n')
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["filter+tag@localhost"],
                  client_addr="192.0.2.7", helo="client.example")
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert res["reason"].startswith("delivered to command: cat > ")
    assert (out / "msg").read_bytes() == \
        prefix("filter+tag@localhost") + CONTENT
    env = dict(line.split("=", 1) for line in
               (out / "env").read_text().splitlines() if "=" in line)
    nobody = pwd.getpwnam("nobody")
    assert int((out / "uid").read_text()) == nobody.pw_uid
    assert env["USER"] == env["LOGNAME"] == "nobody"
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["SENDER"] == SENDER
    assert env["RECIPIENT"] == "filter+tag@localhost"
    assert env["LOCAL"] == "filter+tag"
    assert env["EXTENSION"] == "tag"
    assert env["DOMAIN"] == "localhost"
    assert env["ORIGINAL_RECIPIENT"] == "filter+tag@localhost"
    assert env["QUEUE_ID"] == qid
    assert env["CLIENT_ADDRESS"] == "192.0.2.7"
    assert env["CLIENT_HELO"] == "client.example"
    assert "SSH_AUTH_SOCK" not in env and "MAIL_CONFIG" not in env


def test_pipe_runs_as_the_alias_table_owner(mta_root, users):
    alice = users("alice")
    out = pipe_dir(mta_root)
    aliases = mta_root.dir / "aliases"
    with open(aliases, "a") as f:
        f.write(f'owned: "|id -u > {out}/uid"\n')
    os.chown(aliases, alice.uid, alice.gid)
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["owned@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert int((out / "uid").read_text()) == alice.uid


def test_commands_in_include_files_are_restricted(mta_root):
    out = pipe_dir(mta_root)
    inc = mta_root.dir / "cmd.inc"
    inc.write_text(f"|cat > {out}/x\n")
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f"viainc: :include:{inc}\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["viainc@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.7.1")
    assert "restricted in include items" in res["reason"]
    assert not (out / "x").exists()


@pytest.mark.parametrize("code,status,dsn", [
    (75, "deferred", "4.3.0"), (71, "deferred", "4.3.0"),
    (67, "bounced", "5.1.1"), (68, "bounced", "5.1.2"),
    (69, "bounced", "5.3.0"), (77, "bounced", "5.7.1"),
    (65, "bounced", "5.6.0"), (1, "bounced", "5.3.0")])
def test_pipe_exit_codes(mta_root, code, status, dsn):
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f'fails: "|echo it went wrong; exit {code}"\n')
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["fails@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == (status, dsn)
    assert f"exit status {code}: it went wrong" in res["reason"]
    assert done_flags(mta_root, qid) == [False]


def test_pipe_time_limit_kills_the_group(mta_root):
    out = pipe_dir(mta_root)
    configure(mta_root, command_time_limit="2s")
    with open(mta_root.dir / "aliases", "a") as f:
        f.write(f'slow: "|sleep 300 & echo $! > {out}/bg; sleep 300"\n')
    start_local_only(mta_root)
    qid = enqueue(mta_root, ["slow@localhost"])
    [res] = deliver(mta_root, qid, [0], timeout=60)
    assert (res["status"], res["dsn"]) == ("deferred", "4.3.0")
    assert "time limit of 2s exceeded" in res["reason"]
    bg = int((out / "bg").read_text())
    wait_for(lambda: not os.path.exists(f"/proc/{bg}") or
             open(f"/proc/{bg}/stat").read().split(") ")[1][0] == "Z",
             timeout=10, what="background command killed")


def test_pipe_and_file_restrictions(mta_root, users):
    alice = users("alice")
    out = pipe_dir(mta_root)
    configure(mta_root, allow_mail_to_commands="alias",
              allow_mail_to_files="alias")
    alice.write(".forward", f"|cat > {out}/x\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.7.1")
    assert not (out / "x").exists()


def test_forward_to_file_and_command_as_the_user(mta_root, users):
    alice = users("alice")
    out = pipe_dir(mta_root)
    alice.write(".forward", f"\\{alice.name}, {alice.home}/saved, "
                f'"|id -u > {out}/uid"\n')
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert len(alice.maildir_new()) == 1
    saved = alice.home / "saved"
    assert saved.stat().st_uid == alice.uid
    assert saved.read_bytes().startswith(b"From " + SENDER.encode())
    assert int((out / "uid").read_text()) == alice.uid


def test_forward_to_other_user(mta_root, users):
    alice, bob = users("alice"), users("bob")
    alice.write(".forward", f"{bob.name}\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert alice.maildir_new() == []
    [b] = bob.maildir_new()
    assert b.stat().st_uid == bob.uid


@pytest.mark.parametrize("how", ["foreign owner", "group writable",
                                 "symlink"])
def test_unsafe_forward_is_ignored(mta_root, users, how):
    alice, bob = users("alice"), users("bob")
    if how == "foreign owner":
        alice.write(".forward", f"{bob.name}\n", owner=(bob.uid, bob.gid))
    elif how == "group writable":
        alice.write(".forward", f"{bob.name}\n", mode=0o664)
    else:
        target = bob.write("fwd", f"{bob.name}\n")
        os.symlink(target, alice.home / ".forward")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    assert len(alice.maildir_new()) == 1
    assert bob.maildir_new() == []
    assert "ignoring" in mta_root.log


def test_forward_to_remote_address_requeues(mta_root, users):
    alice = users("alice")
    alice.write(".forward", f"\\{alice.name}, friend@remote.example\n")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [{"address": f"{alice.name}@localhost",
                              "notify": proto.NOTIFY_FAILURE,
                              "orcpt": f"rfc822;{alice.name}@localhost"}])
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent", res
    new_id = res["reason"].rsplit("forwarded as ", 1)[1]
    path = mta_root.queue / "incoming" / new_id
    env = proto.read_queue_file(path)
    assert env["sender"] == SENDER
    assert env["proto"] == "local"
    assert env["rcpts"] == [{"address": "friend@remote.example",
                             "done": False, "notify": proto.NOTIFY_FAILURE,
                             "orcpt": f"rfc822;{alice.name}@localhost"}]
    assert env["content"] == CONTENT
    postern = pwd.getpwnam("postern")
    assert path.stat().st_uid == postern.pw_uid
    assert f"{qid}: to=<{alice.name}@localhost>: forwarded as {new_id}" \
        in mta_root.log


def test_symlinked_maildir_is_refused(mta_root, users):
    alice, bob = users("alice"), users("bob")
    start_local_only(mta_root)
    os.symlink(bob.home / "Maildir", alice.home / "Maildir")
    qid = enqueue(mta_root, [f"{bob.name}@localhost"])
    assert deliver(mta_root, qid, [0])[0]["status"] == "sent"
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("deferred", "4.2.0")
    assert "symbolic link" in res["reason"]
    assert len(bob.maildir_new()) == 1
    assert done_flags(mta_root, qid) == [False]


def test_symlinked_spool_mbox_is_refused(mta_root, users):
    alice, bob = users("alice"), users("bob")
    spool = mta_root.dir / "spool"
    spool.mkdir()
    os.chmod(spool, 0o1777)
    configure(mta_root, home_mailbox="", mail_spool_directory=spool)
    start_local_only(mta_root)
    victim = bob.write("mbox", "precious\n", mode=0o600)
    os.symlink(victim, spool / alice.name)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("deferred", "4.2.0")
    assert victim.read_text() == "precious\n"
    # A hard link to another user's file is refused as well.
    os.unlink(spool / alice.name)
    hard = spool / alice.name
    os.link(victim, hard)
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "deferred"
    assert victim.read_text() == "precious\n"


def test_mailbox_size_limit_bounces(mta_root, users):
    alice = users("alice")
    configure(mta_root, mailbox_size_limit="100")
    start_local_only(mta_root)
    qid = enqueue(mta_root, [f"{alice.name}@localhost"],
                  content=CONTENT * 10)
    [res] = deliver(mta_root, qid, [0])
    assert (res["status"], res["dsn"]) == ("bounced", "5.2.2")
    assert alice.maildir_new() == []


def test_bad_requests_leave_the_service_healthy(mta_root, users):
    import socket
    alice = users("alice")
    start_local_only(mta_root)
    sock = mta_root.queue / "private" / "local"
    # Garbage instead of a frame: dropped without a reply.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(sock))
        s.sendall(b"\x00\x00\x00\x05hello")
        assert s.recv(100) == b""
    # A path outside the queue: refused by the decoder.
    with pytest.raises(EOFError):
        proto.send_request(sock, proto.deliver_request(
            "X", [0], queue_file="../../etc/passwd"))
    # A queue file that does not exist: every recipient deferred.
    [res] = deliver(mta_root, "0SCT2O0APSW247H", [0])
    assert res["status"] == "deferred"
    # A queue id that does not match the file.
    qid = enqueue(mta_root, [f"{alice.name}@localhost"])
    [res] = deliver(mta_root, "0SCT2O0APSW247H", [0],
                    queue_file=f"active/{qid}")
    assert res["status"] == "deferred"
    assert alice.maildir_new() == []
    # Still serving.
    [res] = deliver(mta_root, qid, [0])
    assert res["status"] == "sent"


@needs_root
def test_single_user_instance_delivers_as_the_invoking_user():
    """A single-user instance (started by an ordinary user) delivers that
    user's mail, aliases and virtual mailboxes as that user, and defers
    mail for anybody else."""
    from conftest import tool_path
    from instance import alive, free_port_base, make_root, remove_root
    root = make_root()
    owner = User(root, "owner")
    other = User(root, "other")
    try:
        daemon_dir = os.path.join(root, "libexec")
        os.mkdir(daemon_dir)
        for name in ("master", "local"):
            os.symlink(tool_path(name), os.path.join(daemon_dir, name))
        inst_dir = owner.home / "inst"
        env = dict(os.environ, POSTERN_DAEMON_DIR=daemon_dir,
                   HOME=str(owner.home))
        env.pop("MAIL_CONFIG", None)
        as_owner = ["setpriv", f"--reuid={owner.uid}",
                    f"--regid={owner.gid}", "--init-groups"]
        postern = str(tool_path("postern"))

        def run(*args):
            return subprocess.run(as_owner + [postern, "-c", str(inst_dir),
                                              *args],
                                  capture_output=True, text=True, env=env,
                                  timeout=60)
        r = run("init", "--port-base", str(free_port_base()))
        assert r.returncode == 0, r.stderr
        out = owner.home / "out"
        out.mkdir()
        os.chown(out, owner.uid, owner.gid)
        with open(inst_dir / "aliases", "a") as f:
            f.write(f'piped: "|id -u > {out}/uid"\n')
        r = run("start")
        assert r.returncode == 0, r.stderr
        mpid = int((inst_dir / "queue" / "pid" / "master.pid").read_text())
        try:
            queue = inst_dir / "queue"
            wait_for(lambda: (queue / "private" / "local").exists(),
                     what="private/local")
            qid = proto.write_queue_file(
                queue / "active", SENDER,
                [f"{owner.name}@localhost", f"{other.name}@localhost",
                 "demo@example.test", "piped@localhost"], CONTENT,
                owner=(owner.uid, owner.gid))
            res = proto.deliver(queue / "private" / "local", qid,
                                [0, 1, 2, 3])
            assert [r["status"] for r in res] == \
                ["sent", "deferred", "sent", "sent"], res
            assert "a single-user instance cannot deliver as " + \
                other.name in res[1]["reason"]
            [msg] = owner.maildir_new()
            assert msg.stat().st_uid == owner.uid
            assert msg.read_bytes() == \
                prefix(f"{owner.name}@localhost") + CONTENT
            assert other.maildir_new() == []
            [vmsg] = (inst_dir / "mail" / "example.test" / "demo" /
                      "new").iterdir()
            assert vmsg.stat().st_uid == owner.uid
            assert int((out / "uid").read_text()) == owner.uid
        finally:
            r = run("stop")
            if alive(mpid):
                os.kill(mpid, 9)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: not alive(mpid), timeout=10, what="master gone")
    finally:
        owner.remove()
        other.remove()
        remove_root(root)
