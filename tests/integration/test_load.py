"""Load: many concurrent SMTP sessions and slow clients.

500 clients connect at once to an smtpd whose process limit is far lower:
each one completes its transaction (and the message is delivered) or gets
master's busy reply as its greeting; none waits without an answer, master
and qmgr keep their pids and serve the next session, and the refusals
master logs add up to the 421 greetings the clients saw. With the test
service (tests/service/test-echo) at its process limit, master's busy
reply comes only to a client that waited in the listen queue while every
process was busy, and a waiting client is served once a process is free.
Slow clients that send one byte a second from 127.0.0.2 are held to the
per-client connection limit and cut off by smtpd_timeout in the middle of
their command line, while clients from 127.0.0.1 go on being served.
"""
import asyncio
import os
import re
import resource
import socket

import pytest

from conftest import run
from instance import wait_for

DOMAIN = "example.test"
DEMO = f"demo@{DOMAIN}"
BUSY_REPLY = "421 4.3.2 $myhostname Error: all server processes busy"
BUSY_GREETING = b"421 4.3.2 mail.example.test Error: all server processes busy"
CLIENTS = 500
CLIENT_TIMEOUT = 30     # seconds a load client waits for any one answer
LOAD_DEADLINE = 40      # seconds for all of them together


@pytest.fixture(autouse=True)
def no_sanitizer_reports(request):
    """After each test, stops the instance and checks that no process
    reported memory errors, undefined behaviour or leaks."""
    insts = [request.getfixturevalue(name) for name in ("mta", "instance")
             if name in request.fixturenames]
    yield
    for inst in insts:
        inst.stop()
        found = re.search(r"^.*(Sanitizer|runtime error:).*$", inst.log,
                          re.M)
        assert not found, found.group(0)


@pytest.fixture(autouse=True)
def enough_descriptors():
    """500 client sockets at once need more than the usual 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096) if hard != resource.RLIM_INFINITY else 4096
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---------------------------------------------------------------- helpers

def conf(inst, **params):
    for name, value in params.items():
        r = run("postern-conf", "-c", inst.dir, "-e", f"{name}={value}")
        assert r.returncode == 0, r.stderr


def set_smtpd(inst, maxproc, overrides=()):
    """Gives the smtpd service on port 25 a process limit and "-o"
    overrides (each "name = value", spaces allowed), after those it has."""
    path = inst.dir / "master.cf"
    text = path.read_text()
    name = re.escape(f"127.0.0.1:{inst.port(25)}")
    extra = "".join(f"\n  -o {{ {o} }}" for o in overrides)
    text, n = re.subn(
        rf"^({name}\s+inet\s+\S+\s+\S+\s+\S+\s+\S+\s+)\S+(\s+smtpd"
        r"(?:\n[ \t]+\S.*)*)$",
        rf"\g<1>{maxproc}\g<2>{extra}", text, flags=re.M)
    assert n == 1, text
    path.write_text(text)


def start(inst):
    pid = inst.start()

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", inst.port(25)),
                                          timeout=5) as s:
                return s.recv(512).startswith(b"220 ")
        except OSError:
            return False
    wait_for(answers, what="smtpd greeting")
    return pid


def demo_new(inst):
    return inst.dir / "mail" / DOMAIN / "demo" / "new"


def delivered(inst):
    new = demo_new(inst)
    return len(os.listdir(new)) if new.is_dir() else 0


def single_pid(inst, service):
    pids = inst.children(service)
    assert len(pids) == 1, (service, pids)
    return pids[0]


async def read_reply(reader, timeout):
    """The last line of the next reply, or b"" at the end of input."""
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line or line[3:4] != b"-":
            return line.rstrip(b"\r\n")


async def transaction(port, number, source="127.0.0.1"):
    """One client: greeting, EHLO, MAIL, RCPT, DATA, QUIT. Returns
    ("sent", reply), ("refused", greeting) or ("failed", what happened)."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", port, local_addr=(source, 0)), CLIENT_TIMEOUT)
        greeting = await read_reply(reader, CLIENT_TIMEOUT)
        if not greeting.startswith(b"220 "):
            if greeting.startswith(b"421 ") and \
                    await reader.read(1) == b"":
                return "refused", greeting
            return "failed", greeting
        steps = ((f"EHLO client{number}.example", b"250"),
                 ("MAIL FROM:<load@example.org>", b"250"),
                 (f"RCPT TO:<{DEMO}>", b"250"),
                 ("DATA", b"354"))
        for command, code in steps:
            writer.write(command.encode() + b"\r\n")
            reply = await read_reply(reader, CLIENT_TIMEOUT)
            if not reply.startswith(code):
                return "failed", (command, reply)
        writer.write(b"Subject: load %d\r\n\r\nmessage %d\r\n.\r\n"
                     % (number, number))
        reply = await read_reply(reader, CLIENT_TIMEOUT)
        if not reply.startswith(b"250 "):
            return "failed", ("end of data", reply)
        writer.write(b"QUIT\r\n")
        await read_reply(reader, CLIENT_TIMEOUT)
        return "sent", reply
    except asyncio.TimeoutError:
        return "failed", "no answer"
    except OSError as e:
        return "failed", repr(e)
    finally:
        if writer is not None:
            writer.close()


async def many(port, count):
    return await asyncio.wait_for(
        asyncio.gather(*(transaction(port, i) for i in range(count))),
        LOAD_DEADLINE)


def refusals_logged(inst):
    """The refusals master logged for the smtpd service, in all."""
    name = re.escape(f"127.0.0.1:{inst.port(25)}")
    return sum(int(n) for n in re.findall(
        rf"postern/master\[\d+\]: warning: service {name}: (\d+) "
        rf"connections? refused: all \d+ processes busy", inst.log))


# ---------------------------------------------------------------- load

@pytest.mark.parametrize("maxproc", [20, 5])
def test_500_concurrent_sessions_are_served_or_refused(mta, maxproc):
    conf(mta, smtpd_timeout="30s")
    set_smtpd(mta, maxproc, [f"service_busy_reply = {BUSY_REPLY}",
                             "service_busy_delay = 1s"])
    master_pid = start(mta)
    qmgr_pid = single_pid(mta, "qmgr")

    results = asyncio.run(many(mta.port(25), CLIENTS))

    failed = [r for r in results if r[0] == "failed"]
    assert failed == [], f"{len(failed)} clients, e.g. {failed[:5]}"
    sent = [r for r in results if r[0] == "sent"]
    refused = [r for r in results if r[0] == "refused"]
    assert len(sent) + len(refused) == CLIENTS
    assert all(g == BUSY_GREETING for _, g in refused), refused[:3]
    assert sent, "nothing was served"
    # Every message acknowledged is delivered, and nothing else.
    wait_for(lambda: delivered(mta) >= len(sent), timeout=40,
             what=f"{len(sent)} deliveries")
    assert delivered(mta) == len(sent)
    # master and qmgr lived through it and still serve.
    assert mta.master_pid() == master_pid
    assert single_pid(mta, "qmgr") == qmgr_pid
    assert asyncio.run(transaction(mta.port(25), CLIENTS))[0] == "sent"
    wait_for(lambda: delivered(mta) == len(sent) + 1,
             what="the last delivery")
    r = mta.postern("status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"running (pid {master_pid})" in r.stdout + r.stderr
    # What master refused, it counted: the warnings add up (the last
    # count is logged when master stops).
    mta.stop()
    assert refusals_logged(mta) == len(refused)
    assert "fatal:" not in mta.log
    if refused:
        assert re.search(r"warning: service 127\.0\.0\.1:\d+: process "
                         rf"limit {maxproc} reached: clients wait", mta.log)


# ---------------------------------------------------------------- master

def echo_busy(instance, maxproc, delay, reply="busy, come back later"):
    instance.echo_service(maxproc=maxproc, extra=(
        f"-o {{ service_busy_reply = {reply} }} "
        f"-o service_busy_delay={delay}"))
    return f"127.0.0.1:{instance.port(200)}"


def test_busy_reply_only_after_waiting_at_the_limit(instance):
    name = echo_busy(instance, maxproc=1, delay="1s")
    instance.start()
    s1, f1, greeting = instance.connect()
    assert greeting.startswith(b"hello ")
    # The only process is busy: the next client waits, then is refused
    # with the reply and the end of the connection, nothing else.
    s2 = socket.create_connection(("127.0.0.1", instance.port(200)),
                                  timeout=20)
    data = b""
    while True:
        chunk = s2.recv(100)
        if not chunk:
            break
        data += chunk
    assert data == b"busy, come back later\r\n"
    s2.close()
    wait_for(lambda: re.search(
        rf"master\[\d+\]: warning: service {re.escape(name)}: 1 "
        r"connection refused: all 1 processes busy; raise the process "
        r"limit in master\.cf", instance.log), what="the refusal warning")
    assert re.search(rf"warning: service {re.escape(name)}: process limit "
                     r"1 reached: clients wait in the listen queue",
                     instance.log)
    # The busy process was not disturbed.
    assert instance.ask(f1, "still here") == "still here"
    f1.write(b"quit\r\n")
    s1.close()
    # Free again: the next client is served.
    s3, _, greeting = instance.connect()
    assert greeting.startswith(b"hello ")
    s3.close()


def waits_then_served(instance, meanwhile=lambda: None):
    """With the one process busy, a second client waits in the listen
    queue (meanwhile runs), and the process takes it once it frees up."""
    s1, f1, _ = instance.connect()
    s2 = socket.create_connection(("127.0.0.1", instance.port(200)),
                                  timeout=20)
    meanwhile()
    s2.settimeout(2)
    with pytest.raises(socket.timeout):
        s2.recv(100)
    f1.write(b"quit\r\n")
    s1.close()
    s2.settimeout(20)
    assert s2.recv(100).startswith(b"hello ")
    s2.close()


def test_waiting_client_is_served_when_a_process_frees(instance):
    echo_busy(instance, maxproc=1, delay="60s")
    instance.start()
    waits_then_served(instance)
    assert "refused" not in instance.log


def test_no_refusal_while_a_process_is_idle(instance):
    name = echo_busy(instance, maxproc=3, delay="1s")
    instance.start()
    held = [instance.connect() for _ in range(2)]
    # While one process is free every client gets it, one after another.
    for _ in range(5):
        s, f, greeting = instance.connect()
        assert greeting.startswith(b"hello ")
        assert instance.ask(f, "quit") == "bye"
        s.close()
    for s, f, _ in held:
        assert instance.ask(f, "ping") == "ping"
        s.close()
    assert f"service {name}: " not in instance.log


def test_without_busy_reply_clients_wait_and_the_limit_is_logged(instance):
    instance.echo_service(maxproc=1)
    name = f"127.0.0.1:{instance.port(200)}"
    instance.start()
    waits_then_served(instance, lambda: wait_for(lambda: re.search(
        rf"warning: service {re.escape(name)}: process limit 1 reached: "
        r"clients wait in the listen queue; consider raising the process "
        r"limit in master\.cf", instance.log), what="the limit warning"))
    assert "refused" not in instance.log


def test_reload_takes_a_busy_reply_from_main_cf(instance):
    instance.echo_service(maxproc=1)
    instance.start()
    conf(instance, service_busy_reply="busy since the reload",
         service_busy_delay="1s")
    r = instance.postern("reload")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "reload -- version" in instance.log, what="reload")
    s1, f1, greeting = instance.connect()
    assert greeting.startswith(b"hello ")
    s2 = socket.create_connection(("127.0.0.1", instance.port(200)),
                                  timeout=20)
    assert s2.recv(100) == b"busy since the reload\r\n"
    assert s2.recv(100) == b""
    s2.close()
    assert instance.ask(f1, "quit") == "bye"
    s1.close()


def test_bad_busy_override_stops_master_with_a_reason(instance):
    instance.echo_service(extra="-o service_busy_delay=$mail_name")
    r = instance.postern("start")
    assert r.returncode != 0
    assert re.search(r"service 127\.0\.0\.1:\d+ \(inet\): .*"
                     r"service_busy_delay", r.stderr), r.stderr


# ---------------------------------------------------------------- slow

SLOW_SOURCE = "127.0.0.2"
SLOW_COMMAND = b"EHLO a-slow-client-that-sends-one-byte-a-second.example\r\n"


async def slow_client(port):
    """Connects from SLOW_SOURCE and sends SLOW_COMMAND one byte a second.
    Returns (greeting, bytes sent, what ended it)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(
        "127.0.0.1", port, local_addr=(SLOW_SOURCE, 0)), 20)
    try:
        greeting = await read_reply(reader, 20)
        if not greeting.startswith(b"220 "):
            return greeting, 0, await reader.read(100)
        for sent in range(len(SLOW_COMMAND)):
            try:
                writer.write(SLOW_COMMAND[sent:sent + 1])
                await writer.drain()
                end = await asyncio.wait_for(reader.readline(), 1)
                return greeting, sent + 1, end
            except asyncio.TimeoutError:
                continue
            except OSError as e:
                return greeting, sent + 1, repr(e)
        return greeting, len(SLOW_COMMAND), b"whole line sent"
    finally:
        writer.close()


def test_slow_clients_are_cut_off_and_others_served(mta):
    conf(mta, smtpd_timeout="4s", smtpd_client_connection_count_limit="2",
         smtpd_client_event_limit_exceptions="127.0.0.1/32")
    set_smtpd(mta, 4)
    master_pid = start(mta)
    port = mta.port(25)

    async def scenario():
        slow = [asyncio.ensure_future(slow_client(port)) for _ in range(6)]
        # Normal clients while the slow ones hold their connections.
        await asyncio.sleep(0.5)
        normal = []
        for i in range(10):
            normal.append(await transaction(port, i))
            normal_done_while_slow_open.append(
                not all(t.done() for t in slow))
        return await asyncio.gather(*slow), normal

    normal_done_while_slow_open = []
    slow, normal = asyncio.run(asyncio.wait_for(scenario(), 60))

    greeted = [r for r in slow if r[0].startswith(b"220 ")]
    limited = [r for r in slow if not r[0].startswith(b"220 ")]
    # The per-client limit: two sessions at a time from 127.0.0.2.
    assert len(greeted) == 2, slow
    for greeting, _, end in limited:
        assert greeting == (b"421 4.7.0 mail.example.test Error: too many "
                            b"connections from 127.0.0.2"), greeting
        assert end == b""
    # smtpd_timeout covers the whole command line: each slow client is
    # cut off long before its line is complete, with a 421.
    for _, sent, end in greeted:
        assert sent < len(SLOW_COMMAND) // 2, (sent, end)
        assert end.startswith(b"421 4.4.2 mail.example.test Error: "
                              b"timeout exceeded"), end
    # Clients from 127.0.0.1 were served all along.
    assert [r[0] for r in normal] == ["sent"] * 10, normal
    assert normal_done_while_slow_open[0], "no session served meanwhile"
    wait_for(lambda: delivered(mta) == 10, what="10 deliveries")
    assert re.search(r"smtpd\[\d+\]: timeout after CONNECT from "
                     r"\S+\[127\.0\.0\.2\]", mta.log)
    # master is untouched.
    assert mta.master_pid() == master_pid
    r = mta.postern("status")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"running (pid {master_pid})" in r.stdout + r.stderr
