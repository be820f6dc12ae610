"""postern-conf: listing, -n/-d/-h/-x, -e/-X editing in place, -M, MAIL_CONFIG,
exit codes, and the generated manual pages agreeing with params.def."""
import os
import re
import shutil
import stat
import subprocess

from conftest import BUILDDIR, SRCDIR, run, tool_path

EX_USAGE, EX_DATAERR, EX_IOERR, EX_CONFIG = 64, 65, 74, 78


def param_names():
    """The parameter names, as params.def declares them."""
    text = (SRCDIR / "lib" / "mail" / "params.def").read_text()
    names = re.findall(r"^PARAM\(\w+, (\w+),", text, re.M)
    assert len(names) >= 50
    return names


def conf(confdir, *args, **kw):
    return run("postern-conf", "-c", confdir, *args, **kw)


def parse_listing(out):
    """{name: value} from "name = value" lines, checking their form."""
    result = {}
    for line in out.splitlines():
        m = re.fullmatch(r"(\w+) =(?: (.*))?", line)
        assert m, f"bad output line {line!r}"
        result[m.group(1)] = m.group(2) or ""
    return result


def test_defaults_list_every_parameter_and_the_man_pages_do_too(confdir):
    names = param_names()
    r = conf(confdir, "-d")
    assert r.returncode == 0, r.stderr
    listed = [line.split(" =")[0] for line in r.stdout.splitlines()]
    assert listed == sorted(names)
    page5 = (BUILDDIR / "man" / "postern.conf.5").read_text()
    page1 = (BUILDDIR / "man" / "postern-conf.1").read_text()
    assert "@PARAMETERS@" not in page5
    assert "@PARAMETER_NAMES@" not in page1
    for name in names:
        assert f"\n.B {name}\n" in page5, name
        assert re.search(rf"^\.BR? {name}( ,)?$", page1, re.M), name


def test_defaults_ignore_main_cf(confdir):
    (confdir / "main.cf").write_text("this is not a setting\n")
    r = conf(confdir, "-d", "message_size_limit", "smtpd_banner",
             "maximal_queue_lifetime", "relayhost")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("message_size_limit = 10240000\n"
                        "smtpd_banner = $myhostname ESMTP $mail_name\n"
                        "maximal_queue_lifetime = 5d\n"
                        "relayhost =\n")


def test_listing_shows_effective_raw_values(confdir):
    (confdir / "main.cf").write_text(
        "# site\nmyhostname = mail.example.org\nmyorigin = $mydomain\n")
    r = conf(confdir)
    assert r.returncode == 0, r.stderr
    values = parse_listing(r.stdout)
    assert sorted(values) == sorted(param_names())
    assert values["myhostname"] == "mail.example.org"
    assert values["myorigin"] == "$mydomain"
    assert values["mydomain"] == "example.org"
    assert values["config_directory"] == str(confdir)
    assert values["smtpd_timeout"] == "300s"


def test_n_shows_only_what_main_cf_sets(confdir):
    (confdir / "main.cf").write_text(
        "# comment\nrelayhost = [smtp.example.net]:587\n\n"
        "mynetworks = 127.0.0.0/8,\n    192.0.2.0/24\n")
    r = conf(confdir, "-n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("mynetworks = 127.0.0.0/8, 192.0.2.0/24\n"
                        "relayhost = [smtp.example.net]:587\n")
    r = conf(confdir, "-n", "relayhost", "myhostname")
    assert r.stdout == "relayhost = [smtp.example.net]:587\n"


def test_h_and_names_in_the_order_given(confdir):
    (confdir / "main.cf").write_text("myhostname = a.example\n")
    r = conf(confdir, "-h", "smtpd_timeout", "myhostname", "relayhost")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "300s\na.example\n\n"


def test_x_expands(confdir):
    (confdir / "main.cf").write_text(
        "myhostname = mx.example.com\nextra = , $mydomain\n"
        "mydestination = $myhostname, localhost${extra}\n"
        "smtpd_banner = ${relayhost?relayed}${relayhost:direct} $$ok\n")
    r = conf(confdir, "-x", "mydestination", "smtpd_banner", "myorigin",
             "extra")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("mydestination = mx.example.com, localhost, "
                        "example.com\n"
                        "smtpd_banner = direct $ok\n"
                        "myorigin = mx.example.com\n"
                        "extra = , example.com\n")
    r = conf(confdir, "-dx", "smtpd_banner")
    assert re.fullmatch(r"smtpd_banner = \S+\.\S+ ESMTP Postern\n", r.stdout)


def test_expansion_loop_is_an_error_naming_file_and_line(confdir):
    (confdir / "main.cf").write_text("myorigin = $a\na = $b\nb = $a\n")
    r = conf(confdir, "-x", "myorigin")
    assert r.returncode == EX_CONFIG
    assert f"{confdir}/main.cf, line 3: parameter b: expansion loop: " \
        "$a -> $b -> $a" in r.stderr
    r = conf(confdir, "-n")
    assert r.returncode == EX_CONFIG
    assert "expansion loop" in r.stderr


def test_e_keeps_comments_order_continuations_and_mode(confdir):
    main_cf = confdir / "main.cf"
    main_cf.write_text(
        "# Site settings\n"
        "myhostname = old.example\n"
        "\n"
        "# networks\n"
        "mynetworks = 127.0.0.0/8,\n"
        "    10.0.0.0/8\n"
        "relayhost = [a.example]\n")
    os.chmod(main_cf, 0o640)
    r = conf(confdir, "-e", "mynetworks=127.0.0.0/8 [::1]/128",
             "message_size_limit = 50m", "myhostname=new.example")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert main_cf.read_text() == (
        "# Site settings\n"
        "myhostname = new.example\n"
        "\n"
        "# networks\n"
        "mynetworks = 127.0.0.0/8 [::1]/128\n"
        "relayhost = [a.example]\n"
        "message_size_limit = 50m\n")
    assert stat.S_IMODE(main_cf.stat().st_mode) == 0o640
    assert sorted(os.listdir(confdir)) == ["main.cf"]
    r = conf(confdir, "-h", "message_size_limit")
    assert r.stdout == "50m\n"


def test_e_creates_a_missing_main_cf(confdir):
    (confdir / "main.cf").unlink()
    r = conf(confdir, "-e", "relayhost=[smtp.example.net]:587")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == \
        "relayhost = [smtp.example.net]:587\n"


def check_refused(confdir, args, code, reason):
    main_cf = confdir / "main.cf"
    before = main_cf.read_bytes()
    ino = main_cf.stat().st_ino
    r = conf(confdir, *args)
    assert r.returncode == code, (r.returncode, r.stderr)
    assert reason in r.stderr
    assert "main.cf not changed" in r.stderr or code == EX_USAGE
    assert main_cf.read_bytes() == before
    assert main_cf.stat().st_ino == ino
    assert sorted(os.listdir(confdir)) == ["main.cf"]


def test_e_refuses_bad_values_leaving_the_file_byte_identical(confdir):
    (confdir / "main.cf").write_text(
        "# keep me\r\nmessage_size_limit = 1000\nsize = 12q\n")
    check_refused(confdir, ["-e", "relayhost=x", "message_size_limit=lots"],
                  EX_DATAERR, 'parameter message_size_limit: bad size value '
                  '"lots"')
    check_refused(confdir, ["-e", "smtpd_timeout=9999999999w"], EX_DATAERR,
                  "bad time value")
    check_refused(confdir, ["-e", "smtpd_helo_required=maybe"], EX_DATAERR,
                  "bad boolean value")
    check_refused(confdir, ["-e", "alias_maps=/etc/aliases"], EX_DATAERR,
                  "expected lookup tables type:name")
    check_refused(confdir, ["-e", "message_size_limit=$size"], EX_DATAERR,
                  'bad size value "12q"')
    check_refused(confdir, ["-e", "myorigin=$myorigin"], EX_DATAERR,
                  "expansion loop")
    check_refused(confdir, ["-e", "relayhost=a\nmyhostname = evil"],
                  EX_DATAERR, "control character")
    check_refused(confdir, ["-e", "no_such_parameter=1"], EX_CONFIG,
                  "unknown parameter no_such_parameter")
    check_refused(confdir, ["-e", "relayhost"], EX_USAGE,
                  'expected name=value')


def test_e_accepts_a_macro_that_another_setting_uses(confdir):
    r = conf(confdir, "-e", "lan=192.0.2.0/24",
             "mynetworks=127.0.0.0/8 $lan")
    assert r.returncode == 0, r.stderr
    r = conf(confdir, "-x", "mynetworks")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "mynetworks = 127.0.0.0/8 192.0.2.0/24\n"


def test_X_removes_settings_and_their_continuation_lines(confdir):
    main_cf = confdir / "main.cf"
    main_cf.write_text("# c\nrelayhost = x\nmynetworks = a,\n  b\n"
                       "junk_name = 1\n# end\n")
    r = conf(confdir, "-X", "mynetworks", "junk_name", "myhostname")
    assert r.returncode == 0, r.stderr
    assert main_cf.read_text() == "# c\nrelayhost = x\n# end\n"
    r = conf(confdir, "mynetworks")
    assert r.stdout == "mynetworks = 127.0.0.0/8 [::1]/128\n"


def test_unknown_parameter_in_main_cf_warns_with_file_and_line(confdir):
    (confdir / "main.cf").write_text(
        "relayhost = x\n\n# typo below\nrelay_host = y\nused = 1\n"
        "myorigin = $used\n")
    r = conf(confdir, "-n")
    assert r.returncode == EX_CONFIG
    assert f"warning: {confdir}/main.cf, line 4: unknown parameter " \
        "relay_host" in r.stderr
    assert "used" not in r.stderr
    assert "relayhost = x\n" in r.stdout
    r = conf(confdir)
    assert r.returncode == EX_CONFIG
    values = parse_listing(r.stdout)
    assert values["used"] == "1"
    assert "relay_host" not in values
    assert len(values) == len(param_names()) + 1


def test_a_macro_used_only_by_master_cf_is_not_unknown(confdir):
    (confdir / "main.cf").write_text("mua_restrictions = permit\n"
                                     "unused = 1\n")
    (confdir / "master.cf").write_text(
        "submission inet n - n - - smtpd\n"
        "  -o smtpd_client_restrictions=$mua_restrictions\n")
    r = conf(confdir, "-n")
    assert r.returncode == EX_CONFIG
    assert "line 2: unknown parameter unused" in r.stderr
    assert "mua_restrictions" not in r.stderr
    (confdir / "main.cf").write_text("mua_restrictions = permit\n")
    r = conf(confdir, "-n")
    assert (r.returncode, r.stderr) == (0, "")


def test_unknown_parameter_on_the_command_line(confdir):
    r = conf(confdir, "relayhost", "no_such_parameter")
    assert r.returncode == EX_CONFIG
    assert "no_such_parameter: unknown parameter" in r.stderr
    assert r.stdout == "relayhost =\n"


def test_main_cf_errors_name_file_and_line(confdir):
    cases = [
        ("relayhost = x\n# c\n\nnot a setting\n",
         "main.cf, line 4: missing '='"),
        ("bad-name = 1\n", "main.cf, line 1: bad parameter name"),
        ("relayhost = a,\n  b\nsmtpd_timeout = soon\n",
         'main.cf, line 3: parameter smtpd_timeout: bad time value "soon"'),
        ("myhostname = ${x\n",
         "main.cf, line 1: parameter myhostname: missing '}'"),
        ("relayhost = a\0b\n", "main.cf, line 1: NUL byte"),
    ]
    for text, reason in cases:
        (confdir / "main.cf").write_text(text)
        r = conf(confdir)
        assert r.returncode == EX_CONFIG, text
        assert f"{confdir}/{reason}" in r.stderr, (text, r.stderr)


def test_sample_configuration_is_clean(tmp_path):
    d = tmp_path / "etc"
    shutil.copytree(SRCDIR / "conf", d, ignore=shutil.ignore_patterns(
        "Makefile*"))
    r = conf(d, "-n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    # The sample master.cf lists only the services whose daemons exist.
    r = conf(d, "-M")
    assert (r.returncode, r.stderr) == (0, "")
    daemons = {p.name for sub in ("master", "smtpd", "queue", "local",
                                  "anvil", "smtp")
               for p in (BUILDDIR / sub).glob("*")}
    for line in r.stdout.splitlines():
        assert line.split()[7] in daemons, line
    # Uncommenting every example in the sample main.cf gives valid values.
    text = (d / "main.cf").read_text()
    (d / "main.cf").write_text(re.sub(r"^#(\w+ = )", r"\1", text, flags=re.M))
    r = conf(d, "-n")
    assert r.returncode == 0, r.stderr
    assert "message_size_limit = 50m" in r.stdout


MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command
smtp      inet  n       -       n       -       -       smtpd
  -o smtpd_tls_security_level=may
smtp      unix  -       -       n       -       -       smtp
qmgr      unix  n       -       n       300     1       qmgr
[::1]:2525 inet n       -       n       -       4       smtpd
"""


def test_M_prints_services_in_normalised_columns(confdir):
    (confdir / "master.cf").write_text(MASTER_CF)
    r = conf(confdir, "-M")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "smtp       inet  n       -       n       -       -       smtpd "
        "-o smtpd_tls_security_level=may\n"
        "smtp       unix  -       -       n       -       -       smtp\n"
        "qmgr       unix  n       -       n       300     1       qmgr\n"
        "[::1]:2525 inet  n       -       n       -       4       smtpd\n")
    r = conf(confdir, "-M", "smtp")
    assert [line.split()[1] for line in r.stdout.splitlines()] == \
        ["inet", "unix"]
    r = conf(confdir, "-M", "smtp/unix", "qmgr")
    assert [line.split()[0] for line in r.stdout.splitlines()] == \
        ["smtp", "qmgr"]
    r = conf(confdir, "-M", "nosuch")
    assert r.returncode == EX_CONFIG
    assert "nosuch: no such service" in r.stderr
    r = conf(confdir, "-M", "smtp/tcp")
    assert r.returncode == EX_USAGE


def test_M_errors_name_file_line_and_field(confdir):
    cases = [
        ("smtp inet n - n - many smtpd\n", "line 1: field maxproc"),
        ("# c\nsmtp inet n - n - - smtpd\n  -o nosuch=1\n",
         "line 2: field command: -o nosuch: unknown parameter"),
        ("smtp inet n - n - - smtpd\nsmtp inet n - n - - smtpd\n",
         "line 2: field service: service \"smtp\" of type inet already "
         "defined at line 1"),
        ("smtp tcp n - n - - smtpd\n", "line 1: field type"),
    ]
    for text, reason in cases:
        (confdir / "master.cf").write_text(text)
        r = conf(confdir, "-M")
        assert r.returncode == EX_CONFIG, text
        assert f"{confdir}/master.cf, {reason}" in r.stderr, r.stderr
    (confdir / "master.cf").unlink()
    r = conf(confdir, "-M")
    assert r.returncode == EX_CONFIG
    assert "master.cf" in r.stderr


def test_M_uses_default_process_limit(confdir):
    (confdir / "main.cf").write_text("default_process_limit = many\n")
    (confdir / "master.cf").write_text(MASTER_CF)
    r = conf(confdir, "-M")
    assert r.returncode == EX_CONFIG
    assert "line 1: parameter default_process_limit: bad integer" in r.stderr


def test_MAIL_CONFIG_selects_the_directory(confdir, tmp_path):
    (confdir / "main.cf").write_text("relayhost = from-env\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text("relayhost = from-option\n")
    r = run("postern-conf", "-h", "relayhost", "config_directory",
            env={"MAIL_CONFIG": str(confdir)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"from-env\n{confdir}\n"
    r = run("postern-conf", "-c", other, "-h", "relayhost",
            env={"MAIL_CONFIG": str(confdir)})
    assert r.stdout == "from-option\n"
    r = run("postern-conf", "-e", "relayhost=edited",
            env={"MAIL_CONFIG": str(confdir)})
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == "relayhost = edited\n"


def test_usage_errors(confdir):
    for args in (["-n", "-d"], ["-e", "-M"], ["-q"], ["-e"], ["-X"],
                 ["-x", "-e", "a=b"]):
        r = conf(confdir, *args)
        assert r.returncode == EX_USAGE, args
        assert "usage:" in r.stderr or "name=value" in r.stderr


def test_stdout_write_error(confdir):
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(tool_path("postern-conf")), "-c",
                            str(confdir)], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == EX_IOERR
    assert "write standard output" in r.stderr
