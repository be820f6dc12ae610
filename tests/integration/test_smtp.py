"""Remote delivery: the smtp client against fake mail exchangers.

Runs an instance with smtpd, qmgr, local, anvil and smtp (the `mta`
fixture) whose smtp asks a local unbound (started here on 127.0.0.1 with
local zone data, in the foreground, stopped by pid) for MX and A
records. The DANE tests need answers with the AD bit, which unbound's
local data never has: there a small resolver stand-in in this file
answers MX, A and TLSA queries as a trusted validating resolver would. The remote mail exchangers are small scriptable SMTP servers in
this file, on port 25 of other loopback addresses (127.0.0.2 and up),
optionally offering STARTTLS with a certificate made here by openssl.
Mail goes in through the instance's smtpd with swaks and comes out at a
fake MX. Port 25 needs root: the tests are skipped otherwise.
"""
import hashlib
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import run
from instance import wait_for

IS_ROOT = os.geteuid() == 0
pytestmark = pytest.mark.skipif(not IS_ROOT,
                                reason="the fake MX listens on port 25")

MESSAGE = (b"From: Sender <sender@sender.test>\r\n"
           b"To: someone@remote.test\r\n"
           b"Subject: remote delivery\r\n"
           b"Message-ID: <remote@sender.test>\r\n"
           b"\r\n"
           b"First line.\r\n"
           b".A line that starts with a dot\r\n"
           b"..and two\r\n"
           b"Trailing spaces   \r\n"
           b"\r\n"
           b"Last line.\r\n")

# Zone data: remote.test has two MX hosts, fallback.test three (the first
# refuses connections, the second says 421), nullmx.test a null MX,
# nomx.test only an A record, dual.test an MX with IPv4 and IPv6
# addresses, loop.test this host as its best MX,
# sender.test is where bounces go.
ZONE = """
local-zone: "." static
local-data: "remote.test. 300 IN MX 10 mx1.remote.test."
local-data: "mx1.remote.test. 300 IN A 127.0.0.2"
local-data: "fallback.test. 300 IN MX 10 dead.fallback.test."
local-data: "fallback.test. 300 IN MX 20 busy.fallback.test."
local-data: "fallback.test. 300 IN MX 30 good.fallback.test."
local-data: "dead.fallback.test. 300 IN A 127.0.0.9"
local-data: "busy.fallback.test. 300 IN A 127.0.0.3"
local-data: "good.fallback.test. 300 IN A 127.0.0.2"
local-data: "nullmx.test. 300 IN MX 0 ."
local-data: "nomx.test. 300 IN A 127.0.0.2"
local-data: "dual.test. 300 IN MX 10 mx.dual.test."
local-data: "mx.dual.test. 300 IN A 127.0.0.2"
local-data: "mx.dual.test. 300 IN AAAA ::1"
local-data: "loop.test. 300 IN MX 10 mail.example.test."
local-data: "loop.test. 300 IN MX 20 backup.loop.test."
local-data: "mail.example.test. 300 IN A 127.0.0.1"
local-data: "backup.loop.test. 300 IN A 127.0.0.2"
local-data: "sender.test. 300 IN MX 10 mx.sender.test."
local-data: "mx.sender.test. 300 IN A 127.0.0.4"
"""


def free_udp_tcp_port():
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


class Unbound:
    """unbound in the foreground on 127.0.0.1:port with local data."""

    def __init__(self, directory, zone):
        self.dir = pathlib.Path(directory)
        self.port = free_udp_tcp_port()
        conf = self.dir / "unbound.conf"
        conf.write_text(f"""server:
    interface: 127.0.0.1
    port: {self.port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{self.dir}"
    pidfile: ""
    use-syslog: no
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
{zone}
""")
        self.log = open(self.dir / "unbound.log", "wb")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", str(conf)],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        wait_for(lambda: b"start of service" in
                 (self.dir / "unbound.log").read_bytes()
                 or self.proc.poll() is not None, what="unbound")
        assert self.proc.poll() is None, \
            (self.dir / "unbound.log").read_text()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class FakeMX:
    """A scriptable SMTP server on addr:port, one thread per connection.

    ehlo: the extensions offered; greeting: the first reply; replies:
    recipient address -> reply to its RCPT TO; stall_after_greeting: send
    the greeting, then answer nothing; ehlo_refused: only HELO works;
    tls_broken: STARTTLS offered, but the handshake gets garbage;
    bdat_replies: chunk number (from 0) -> reply to that BDAT (offer
    CHUNKING in ehlo for the client to send BDAT). Received messages are
    kept in `messages` as dicts with mail, rcpts, data (bytes, CRLF and
    dots as sent), tls and chunks (for BDAT: (size, last) of each);
    bdat_ahead counts the chunks after which more input was there before
    the reply (a pipelining client).
    """

    def __init__(self, addr, port=25, ehlo=("PIPELINING", "8BITMIME",
                                            "SIZE 10000000", "DSN"),
                 greeting="220 fake.mx ESMTP", replies=None, cert=None,
                 stall_after_greeting=False, ehlo_refused=False,
                 tls_broken=False, bdat_replies=None):
        self.addr, self.port = addr, port
        self.ehlo_refused = ehlo_refused
        self.tls_broken = tls_broken
        self.ehlo = list(ehlo)
        self.greeting = greeting
        self.replies = replies or {}
        self.bdat_replies = bdat_replies or {}
        self.bdat_ahead = 0
        self.stall = stall_after_greeting
        self.tls_ctx = None
        if cert is not None or tls_broken:
            self.ehlo.append("STARTTLS")
        if cert is not None:
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(cert[0], cert[1])
        self.messages = []
        self.connections = 0
        self.closed = 0
        self.commands = []
        self.stopping = threading.Event()
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.threads = []
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            t = threading.Thread(target=self.serve, args=(conn,),
                                 daemon=True)
            t.start()
            self.threads.append(t)

    def serve(self, conn):
        conn.settimeout(1.0)
        state = {"buf": b"", "sock": conn, "tls": False}

        def readline():
            while b"\n" not in state["buf"]:
                if self.stopping.is_set():
                    return None
                try:
                    chunk = state["sock"].recv(65536)
                except socket.timeout:
                    continue
                except (OSError, ssl.SSLError):
                    return None
                if not chunk:
                    return None
                state["buf"] += chunk
            line, _, state["buf"] = state["buf"].partition(b"\n")
            return line + b"\n"

        def readexact(n):
            while len(state["buf"]) < n:
                if self.stopping.is_set():
                    return None
                try:
                    chunk = state["sock"].recv(65536)
                except socket.timeout:
                    continue
                except (OSError, ssl.SSLError):
                    return None
                if not chunk:
                    return None
                state["buf"] += chunk
            data, state["buf"] = state["buf"][:n], state["buf"][n:]
            return data

        def send(text):
            try:
                state["sock"].sendall(text.encode() + b"\r\n")
            except OSError:
                pass

        try:
            send(self.greeting)
            if self.stall or not self.greeting.startswith("220"):
                while not self.stall and readline() is not None:
                    send(self.greeting)
                self.stopping.wait(60)
                return
            mail, rcpts, chunks, data = None, [], [], b""
            while True:
                line = readline()
                if line is None:
                    return
                cmd = line.decode(errors="replace").rstrip("\r\n")
                self.commands.append(cmd)
                verb = cmd.split(" ")[0].upper()
                if verb == "EHLO" and self.ehlo_refused:
                    send("502 5.5.2 EHLO not implemented")
                elif verb == "EHLO":
                    lines = ["fake.mx"] + self.ehlo
                    if state["tls"]:
                        lines = [l for l in lines if l != "STARTTLS"]
                    for l in lines[:-1]:
                        send("250-" + l)
                    send("250 " + lines[-1])
                elif verb == "HELO":
                    send("250 fake.mx")
                elif verb == "STARTTLS" and self.tls_broken:
                    send("220 2.0.0 go ahead")
                    send("this is not a TLS handshake")
                    return
                elif verb == "STARTTLS" and self.tls_ctx is not None:
                    send("220 2.0.0 go ahead")
                    try:
                        state["sock"] = self.tls_ctx.wrap_socket(
                            conn, server_side=True)
                    except (OSError, ssl.SSLError):
                        return
                    state["tls"], state["buf"] = True, b""
                elif verb == "MAIL":
                    mail, rcpts, chunks, data = cmd, [], [], b""
                    send("250 2.1.0 ok")
                elif verb == "BDAT":
                    args = cmd.split(" ")
                    size, last = int(args[1]), args[-1].upper() == "LAST"
                    chunk = readexact(size)
                    if chunk is None:
                        return
                    reply = self.bdat_replies.get(len(chunks),
                                                  "250 2.0.0 chunk ok")
                    chunks.append((size, last))
                    if state["buf"]:
                        self.bdat_ahead += 1
                    data += chunk
                    if not rcpts:
                        send("554 5.5.1 no valid recipients")
                    elif not reply.startswith("2"):
                        send(reply)
                    elif last:
                        self.messages.append({"mail": mail, "rcpts": rcpts,
                                              "data": data, "chunks": chunks,
                                              "tls": state["tls"]})
                        send("250 2.0.0 ok: queued as FAKE%d" %
                             len(self.messages))
                    else:
                        send(reply)
                elif verb == "RCPT":
                    addr = cmd.split("<", 1)[1].split(">", 1)[0]
                    reply = self.replies.get(addr, "250 2.1.5 ok")
                    if reply.startswith("2"):
                        rcpts.append(cmd)
                    send(reply)
                elif verb == "DATA":
                    if not rcpts:
                        send("554 5.5.1 no valid recipients")
                        continue
                    send("354 go ahead")
                    data = b""
                    while True:
                        l = readline()
                        if l is None:
                            return
                        if l == b".\r\n":
                            break
                        data += l
                    self.messages.append({"mail": mail, "rcpts": rcpts,
                                          "data": data,
                                          "tls": state["tls"]})
                    send("250 2.0.0 ok: queued as FAKE%d" %
                         len(self.messages))
                elif verb == "RSET":
                    mail, rcpts, chunks, data = None, [], [], b""
                    send("250 2.0.0 ok")
                elif verb == "QUIT":
                    send("221 2.0.0 bye")
                    return
                else:
                    send("502 5.5.2 unknown command")
        finally:
            self.closed += 1
            try:
                state["sock"].close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        self.sock.close()
        self.thread.join(timeout=5)
        for t in self.threads:
            t.join(timeout=5)


def conf(inst, **settings):
    args = [f"{k}={v}" for k, v in settings.items()]
    r = run("postern-conf", "-c", inst.dir, "-e", *args)
    assert r.returncode == 0, r.stderr


def make_cert(directory, name):
    """A self-signed certificate for name; returns (cert, key) paths."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    os.chmod(cert, 0o644)
    return cert, key


class FakeDNS:
    """A validating resolver stand-in on 127.0.0.1 (UDP): answers from
    records = {(name, type): [rdata, ...]} with the AD bit set, as a
    trusted local validating resolver does for a signed zone."""

    TYPES = {"A": 1, "MX": 15, "TLSA": 52}

    def __init__(self, records):
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    @staticmethod
    def name_wire(name):
        out = b""
        for label in name.rstrip(".").split("."):
            if label:
                out += bytes([len(label)]) + label.encode()
        return out + b"\0"

    def answer(self, query):
        pos, labels = 12, []
        while query[pos]:
            labels.append(query[pos + 1:pos + 1 + query[pos]].decode())
            pos += 1 + query[pos]
        qtype = int.from_bytes(query[pos + 1:pos + 3], "big")
        question = query[12:pos + 5]
        name = ".".join(labels).lower()
        known = any(n == name for n, _ in self.records)
        rdatas = self.records.get((name, qtype), [])
        flags = 0x81a0 if known else 0x81a3     # QR RD RA AD / NXDOMAIN
        head = query[:2] + flags.to_bytes(2, "big") + b"\0\1" + \
            len(rdatas).to_bytes(2, "big") + b"\0\0\0\0"
        body = b"".join(b"\xc0\x0c" + qtype.to_bytes(2, "big") +
                        b"\0\1" + (300).to_bytes(4, "big") +
                        len(rd).to_bytes(2, "big") + rd for rd in rdatas)
        return head + question + body

    def loop(self):
        while not self.stopping.is_set():
            try:
                query, peer = self.sock.recvfrom(4096)
                self.sock.sendto(self.answer(query), peer)
            except (socket.timeout, OSError, IndexError):
                continue

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


def make_remote(mta, dns_factory):
    """The instance wired to a DNS server; yields a helper. Its files
    live where the instance's unprivileged users can read them."""
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="postern-smtp."))
    os.chmod(tmp_path, 0o755)
    dns = dns_factory(tmp_path)
    fakes = []
    conf(mta, smtp_dns_resolver_address=f"127.0.0.1:{dns.port}",
         smtp_connection_cache_time_limit="0s",
         queue_run_delay="300s")

    class Remote:
        inst = mta
        dir = tmp_path

        @staticmethod
        def fake(addr, **kw):
            f = FakeMX(addr, **kw)
            fakes.append(f)
            return f

    try:
        yield Remote
    finally:
        for f in fakes:
            f.stop()
        dns.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def remote(mta):
    """Mail exchangers named by unbound's local zone data (ZONE)."""
    yield from make_remote(mta, lambda d: Unbound(d, ZONE))


def swaks(inst, to, data=MESSAGE, sender="sender@sender.test"):
    """Sends data; swaks ends the last line itself, so it goes without."""
    data = data[:-2] if data.endswith(b"\r\n") else data
    args = ["swaks", "--server", "127.0.0.1", "--port", str(inst.port(25)),
            "--from", sender, "--timeout", "30", "--data", "-"]
    args += ["--to", to if isinstance(to, str) else ",".join(to)]
    r = subprocess.run(args, input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout.decode(errors="replace")
    return r


def status_line(inst, rcpt, status):
    for line in inst.log.splitlines():
        if f"to=<{rcpt}>" in line and f"status={status}" in line:
            return line
    return None


def wait_status(inst, rcpt, status, timeout=30):
    return wait_for(lambda: status_line(inst, rcpt, status),
                    timeout=timeout, what=f"{rcpt} {status}\n{inst.log}")


def test_byte_exact_over_opportunistic_tls(remote):
    cert = make_cert(remote.dir, "mx1.remote.test")
    mx = remote.fake("127.0.0.2", cert=cert)
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    wait_for(lambda: mx.messages, what="message at the fake MX")
    msg = mx.messages[0]
    assert msg["tls"]
    assert msg["mail"].startswith("MAIL FROM:<sender@sender.test>")
    assert msg["rcpts"][0].startswith("RCPT TO:<someone@remote.test>")
    # Dot-stuffed on the wire as in the original: the body as sent.
    body = MESSAGE.replace(b"\r\n.", b"\r\n..")
    assert msg["data"].endswith(body), msg["data"]
    head = msg["data"][:-len(body)].decode()
    assert head.startswith("Received: from "), head
    line = wait_status(remote.inst, "someone@remote.test", "sent")
    assert "relay=mx1.remote.test[127.0.0.2]:25" in line
    assert "TLS connection established to mx1.remote.test" in \
        remote.inst.log


def test_mx_order_and_fallback(remote):
    busy = remote.fake("127.0.0.3", greeting="421 4.3.2 busy, go away")
    good = remote.fake("127.0.0.2")
    remote.inst.start()
    swaks(remote.inst, "someone@fallback.test")
    line = wait_status(remote.inst, "someone@fallback.test", "sent")
    assert "relay=good.fallback.test[127.0.0.2]:25" in line
    log = remote.inst.log
    assert "connect to dead.fallback.test[127.0.0.9]:25" in log
    assert "busy.fallback.test[127.0.0.3] refused to talk to me: 421" \
        in log
    assert busy.connections == 1 and len(good.messages) == 1
    assert log.index("dead.fallback.test") < log.index("busy.fallback.test")


def test_4xx_and_5xx_per_recipient(remote):
    mx = remote.fake("127.0.0.2", replies={
        "later@remote.test": "450 4.2.1 mailbox busy",
        "nobody@remote.test": "550 5.1.1 no such user"})
    remote.inst.start()
    swaks(remote.inst, ["ok@remote.test", "later@remote.test",
                        "nobody@remote.test"])
    wait_status(remote.inst, "ok@remote.test", "sent")
    line = wait_status(remote.inst, "later@remote.test", "deferred")
    assert "dsn=4.2.1" in line and "450 4.2.1 mailbox busy" in line
    line = wait_status(remote.inst, "nobody@remote.test", "bounced")
    assert "dsn=5.1.1" in line
    assert "said: 550 5.1.1 no such user (in reply to RCPT TO command)" \
        in line
    assert len(mx.messages) == 1
    assert mx.messages[0]["rcpts"] == ["RCPT TO:<ok@remote.test>"]


def test_5xx_bounces_with_a_report_to_the_sender(remote):
    remote.fake("127.0.0.2", replies={
        "nobody@remote.test": "550 5.1.1 no such user"})
    bounces = remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, ["ok@remote.test", "nobody@remote.test"])
    wait_status(remote.inst, "nobody@remote.test", "bounced")
    wait_for(lambda: bounces.messages, what="bounce at the sender's MX")
    assert bounces.messages[0]["mail"].startswith("MAIL FROM:<>")
    report = bounces.messages[0]["data"].decode(errors="replace")
    assert "multipart/report" in report
    assert "Final-Recipient: rfc822; nobody@remote.test" in report
    assert "Remote-MTA: dns; mx1.remote.test" in report
    assert "Diagnostic-Code: smtp; 550 5.1.1 no such user" in report
    assert "ok@remote.test" not in report.split("Content-Type: message/")[0]


def test_null_mx_bounces_at_once(remote):
    bounces = remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@nullmx.test")
    line = wait_status(remote.inst, "someone@nullmx.test", "bounced")
    assert "dsn=5.1.10" in line and "null MX" in line
    wait_for(lambda: bounces.messages, what="bounce at the sender's MX")


@pytest.mark.parametrize("preference", ["ipv6", "ipv4"])
def test_address_preference(remote, preference):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        v6 = remote.fake("::1")
    except OSError:
        pytest.skip("cannot listen on [::1]:25")
    v4 = remote.fake("127.0.0.2")
    conf(remote.inst, smtp_address_preference=preference)
    remote.inst.start()
    swaks(remote.inst, "someone@dual.test")
    line = wait_status(remote.inst, "someone@dual.test", "sent")
    if preference == "ipv6":
        assert "relay=mx.dual.test[::1]:25" in line
        assert len(v6.messages) == 1 and not v4.messages
    else:
        assert "relay=mx.dual.test[127.0.0.2]:25" in line
        assert len(v4.messages) == 1 and not v6.messages


def test_mx_that_is_this_host_bounces_as_a_loop(remote):
    backup = remote.fake("127.0.0.2")
    remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@loop.test")
    line = wait_status(remote.inst, "someone@loop.test", "bounced")
    assert "dsn=5.4.6" in line and "loops back to myself" in line
    assert not backup.messages


def test_no_mx_falls_back_to_address(remote):
    mx = remote.fake("127.0.0.2")
    remote.inst.start()
    swaks(remote.inst, "someone@nomx.test")
    line = wait_status(remote.inst, "someone@nomx.test", "sent")
    assert "relay=nomx.test[127.0.0.2]:25" in line
    assert len(mx.messages) == 1


def test_relayhost_bypasses_mx(remote):
    mx = remote.fake("127.0.0.2")
    relay = remote.fake("127.0.0.5", port=2526)
    conf(remote.inst, relayhost="[127.0.0.5]:2526")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "sent")
    assert "relay=127.0.0.5[127.0.0.5]:2526" in line
    assert len(relay.messages) == 1 and not mx.messages


def test_tls_failure_under_may_retries_in_clear_text(remote):
    mx = remote.fake("127.0.0.2", tls_broken=True)
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    wait_status(remote.inst, "someone@remote.test", "sent")
    assert "trying again in clear text" in remote.inst.log
    assert mx.connections == 2 and not mx.messages[0]["tls"]


def test_tls_encrypt_refuses_clear_text(remote):
    mx = remote.fake("127.0.0.2")
    conf(remote.inst, smtp_tls_security_level="encrypt")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "deferred")
    assert "TLS is required, but was not offered" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def test_tls_verify_checks_the_name(remote):
    wrong = make_cert(remote.dir, "other.test")
    mx = remote.fake("127.0.0.2", cert=wrong)
    policy = remote.dir / "tls_policy"
    policy.write_text("remote.test verify\n")
    conf(remote.inst, smtp_tls_policy_maps=f"texthash:{policy}",
         smtp_tls_CAfile=wrong[0])
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "deferred")
    assert "TLS handshake" in line or "TLS" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def test_tls_verify_accepts_a_matching_certificate(remote):
    right = make_cert(remote.dir, "mx1.remote.test")
    mx = remote.fake("127.0.0.2", cert=right)
    conf(remote.inst, smtp_tls_security_level="verify",
         smtp_tls_CAfile=right[0])
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    wait_status(remote.inst, "someone@remote.test", "sent")
    assert mx.messages[0]["tls"]
    assert "Trusted TLS connection established to mx1.remote.test" in \
        remote.inst.log


def test_connection_reuse(remote):
    mx = remote.fake("127.0.0.2")
    conf(remote.inst, smtp_connection_cache_time_limit="20s")
    remote.inst.start()
    for n in range(3):
        swaks(remote.inst, f"user{n}@remote.test")
        wait_status(remote.inst, f"user{n}@remote.test", "sent")
    assert len(mx.messages) == 3
    assert mx.connections < 3
    log = remote.inst.log
    assert "reusing connection to mx1.remote.test[127.0.0.2]:25" in log
    assert [c for c in mx.commands if c.startswith("EHLO")] == \
        ["EHLO mail.example.test"] * mx.connections
    assert mx.commands.count("RSET") >= 2


def test_idle_cached_connection_is_closed(remote):
    mx = remote.fake("127.0.0.2")
    conf(remote.inst, smtp_connection_cache_time_limit="1s")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    wait_status(remote.inst, "someone@remote.test", "sent")
    # Kept after the message (RSET), then shut down once idle for 1s,
    # long before the process itself would exit (max_idle).
    wait_for(lambda: "RSET" in mx.commands, what="RSET")
    wait_for(lambda: mx.closed == 1, timeout=15, what="idle close")
    assert mx.connections == 1


def test_stalled_remote_is_abandoned(remote):
    mx = remote.fake("127.0.0.2", stall_after_greeting=True)
    conf(remote.inst, smtp_helo_timeout="2s")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "deferred")
    assert "conversation timed out" in line
    assert mx.connections == 1


def test_helo_fallback_without_pipelining(remote):
    mx = remote.fake("127.0.0.2", ehlo_refused=True)
    remote.inst.start()
    swaks(remote.inst, ["a@remote.test", "b@remote.test"])
    wait_status(remote.inst, "a@remote.test", "sent")
    wait_status(remote.inst, "b@remote.test", "sent")
    assert [c.split(" ")[0] for c in mx.commands[:6]] == \
        ["EHLO", "HELO", "MAIL", "RCPT", "RCPT", "DATA"]
    # No ESMTP parameters to a server that did not say EHLO.
    assert mx.messages[0]["mail"] == "MAIL FROM:<sender@sender.test>"


def test_8bit_to_a_server_without_8bitmime_bounces(remote):
    mx = remote.fake("127.0.0.2", ehlo=("PIPELINING",))
    remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test",
          data=MESSAGE.replace(b"First line.", b"Caf\xc3\xa9."))
    line = wait_status(remote.inst, "someone@remote.test", "bounced")
    assert "dsn=5.6.3" in line and "8BITMIME" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def test_size_limit_bounces_without_retry(remote):
    mx = remote.fake("127.0.0.2", ehlo=("PIPELINING", "SIZE 100"))
    remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "bounced")
    assert "dsn=5.3.4" in line and "exceeds size limit 100" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


CHUNKING = ("PIPELINING", "8BITMIME", "SIZE 10000000", "DSN", "CHUNKING")
BDAT_CHUNK = 64 * 1024


def big_message():
    """About 200 KB: three full BDAT chunks and a short last one, with
    lines that start with a dot on and near the chunk boundaries."""
    lines = [b"From: Sender <sender@sender.test>", b"To: someone@remote.test",
             b"Subject: chunks", b""]
    for i in range(2600):
        lines.append(b"%s line %05d of the body, long enough to fill %s" %
                     (b"." if i % 7 == 0 else b"", i, b"x" * 30))
    return b"\r\n".join(lines) + b"\r\n"


def stored_wire(msg):
    """The content at the fake MX without the Received line in front."""
    body = msg["data"]
    assert body.startswith(b"Received: from "), body[:200]
    return body


def smtp_bdat(inst, body, rcpt, sender="sender@sender.test"):
    """Submits body to the instance's smtpd as one BDAT LAST chunk with
    BODY=BINARYMIME; returns the reply to BDAT."""
    with socket.create_connection(("127.0.0.1", inst.port(25)),
                                  timeout=30) as sock:
        f = sock.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                assert line, "connection closed"
                if line[3:4] != b"-":
                    return line.decode()

        def cmd(text):
            sock.sendall(text.encode() + b"\r\n")
            return reply()

        assert reply().startswith("220")
        assert cmd("EHLO client.test").startswith("250")
        assert cmd(f"MAIL FROM:<{sender}> BODY=BINARYMIME").startswith("250")
        assert cmd(f"RCPT TO:<{rcpt}>").startswith("250")
        sock.sendall(b"BDAT %d LAST\r\n" % len(body) + body)
        r = reply()
        cmd("QUIT")
        return r


@pytest.mark.parametrize("ehlo", [CHUNKING, CHUNKING[1:]],
                         ids=["pipelining", "lockstep"])
def test_bdat_chunks_carry_the_content_unchanged(remote, ehlo):
    mx = remote.fake("127.0.0.2", ehlo=ehlo)
    remote.inst.start()
    message = big_message()
    swaks(remote.inst, "someone@remote.test", data=message)
    wait_for(lambda: mx.messages, what="message at the fake MX")
    msg = mx.messages[0]
    # No dot-stuffing, CRLF line endings: the message as submitted.
    assert stored_wire(msg).endswith(message)
    sizes = [size for size, _ in msg["chunks"]]
    assert sizes[:-1] == [BDAT_CHUNK] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= BDAT_CHUNK and sum(sizes) == len(msg["data"])
    assert len(sizes) == 4, sizes
    assert [last for _, last in msg["chunks"]] == [False] * 3 + [True]
    bdats = [c for c in mx.commands if c.startswith("BDAT")]
    assert bdats[-1] == "BDAT %d LAST" % sizes[-1]
    assert not any(c.startswith("DATA") for c in mx.commands)
    if "PIPELINING" not in ehlo:
        # Each chunk waited for the reply to the one before.
        assert mx.bdat_ahead == 0
    wait_status(remote.inst, "someone@remote.test", "sent")


def test_bdat_short_message_is_one_last_chunk(remote):
    mx = remote.fake("127.0.0.2", ehlo=CHUNKING)
    remote.inst.start()
    swaks(remote.inst, ["a@remote.test", "b@remote.test"])
    wait_for(lambda: mx.messages, what="message at the fake MX")
    msg = mx.messages[0]
    assert msg["data"].endswith(MESSAGE)
    assert msg["chunks"] == [(len(msg["data"]), True)]
    assert len(msg["rcpts"]) == 2
    line = wait_status(remote.inst, "a@remote.test", "sent")
    assert "in reply to BDAT command" in line
    wait_status(remote.inst, "b@remote.test", "sent")


def test_bdat_5xx_bounces(remote):
    mx = remote.fake("127.0.0.2", ehlo=CHUNKING,
                     bdat_replies={0: "554 5.6.0 content refused"})
    sender_mx = remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "bounced")
    assert "dsn=5.6.0" in line and "content refused" in line
    assert "in reply to BDAT command" in line
    assert not mx.messages
    wait_for(lambda: sender_mx.messages, what="bounce at the sender's MX")
    assert b"content refused" in sender_mx.messages[0]["data"]


def test_bdat_refusal_midway_sends_no_more_chunks(remote):
    # Without PIPELINING each chunk waits for its reply: after the
    # refusal of the first, nothing more of the message goes out.
    mx = remote.fake("127.0.0.2", ehlo=CHUNKING[1:],
                     bdat_replies={0: "552 5.3.4 too much"})
    remote.fake("127.0.0.4")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test", data=big_message())
    line = wait_status(remote.inst, "someone@remote.test", "bounced")
    assert "dsn=5.3.4" in line and "too much" in line
    assert [c for c in mx.commands if c.startswith("BDAT")] == \
        ["BDAT %d" % BDAT_CHUNK]


def test_bdat_4xx_to_last_defers(remote):
    mx = remote.fake("127.0.0.2", ehlo=CHUNKING,
                     bdat_replies={0: "451 4.3.0 try again later"})
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    line = wait_status(remote.inst, "someone@remote.test", "deferred")
    assert "dsn=4.3.0" in line and "try again later" in line
    assert not mx.messages


def test_data_when_chunking_is_not_offered(remote):
    mx = remote.fake("127.0.0.2")
    remote.inst.start()
    swaks(remote.inst, "someone@remote.test")
    wait_for(lambda: mx.messages, what="message at the fake MX")
    assert "chunks" not in mx.messages[0]
    assert "DATA" in mx.commands
    assert not any(c.startswith("BDAT") for c in mx.commands)


BINARY_BODY = (b"From: sender@sender.test\r\nTo: someone@remote.test\r\n"
               b"MIME-Version: 1.0\r\n"
               b"Content-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\n"
               b"\x00\x01bare\rCR\xff\xfe\r\n.dot\r\nno final line end")


def test_binarymime_goes_with_bdat(remote):
    mx = remote.fake("127.0.0.2", ehlo=CHUNKING + ("BINARYMIME",))
    remote.inst.start()
    assert smtp_bdat(remote.inst, BINARY_BODY,
                     "someone@remote.test").startswith("250")
    wait_for(lambda: mx.messages, what="message at the fake MX")
    msg = mx.messages[0]
    assert "BODY=BINARYMIME" in msg["mail"]
    assert msg["data"].endswith(BINARY_BODY)
    assert msg["chunks"][-1][1]
    wait_status(remote.inst, "someone@remote.test", "sent")


@pytest.mark.parametrize("ehlo", [CHUNKING, CHUNKING[:-1] + ("BINARYMIME",)],
                         ids=["no-binarymime", "no-chunking"])
def test_binarymime_without_support_bounces(remote, ehlo):
    mx = remote.fake("127.0.0.2", ehlo=ehlo)
    remote.fake("127.0.0.4")
    remote.inst.start()
    assert smtp_bdat(remote.inst, BINARY_BODY,
                     "someone@remote.test").startswith("250")
    line = wait_status(remote.inst, "someone@remote.test", "bounced")
    assert "dsn=5.6.3" in line and "BINARYMIME and CHUNKING" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def spki_sha256(cert):
    """The SHA-256 of the certificate's public key (TLSA 3 1 1 data)."""
    pem = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pem, check=True, capture_output=True).stdout
    return hashlib.sha256(der).digest()


@pytest.fixture
def dane_remote(mta):
    """remote.test with a TLSA record, from a resolver that validates."""
    records = {}

    def dns(directory):
        records[("remote.test", 15)] = [
            b"\0\x0a" + FakeDNS.name_wire("mx1.remote.test")]
        records[("mx1.remote.test", 1)] = [bytes([127, 0, 0, 2])]
        records[("_25._tcp.mx1.remote.test", 52)] = []
        return FakeDNS(records)

    for r in make_remote(mta, dns):
        r.records = records
        conf(mta, smtp_tls_security_level="dane")
        yield r


def test_dane_tlsa_match(dane_remote):
    cert = make_cert(dane_remote.dir, "mx1.remote.test")
    dane_remote.records[("_25._tcp.mx1.remote.test", 52)] = [
        b"\3\1\1" + spki_sha256(cert[0])]
    mx = dane_remote.fake("127.0.0.2", cert=cert)
    dane_remote.inst.start()
    swaks(dane_remote.inst, "someone@remote.test")
    wait_status(dane_remote.inst, "someone@remote.test", "sent")
    assert mx.messages[0]["tls"]
    assert "Verified (DANE) TLS connection established to mx1.remote.test" \
        in dane_remote.inst.log


def test_dane_tlsa_mismatch_defers(dane_remote):
    cert = make_cert(dane_remote.dir, "mx1.remote.test")
    dane_remote.records[("_25._tcp.mx1.remote.test", 52)] = [
        b"\3\1\1" + bytes(32)]
    mx = dane_remote.fake("127.0.0.2", cert=cert)
    dane_remote.inst.start()
    swaks(dane_remote.inst, "someone@remote.test")
    line = wait_status(dane_remote.inst, "someone@remote.test", "deferred")
    assert "TLS handshake" in line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def test_dane_without_tlsa_is_opportunistic(dane_remote):
    mx = dane_remote.fake("127.0.0.2")
    dane_remote.inst.start()
    swaks(dane_remote.inst, "someone@remote.test")
    wait_status(dane_remote.inst, "someone@remote.test", "sent")
    assert not mx.messages[0]["tls"]


# MTA-STS: four domains whose MX hosts all live on 127.0.0.2 and whose
# policy host mta-sts.DOMAIN is 127.0.0.5, where a small HTTPS server
# (StsServer) serves the policy of each by its Host header (stsgone.test
# has the TXT record, but its policy is not found: 404).
STS_DOMAINS = ("sts.test", "stsbad.test", "ststest.test", "stsgone.test")
STS_ZONE = ZONE + "".join(f"""
local-data: "{d}. 300 IN MX 10 mx.{d}."
local-data: "mx.{d}. 300 IN A 127.0.0.2"
local-data: "mta-sts.{d}. 300 IN A 127.0.0.5"
local-data: '_mta-sts.{d}. 300 IN TXT "v=STSv1; id=2026{i}"'
""" for i, d in enumerate(STS_DOMAINS))
STS_POLICIES = {
    "mta-sts.sts.test": "version: STSv1\r\nmode: enforce\r\n"
                        "mx: *.sts.test\r\nmax_age: 86400\r\n",
    "mta-sts.stsbad.test": "version: STSv1\r\nmode: enforce\r\n"
                           "mx: mx.elsewhere.test\r\nmax_age: 86400\r\n",
    "mta-sts.ststest.test": "version: STSv1\r\nmode: testing\r\n"
                            "mx: mx.elsewhere.test\r\nmax_age: 86400\r\n",
}


class StsServer:
    """HTTPS on addr:443 serving STS_POLICIES at the well-known path."""

    def __init__(self, directory, addr="127.0.0.5"):
        import http.server

        names = ",".join(f"DNS:mta-sts.{d}" for d in STS_DOMAINS)
        self.cert, key = directory / "mta-sts.crt", directory / "mta-sts.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=mta-sts",
                        "-addext", f"subjectAltName={names}",
                        "-keyout", str(key), "-out", str(self.cert)],
                       check=True, capture_output=True, timeout=60)
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = self.headers.get("Host", "")
                server.requests.append((host, self.path))
                body = STS_POLICIES.get(host)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.httpd = http.server.ThreadingHTTPServer((addr, 443), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def sts_remote(mta):
    """remote, with the MTA-STS domains and their policy server; the
    client trusts the policy server's and the MX certificate."""
    remotes = make_remote(mta, lambda d: Unbound(d, STS_ZONE))
    r = next(remotes)
    sts = None
    try:
        r.sts = sts = StsServer(r.dir)
        r.mx_cert = {d: make_cert(r.dir, f"mx.{d}") for d in STS_DOMAINS}
        cafile = r.dir / "ca.pem"
        cafile.write_bytes(sts.cert.read_bytes() + b"".join(
            c[0].read_bytes() for c in r.mx_cert.values()))
        os.chmod(cafile, 0o644)
        conf(mta, smtp_tls_mta_sts="yes", smtp_tls_CAfile=cafile)
        yield r
    finally:
        if sts is not None:
            sts.stop()
        remotes.close()


def test_mta_sts_enforce_delivers_over_verified_tls(sts_remote):
    mx = sts_remote.fake("127.0.0.2", cert=sts_remote.mx_cert["sts.test"])
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@sts.test")
    wait_status(sts_remote.inst, "someone@sts.test", "sent")
    assert mx.messages[0]["tls"]
    log = sts_remote.inst.log
    assert "MTA-STS policy for sts.test: mode=enforce (id 20260)" in log
    assert "Trusted TLS connection established to mx.sts.test" in log
    assert ("mta-sts.sts.test", "/.well-known/mta-sts.txt") in \
        sts_remote.sts.requests


def test_mta_sts_enforce_refuses_an_mx_outside_the_policy(sts_remote):
    mx = sts_remote.fake("127.0.0.2", cert=sts_remote.mx_cert["stsbad.test"])
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@stsbad.test")
    line = wait_status(sts_remote.inst, "someone@stsbad.test", "deferred")
    assert "dsn=4.7.5" in line and "MTA-STS" in line, line
    assert "no MX host matches" in line
    assert mx.connections == 0


def test_mta_sts_enforce_refuses_an_unverified_certificate(sts_remote):
    mx = sts_remote.fake("127.0.0.2", cert=sts_remote.mx_cert["stsbad.test"])
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@sts.test")
    line = wait_status(sts_remote.inst, "someone@sts.test", "deferred")
    assert "dsn=4.7.5" in line and "MTA-STS policy for sts.test" in line, \
        line
    assert not any(c.startswith("MAIL") for c in mx.commands)


def test_mta_sts_testing_delivers_and_logs(sts_remote):
    mx = sts_remote.fake("127.0.0.2")
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@ststest.test")
    wait_status(sts_remote.inst, "someone@ststest.test", "sent")
    assert mx.messages
    log = sts_remote.inst.log
    assert "MTA-STS policy for ststest.test: mode=testing (id 20262)" in log
    assert "MX host mx.ststest.test does not match the policy; " \
        "enforce would refuse it" in log
    assert "TLS to mx.ststest.test[127.0.0.2]:25 is not used; " \
        "enforce would refuse it" in log


def test_mta_sts_off_by_default(sts_remote):
    conf(sts_remote.inst, smtp_tls_mta_sts="no")
    mx = sts_remote.fake("127.0.0.2")
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@stsbad.test")
    wait_status(sts_remote.inst, "someone@stsbad.test", "sent")
    assert mx.messages
    assert not sts_remote.sts.requests


def test_mta_sts_policy_not_found_changes_nothing(sts_remote):
    mx = sts_remote.fake("127.0.0.2")
    sts_remote.inst.start()
    swaks(sts_remote.inst, "someone@stsgone.test")
    wait_status(sts_remote.inst, "someone@stsgone.test", "sent")
    assert mx.messages and not mx.messages[0]["tls"]
    assert "MTA-STS policy for stsgone.test: https://mta-sts.stsgone.test" \
        "/.well-known/mta-sts.txt: HTTP status 404" in sts_remote.inst.log
