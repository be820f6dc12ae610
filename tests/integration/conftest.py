"""Shared fixtures for Postern's integration tests.

The tests run the programs of a configured build tree (POSTERN_BUILDDIR,
set by tests/run-all) against files in a per-test temporary directory.
"""
import os
import pathlib
import subprocess

import pytest

BUILDDIR = pathlib.Path(os.environ.get("POSTERN_BUILDDIR", "../../build"))
SRCDIR = pathlib.Path(os.environ.get("POSTERN_SRCDIR", "../..")).resolve()


def tool_path(name):
    """Path of a built program, by its installed name (e.g. postern-map)."""
    for sub in ("tools", "master", "smtpd", "queue", "local", "anvil",
                "smtp", "tests/service"):
        p = BUILDDIR / sub / name
        if p.exists():
            return p
    raise FileNotFoundError(f"{name} is not built under {BUILDDIR}")


def run(name, *args, input=None, env=None, timeout=60):
    """Runs a built program; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop("MAIL_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([str(tool_path(name)), *map(str, args)],
                          input=input, capture_output=True, text=True,
                          env=full_env, timeout=timeout)


@pytest.fixture
def confdir(tmp_path):
    """An empty configuration directory with an empty main.cf."""
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_text("")
    return d


@pytest.fixture
def instance():
    """A created but not started Postern instance; stopped afterwards."""
    from instance import Instance, make_root, remove_root
    root = make_root()
    inst = Instance(root)
    try:
        yield inst
    finally:
        inst.stop()
        remove_root(root)


@pytest.fixture
def mta():
    """A created but not started instance with the mail daemons
    (instance.MAIL_DAEMONS) in its master.cf; stopped afterwards."""
    from instance import MAIL_DAEMONS, Instance, make_root, remove_root
    root = make_root()
    inst = Instance(root, daemons=MAIL_DAEMONS)
    try:
        yield inst
    finally:
        inst.stop()
        remove_root(root)
