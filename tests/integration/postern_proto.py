"""Postern's internal formats, for tests that talk to daemons directly.

- Attr frames (lib/util/attr.h): the requests and replies between
  daemons, e.g. qmgr's delivery request to private/local
  (lib/mail/deliver_req.h).
- Queue files (lib/mail/queue_file.h): write one, read its recipients
  and their done flags back.

Written from the format descriptions in those headers; nothing here is
shared with the C code, so a test that uses it checks the C side against
the documented format.
"""
import os
import socket
import struct
import time

ATTR_VERSION_NAME = b"attr_version"
ATTR_VERSION = b"1"

QUEUE_FILE_VERSION = b"postern-queue 1"
QUEUE_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

NOTIFY_SUCCESS = 0x01
NOTIFY_FAILURE = 0x02
NOTIFY_DELAY = 0x04
NOTIFY_NEVER = 0x08


# Attr frames ---------------------------------------------------------------

def _to_bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def attr_encode(records):
    """One frame (length included) holding the records of a dict or a
    list of (name, value) pairs; values may be str, int or bytes."""
    items = records.items() if isinstance(records, dict) else records
    body = bytearray()
    for name, value in [(ATTR_VERSION_NAME, ATTR_VERSION)] + [
            (_to_bytes(n), _to_bytes(v)) for n, v in items]:
        body += struct.pack(">I", len(name)) + name
        body += struct.pack(">I", len(value)) + value
    return struct.pack(">I", len(body)) + bytes(body)


def attr_decode(frame):
    """The records of one whole frame as a dict of str to bytes; raises
    ValueError on a malformed frame."""
    if len(frame) < 4:
        raise ValueError("short frame")
    (length,) = struct.unpack(">I", frame[:4])
    if length != len(frame) - 4:
        raise ValueError("frame length does not match")
    pos, out, first = 4, {}, True
    while pos < len(frame):
        (nlen,) = struct.unpack(">I", frame[pos:pos + 4])
        name = frame[pos + 4:pos + 4 + nlen]
        pos += 4 + nlen
        (vlen,) = struct.unpack(">I", frame[pos:pos + 4])
        value = frame[pos + 4:pos + 4 + vlen]
        if len(value) != vlen:
            raise ValueError("record cut short")
        pos += 4 + vlen
        if first:
            if name != ATTR_VERSION_NAME or value != ATTR_VERSION:
                raise ValueError("no version record")
            first = False
            continue
        key = name.decode()
        if key in out:
            raise ValueError(f"record {key} repeated")
        out[key] = value
    if first:
        raise ValueError("no version record")
    return out


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed inside a frame"
                           if data else "connection closed")
        data += chunk
    return data


def attr_recv(sock):
    head = recv_exact(sock, 4)
    (length,) = struct.unpack(">I", head)
    return attr_decode(head + recv_exact(sock, length))


# Delivery requests (lib/mail/deliver_req.h) ---------------------------------

def deliver_request(queue_id, indexes, transport="local", nexthop="localhost",
                    queue_file=None):
    records = [("queue_id", queue_id),
               ("queue_file", queue_file or f"active/{queue_id}"),
               ("transport", transport), ("nexthop", nexthop),
               ("rcpt_count", len(indexes))]
    records += [(f"rcpt_{i}", idx) for i, idx in enumerate(indexes)]
    return attr_encode(records)


def parse_reply(rec):
    """A delivery reply as a list of dicts: rcpt, status, dsn, reason."""
    count = int(rec["rcpt_count"])
    return [{"rcpt": int(rec[f"rcpt_{i}"]),
             "status": rec[f"status_{i}"].decode(),
             "dsn": rec[f"dsn_{i}"].decode(),
             "reason": rec[f"reason_{i}"].decode(errors="replace"),
             "relay": rec[f"relay_{i}"].decode()} for i in range(count)]


def send_request(socket_path, frame, timeout=60):
    """Sends one frame to a delivery agent and returns the reply's
    records (dict), or raises EOFError when it closes without one."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(socket_path))
        s.sendall(frame)
        return attr_recv(s)


def deliver(socket_path, queue_id, indexes, timeout=60, **kw):
    return parse_reply(send_request(
        socket_path, deliver_request(queue_id, indexes, **kw), timeout))


# Queue files (lib/mail/queue_file.h) ----------------------------------------

def _b36(value, width=None):
    digits = ""
    while True:
        digits = QUEUE_ID_ALPHABET[value % 36] + digits
        value //= 36
        if value == 0:
            break
    return digits.rjust(width, "0") if width else digits


def queue_id(seconds, usec, inode):
    return _b36(seconds, 7) + _b36(usec, 4) + _b36(inode)


def _record(rtype, data):
    return rtype + struct.pack(">I", len(data)) + data


def queue_file_bytes(sender, rcpts, content, arrival=None, proto="ESMTP",
                     client_addr=None, client_name=None, helo=None):
    """The bytes of a queue file. rcpts: addresses, or dicts with
    address, orcpt, notify and done."""
    out = _record(b"V", QUEUE_FILE_VERSION)
    out += _record(b"T", struct.pack(">Q", int(arrival or time.time())))
    out += _record(b"P", proto.encode())
    out += _record(b"S", sender.encode())
    for rtype, value in ((b"C", client_addr), (b"N", client_name),
                         (b"H", helo)):
        if value:
            out += _record(rtype, value.encode())
    for r in rcpts:
        if isinstance(r, str):
            r = {"address": r}
        addr = r["address"].encode()
        data = (b"D" if r.get("done") else b"P") + bytes(
            [r.get("notify", 0)]) + struct.pack(">I", len(addr)) + addr + \
            r.get("orcpt", "").encode()
        out += _record(b"R", data)
    out += _record(b"E", struct.pack(">Q", len(content)))
    return out + content + _record(b"X", b"")


def write_queue_file(directory, sender, rcpts, content, owner=None, **kw):
    """Writes a queue file into directory (e.g. queue/active) under a
    valid queue id made from its inode; returns the id."""
    directory = str(directory)
    tmp = os.path.join(directory, f"tmp.{os.getpid()}.{time.time_ns()}")
    with open(tmp, "wb") as f:
        f.write(queue_file_bytes(sender, rcpts, content, **kw))
        f.flush()
        os.fsync(f.fileno())
        inode = os.fstat(f.fileno()).st_ino
    os.chmod(tmp, 0o700)
    if owner is not None:
        os.chown(tmp, owner[0], owner[1])
    now = time.time_ns() // 1000
    qid = queue_id(now // 1000000, now % 1000000, inode)
    os.rename(tmp, os.path.join(directory, qid))
    return qid


def read_queue_file(path):
    """The envelope of a queue file: dict with sender, proto, rcpts (list
    of dicts address, done, notify, orcpt) and content."""
    with open(path, "rb") as f:
        data = f.read()
    pos, env = 0, {"rcpts": []}
    while pos < len(data):
        rtype = data[pos:pos + 1]
        (length,) = struct.unpack(">I", data[pos + 1:pos + 5])
        body = data[pos + 5:pos + 5 + length]
        pos += 5 + length
        if rtype == b"S":
            env["sender"] = body.decode()
        elif rtype == b"P":
            env["proto"] = body.decode()
        elif rtype == b"R":
            (alen,) = struct.unpack(">I", body[2:6])
            env["rcpts"].append({
                "done": body[0:1] == b"D", "notify": body[1],
                "address": body[6:6 + alen].decode(),
                "orcpt": body[6 + alen:].decode()})
        elif rtype == b"E":
            (clen,) = struct.unpack(">Q", body)
            env["content"] = data[pos:pos + clen]
            pos += clen
        elif rtype == b"X":
            break
    return env
