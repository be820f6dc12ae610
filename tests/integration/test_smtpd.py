"""smtpd against a real instance: the SMTP session, relay control and
recipient validation, limits, timeouts, DATA and BDAT into queue files,
SMTP smuggling, STARTTLS (and what is pipelined before it), TLS on
connect, per-client connection limits through anvil, log lines, and a
session killed in the middle of DATA.

Most tests take qmgr out of master.cf before starting, so that the queue
files smtpd writes stay in incoming/ to be read back; smtpd then only
warns that qmgr cannot be woken.
"""
import os
import pwd
import re
import signal
import socket
import ssl
import time

import pytest

from conftest import run
from instance import alive, proc_status, wait_for

DOMAIN = "example.test"
DEMO = f"demo@{DOMAIN}"


# ---------------------------------------------------------------- helpers

@pytest.fixture(autouse=True)
def no_sanitizer_reports(mta):
    """After each test, stops the instance and checks that no daemon
    reported memory errors, undefined behaviour or leaks (builds with
    --enable-sanitizers write them to the log)."""
    yield
    mta.stop()
    found = re.search(r"^.*(Sanitizer|runtime error:).*$", mta.log, re.M)
    assert not found, found.group(0)


class Client:
    """A raw SMTP client on one connection, with TLS when asked."""

    def __init__(self, port, wrap_tls=False, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""
        if wrap_tls:
            self._tls()
        self.greeting = self.reply()

    def _tls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        assert self.buf == b"", "clear text left before TLS"
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        """One reply line without CRLF; b"" at the end of input."""
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """(code, [text of each line]) of the next reply; (None, []) at EOF."""
        lines = []
        while True:
            line = self.line()
            if not line:
                return None, lines
            assert re.match(rb"^\d{3}[ -]", line), line
            lines.append(line[4:].decode("utf-8", "replace"))
            if line[3:4] == b" ":
                return int(line[:3]), lines

    def cmd(self, text):
        """Sends one command; returns (code, text of the last line)."""
        self.send(text.encode() + b"\r\n")
        code, lines = self.reply()
        return code, lines[-1] if lines else ""

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, text
        self._tls()

    def replies_until_eof(self):
        out = []
        while True:
            code, lines = self.reply()
            if code is None:
                return out
            out.append((code, lines[-1]))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def conf(inst, **params):
    for name, value in params.items():
        r = run("postern-conf", "-c", inst.dir, "-e", f"{name}={value}")
        assert r.returncode == 0, r.stderr


def drop_service(inst, name):
    path = inst.dir / "master.cf"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(l for l in lines
                            if not l.startswith(name + " ")))


def start(inst, qmgr=False, **params):
    """Sets main.cf parameters, optionally drops qmgr, starts the instance
    and waits until port 25 answers."""
    conf(inst, **params)
    if not qmgr:
        drop_service(inst, "qmgr")
    inst.start()

    def answers():
        try:
            socket.create_connection(("127.0.0.1", inst.port(25)),
                                     timeout=5).close()
            return True
        except OSError:
            return False
    wait_for(answers, what="smtpd port")
    return inst


def client(inst, offset=25, **kw):
    c = Client(inst.port(offset), **kw)
    assert c.greeting[0] == 220, c.greeting
    return c


def queue_ids(inst):
    """Committed queue files in incoming/ and active/."""
    ids = []
    for sub in ("incoming", "active"):
        d = inst.queue / sub
        ids += [(sub, n) for n in os.listdir(d)
                if not n.startswith("tmp.")]
    return ids


def queue_file(inst, qid):
    for sub in ("incoming", "active"):
        p = inst.queue / sub / qid
        if p.exists():
            return parse_queue_file(p.read_bytes())
    raise AssertionError(f"no queue file {qid}")


def parse_queue_file(data):
    """The records of a queue file (lib/mail/queue_file.h) as a dict."""
    out = {"rcpts": []}
    i = 0
    while i < len(data):
        kind = chr(data[i])
        n = int.from_bytes(data[i + 1:i + 5], "big")
        value = data[i + 5:i + 5 + n]
        i += 5 + n
        if kind == "R":
            alen = int.from_bytes(value[2:6], "big")
            out["rcpts"].append({
                "status": chr(value[0]), "notify": value[1],
                "address": value[6:6 + alen].decode(),
                "orcpt": value[6 + alen:].decode()})
        elif kind == "E":
            size = int.from_bytes(value, "big")
            out["content"] = data[i:i + size]
            i += size
        else:
            out[kind] = value
    assert "X" in out, "queue file not complete"
    return out


def queued_id(text):
    m = re.search(r"queued as (\w+)", text)
    assert m, text
    return m.group(1)


def send_mail(c, rcpts=(DEMO,), body=b"Subject: test\r\n\r\nhello\r\n",
              sender="sender@example.org", helo="client.example"):
    assert c.cmd(f"EHLO {helo}")[0] == 250
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in rcpts:
        code, text = c.cmd(f"RCPT TO:<{r}>")
        assert code == 250, text
    assert c.cmd("DATA")[0] == 354
    c.send(body + b".\r\n")
    code, lines = c.reply()
    assert code == 250, lines
    return queued_id(lines[-1])


def log_has(inst, pattern, timeout=20):
    return wait_for(lambda: re.search(pattern, inst.log), timeout=timeout,
                    what=f"log line {pattern!r}")


def service_name(inst, offset=25):
    return f"127.0.0.1:{inst.port(offset)}"


def server_pid(inst, c, offset=25):
    """The smtpd process serving client c (by its socket's inode)."""
    cport = c.sock.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            lport = int(fields[1].split(":")[1], 16)
            rport = int(fields[2].split(":")[1], 16)
            if lport == inst.port(offset) and rport == cport:
                inode = fields[9]
    assert inode is not None
    for pid in inst.children(service_name(inst, offset)):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == \
                        f"socket:[{inode}]":
                    return pid
            except OSError:
                pass
    raise AssertionError("no smtpd process holds the connection")


# ---------------------------------------------------------------- session

def test_greeting_ehlo_and_simple_commands(mta):
    start(mta)
    c = client(mta)
    assert c.greeting[1][-1] == "mail.example.test ESMTP Postern"
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert code == 250
    assert lines[0] == "mail.example.test"
    keywords = set(lines[1:])
    for kw in ("PIPELINING", "SIZE 10240000", "8BITMIME",
               "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN", "CHUNKING",
               "BINARYMIME"):
        assert kw in keywords, lines
    # No TLS configured on port 25 by default, and no AUTH yet.
    assert "STARTTLS" not in keywords
    assert not any(k.startswith("AUTH") for k in keywords)
    assert c.cmd("HELO client.example") == (250, "mail.example.test")
    assert c.cmd("NOOP") == (250, "2.0.0 Ok")
    assert c.cmd("RSET") == (250, "2.0.0 Ok")
    code, text = c.cmd("VRFY demo")
    assert code == 252 and text.startswith("2.0.0 ")
    code, text = c.cmd("VRFY nosuchuser")
    assert code == 252, "VRFY must not tell users apart"
    assert c.cmd("EXPN postmaster")[0] == 502
    code, text = c.cmd("HELP")
    assert code == 214 and text.startswith("2.0.0 ")
    assert c.cmd("AUTH PLAIN AGFiAGM=")[0] == 503
    # smtpd reads client bytes as the mail owner, never as root.
    uid = pwd.getpwnam("postern").pw_uid if mta.system else os.getuid()
    assert proc_status(server_pid(mta, c))["Uid"] == [uid] * 4
    assert c.cmd("QUIT") == (221, "2.0.0 Bye")
    assert c.line() == b""
    c.close()


def test_sequence_and_syntax_errors(mta):
    start(mta, smtpd_soft_error_limit="100", smtpd_hard_error_limit="100")
    c = client(mta)
    assert c.cmd("RCPT TO:<demo@example.test>") == \
        (503, "5.5.1 Error: need MAIL command")
    assert c.cmd("DATA") == (503, "5.5.1 Error: need MAIL command")
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>") == \
        (503, "5.5.1 Error: nested MAIL command")
    assert c.cmd("DATA") == (503, "5.5.1 Error: need RCPT command")
    assert c.cmd("RCPT TO:<nosuchuser@localhost>")[0] == 550
    assert c.cmd("DATA") == (554, "5.5.1 Error: no valid recipients")
    assert c.cmd("RSET")[0] == 250
    code, text = c.cmd("MAIL FROM")
    assert code == 501 and text.startswith("5.5.4 "), text
    code, text = c.cmd("MAIL FROM:a@example.org")
    assert code == 501 and text.startswith("5.1.7 "), text
    code, text = c.cmd("MAIL FROM:<a@@example.org>")
    assert code == 501 and text.startswith("5.1.7 "), text
    assert c.cmd("FROB")[0] == 500
    # AUTH= is not accepted: AUTH is not advertised.
    code, text = c.cmd("MAIL FROM:<a@example.org> AUTH=<>")
    assert code == 555, text
    code, text = c.cmd("MAIL FROM:<a@example.org> NOSUCH=1")
    assert code == 555, text
    # Command lines: 4096 octets are taken, longer ones refused whole.
    code, _ = c.cmd("NOOP " + "x" * 4090)
    assert code == 250
    code, text = c.cmd("NOOP " + "x" * 5000)
    assert (code, text) == (500, "5.5.2 Error: line too long")
    assert c.cmd("NOOP") == (250, "2.0.0 Ok"), "session out of step"
    # A bare CR or a NUL inside a command line fails the whole line.
    c.send(b"NOOP\rRSET\r\n")
    assert c.reply()[0] == 500
    c.send(b"RSET\x00\r\n")
    assert c.reply()[0] == 500
    assert c.cmd("EHLO " + "h" * 300)[0] == 501
    assert c.cmd("QUIT")[0] == 221
    c.close()
    log_has(mta, r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1/2 "
                 r"mail=1/7 rcpt=0/2 data=0/3 rset=1 noop=2 quit=1 "
                 r"unknown=0/4 commands=6/22")


def test_bare_lf_commands_are_taken(mta):
    start(mta)
    c = client(mta)
    c.send(b"EHLO client.example\n")
    assert c.reply()[0] == 250
    assert c.cmd("QUIT")[0] == 221


def test_helo_required(mta):
    start(mta, smtpd_helo_required="yes")
    c = client(mta)
    assert c.cmd("MAIL FROM:<a@example.org>") == \
        (503, "5.5.1 Error: send HELO/EHLO first")
    assert c.cmd("HELO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    # HELO gives no extensions: ESMTP parameters are refused.
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=10")[0] == 555
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: plain\r\n\r\nold school\r\n.\r\n")
    code, lines = c.reply()
    q = queue_file(mta, queued_id(lines[-1]))
    assert q["P"] == b"SMTP"
    assert b"(Postern) with SMTP id " in q["content"]


def test_error_limit_ends_the_session(mta):
    start(mta, smtpd_soft_error_limit="1", smtpd_hard_error_limit="3",
          smtpd_error_sleep_time="0s")
    c = client(mta)
    assert c.cmd("FROB")[0] == 500
    assert c.cmd("FROB")[0] == 500
    assert c.cmd("FROB")[0] == 500
    assert c.reply() == \
        (421, ["4.7.0 mail.example.test Error: too many errors"])
    assert c.line() == b""
    log_has(mta, r"too many errors after UNKNOWN from localhost")


def test_command_timeout(mta):
    start(mta, smtpd_timeout="1s")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    # Say nothing: the server gives up on us.
    code, lines = c.reply()
    assert code == 421, lines
    assert lines[-1] == "4.4.2 mail.example.test Error: timeout exceeded"
    assert c.line() == b""
    log_has(mta, r"timeout after EHLO from localhost\[127\.0\.0\.1\]")


def test_data_timeout_leaves_no_queue_file(mta):
    start(mta, smtpd_timeout="1s")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: cut\r\n\r\nhalf a li")
    code, lines = c.reply()
    assert code == 421, lines
    assert "4.4.2" in lines[-1]
    log_has(mta, r"disconnect from localhost")
    assert queue_ids(mta) == []
    assert [n for n in os.listdir(mta.queue / "incoming")] == []


# ---------------------------------------------------------------- messages

def test_message_is_queued_with_envelope_and_received(mta):
    start(mta)
    c = client(mta)
    qid = send_mail(c, body=b"Subject: test\r\n\r\nline one\r\n"
                            b"..dot stuffed\r\nlast\r\n")
    assert c.cmd("QUIT")[0] == 221
    assert ("incoming", qid) in queue_ids(mta)
    st = os.stat(mta.queue / "incoming" / qid)
    assert st.st_mode & 0o7777 == 0o700
    if mta.system:
        assert st.st_uid == pwd.getpwnam("postern").pw_uid
    q = queue_file(mta, qid)
    assert q["S"] == b"sender@example.org"
    assert q["P"] == b"ESMTP"
    assert q["C"] == b"127.0.0.1"
    assert q["N"] == b"localhost"
    assert q["H"] == b"client.example"
    assert q["rcpts"] == [{"status": "P", "notify": 0, "address": DEMO,
                           "orcpt": ""}]
    content = q["content"]
    m = re.match(rb"Received: from client\.example \(localhost "
                 rb"\[127\.0\.0\.1\]\)\n\tby mail\.example\.test \(Postern\) "
                 rb"with ESMTP id " + qid.encode() +
                 rb"\n\tfor <demo@example\.test>; [^\n]+ [+-]\d{4}\n", content)
    assert m, content
    assert content[m.end():] == \
        b"Subject: test\n\nline one\n.dot stuffed\nlast\n"
    log_has(mta, qid + r": client=localhost\[127\.0\.0\.1\]")
    log_has(mta, r"connect from localhost\[127\.0\.0\.1\]")
    log_has(mta, r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 "
                 r"rcpt=1 data=1 quit=1 commands=5")
    # qmgr is not running: a warning, not a failure.
    log_has(mta, qid + r": cannot wake qmgr")


def test_with_qmgr_a_250_means_a_queue_file(mta):
    start(mta, qmgr=True)
    c = client(mta)
    qid = send_mail(c, rcpts=("someone@remote.example",))
    # qmgr may already have moved it on, or even finished with it; then
    # it has logged the queue id, which it can only have read from a file.
    where = [d for d in ("incoming", "active", "deferred")
             if (mta.queue / d / qid).exists()]
    assert where or re.search(r"postern/qmgr\[\d+\]: " + qid + ": ",
                              mta.log), "acknowledged message has no file"


def test_several_messages_per_session_and_multiple_recipients(mta):
    start(mta)
    c = client(mta)
    q1 = send_mail(c, rcpts=(DEMO, "postmaster@localhost"))
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250      # duplicate
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: two\r\n\r\n.\r\n")
    code, lines = c.reply()
    assert code == 250
    q2 = queued_id(lines[-1])
    assert q1 != q2
    f1, f2 = queue_file(mta, q1), queue_file(mta, q2)
    assert [r["address"] for r in f1["rcpts"]] == \
        [DEMO, "postmaster@localhost"]
    # Several recipients: no "for" clause.
    assert b"\n\tfor <" not in f1["content"].split(b"\n\n")[0]
    assert f2["S"] == b""
    assert [r["address"] for r in f2["rcpts"]] == [DEMO]


def test_pipelined_transaction(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    c.send(b"MAIL FROM:<a@example.org>\r\n"
           b"RCPT TO:<demo@example.test>\r\n"
           b"RCPT TO:<nosuchuser@localhost>\r\n"
           b"RCPT TO:<postmaster@localhost>\r\n"
           b"DATA\r\n")
    codes = [c.reply()[0] for _ in range(5)]
    assert codes == [250, 250, 550, 250, 354]
    c.send(b"Subject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
    rest = c.replies_until_eof()
    assert [code for code, _ in rest] == [250, 250, 221]
    qid = queued_id(rest[0][1])
    assert len(queue_file(mta, qid)["rcpts"]) == 2


def test_size_limits(mta):
    start(mta, message_size_limit="1000")
    c = client(mta)
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert "SIZE 1000" in lines
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=1001") == \
        (552, "5.3.4 Message size exceeds fixed limit")
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=500")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n")
    c.send((b"y" * 70 + b"\r\n") * 20 + b".\r\n")
    assert c.reply() == (552, ["5.3.4 Message size exceeds fixed limit"])
    # The session goes on, in step, and nothing was queued.
    assert c.cmd("NOOP")[0] == 250
    assert queue_ids(mta) == []
    # A message within the limit is taken.
    send_mail(c, body=b"Subject: small\r\n\r\nok\r\n")
    assert len(queue_ids(mta)) == 1


def test_long_data_line_is_refused(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: long\r\n\r\n" + b"z" * 3000 + b"\r\nafter\r\n.\r\n")
    assert c.reply()[0] == 500
    assert c.cmd("NOOP")[0] == 250
    assert queue_ids(mta) == []


def test_hop_count_limit(mta):
    start(mta, hopcount_limit="2")
    c = client(mta)
    hops = b"".join(b"Received: from h%d by x; Mon, 1 Jan 2024 00:00:00 "
                    b"+0000\r\n" % i for i in range(3))
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(hops + b"Subject: loop\r\n\r\nbody\r\n.\r\n")
    assert c.reply() == (554, ["5.4.6 Too many hops"])
    assert queue_ids(mta) == []
    # Two are within the limit (the one smtpd adds does not count).
    qid = send_mail(c, body=hops.split(b"\r\n", 1)[1] +
                    b"Subject: ok\r\n\r\nbody\r\n")
    assert queue_file(mta, qid)["content"].count(b"Received:") == 3


SMUGGLING = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r",
             b"\r.\r\n", b"\n.\r"]


@pytest.mark.parametrize("seq", SMUGGLING,
                         ids=[repr(s) for s in SMUGGLING])
def test_smuggling_sequences_never_end_data(mta, seq):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: outer\r\n\r\nbody" + seq +
           b"MAIL FROM:<evil@example.org>\r\n"
           b"RCPT TO:<postmaster@localhost>\r\n"
           b"DATA\r\n"
           b"Subject: smuggled\r\n\r\nsmuggled\r\n"
           b".\r\nQUIT\r\n")
    replies = c.replies_until_eof()
    assert [code for code, _ in replies] == [250, 221], replies
    ids = queue_ids(mta)
    assert len(ids) == 1
    q = queue_file(mta, ids[0][1])
    assert [r["address"] for r in q["rcpts"]] == [DEMO]
    assert b"MAIL FROM:<evil@example.org>\n" in q["content"]
    assert b"Subject: smuggled\n" in q["content"]
    if b"\n" in seq.replace(b"\r\n", b""):
        log_has(mta, ids[0][1] + r": message from localhost\[127\.0\.0\.1\] "
                r"has [1-9]\d* bare LF line endings")


def test_bdat(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    # BDAT without a transaction: the chunk is read and thrown away.
    c.send(b"BDAT 10\r\nNOOP\r\nxx\r\n")
    assert c.reply() == (503, ["5.5.1 Error: need MAIL command"])
    assert c.cmd("NOOP")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org> BODY=BINARYMIME")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA") == \
        (503, "5.5.1 Error: BODY=BINARYMIME requires BDAT")
    body = b"Subject: chunks\r\n\r\n\x00binary\r\n.\r\n"
    c.send(b"BDAT %d\r\n" % 10 + body[:10])
    assert c.reply() == (250, ["2.0.0 Ok: 10 octets"])
    c.send(b"BDAT %d LAST\r\n" % (len(body) - 10) + body[10:])
    code, lines = c.reply()
    assert code == 250, lines
    q = queue_file(mta, queued_id(lines[-1]))
    assert q["B"] == b"B\x00"
    assert q["content"].split(b"\n", 3)[3].endswith(
        b"Subject: chunks\n\n\x00binary\n.\n")


def test_bdat_pipelined_after_failed_chunk_stays_in_step(mta):
    start(mta, message_size_limit="100")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<demo@example.test>\r\n"
           b"BDAT 200\r\n" + b"a" * 200 + b"BDAT 5 LAST\r\nhello"
           b"NOOP\r\n")
    codes = [c.reply()[0] for _ in range(5)]
    assert codes == [250, 250, 552, 503, 250]
    assert queue_ids(mta) == []


def test_dsn_and_smtputf8_reach_the_queue_file(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<s\u00e9nder@example.org> SMTPUTF8 "
                 "BODY=8BITMIME RET=HDRS ENVID=env+2Bid")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;Demo@example.test")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@localhost> NOTIFY=NEVER")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: caf\u00e9\r\n\r\nbody\r\n.\r\n".encode())
    code, lines = c.reply()
    assert code == 250
    q = queue_file(mta, queued_id(lines[-1]))
    assert q["S"] == "s\u00e9nder@example.org".encode()
    assert q["F"] == b"HDRS"
    assert q["I"] == b"env+id"
    assert q["B"] == b"8\x01"
    assert q["rcpts"][0]["notify"] == 0x01 | 0x02
    assert q["rcpts"][0]["orcpt"] == "rfc822;Demo@example.test"
    assert q["rcpts"][1]["notify"] == 0x08
    assert b" with UTF8SMTP id " in q["content"]


# ---------------------------------------------------------------- recipients

def test_unknown_recipients(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<nosuchuser@localhost>") == \
        (550, "5.1.1 <nosuchuser@localhost>: Recipient address rejected: "
              "User unknown in local recipient table")
    assert c.cmd("RCPT TO:<root@localhost>")[0] == 250       # a user
    assert c.cmd(f"RCPT TO:<nobody@{DOMAIN}>") == \
        (550, f"5.1.1 <nobody@{DOMAIN}>: Recipient address rejected: "
              "User unknown in virtual mailbox table")
    assert c.cmd("RCPT TO:<abuse@localhost>")[0] == 250      # an alias
    assert c.cmd("RCPT TO:<Postmaster>")[0] == 250           # RFC 5321
    assert c.cmd(f"RCPT TO:<demo+ext@{DOMAIN}>")[0] == 250   # extension
    assert c.cmd("DATA")[0] == 354
    c.send(b"\r\n.\r\n")
    code, lines = c.reply()
    qid = queued_id(lines[-1])
    q = queue_file(mta, qid)
    assert [r["address"] for r in q["rcpts"]] == \
        ["root@localhost", "abuse@localhost", "Postmaster@mail.example.test",
         f"demo+ext@{DOMAIN}"]
    # Before the queue file is opened a refusal is NOQUEUE's, after it
    # the queue id's.
    log_has(mta, r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: "
                 r"550 5\.1\.1 <nosuchuser@localhost>: Recipient address "
                 r"rejected: User unknown in local recipient table; "
                 r"from=<a@example\.org> to=<nosuchuser@localhost> "
                 r"proto=ESMTP helo=<client\.example>")
    log_has(mta, qid + r": reject: RCPT from localhost\[127\.0\.0\.1\]: "
                 r"550 5\.1\.1 <nobody@example\.test>")


def test_unlisted_recipients_taken_when_not_checked(mta):
    start(mta, smtpd_reject_unlisted_recipient="no")
    c = client(mta)
    qid = send_mail(c, rcpts=("nosuchuser@localhost",))
    assert queue_file(mta, qid)["rcpts"][0]["address"] == \
        "nosuchuser@localhost"


def test_virtual_alias_expansion(mta):
    start(mta, virtual_alias_maps="inline:{ {team@example.test="
          "demo@example.test, postmaster@localhost}, "
          "self@example.test=self@example.test }")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<team@example.test>")[0] == 250
    assert c.cmd("RCPT TO:<self@example.test> "
                 "ORCPT=rfc822;given@example.test")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"\r\n.\r\n")
    code, lines = c.reply()
    q = queue_file(mta, queued_id(lines[-1]))
    assert q["rcpts"] == [
        {"status": "P", "notify": 0, "address": DEMO,
         "orcpt": "rfc822;team@example.test"},
        {"status": "P", "notify": 0, "address": "postmaster@localhost",
         "orcpt": "rfc822;team@example.test"},
        {"status": "P", "notify": 0, "address": "self@example.test",
         "orcpt": "rfc822;given@example.test"}]


def test_recipient_limit(mta):
    start(mta, smtpd_recipient_limit="2")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@localhost>")[0] == 250
    assert c.cmd("RCPT TO:<root@localhost>") == \
        (452, "4.5.3 Error: too many recipients")
    assert c.cmd("DATA")[0] == 354
    c.send(b"\r\n.\r\n")
    code, lines = c.reply()
    assert len(queue_file(mta, queued_id(lines[-1]))["rcpts"]) == 2


def test_relay_from_mynetworks(mta):
    start(mta)
    c = client(mta)
    qid = send_mail(c, rcpts=("someone@remote.example",))
    assert queue_file(mta, qid)["rcpts"][0]["address"] == \
        "someone@remote.example"


def test_relay_denied_outside_mynetworks(mta):
    start(mta, mynetworks="192.0.2.0/24")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<someone@remote.example>") == \
        (554, "5.7.1 <someone@remote.example>: Relay access denied")
    assert c.cmd("RCPT TO:<someone@[192.0.2.9]>")[0] == 554
    # Our own domains are still open to anyone.
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@localhost>")[0] == 250
    log_has(mta, r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: "
                 r"554 5\.7\.1 <someone@remote\.example>: Relay access "
                 r"denied; from=<a@example\.org> to=<someone@remote\.example>"
                 r" proto=ESMTP helo=<client\.example>")


def test_relay_deferred_and_relay_domains(mta):
    start(mta, mynetworks="192.0.2.0/24", relay_domains="partner.example",
          smtpd_relay_restrictions="permit_mynetworks, "
          "defer_unauth_destination")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<someone@remote.example>") == \
        (454, "4.7.1 <someone@remote.example>: Relay access denied")
    assert c.cmd("RCPT TO:<someone@partner.example>")[0] == 250


def test_unknown_relay_restriction_is_a_config_error(mta):
    start(mta, smtpd_relay_restrictions="permit_mynetwork")
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>") == \
        (451, "4.3.5 Server configuration error")
    log_has(mta, r"warning: unknown smtpd_relay_restrictions item "
                 r"\"permit_mynetwork\"")


# ---------------------------------------------------------------- TLS

def tls_conf():
    return {"smtpd_tls_security_level": "may"}


def test_starttls_drops_pipelined_commands_and_resets(mta):
    start(mta, **tls_conf())
    c = client(mta)
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert "STARTTLS" in lines
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("STARTTLS") == \
        (503, "5.5.1 Error: MAIL transaction in progress")
    assert c.cmd("RSET")[0] == 250
    # The injection: a command behind STARTTLS in the same packet.
    c.send(b"STARTTLS\r\nRSET\r\n")
    code, lines = c.reply()
    assert code == 220 and lines == ["2.0.0 Ready to start TLS"]
    c._tls()
    # The first thing after the handshake answers our EHLO, not RSET; and
    # the session starts over: HELO/EHLO again before MAIL.
    assert c.cmd("MAIL FROM:<a@example.org>") == \
        (503, "5.5.1 Error: send HELO/EHLO first")
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert code == 250 and lines[0] == "mail.example.test", lines
    assert "STARTTLS" not in lines
    assert c.cmd("STARTTLS") == (554, "5.5.1 Error: TLS already active")
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: tls\r\n\r\nsecret\r\n.\r\n")
    code, lines = c.reply()
    assert code == 250
    q = queue_file(mta, queued_id(lines[-1]))
    assert q["P"] == b"ESMTPS"
    assert re.search(rb" with ESMTPS id \w+\n\t\(TLSv1\.[23] with cipher ",
                     q["content"]), q["content"]
    log_has(mta, r"TLS connection established from localhost"
                 r"\[127\.0\.0\.1\]: TLSv1\.[23] with cipher")


def test_starttls_not_offered_without_tls(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("STARTTLS") == (502, "5.5.1 Error: command not implemented")


def test_submission_requires_tls(mta):
    start(mta)
    c = client(mta, offset=587)
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert "STARTTLS" in lines
    assert c.cmd("MAIL FROM:<a@example.org>") == \
        (530, "5.7.0 Must issue a STARTTLS command first")
    c.starttls()
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250


def test_wrappermode(mta):
    start(mta)
    c = Client(mta.port(465), wrap_tls=True)
    assert c.greeting[0] == 220
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert code == 250 and "STARTTLS" not in lines
    qid = send_mail(c)
    assert queue_file(mta, qid)["P"] == b"ESMTPS"


def test_failed_handshake_ends_session(mta):
    start(mta, **tls_conf())
    c = client(mta)
    assert c.cmd("STARTTLS")[0] == 220
    c.send(b"this is not a TLS client hello\r\n" * 10)
    assert c.line() == b""
    log_has(mta, r"TLS handshake failed from localhost\[127\.0\.0\.1\]")


def test_tls_unavailable(mta):
    start(mta, smtpd_tls_cert_file=f"{mta.dir}/tls/missing.pem")
    c = client(mta, offset=587)
    log_has(mta, r"warning: TLS is not available: .*missing\.pem")
    c.send(b"EHLO client.example\r\n")
    code, lines = c.reply()
    assert code == 250 and "STARTTLS" not in lines
    assert c.cmd("STARTTLS") == \
        (454, "4.7.0 TLS not available due to local problem")
    assert c.cmd("MAIL FROM:<a@example.org>") == \
        (530, "5.7.0 Must issue a STARTTLS command first")
    # TLS on connect cannot be served: the connection is closed.
    s = socket.create_connection(("127.0.0.1", mta.port(465)), timeout=30)
    assert s.recv(100) == b""
    s.close()
    log_has(mta, r"warning: TLS on connect is configured but not "
                 r"available: closing the connection from localhost")


# ---------------------------------------------------------------- crashes

def test_kill_during_data_queues_nothing(mta):
    start(mta)
    c = client(mta)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"RCPT TO:<{DEMO}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: doomed\r\n\r\n" + b"line\r\n" * 1000)
    pid = server_pid(mta, c)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), what="smtpd to die")
    try:
        c.send(b"more\r\n.\r\n")
    except OSError:
        pass
    assert c.replies_until_eof() == [], "client got a reply"
    assert queue_ids(mta) == []
    # A fresh session is served.
    c2 = client(mta)
    send_mail(c2)
    assert len(queue_ids(mta)) == 1


# ---------------------------------------------------------------- limits

def test_connection_count_limit(mta):
    start(mta, smtpd_client_connection_count_limit="1",
          smtpd_client_event_limit_exceptions="")

    def first():
        # start()'s probe may still be counted until its session ends.
        c = Client(mta.port(25))
        if c.greeting[0] == 220:
            return c
        c.close()
        return None
    c1 = wait_for(first, what="a first session")
    c2 = Client(mta.port(25))
    assert c2.greeting == \
        (421, ["4.7.0 mail.example.test Error: too many connections "
               "from 127.0.0.1"])
    assert c2.line() == b""
    log_has(mta, r"warning: connection count limit exceeded: 2 from "
                 r"localhost\[127\.0\.0\.1\] for service 127\.0\.0\.1:\d+")
    assert c1.cmd("QUIT")[0] == 221
    c1.close()

    def served():
        c = Client(mta.port(25))
        ok = c.greeting[0] == 220
        c.close()
        return ok
    wait_for(served, what="the slot to be free again")


def test_connection_limit_exceptions(mta):
    start(mta, smtpd_client_connection_count_limit="1")
    # mynetworks (loopback) is exempt by default.
    c1 = client(mta)
    c2 = client(mta)
    assert c2.cmd("QUIT")[0] == 221
    assert c1.cmd("QUIT")[0] == 221


def test_connection_rate_limit(mta):
    start(mta, smtpd_client_connection_rate_limit="2",
          smtpd_client_event_limit_exceptions="",
          anvil_rate_time_unit="3600s")
    # start() has already connected at least once to see the port open,
    # so the refusal comes at the third connection at the latest.
    for attempt in range(3):
        c = Client(mta.port(25))
        c.close()
        if c.greeting[0] != 220:
            break
    assert c.greeting == \
        (421, ["4.7.0 mail.example.test Error: too many connections "
               "from 127.0.0.1"])
    log_has(mta, r"warning: connection rate limit exceeded: 3 from "
                 r"localhost\[127\.0\.0\.1\]")
    # And it stays refused within the time unit.
    c = Client(mta.port(25))
    assert c.greeting[0] == 421


def test_anvil_unreachable_serves_without_limits(mta):
    drop_service(mta, "anvil")
    start(mta, smtpd_client_connection_count_limit="1",
          smtpd_client_event_limit_exceptions="")
    c1 = client(mta)
    c2 = client(mta)
    assert c2.cmd("QUIT")[0] == 221
    assert c1.cmd("QUIT")[0] == 221
    log_has(mta, r"warning: connection limits not applied to "
                 r"localhost\[127\.0\.0\.1\]: ")


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("param,value,reason", [
    ("smtpd_tls_security_level", "sometimes",
     r"smtpd_tls_security_level: unknown level \"sometimes\""),
    ("mynetworks", "10.1.2.3/8",
     r"mynetworks: network \"10\.1\.2\.3/8\" has bits set past its "
     r"prefix; perhaps you mean 10\.0\.0\.0/8"),
    ("smtpd_client_event_limit_exceptions", "localhost",
     r"smtpd_client_event_limit_exceptions: \"localhost\" is not an "
     r"address"),
], ids=["tls level", "mynetworks", "exceptions"])
def test_bad_configuration_is_fatal_with_a_reason(mta, param, value, reason):
    start(mta, **{param: value})
    s = socket.create_connection(("127.0.0.1", mta.port(25)), timeout=30)
    log_has(mta, r"postern/smtpd\[\d+\]: fatal: " + reason)
    s.close()
