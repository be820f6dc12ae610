"""Local injection: sendmail, postern-drop and pickup end to end.

Runs an instance with the mail daemons and pickup (the `mta` fixture) and
a command directory holding the built postern-drop (setgid posterndrop in
system mode, as `make install` installs it) and postern-queue: messages
given to sendmail reach the virtual mailboxes of the instance, with -t
and Bcc, with master stopped and started later, through -bs, from s-nail,
through virtual aliases, and from an ordinary user who cannot write into
maildrop/ directly nor gain the group through a configuration directory
of its own. Injection attempts through the command line are refused,
malformed maildrop files go to corrupt/, -bp/mailq, -q and newaliases run
what they stand for, and postern setup gives postern-drop its mode.
"""
import email
import email.policy
import grp
import os
import pwd
import shutil
import subprocess

import pytest

from conftest import tool_path
from instance import wait_for

IS_ROOT = os.geteuid() == 0
DOMAIN = "example.test"
USERS = ("demo", "alice", "bob", "carol")
EX_USAGE = 64


@pytest.fixture
def inject(mta):
    """The mta instance with a command directory and more mailboxes."""
    cmd = mta.root / "cmd"
    cmd.mkdir()
    drop = cmd / "postern-drop"
    shutil.copy(tool_path("postern-drop"), drop)
    if IS_ROOT:
        os.chown(drop, 0, grp.getgrnam("posterndrop").gr_gid)
        os.chmod(drop, 0o2755)
    for name in ("postern-queue", "postern"):
        os.symlink(tool_path(name), cmd / name)
    with open(mta.dir / "main.cf", "a") as f:
        f.write(f"command_directory = {cmd}\n")
    with open(mta.dir / "vmailbox", "a") as f:
        for user in USERS[1:]:
            f.write(f"{user}@{DOMAIN} {DOMAIN}/{user}/\n")
    return mta


def sendmail(inst, *args, input=b"", user=None, env=None):
    argv = [str(tool_path("sendmail")), "-C", str(inst.dir), *args]
    full_env = dict(os.environ)
    full_env.pop("MAIL_CONFIG", None)
    full_env.update(env or {})
    if user is not None:
        argv = ["setpriv", "--reuid", user, "--regid", "nogroup",
                "--clear-groups", *argv]
    return subprocess.run(argv, input=input, capture_output=True,
                          env=full_env, timeout=60)


def new_dir(inst, user):
    return inst.dir / "mail" / DOMAIN / user / "new"


def messages(inst, user):
    d = new_dir(inst, user)
    if not d.is_dir():
        return []
    return [email.message_from_bytes(p.read_bytes(),
                                     policy=email.policy.default)
            for p in sorted(d.iterdir())]


def wait_mail(inst, user, count=1):
    return wait_for(lambda: len(messages(inst, user)) >= count and
                    messages(inst, user), timeout=30,
                    what=f"mail for {user}")


def maildrop(inst):
    return sorted(os.listdir(inst.queue / "maildrop"))


def test_t_to_cc_bcc_all_delivered_without_bcc(inject):
    inject.start()
    msg = (f"To: Demo <demo@{DOMAIN}>\n"
           f"Cc: \"Doe, Alice\" <alice@{DOMAIN}>,\n"
           f"  Team: carol@{DOMAIN};\n"
           f"Bcc: bob@{DOMAIN}\n"
           "Subject: php mail()\n"
           "\n"
           "Hello from a script.\n").encode()
    r = sendmail(inject, "-t", "-i", "-F", "Web Site", input=msg)
    assert r.returncode == 0, r.stderr
    for user in ("demo", "alice", "bob", "carol"):
        got = wait_mail(inject, user)
        assert len(got) == 1
        m = got[0]
        assert "Bcc" not in m
        assert m["Subject"] == "php mail()"
        assert m["Date"] is not None
        assert m["Message-ID"] is not None
        assert m["From"].addresses[0].display_name == "Web Site"
        assert "from userid" in m["Received"]
        assert m.get_content() == "Hello from a script.\n"


def test_master_down_message_waits_in_maildrop(inject):
    r = sendmail(inject, f"demo@{DOMAIN}", input=b"Subject: later\n\nhi\n")
    assert r.returncode == 0, r.stderr
    assert len(maildrop(inject)) == 1
    inject.start()
    got = wait_mail(inject, "demo")
    assert got[0]["Subject"] == "later"
    wait_for(lambda: not maildrop(inject), what="maildrop to empty")


def test_lone_dot_ends_input_unless_i(inject):
    inject.start()
    body = b"Subject: dots\n\nbefore\n.\nafter\n"
    r = sendmail(inject, f"demo@{DOMAIN}", input=body)
    assert r.returncode == 0, r.stderr
    r = sendmail(inject, "-oi", f"alice@{DOMAIN}", input=body)
    assert r.returncode == 0, r.stderr
    cut = wait_mail(inject, "demo")[0].get_content()
    full = wait_mail(inject, "alice")[0].get_content()
    assert cut == "before\n"
    assert full == "before\n.\nafter\n"


def test_bs_dialogue(inject):
    inject.start()
    dialogue = (b"EHLO client\r\n"
                b"MAIL FROM:<sender@example.org>\r\n"
                b"RCPT TO:<demo@" + DOMAIN.encode() + b">\r\n"
                b"RCPT TO:<bad address>\r\n"
                b"DATA\r\n"
                b"Subject: via -bs\r\n"
                b"\r\n"
                b"..leading dot\r\n"
                b".\r\n"
                b"QUIT\r\n")
    r = sendmail(inject, "-bs", input=dialogue)
    assert r.returncode == 0, r.stderr
    codes = [line[:3] for line in r.stdout.decode().splitlines()]
    assert codes == ["220", "250", "250", "250", "501", "354", "250",
                     "221"]
    m = wait_mail(inject, "demo")[0]
    assert m["Subject"] == "via -bs"
    assert m.get_content() == ".leading dot\n"
    assert "sender@example.org" in str(m["From"])


@pytest.mark.parametrize("args", [
    ("-f", "x@example.org\nBcc: victim@example.org", "demo@" + DOMAIN),
    ("-F", "Name\nBcc: victim@example.org", "demo@" + DOMAIN),
    ("demo@" + DOMAIN + "\nBcc: victim@example.org",),
    ("-r", "x@example.org\r", "demo@" + DOMAIN),
])
def test_injection_through_arguments_refused(inject, args):
    r = sendmail(inject, *args, input=b"Subject: x\n\nx\n")
    assert r.returncode == EX_USAGE
    assert b"control character" in r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1
    assert maildrop(inject) == []


def test_bad_header_address_with_t(inject):
    r = sendmail(inject, "-t", input=b"To: <unclosed@example.test\n\nx\n")
    assert r.returncode == 65, r.stderr     # EX_DATAERR
    assert maildrop(inject) == []


def test_snail_sends_through_sendmail(inject, tmp_path):
    inject.start()
    env = dict(os.environ, MAIL_CONFIG=str(inject.dir), HOME=str(tmp_path),
               MAILRC="/dev/null")
    r = subprocess.run(["s-nail", "-:/",
                        "-S", f"mta={tool_path('sendmail')}",
                        "-s", "from s-nail", f"demo@{DOMAIN}"],
                       input=b"sent by s-nail\n", capture_output=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    m = wait_mail(inject, "demo")[0]
    assert m["Subject"] == "from s-nail"
    assert "sent by s-nail" in m.get_content()


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as nobody")
def test_only_postern_drop_writes_maildrop(inject):
    inject.start()
    r = subprocess.run(["setpriv", "--reuid", "nobody", "--regid",
                        "nogroup", "--clear-groups", "sh", "-c",
                        f"echo x > {inject.queue}/maildrop/forged"],
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    assert b"Permission denied" in r.stderr
    r = sendmail(inject, f"demo@{DOMAIN}", user="nobody",
                 input=b"Subject: from nobody\n\nhi\n")
    assert r.returncode == 0, r.stderr
    m = wait_mail(inject, "demo")[0]
    assert m["Subject"] == "from nobody"
    nobody = 65534
    assert f"from userid {nobody}" in m["Received"]
    assert "nobody@" in str(m["From"])


def test_malformed_maildrop_file_goes_to_corrupt(inject):
    bad = inject.queue / "maildrop" / "0SCT2O0APSW247H"
    bad.write_bytes(b"postern-maildrop 1\nuid 0\nsender \nsize 1\n\nx")
    inject.start()
    wait_for(lambda: (inject.queue / "corrupt" / bad.name).exists(),
             timeout=90, what="file moved to corrupt/")
    assert not bad.exists()
    assert "0SCT2O0APSW247H: malformed maildrop file moved to corrupt/" \
        in inject.log


@pytest.mark.skipif(not IS_ROOT, reason="needs root for the group")
def test_postern_setup_sets_drop_mode(inject):
    drop = inject.root / "cmd" / "postern-drop"
    os.chown(drop, 0, 0)
    os.chmod(drop, 0o755)
    r = inject.postern("setup")
    assert r.returncode == 0, r.stderr
    st = drop.stat()
    assert st.st_gid == grp.getgrnam("posterndrop").gr_gid
    assert st.st_mode & 0o7777 == 0o2755


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as nobody")
def test_untrusted_config_directory_gets_no_privilege(inject):
    """A caller's own main.cf naming the real queue cannot make
    postern-drop write there: the group privilege is given up first."""
    evil = inject.root / "evil"
    evil.mkdir()
    shutil.copy(inject.dir / "main.cf", evil / "main.cf")
    os.chown(evil, 65534, 65534)
    os.chown(evil / "main.cf", 65534, 65534)
    r = sendmail(inject, f"demo@{DOMAIN}", user="nobody",
                 input=b"Subject: x\n\nx\n")
    assert r.returncode == 0, r.stderr      # the instance's own config
    r = subprocess.run(
        ["setpriv", "--reuid", "nobody", "--regid", "nogroup",
         "--clear-groups", str(tool_path("sendmail")), "-C", str(evil),
         f"demo@{DOMAIN}"], input=b"Subject: x\n\nx\n",
        capture_output=True, timeout=60)
    assert r.returncode == 73, r.stderr     # EX_CANTCREAT
    assert b"maildrop" in r.stderr
    assert len(maildrop(inject)) == 1       # only the trusted one


def test_newaliases_builds_indexed_alias_tables(inject):
    aliases = inject.root / "aliases"
    aliases.write_text(f"postmaster: demo@{DOMAIN}\n")
    with open(inject.dir / "main.cf", "a") as f:
        f.write(f"alias_database = cdb:{aliases}, texthash:{aliases}\n")
    r = sendmail(inject, "-bi")
    assert r.returncode == 0, r.stderr
    assert (inject.root / "aliases.cdb").is_file()
    if IS_ROOT:
        (inject.root / "aliases.cdb").unlink()
        os.chmod(inject.root, 0o755)
        r = sendmail(inject, "-I", user="nobody")
        assert r.returncode == 77, r.stderr     # EX_NOPERM
        assert b"newaliases as root" in r.stderr


def test_bp_lists_like_postern_queue(inject):
    r = sendmail(inject, f"demo@{DOMAIN}", input=b"Subject: x\n\nx\n")
    assert r.returncode == 0, r.stderr
    r = sendmail(inject, "-bp")
    want = subprocess.run([str(tool_path("postern-queue")), "-c",
                           str(inject.dir), "-p"], capture_output=True,
                          timeout=60)
    assert r.returncode == want.returncode
    assert r.stdout == want.stdout
    mailq = inject.root / "cmd" / "mailq"
    os.symlink(tool_path("sendmail"), mailq)
    r = subprocess.run([str(mailq), "-C", str(inject.dir)],
                       capture_output=True, timeout=60)
    assert (r.returncode, r.stdout) == (want.returncode, want.stdout)
    # -q is postern-queue -f: with master stopped both fail alike.
    r = sendmail(inject, "-q")
    want = subprocess.run([str(tool_path("postern-queue")), "-c",
                           str(inject.dir), "-f"], capture_output=True,
                          timeout=60)
    assert r.returncode == want.returncode != 0


def test_dsn_options_reach_the_maildrop_file(inject):
    r = sendmail(inject, "-N", "success,delay", "-R", "hdrs",
                 f"demo@{DOMAIN}", input=b"Subject: dsn\n\nx\n")
    assert r.returncode == 0, r.stderr
    [name] = maildrop(inject)
    head = (inject.queue / "maildrop" / name).read_text().split("\n\n")[0]
    login = pwd.getpwuid(os.getuid()).pw_name
    lines = head.split("\n")
    assert lines[:-1] == ["postern-maildrop 1", f"uid {os.getuid()}",
                          f"sender {login}@mail.{DOMAIN}", "ret HDRS",
                          "notify 5", f"rcpt demo@{DOMAIN}"]
    assert lines[-1].startswith("size ")
    r = sendmail(inject, "-N", "never,success", f"demo@{DOMAIN}",
                 input=b"x\n")
    assert r.returncode == EX_USAGE
    inject.start()
    assert wait_mail(inject, "demo")[0]["Subject"] == "dsn"


def test_virtual_aliases_and_8bit_content(inject):
    valias = inject.dir / "valias"
    valias.write_text(f"team@{DOMAIN} alice@{DOMAIN}, bob@{DOMAIN}\n")
    with open(inject.dir / "main.cf", "a") as f:
        f.write(f"virtual_alias_maps = texthash:{valias}\n")
    inject.start()
    body = "Subject: team\nContent-Type: text/plain; charset=utf-8\n\n" \
        "caf\u00e9\n"
    r = sendmail(inject, f"team@{DOMAIN}", input=body.encode())
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob"):
        m = wait_mail(inject, user)[0]
        assert m.get_content() == "caf\u00e9\n"
    assert messages(inject, "demo") == []
