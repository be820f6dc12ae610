"""anvil: per-client session counts and connection rates.

The tests speak anvil's protocol (anvil(8)) themselves, over
queue/private/anvil of a running instance: attr frames built and read by
the small codec below. Counts follow the connections that stay open,
rates count connects in the window, and a peer that breaks the protocol
is dropped alone while anvil keeps answering the others.
"""
import socket
import struct

import pytest

from instance import wait_for


def record(name, value):
    name = name.encode()
    value = value if isinstance(value, bytes) else str(value).encode()
    return (struct.pack(">I", len(name)) + name +
            struct.pack(">I", len(value)) + value)


def frame(*pairs, version="1"):
    """An attr frame: the version record, then the (name, value) pairs."""
    body = record("attr_version", version)
    body += b"".join(record(n, v) for n, v in pairs)
    return struct.pack(">I", len(body)) + body


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_frame(sock):
    """Reads one frame; its records as a dict of str (version checked)."""
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    assert length <= 1024
    body = recv_exact(sock, length)
    recs, pos = {}, 0
    while pos < len(body):
        (nlen,) = struct.unpack(">I", body[pos:pos + 4])
        name = body[pos + 4:pos + 4 + nlen].decode()
        pos += 4 + nlen
        (vlen,) = struct.unpack(">I", body[pos:pos + 4])
        recs[name] = body[pos + 4:pos + 4 + vlen].decode()
        pos += 4 + vlen
    assert recs.pop("attr_version") == "1"
    return recs


def closed_by_peer(sock):
    """True when the other end closed the connection (EOF or reset)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


class Anvil:
    """The anvil service of a started instance, seen as its clients."""

    def __init__(self, mta):
        self.mta = mta
        self.path = str(mta.queue / "private" / "anvil")
        self.open = []

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.path)
        self.open.append(s)
        return s

    def session(self, service="smtp", addr="192.0.2.1"):
        """A new session, left open: (socket, count, rate)."""
        s = self.connect()
        s.sendall(frame(("request", "connect"), ("service", service),
                        ("addr", addr)))
        reply = read_frame(s)
        assert reply["status"] == "0", reply
        assert set(reply) == {"status", "count", "rate"}, reply
        return s, int(reply["count"]), int(reply["rate"])

    def probe(self, service="smtp", addr="192.0.2.1"):
        """(count, rate) of a session that ends at once."""
        s, count, rate = self.session(service, addr)
        self.close(s)
        return count, rate

    def close(self, s):
        s.close()
        self.open.remove(s)

    def close_all(self):
        for s in list(self.open):
            self.close(s)

    def pids(self):
        return self.mta.children("anvil")


@pytest.fixture
def anvil(mta):
    """The mta instance started with anvil (rate window one hour)."""
    yield from started(mta, "anvil_rate_time_unit = 3600s\n")


def started(mta, main_cf):
    with open(mta.dir / "main.cf", "a") as f:
        f.write(main_cf)
    mta.start()
    a = Anvil(mta)
    wait_for(lambda: (mta.queue / "private" / "anvil").exists(),
             what="private/anvil")
    try:
        yield a
    finally:
        a.close_all()


def test_count_follows_open_sessions(anvil):
    a1, count, rate = anvil.session()
    assert (count, rate) == (1, 1)
    a2, count, rate = anvil.session()
    assert (count, rate) == (2, 2)
    a3, count, rate = anvil.session()
    assert (count, rate) == (3, 3)
    # Another address, another service: counted apart.
    assert anvil.session(addr="192.0.2.2")[1:] == (1, 1)
    assert anvil.session(service="submission")[1:] == (1, 1)
    assert anvil.session(addr="2001:db8::1")[1:] == (1, 1)

    # A session ends: the count drops (the probe counts itself), the
    # rate does not.
    anvil.close(a2)
    wait_for(lambda: anvil.probe()[0] == 3, what="count back to 2 + probe")
    count, rate = anvil.probe()
    assert count == 3
    assert rate >= 5
    anvil.close(a1)
    anvil.close(a3)
    wait_for(lambda: anvil.probe()[0] == 1, what="no session left")

    # The peaks are logged when anvil stops.
    anvil.close_all()
    anvil.mta.stop()
    log = anvil.mta.log
    assert "statistics: max connection count 3 for (smtp:192.0.2.1)" in log
    assert "statistics: max connection rate" in log
    assert "/3600s for (smtp:192.0.2.1)" in log


def test_rate_window_passes(mta):
    gen = started(mta, "anvil_rate_time_unit = 2s\n")
    anvil = next(gen)
    try:
        # Connects within one window count up...
        wait_for(lambda: anvil.probe()[1] >= 2, what="rate of 2")
        # ... and the first connect after the window starts a new one.
        wait_for(lambda: anvil.probe()[1] == 1, what="a new window")
        # An open session keeps its count across windows.
        s, count, _ = anvil.session()
        assert count == 1
        wait_for(lambda: anvil.probe() == (2, 1), what="next window")
    finally:
        gen.close()


def test_bad_peers_are_dropped_alone(anvil):
    mta = anvil.mta
    kept, count, _ = anvil.session()
    assert count == 1
    pid = anvil.pids()
    assert len(pid) == 1

    # A peer that stalls inside its request does not stall the others.
    stalled = anvil.connect()
    stalled.sendall(frame(("request", "connect"), ("service", "smtp"),
                          ("addr", "192.0.2.1"))[:9])
    assert anvil.probe() == (2, 2)

    bad = [
        struct.pack(">I", 0xFFFFFFFF) + b"x" * 16,   # length over the cap
        struct.pack(">I", 2000),                     # also over it
        frame(("request", "connect"), ("service", "smtp"),
              ("addr", "192.0.2.1"), version="2"),
        frame(("request", "lookup"), ("service", "smtp"),
              ("addr", "192.0.2.1")),
        frame(("request", "connect"), ("service", "sm tp"),
              ("addr", "192.0.2.1")),
        frame(("request", "connect"), ("service", "smtp"),
              ("addr", b"192.0.2.1\0")),
        frame(("request", "connect"), ("service", "smtp")),
        struct.pack(">I", 3) + b"abc",               # truncated record
    ]
    for data in bad:
        s = anvil.connect()
        s.sendall(data)
        assert closed_by_peer(s), data
        anvil.close(s)

    # A counted peer that sends anything more is dropped and uncounted.
    chatty, count, _ = anvil.session()
    assert count == 2
    chatty.sendall(b"more")
    assert closed_by_peer(chatty)
    anvil.close(chatty)
    wait_for(lambda: anvil.probe()[0] == 2, what="chatty peer uncounted")

    # The stalled peer still holds no count and gets its answer when it
    # finishes its request.
    stalled.sendall(frame(("request", "connect"), ("service", "smtp"),
                          ("addr", "192.0.2.1"))[9:])
    reply = read_frame(stalled)
    assert reply["status"] == "0"
    assert reply["count"] == "2"

    # Same process all along, and it said why it dropped each peer.
    assert anvil.pids() == pid
    log = mta.log
    assert "frame over 1024 bytes" in log
    assert "unsupported attribute protocol version" in log
    assert 'request is not "connect"' in log
    assert "missing or malformed service" in log
    assert "missing or malformed addr" in log
    assert "sent data after its request" in log
    assert anvil.session()[1] == 3


def test_request_timeout(mta):
    gen = started(mta, "anvil_rate_time_unit = 3600s\nipc_timeout = 1s\n")
    anvil = next(gen)
    try:
        silent = anvil.connect()
        kept, count, _ = anvil.session()
        assert count == 1
        assert closed_by_peer(silent)
        assert "timeout waiting for its request" in mta.log
        # The session that did send its request stays counted.
        assert anvil.probe()[0] == 2
    finally:
        gen.close()
