"""postern-map: building db:, btree: and cdb: tables from one source and
querying them exactly as texthash: reads the source; dumps, queries from
stdin, several tables in order, and the exit status of every failure."""
import os
import subprocess

import pytest

from conftest import run, tool_path

# Mixed-case keys, duplicates (lines 3 and 9 once folded), comments, an
# indented comment, continuation lines and a blank line.
SOURCE = """\
# virtual aliases for the test
Alice      alice@example.org
alice      second@example.org
BOB        bob@example.org,
           robert@example.org
  # an indented comment
MiXeD.Domain   relay:[mx.example.net]:25
carol      carol@example.org
Carol      carol2@example.org

postmaster root
"""

SOURCE_KEYS = ["Alice", "alice", "BOB", "MiXeD.Domain", "carol", "Carol",
               "postmaster"]
OTHER_KEYS = ["ALICE", "bob", "Bob", "mixed.domain", "MIXED.DOMAIN",
              "CAROL", "POSTMASTER", "nobody", "", "alice@example.org",
              "robert@example.org", "#", "ali", "alice ", " alice",
              "bob@example.org,"]

# What -s prints for the folded build (in some order).
FOLDED = {
    "alice": "alice@example.org",
    "bob": "bob@example.org, robert@example.org",
    "mixed.domain": "relay:[mx.example.net]:25",
    "carol": "carol@example.org",
    "postmaster": "root",
}

BUILT_TYPES = ["db", "btree", "cdb"]
SUFFIX = {"db": ".db", "btree": ".db", "cdb": ".cdb"}

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_IOERR = 64, 65, 66, 74


def source(tmp_path, text=SOURCE, name="src"):
    """Writes text as tmp_path/name and returns its path."""
    path = tmp_path / name
    path.write_text(text)
    return path


def build(typ, path, *opts):
    """Builds typ:path; fails the test unless it exits 0."""
    r = run("postern-map", *opts, f"{typ}:{path}")
    assert r.returncode == 0, r.stderr
    return r


def listing(stdout):
    """-s output as a dict, checking each line is key<TAB>value."""
    entries = {}
    for line in stdout.splitlines():
        key, tab, value = line.partition("\t")
        assert tab == "\t", line
        assert key not in entries, f"{key} listed twice"
        entries[key] = value
    return entries


FOLDS = [[], ["-f"]]


@pytest.fixture(scope="module")
def texthash_answers(tmp_path_factory):
    """(fold option, key) -> (exit status, stdout) of -q on texthash:."""
    src = source(tmp_path_factory.mktemp("texthash"))
    answers = {}
    for fold in FOLDS:
        for key in SOURCE_KEYS + OTHER_KEYS:
            r = run("postern-map", *fold, "-q", key, f"texthash:{src}")
            answers[tuple(fold), key] = (r.returncode, r.stdout)
    return answers


@pytest.mark.parametrize("typ", BUILT_TYPES)
@pytest.mark.parametrize("fold", FOLDS, ids=["folded", "case-kept"])
def test_queries_match_texthash(tmp_path, texthash_answers, typ, fold):
    src = source(tmp_path)
    r = build(typ, src, *fold)
    # The builder names each duplicate by file and line.
    warnings = r.stderr.splitlines()
    if fold:
        assert warnings == []
    else:
        assert len(warnings) == 2, r.stderr
        assert warnings[0].startswith(
            f'postern-map: warning: {src}, line 3: duplicate entry: "alice"')
        assert warnings[1].startswith(
            f'postern-map: warning: {src}, line 9: duplicate entry: "carol"')
    assert (tmp_path / ("src" + SUFFIX[typ])).exists()

    found = 0
    for key in SOURCE_KEYS + OTHER_KEYS:
        want = texthash_answers[tuple(fold), key]
        got = run("postern-map", *fold, "-q", key, f"{typ}:{src}")
        assert (got.returncode, got.stdout) == want, \
            f"key {key!r}: {typ} gave {got!r}, texthash {want!r}"
        assert got.stderr == ""
        assert got.returncode in (0, 1)
        found += got.returncode == 0
    # The comparison means something only if both outcomes occurred.
    assert 0 < found < len(SOURCE_KEYS + OTHER_KEYS)


def test_first_entry_wins(tmp_path):
    src = source(tmp_path)
    for typ in BUILT_TYPES:
        d = tmp_path / typ
        d.mkdir()
        s = source(d)
        build(typ, s)
        r = run("postern-map", "-q", "ALICE", f"{typ}:{s}")
        assert (r.returncode, r.stdout) == (0, "alice@example.org\n")
        r = run("postern-map", "-q", "bob", f"{typ}:{s}")
        assert r.stdout == FOLDED["bob"] + "\n"
    r = run("postern-map", "-q", "carol", f"texthash:{src}")
    assert r.stdout == "carol@example.org\n"


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_dump(tmp_path, typ):
    src = source(tmp_path)
    build(typ, src)
    r = run("postern-map", "-s", f"{typ}:{src}")
    assert r.returncode == 0, r.stderr
    assert listing(r.stdout) == FOLDED
    want = run("postern-map", "-s", f"texthash:{src}")
    assert listing(want.stdout) == FOLDED


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_dump_case_kept(tmp_path, typ):
    src = source(tmp_path)
    build(typ, src, "-f")
    r = run("postern-map", "-f", "-s", f"{typ}:{src}")
    assert r.returncode == 0, r.stderr
    entries = listing(r.stdout)
    assert set(entries) == set(SOURCE_KEYS)
    assert entries["alice"] == "second@example.org"
    assert entries["Carol"] == "carol2@example.org"


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_query_stdin(tmp_path, typ):
    src = source(tmp_path)
    build(typ, src)
    keys = "Alice\nnobody\n\nBOB\nmixed.domain\r\nalice@example.org\n"
    r = run("postern-map", "-q", "-", f"{typ}:{src}", input=keys)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("Alice\talice@example.org\n"
                        f"BOB\t{FOLDED['bob']}\n"
                        "mixed.domain\trelay:[mx.example.net]:25\n")
    want = run("postern-map", "-q", "-", f"texthash:{src}", input=keys)
    assert (r.returncode, r.stdout) == (want.returncode, want.stdout)

    r = run("postern-map", "-q", "-", f"{typ}:{src}", input="x\ny\n")
    assert (r.returncode, r.stdout) == (1, "")
    r = run("postern-map", "-q", "-", f"{typ}:{src}", input="")
    assert (r.returncode, r.stdout) == (1, "")


def test_query_stdin_bad_keys(tmp_path):
    src = source(tmp_path)
    build("cdb", src)
    r = run("postern-map", "-q", "-", f"cdb:{src}",
            input="alice\nbad\0key\n")
    assert r.returncode == EX_DATAERR
    assert "standard input, line 2" in r.stderr
    r = run("postern-map", "-q", "-", f"cdb:{src}",
            input="alice\n" + "k" * (2 * 1024 * 1024) + "\n")
    assert r.returncode == EX_DATAERR
    assert "standard input, line 2" in r.stderr


def test_several_tables_in_order(tmp_path):
    first = source(tmp_path, "a one\n", "first")
    second = source(tmp_path, "a two\nb bee\n", "second")
    build("cdb", second)
    tables = [f"texthash:{first}", f"cdb:{second}"]
    for key, status, out in [("a", 0, "one\n"), ("b", 0, "bee\n"),
                             ("c", 1, "")]:
        r = run("postern-map", "-q", key, *tables)
        assert (r.returncode, r.stdout) == (status, out), r.stderr
    r = run("postern-map", "-q", "a", *reversed(tables))
    assert r.stdout == "two\n"


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_aliases_form(tmp_path, typ):
    src = source(tmp_path, "Postmaster: root\nabuse: root,\n  admin\n")
    build(typ, src, "-a")
    for key in ["postmaster", "abuse", "ABUSE", "root"]:
        want = run("postern-map", "-a", "-q", key, f"texthash:{src}")
        got = run("postern-map", "-a", "-q", key, f"{typ}:{src}")
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout)
    r = run("postern-map", "-q", "abuse", f"{typ}:{src}")
    assert r.stdout == "root, admin\n"
    # Without -a the colon stays part of the key.
    r = run("postern-map", f"{typ}:{src}")
    assert r.returncode == 0
    r = run("postern-map", "-q", "postmaster:", f"{typ}:{src}")
    assert r.stdout == "root\n"


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_malformed_source_keeps_old_table(tmp_path, typ):
    src = source(tmp_path)
    build(typ, src)
    before = sorted(os.listdir(tmp_path))
    src.write_text("good entry\nanother one\n\nnovalue\n")
    r = run("postern-map", f"{typ}:{src}")
    assert r.returncode == EX_DATAERR
    assert f"{src}, line 4" in r.stderr
    assert sorted(os.listdir(tmp_path)) == before  # no temporary left
    r = run("postern-map", "-q", "alice", f"{typ}:{src}")
    assert (r.returncode, r.stdout) == (0, "alice@example.org\n")
    r = run("postern-map", "-q", "good", f"{typ}:{src}")
    assert r.returncode == 1


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_missing_source(tmp_path, typ):
    r = run("postern-map", f"{typ}:{tmp_path}/nothere")
    assert r.returncode == EX_NOINPUT
    assert f"{tmp_path}/nothere" in r.stderr
    assert os.listdir(tmp_path) == []


def test_stops_at_first_failure(tmp_path):
    good = source(tmp_path, "a b\n", "good")
    r = run("postern-map", f"cdb:{tmp_path}/nothere", f"cdb:{good}")
    assert r.returncode == EX_NOINPUT
    assert not (tmp_path / "good.cdb").exists()
    r = run("postern-map", f"cdb:{good}", f"btree:{good}")
    assert r.returncode == 0
    assert (tmp_path / "good.cdb").exists()
    assert (tmp_path / "good.db").exists()


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_missing_table(tmp_path, typ):
    r = run("postern-map", "-q", "a", f"{typ}:{tmp_path}/nothere")
    assert r.returncode == EX_NOINPUT
    assert f"{tmp_path}/nothere{SUFFIX[typ]}" in r.stderr


@pytest.mark.parametrize("typ", BUILT_TYPES)
def test_corrupt_table(tmp_path, typ):
    src = source(tmp_path)
    build(typ, src)
    table = tmp_path / ("src" + SUFFIX[typ])
    table.write_bytes(bytes((i * 7 + 3) % 256 for i in range(8192)))
    for args in (["-q", "alice"], ["-s"]):
        r = run("postern-map", *args, f"{typ}:{src}")
        assert r.returncode == EX_DATAERR, r
        assert str(table) in r.stderr
        assert r.stdout == ""


def test_unknown_and_unbuildable_types(tmp_path):
    src = source(tmp_path)
    r = run("postern-map", f"nosuch:{src}")
    assert r.returncode == EX_USAGE
    assert "nosuch" in r.stderr
    r = run("postern-map", f"texthash:{src}")
    assert r.returncode == EX_USAGE
    assert "texthash" in r.stderr
    r = run("postern-map", "-q", "a", f"nosuch:{src}")
    assert r.returncode == EX_USAGE
    assert "unknown table type" in r.stderr
    r = run("postern-map", "-s", "static:value")
    assert r.returncode == EX_USAGE
    assert "cannot be listed" in r.stderr


@pytest.mark.parametrize("args", [
    [],
    ["-q"],
    ["-q", "key"],
    ["-s"],
    ["-s", "cdb:a", "cdb:b"],
    ["-s", "-q", "key", "cdb:a"],
    ["-Z", "cdb:a"],
    ["no-colon"],
    ["-q", "key", "no-colon"],
    [":no-type"],
    ["cdb:"],
], ids=lambda a: " ".join(a) or "no arguments")
def test_usage(tmp_path, args):
    r = run("postern-map", *args)
    assert r.returncode == EX_USAGE, r
    assert r.stdout == ""
    assert r.stderr != ""


def test_usage_text():
    r = run("postern-map")
    assert r.stderr.startswith("usage: postern-map")


def test_stdout_write_error(tmp_path):
    src = source(tmp_path)
    build("cdb", src)
    for args in (["-s"], ["-q", "alice"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([str(tool_path("postern-map")), *args,
                                f"cdb:{src}"], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == EX_IOERR
        assert "write standard output" in r.stderr


def test_verbose(tmp_path):
    src = source(tmp_path)
    build("cdb", src)
    r = run("postern-map", "-v", "-q", "alice", f"cdb:{src}")
    assert (r.returncode, r.stdout) == (0, "alice@example.org\n")
    assert "debug:" in r.stderr
    r = run("postern-map", "-q", "alice", f"cdb:{src}")
    assert r.stderr == ""
