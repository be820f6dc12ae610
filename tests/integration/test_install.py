"""make install DESTDIR=...: the installed layout, and that installing
again keeps an admin's configuration."""
import re
import subprocess

from conftest import BUILDDIR


def make_install(destdir):
    r = subprocess.run(["make", "-s", "-C", str(BUILDDIR), "install",
                        f"DESTDIR={destdir}"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def configured(name):
    """A directory as configure substituted it in the build's Makefile."""
    text = (BUILDDIR / "Makefile").read_text()
    value = re.search(rf"^{name} = (.*)$", text, re.M).group(1).strip()
    prefix = re.search(r"^prefix = (.*)$", text, re.M).group(1).strip()
    exec_prefix = re.search(r"^exec_prefix = (.*)$", text,
                            re.M).group(1).strip().replace("${prefix}",
                                                           prefix)
    datarootdir = f"{prefix}/share"
    return (value.replace("${exec_prefix}", exec_prefix)
            .replace("${prefix}", prefix)
            .replace("${datarootdir}", datarootdir))


def test_layout(tmp_path):
    make_install(tmp_path)
    sbin = tmp_path / configured("sbindir").lstrip("/")
    etc = tmp_path / configured("sysconfdir").lstrip("/") / "postern"
    man = tmp_path / configured("mandir").lstrip("/")
    for tool in ("postern-conf", "postern-map"):
        assert (sbin / tool).is_file()
    assert (etc / "main.cf").is_file()
    assert (etc / "master.cf").is_file()
    for page in ("man1/postern-conf.1", "man1/postern-map.1",
                 "man5/postern.conf.5"):
        assert (man / page).is_file(), page
    # The generated page documents a parameter from the table.
    assert "message_size_limit" in (man / "man5/postern.conf.5").read_text()
    # Test programs are never installed.
    assert not list(tmp_path.rglob("test-*"))
    assert not list(tmp_path.rglob("fuzz_*"))


def test_reinstall_keeps_edited_configuration(tmp_path):
    make_install(tmp_path)
    etc = tmp_path / configured("sysconfdir").lstrip("/") / "postern"
    (etc / "main.cf").write_text("myhostname = edited.example\n")
    make_install(tmp_path)
    assert (etc / "main.cf").read_text() == "myhostname = edited.example\n"
    assert (etc / "main.cf.sample").is_file()
    assert "postern-conf" in (etc / "main.cf.sample").read_text()
