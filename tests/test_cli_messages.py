# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""fink-query and fink-emulator messages: command-line words, missing extras, ports and hosts.

The library's messages speak Python (``output_format='json'``, ``get_cutouts``); the command
line says them with its flags and commands, and leaves the English words alone.
"""
import contextlib
import http.server
import json
import sys
import threading

import pytest
import requests
from astropy.time import Time

from astroquery_fink import cli
from astroquery_fink.cli import COMMANDS, _words, main

TDE = "ZTF20abfcszi"
NOBODY = "http://127.0.0.1:9"  # nothing listens: each error must come before any request
EXTRA = "install the emulator extra (pip install 'astroquery_fink[emulator]')"


def words(command: str, survey: str = "ztf"):
    return _words(COMMANDS[command], survey)


# ----------------------------------------------------------------------------- the translation

@pytest.mark.parametrize(("command", "survey", "message", "expected"), [
    # D15: plain English words that are keyword names stay
    ("objects", "ztf", "Column 'magpsf' has no family prefix: write it as 'i:magpsf' or "
     "'d:magpsf'", "Column 'magpsf' has no family prefix: write it as 'i:magpsf' or "
     "'d:magpsf'"),
    ("objects", "ztf", "'v:classification' cannot be selected: the server computes v: columns "
     "only when all columns are requested. Omit `columns` and select them from the result.",
     "'v:classification' cannot be selected: the server computes v: columns only when all "
     "columns are requested. Omit --columns and select them from the result."),
    ("objects", "ztf", "The Fink server cannot write parquet with withupperlim=True: use "
     "output_format='csv' (or leave it to the client: output_format=None)",
     "The Fink server cannot write parquet with --withupperlim: use --output-format csv (or "
     "leave it to the client: without --output-format)"),
    ("objects", "ztf", "cutout_kind is used only with withcutouts=True",
     "--cutout-kind is used only with --withcutouts"),
    # D16: keywords standing alone, by each command's flags
    ("class", "ztf", "n must be a whole number from 1 to 2147483647, not 0",
     "-n must be a whole number from 1 to 2147483647, not 0"),
    ("region", "ztf", "n must be a whole number from 1 to 2147483647, not 0",
     "-n must be a whole number from 1 to 2147483647, not 0"),
    ("tags", "lsst", "n must be a whole number from 1 to 2147483647, not 0",
     "-n must be a whole number from 1 to 2147483647, not 0"),
    ("resolve", "ztf", "nmax must be a whole number from 1 to 2147483647, not 0",
     "--nmax must be a whole number from 1 to 2147483647, not 0"),
    ("ssocand", "ztf", "maxnumber must be a whole number from 1 to 2147483647, not 0",
     "--maxnumber must be a whole number from 1 to 2147483647, not 0"),
    ("region", "ztf", "stopdate 2021-01-01 00:00:00.000 is before startdate 2021-01-02",
     "--stopdate 2021-01-01 00:00:00.000 is before --startdate 2021-01-02"),
    ("region", "ztf", "window needs startdate: the server ignores it otherwise",
     "--window needs --startdate: the server ignores it otherwise"),
    ("region", "ztf", "Give stopdate or window, not both", "Give --stopdate or --window, not both"),
    ("region", "ztf", "radius needs a unit: write radius=5 * u.arcsec",
     "RADIUS needs a unit: write RADIUS 5arcsec"),
    ("class", "ztf", "fetch_all cannot be used with trend: the server filters by trend after "
     "cutting at n rows", "--fetch-all cannot be used with --trend: the server filters by "
     "trend after cutting at -n rows"),
    ("class", "ztf", "class_name must be a class name such as 'SN candidate' (see "
     "get_classes()), not 'window'", "CLASS must be a class name such as 'SN candidate' (see "
     "fink-query classes), not 'window'"),
    ("class", "ztf", "fetch_all builds a Table from many requests: use query_class, not "
     "query_class_async", "--fetch-all builds a Table from many requests: use fink-query "
     "class, not query_class_async"),
    ("ssocand", "ztf", "start_date and stop_date apply to kind='lightcurves' only",
     "--start-date and --stop-date apply to KIND lightcurves only"),
    ("cutouts", "ztf", "get_cutouts takes one ZTF object name, not 'A,B'; loop over objects, "
     "or use query_object(..., withcutouts=True) for many",
     "fink-query cutouts takes one ZTF object name, not 'A,B'; loop over objects, or use "
     "fink-query objects ... --withcutouts for many"),
    ("objects", "lsst", "diaObjectId 0 is not an ID: Rubin writes 0 for 'none' (e.g. the "
     "diaObjectId of a Solar System alert; use query_sso for those)",
     "diaObjectId 0 is not an ID: Rubin writes 0 for 'none' (e.g. the diaObjectId of a "
     "Solar System alert; use fink-query sso --survey lsst for those)"),
    ("objects", "ztf", "Fink has no objects endpoint at http://x/api/v1/objects (HTTP 404): "
     "check the server address (astroquery_fink.conf.server or conf.server_lsst, or the "
     "client's server=)", "Fink has no objects endpoint at http://x/api/v1/objects (HTTP 404): "
     "check the server address (--server)"),
    ("objects", "ztf", "The URL u of the Fink objects query is not valid (x); check the server "
     "address (astroquery_fink.conf.server or conf.server_lsst, or the client's server=), which "
     "needs a scheme", "The URL u of the Fink objects query is not valid (x); check the server "
     "address (--server), which needs a scheme"),
    ("objects", "ztf", "Fink redirected the objects query more than 10 times: a -> b; set the "
     "server address (astroquery_fink.conf.server or conf.server_lsst, or the client's server=) "
     "to the final one", "Fink redirected the objects query more than 10 times: a -> b; set the "
     "server address (--server) to the final one"),
    ("objects", "ztf", "server 'foo' is not an http(s) URL", "--server 'foo' is not an "
     "http(s) URL"),
    ("objects", "ztf", "Fink did not answer within 3 s, astroquery_fink.conf.timeout (now 3 s)",
     "Fink did not answer within 3 s, --timeout (now 3 s)"),
    ("objects", "ztf", "Fink did not answer within 3 s, the time allowed per request "
     "(timeout=3): raise it", "Fink did not answer within 3 s, the time allowed per request "
     "(--timeout 3): raise it"),
    # dates: the forms the date options take
    ("anomaly", "ztf", "start_date='2459000' is ambiguous: write an ISO date such as "
     "'2021-11-20' or '2021-11-20 03:00:00', or for a JD or MJD Time(2459000, format='jd') or "
     "Time(2459000, format='mjd')",
     "--start-date 2459000 is ambiguous: write an ISO date such as '2021-11-20' or "
     "'2021-11-20 03:00:00', or for a JD or MJD jd2459000 or mjd2459000"),
    # methods: possessive, English-word method names, calls the command line cannot say
    ("objects", "lsst", "hence no cutouts; diaSourceIds are in query_object's r:diaSourceId",
     "hence no cutouts; diaSourceIds are in the objects command's r:diaSourceId"),
    ("resolve", "lsst", "resolve takes one name, not 2",
     "fink-query resolve --survey lsst takes one name, not 2"),
    ("resolve", "ztf", "SIMBAD could not resolve it", "SIMBAD could not resolve it"),
    ("objects", "ztf", "arrays (Fink.get_cutouts(..., as_array=True))",
     "arrays (Fink.get_cutouts(..., as_array=True))"),
    # family prefixes, parts of other words and quoted values are not keywords
    ("objects", "ztf", "d:tag and i:columns, nmaxes, 'n', prefixed",
     "d:tag and i:columns, nmaxes, 'n', prefixed"),
])
def test_library_messages_in_command_line_words(command, survey, message, expected):
    translate = words(command, survey)
    assert translate(message) == expected
    assert translate(expected) == expected  # said once: a second pass changes nothing


def test_time_forms_stay_where_the_command_takes_no_jd_dates():
    message = "date='2459000' is ambiguous: write Time(2459000, format='jd')"
    assert words("tracklet")(message) == "--date 2459000 is ambiguous: write " \
        "Time(2459000, format='jd')"


# ----------------------------------------------------------------------------- end to end

@pytest.mark.parametrize(("args", "status", "expected", "python"), [
    ([TDE, "--columns", "magpsf"], 2, "Column 'magpsf' has no family prefix: write it as",
     "--prefix"),
    ([TDE, "--columns", "v:classification"], 2,
     "only when all columns are requested. Omit --columns", "v: --columns"),
    ([TDE, "--withupperlim", "--output-format", "parquet"], 2,
     "use --output-format csv (or leave it to the client: without --output-format)",
     "--output-format None"),
    (["class", "SN candidate", "-n", "0"], 2,
     "error: -n must be a whole number from 1", "error: n "),
    (["region", "10 20", "5arcsec", "-n", "0"], 2,
     "error: -n must be a whole number from 1", "error: n "),
    (["tags", "x", "-n", "0", "--survey", "lsst"], 2,
     "error: -n must be a whole number from 1", "error: n "),
    (["resolve", "M31", "--resolver", "simbad", "--nmax", "0"], 2,
     "error: --nmax must be a whole number from 1", "error: nmax"),
    (["ssocand", "--maxnumber", "0"], 2, "error: --maxnumber must be a whole number from 1",
     "error: maxnumber"),
    (["region", "10 20", "5arcsec", "--startdate", "2021-01-02", "--stopdate", "2021-01-01"], 2,
     "error: --stopdate 2021-01-01 00:00:00.000 is before --startdate 2021-01-02", " startdate"),
    (["region", "10 20", "5arcsec", "--window", "3d"], 2, "error: --window needs --startdate",
     "window needs startdate"),
    (["cutouts", "ZTF20abfcszi,ZTF21aaxtctv"], 2,
     "or use fink-query objects ... --withcutouts for many", "get_cutouts"),
    (["anomaly", "--start-date", "2459000"], 2, "or for a JD or MJD jd2459000 or mjd2459000",
     "Time("),
    ([TDE, "--server", "foo"], 2, "error: --server 'foo' is not an http(s) URL", "server="),
    ([TDE, "--server", "http://exa mple"], 2, "check the server address (--server), which "
     "needs a scheme",
     "conf.server"),
    (["170028485706776685,0", "--survey", "lsst"], 2,
     "use fink-query sso --survey lsst for those", "query_sso"),
    (["region", "hello world", "5arcsec"], 2, "error: POSITION 'hello world' is not a sky "
     "position: write RA and Dec in degrees ('10.68 41.27') or sexagesimal", "SkyCoord"),
    (["region", "0 95", "5arcsec"], 2, "POSITION '0 95' is not a sky position (Dec must be "
     "within -90 and +90 degrees)", "u.deg"),
    (["region", "/nonexistent/positions.csv", "5arcsec"], 2,
     "error: POSITION '/nonexistent/positions.csv': no such file", "SkyCoord"),
    (["region", "10 20", "5arcsec", "--startdate", "yesterday"], 2,
     "error: argument --startdate: not a date: 'yesterday' (write an ISO date or time "
     "(2021-01-01, '2021-01-01 03:00'), or jd2459215.5 or mjd59215)", "astropy Time"),
    (["region", "10 20", "5arcsec", "--stopdate", "2021-01-01"], 2,
     "error: --stopdate needs --startdate: the server ignores it otherwise", "error: stopdate"),
    (["regoin", "10 20", "5arcsec"], 2,
     "error: 'regoin' is no command nor object ID: did you mean fink-query region?", "ZTF"),
    (["class", "SN candidate", "-n", "-1"], 2,
     "error: -n must be a whole number from 1 to 2147483647, not -1", "**"),
    # negative values are values (argparse 3.11 read -1deg as an unknown option and then
    # said "the following arguments are required: RADIUS")
    (["region", "10 20", "-1deg"], 2,
     "fink-query: error: RADIUS must be a finite angle above 0, not -1. deg", "required"),
    (["region", "10 20", "5arcsec", "--startdate", "2021-01-01", "--window", "-3d"], 2,
     "fink-query: error: --window must be a finite duration above 0, not -3. d",
     "expected one argument"),
    # a number option given text is said with the flag, as the library's checks say it
    # (argparse said "argument -n: invalid int value: 'x'")
    (["region", "10 20", "5arcsec", "-n", "x"], 2,
     "fink-query: error: -n must be a whole number above 0, not 'x'", "invalid int"),
    (["resolve", "M31", "--resolver", "simbad", "--nmax", "2.5"], 2,
     "fink-query: error: --nmax must be a whole number above 0, not '2.5'", "invalid int"),
    (["skymap", "S230518h", "--credible-level", "x"], 2,
     "fink-query: error: --credible-level must be a number in (0, 1], not 'x'",
     "invalid float"),
    ([TDE, "--timeout", "x"], 2,
     "fink-query: error: --timeout must be a positive number of seconds, not 'x'",
     "invalid float"),
    # an empty figure name is refused, as an empty -o (it wrote nothing, without a word)
    ([TDE, "--lightcurve", ""], 2, "fink-query: error: --lightcurve needs a file name", "PNG"),
    (["cutouts", TDE, "--plot", " "], 2, "fink-query: error: --plot needs a file name", "PNG"),
    # options that do nothing without another are refused, not ignored
    (["class", "SN candidate", "--max-requests", "3"], 2,
     "fink-query: error: --max-requests applies with --fetch-all only", "max_requests"),
    (["statistics", "--plot-columns", "basic:sci"], 2,
     "fink-query: error: --plot-columns applies with --plot only", "plot_columns"),
])
def test_command_line_messages(capsys, args, status, expected, python):
    server = [] if "--server" in args else ["--server", NOBODY]
    assert main([*args, *server]) == status
    err = capsys.readouterr().err
    line = err.splitlines()[-1]  # the message (after the usage, for usage errors)
    assert expected in line and python not in line and "Traceback" not in err


@contextlib.contextmanager
def answering(body: bytes, bodies: list):
    """A loopback server answering every POST with the JSON ``body``; the request bodies
    go to ``bodies``. Yields its URL."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            size = int(self.headers.get("Content-Length", 0))
            bodies.append(json.loads(self.rfile.read(size)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_jd_and_mjd_dates_are_sent_as_the_server_s_dates(capsys):
    bodies = []
    with answering(b"[]", bodies) as url:
        status = main(["anomaly", "--start-date", "jd2459000.5", "--stop-date", "MJD 59010",
                       "--output-format", "json", "--no-cache", "--server", url])
    assert status == 1  # an empty answer: no data
    want = (Time(2459000.5, format="jd").iso, Time(59010, format="mjd").iso)
    assert (bodies[0]["start_date"], bodies[0]["stop_date"]) == want
    assert want == ("2020-05-31 00:00:00.000", "2020-06-10 00:00:00.000")
    assert "anomaly" in capsys.readouterr().err


@pytest.mark.parametrize("body, expected", [
    (b'[{"i:objectId": "ZTF20abfcszi", "i:candid": "abc"}]',
     "Column i:candid: 'abc' is not an integer"),
    (b'[{"i:objectId": "ZTF20abfcszi", "i:fid": 123456789012345678901234567890}]',
     "does not fit 64 bits"),
])
def test_an_answer_that_cannot_be_read_is_a_message_not_a_traceback(capsys, body, expected):
    # TableParseError is astroquery's, yet no RemoteServiceError
    with answering(body, []) as url:
        status = main(["ZTF20abfcszi", "--output-format", "json", "--no-cache",
                       "--server", url])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert err.startswith("fink-query: error: Column i:") and expected in err


def test_dates_not_in_order_are_said_with_their_flags(capsys):
    assert main(["anomaly", "--start-date", "jd2459000", "--stop-date", "mjd50000",
                 "--server", NOBODY]) == 2
    start, stop = Time(2459000, format="jd").iso, Time(50000, format="mjd").iso
    assert f"error: --stop-date {stop} is before --start-date {start}" in \
        capsys.readouterr().err


# ----------------------------------------------------------------------------- missing extras

@pytest.mark.parametrize("module", ["pyarrow", "flask", "pandas", "fastavro"])
def test_emulator_without_a_module_of_its_extra(monkeypatch, capsys, module):
    monkeypatch.setitem(sys.modules, module, None)  # as a sitecustomize would hide it
    assert main([TDE, "--emulator"]) == 1
    assert capsys.readouterr().err == f"fink-query: error: --emulator needs {module}: {EXTRA}\n"


@pytest.mark.parametrize("module", ["pyarrow", "flask", "astropy_healpix"])
def test_fink_emulator_without_a_module_of_its_extra(monkeypatch, capsys, module):
    from astroquery_fink.testing import __main__ as emulator_cli

    monkeypatch.setitem(sys.modules, module, None)
    assert emulator_cli.main(["--port", "0"]) == 1
    assert capsys.readouterr().err == \
        f"fink-emulator: error: the emulator needs {module}: {EXTRA}\n"


@pytest.mark.parametrize("module", ["flask", "pandas"])
def test_fink_emulator_says_so_before_importing_the_emulator(module):
    # a fresh interpreter: importing the emulator package must not need its extra yet
    import subprocess

    code = (f"import sys; sys.modules[{module!r}] = None; "
            "from astroquery_fink.testing.__main__ import main; sys.exit(main(['--port', '0']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == f"fink-emulator: error: the emulator needs {module}: {EXTRA}\n"


def test_importing_the_emulator_without_its_extra_says_which(monkeypatch):
    from astroquery_fink import testing

    monkeypatch.setitem(sys.modules, "fastavro", None)
    monkeypatch.delitem(testing.__dict__, "Faults", raising=False)  # not imported yet
    with pytest.raises(ImportError) as info:
        testing.Faults  # noqa: B018 - the import is the test
    assert str(info.value) == f"astroquery_fink.testing.Faults needs fastavro: {EXTRA}"


# ----------------------------------------------------------------------------- ports and hosts

@pytest.mark.parametrize(("port", "expected"), [
    ("-1", "argument --port: -1 is not a port: give 0 to 65535 (0: any free port)"),
    ("70000", "argument --port: 70000 is not a port: give 0 to 65535 (0: any free port)"),
    ("http", "argument --port: not a port number: 'http'"),
])
def test_fink_emulator_refuses_ports_out_of_range(capsys, port, expected):
    from astroquery_fink.testing import __main__ as emulator_cli

    with pytest.raises(SystemExit) as exit_:
        emulator_cli.main(["--port", port])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"fink-emulator: error: {expected}"


def test_fink_emulator_says_why_it_cannot_listen_in_its_words(capsys):
    # werkzeug printed its own text and exited the process, also from FinkEmulator.start()
    import socket

    from astroquery_fink.testing import FinkEmulator
    from astroquery_fink.testing import __main__ as emulator_cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert emulator_cli.main(["--port", str(port), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"fink-emulator: error: cannot listen on 127.0.0.1 port {port}: "
                              "Address already in use") and err.count("\n") == 1
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1 port {port}"):
            FinkEmulator(port=port).start()


@pytest.mark.parametrize(("args", "expected"), [
    (["--fault", "error_statuses=abc"], "--fault 'error_statuses=abc': error_statuses takes "
     "a whole number or a comma-separated list of them"),
    (["--fault", "latency=x"], "--fault 'latency=x': latency takes a number"),
])
def test_fink_emulator_fault_values_are_refused_naming_the_fault(capsys, args, expected):
    from astroquery_fink.testing import __main__ as emulator_cli

    assert emulator_cli.main([*args, "--port", "0"]) == 2
    assert capsys.readouterr().err == f"fink-emulator: error: {expected}\n"


def test_fink_emulator_ids_as_is_for_rubin_only(capsys):
    from astroquery_fink.testing import __main__ as emulator_cli

    with pytest.raises(SystemExit) as exit_:
        emulator_cli.main(["--ids-as", "string", "--port", "0"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "fink-emulator: error: --ids-as is for the Rubin emulator (--survey lsst) only")


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def tde_file():
    from astroquery_fink import testing

    return next(p for p in testing.bundled_data_files() if p.name.startswith("ztf20abfcszi"))


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_ipv6_emulator_url_is_bracketed_and_works_as_server(tmp_path, capsys, tde_file, host):
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator(tde_file, host=host) as emu:
        assert emu.url == f"http://[::1]:{emu._server.server_port}"
        n = len(requests.post(f"{emu.url}/api/v1/objects",
                              json={"objectId": TDE, "columns": "i:jd"}).json())
        out = tmp_path / "t.ecsv"
        assert main([TDE, "--server", emu.url, "--no-cache", "-q", "-o", str(out)]) == 0
    assert n == 21 and out.exists()


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_fink_emulator_prints_a_bracketed_ipv6_url(monkeypatch, capsys, tde_file):
    from astroquery_fink.testing import __main__ as emulator_cli
    from astroquery_fink.testing import server

    def serve_once(self, ready=None):  # bound, announced, then stopped: no Ctrl-C needed
        self.start()
        try:
            ready()
            urls.append(self.url)
        finally:
            self.stop()

    urls = []
    monkeypatch.setattr(server.FinkEmulator, "serve_forever", serve_once)
    assert emulator_cli.main(["--data", str(tde_file), "--host", "::1", "--port", "0"]) == 0
    assert urls[0].startswith("http://[::1]:")
    assert f"1 objects, 21 alerts on {urls[0]} (Ctrl-C to stop)" in capsys.readouterr().out


def test_the_message_table_covers_every_flag_of_every_command():
    # every keyword a command passes on is named by its flag in messages, but where the
    # method's positional of that name is the command's positional (ZTF cutouts object_id)
    for cmd in COMMANDS.values():
        for survey in cmd.methods:
            translate = _words(cmd, survey)
            for arg in cmd.args:
                if arg.method and not arg.positional:
                    got = translate(f"{arg.dest}=True")
                    assert got == arg.flags[0] or (cmd.name, survey, got) == (
                        "cutouts", "ztf", "ID"), (cmd.name, arg.dest)
    assert {"columns", "prefix", "window", "kind", "date"} <= cli._PROSE_KEYWORDS


def test_an_empty_output_name_is_a_usage_error(capsys):
    assert main(["ZTF21aaxtctv", "-o", "", "--server", NOBODY]) == 2
    assert "error: -o needs a file name" in capsys.readouterr().err


def test_a_partial_failure_names_the_failed_ids_in_command_line_words(emulator, tmp_path,
                                                                      capsys):
    from astropy.table import Table

    out = tmp_path / "partial.ecsv"
    assert main(["sso", "409439", "2000 AB", "--server", emulator.url, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error: 1 of 2 objects could not be fetched (Fink rejected" in err
    assert err.rstrip().endswith("; failed: 2000AB; the 1 rows that arrived are kept")
    assert ".failed_ids" not in err and ".table" not in err
    assert len(Table.read(out)) == 1


def test_text_the_terminal_cannot_show_is_replaced_not_a_traceback(monkeypatch):
    import io

    from astropy.table import Table

    from astroquery_fink import FinkLSSTClass
    tags = Table({"tag": ["tag_x"], "description": ["naïve ☃"], "api_support": [True]})
    monkeypatch.setattr(FinkLSSTClass, "get_tags", lambda self, **kw: tags)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="latin-1", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["tag-list", "--survey", "lsst", "--server", "http://127.0.0.1:9"]) == 0
    assert "naïve ?".encode("latin-1") in raw.getvalue()
    assert out.errors == "strict"  # the stream is given back as it was


def test_an_option_naming_a_positional_argument_is_a_usage_error(capsys):
    assert main(["cutouts", "ZTF20abfcszi", "--object-id", "ZTF20abfcszi",
                 "--server", "http://127.0.0.1:9", "-o", "x.fits"]) == 2
    assert "--object-id is not an option of cutouts with --survey ztf" in capsys.readouterr().err


def test_python_reprs_and_table_meta_are_not_command_line_words():
    words = cli._cli_words({"radius": "RADIUS", "startdate": "--startdate"}, "ztf",
                           jd_dates=True)
    assert words("radius must be a finite angle above 0, not <Quantity nan arcsec>") == \
        "RADIUS must be a finite angle above 0, not nan arcsec"
    assert words("startdate=<Time object: scale='utc' format='jd' value=-5.0> is not a date") \
        == "--startdate jd-5.0 is not a date"
    assert words("1 of 2 requested objects returned no alerts: ZTF99zzzzzzz (all are in "
                 "table.meta['missing_ids'])") == \
        "1 of 2 requested objects returned no alerts: ZTF99zzzzzzz"


def test_a_servers_control_characters_are_shown_not_sent_to_the_terminal(monkeypatch, capsys):
    from astropy.table import Table

    from astroquery_fink import FinkLSSTClass
    tags = Table({"tag": ["t"], "description": ["\x1b[31mRED\x1b[0m\x07"],
                  "api_support": [True]})
    monkeypatch.setattr(FinkLSSTClass, "get_tags", lambda self, **kw: tags)
    assert main(["tag-list", "--survey", "lsst", "--server", "http://127.0.0.1:9"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\ufffd[31mRED" in out


def test_error_messages_show_a_servers_control_characters_and_keep_line_breaks(monkeypatch,
                                                                                capsys):
    from astroquery.exceptions import RemoteServiceError

    from astroquery_fink import FinkLSSTClass

    def fail(self, **kw):
        raise RemoteServiceError("boom \x1b[2J\x07\nsecond line")

    monkeypatch.setattr(FinkLSSTClass, "get_tags", fail)
    assert main(["tag-list", "--survey", "lsst", "--server", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "boom \ufffd[2J\ufffd\nsecond line" in err


def test_a_bad_row_of_a_positions_file_is_named_by_its_line(tmp_path, capsys):
    path = tmp_path / "positions.csv"
    path.write_text("ra,dec\n10,20\n# a comment\nabc,5\n")
    assert main(["region", str(path), "5arcsec", "--server", NOBODY]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"fink-query: error: POSITION line 4 of {str(path)!r}, 'abc 5' is not a sky position: "
        "write RA and Dec in degrees ('10.68 41.27') or sexagesimal ('00:42:44.3 +41:16:09', "
        "'00 42 44.3 +41 16 09')")


def test_cutouts_of_an_object_without_alerts_exit_as_no_data(capsys):
    # 1: the answer has nothing (as `objects` of such an object), not a usage error (2)
    assert main(["cutouts", "ZTF99zzzzzzz", "--emulator"]) == 1
    assert "Fink has no alerts for ZTF99zzzzzzz, hence no cutouts" in capsys.readouterr().err
