# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""fink-query (astroquery_fink.cli.main) against the offline emulator."""
import os
import socket
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import MaskedColumn, Table

matplotlib.use("Agg")

from astroquery_fink import FinkClass, __version__, conf  # noqa: E402
from astroquery_fink.cli import _write_table, main  # noqa: E402

TDE = "ZTF20abfcszi"  # 21 valid alerts
TAGGED = "ZTF25aauurnj"  # valid, upperlim and badquality rows
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def emulator():
    """The offline emulator on two small bundled files, started once for the module."""
    from astroquery_fink import testing
    files = [p for p in testing.bundled_data_files()
             if p.name.startswith(("regular_", "ztf20abfcszi"))]
    with testing.FinkEmulator(files) as emu:
        yield emu


@pytest.fixture
def run(emulator, capsys):
    """main() on the emulator, without cache; returns (status, stdout, stderr)."""
    def _run(*args):
        status = main(["--server", emulator.url, "--no-cache", *args])
        out, err = capsys.readouterr()
        return status, out, err
    return _run


def assert_same_table(got, want, names=None):
    """Same columns (or ``names``), rows, masks and values."""
    names = want.colnames if names is None else names
    assert len(got) == len(want)
    assert set(names) <= set(got.colnames)
    for name in names:
        a, b = got[name], want[name]
        if b.dtype.kind == "U":
            # Text formats cannot tell '' from a missing string (e.g. d:tracklet): compare
            # the text; FITS gives bytes.
            a = a.astype(str) if a.dtype.kind == "S" else a
            a, b = np.ma.filled(a, ""), np.ma.filled(b, "")
        mask_a, mask_b = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
        np.testing.assert_array_equal(mask_a, mask_b, err_msg=name)
        np.testing.assert_array_equal(np.asarray(a)[~mask_a], np.asarray(b)[~mask_b],
                                      err_msg=name)


# ----------------------------------------------------------------------------- tables

def test_ecsv_holds_the_same_table_as_query_object(run, emulator, tmp_path):
    out = tmp_path / "tde.ecsv"
    status, stdout, _ = run(TDE, "-o", str(out))
    assert status == 0
    want = FinkClass(server=emulator.url).query_object(TDE, cache=False)
    got = Table.read(out)
    assert got.colnames == want.colnames
    assert_same_table(got, want)
    assert got["i:magpsf"].unit == "mag" and got["i:jd"].unit == "d"
    assert f"objects: 1 ({TDE})" in stdout
    assert "rows:    21" in stdout
    assert f"columns: {len(want.colnames)}" in stdout
    assert f"wrote:   {out}" in stdout


def test_query_options_reach_the_server(run, emulator, tmp_path):
    out = tmp_path / "lc.ecsv"
    status, stdout, _ = run(TAGGED, "--withupperlim", "--columns", "i:jd,i:magpsf,i:fid",
                            "--output-format", "csv", "-o", str(out))
    assert status == 0
    want = FinkClass(server=emulator.url).query_object(
        TAGGED, withupperlim=True, columns="i:jd,i:magpsf,i:fid", cache=False)
    got = Table.read(out)
    assert_same_table(got, want)
    tags = list(got["d:tag"])
    counts = (tags.count("valid"), tags.count("upperlim"), tags.count("badquality"))
    assert counts == (3, 37, 1)
    assert "rows:    41 (3 valid, 37 upperlim, 1 badquality)" in stdout


@pytest.mark.parametrize("suffix", [".fits", ".vot", ".parquet"])
def test_other_table_formats_keep_values_and_masks(run, emulator, tmp_path, suffix):
    out = tmp_path / f"lc{suffix}"
    status, _, _ = run(TAGGED, "--withupperlim", "-o", str(out))
    assert status == 0
    want = FinkClass(server=emulator.url).query_object(TAGGED, withupperlim=True, cache=False)
    options = {"use_names_over_ids": True} if suffix == ".vot" else {}
    got = Table.read(out, **options)
    assert_same_table(got, want)


def test_a_position_file_that_is_not_utf8_is_a_usage_error(tmp_path, capsys):
    positions = tmp_path / "positions.csv"
    positions.write_bytes(b"ra,dec\n10.2,-44.5  # caf\xe9\n")
    assert main(["region", str(positions), "0.3deg", "--server", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"fink-query: error: POSITION: {str(positions)!r} is not a text file of RA,Dec rows in "
        "UTF-8 (byte 24: invalid continuation byte)")


def test_dates_beyond_the_leap_second_table_print_no_erfa_notes(run):
    status, _, stderr = run("class", "SN candidate", "--startdate", "2030-01-01")
    assert status == 1 and "dubious year" not in stderr
    assert stderr.strip().splitlines() == [
        "fink-query: error: Fink's class search answer is empty (or is the class name one of "
        "fink-query classes?)"]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux's /proc")
def test_a_file_that_cannot_be_written_is_said_in_words(run):
    # the folder exists (checked before the query), but no file can be made there
    status, _, stderr = run(TDE, "-o", "/proc/tde.ecsv")
    assert status == 1
    assert stderr.strip().splitlines()[-1] == ("fink-query: error: /proc/tde.ecsv: No such file "
                                               "or directory")


def test_fits_writes_masked_booleans_as_integers_with_null(tmp_path, capsys):
    table = Table(masked=True)
    table["d:is_transient"] = MaskedColumn([True, False, True], mask=[False, True, False])
    table["i:candid"] = MaskedColumn([3, 2**62, 5], mask=[False, False, True])
    table.meta["payload"] = {"objectId": "ZTF21aaxtctv"}
    notes = _write_table(table, str(tmp_path / "t.fits"))
    assert notes and "d:is_transient" in notes[0]
    got = Table.read(tmp_path / "t.fits")
    assert list(got["d:is_transient"].filled(-9)) == [1, -9, 1]
    assert list(got["i:candid"].filled(-9)) == [3, 2**62, -9]
    assert got.meta["PAYLOAD"] == '{"objectId": "ZTF21aaxtctv"}'


def test_csv_leaves_out_cutout_columns_with_a_note(run, emulator, tmp_path):
    out = tmp_path / "tde.csv"
    status, _, stderr = run(TDE, "--withcutouts", "--cutout-kind", "Science",
                            "--columns", "i:jd,i:magpsf", "-o", str(out))
    assert status == 0
    assert "left out b:cutoutScience_stampData" in stderr
    got = Table.read(out, format="ascii.csv")
    assert sorted(got.colnames) == ["i:candid", "i:jd", "i:magpsf", "i:objectId"]
    want = FinkClass(server=emulator.url).query_object(TDE, columns="i:jd,i:magpsf",
                                                       cache=False)
    np.testing.assert_array_equal(got["i:magpsf"], want["i:magpsf"])


def test_ecsv_keeps_cutout_columns(run, emulator, tmp_path):
    out = tmp_path / "tde.ecsv"
    status, _, _ = run(TDE, "--withcutouts", "--cutout-kind", "Difference",
                       "--columns", "i:jd", "-o", str(out))
    assert status == 0
    got = Table.read(out)
    fink = FinkClass(server=emulator.url)
    want = fink.query_object(TDE, withcutouts=True, cutout_kind="Difference", columns="i:jd",
                             cache=False)
    assert_same_table(got, want)
    assert got["b:cutoutDifference_stampData"].shape == (21, 63, 63)
    # the latest row holds the stamp get_cutouts gives (JSON keeps 10 significant digits)
    hdul = fink.get_cutouts(TDE, kind="Difference", cache=False)
    latest = int(np.argmax(got["i:jd"]))
    np.testing.assert_allclose(got["b:cutoutDifference_stampData"][latest],
                               hdul["DIFFERENCE"].data, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- figures

def test_lightcurve_png_and_implied_upper_limits(run, tmp_path):
    png = tmp_path / "lc.png"
    status, stdout, _ = run(TAGGED, "--lightcurve", str(png))
    assert status == 0
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert "37 upperlim" in stdout  # --lightcurve asked for withupperlim


def test_cutouts_fits_one_file_per_object(run, emulator, tmp_path):
    path = tmp_path / "stamps.fits"
    status, stdout, _ = run(TDE, TAGGED, "--columns", "i:jd,i:objectId", "--cutouts",
                            str(path))
    assert status == 0
    fink = FinkClass(server=emulator.url)
    for oid in (TDE, TAGGED):
        written = tmp_path / f"stamps_{oid}.fits"
        assert str(written) in stdout
        with fits.open(written) as hdul:
            assert [h.name for h in hdul[1:]] == ["SCIENCE", "TEMPLATE", "DIFFERENCE"]
            assert all(h.data.shape == (63, 63) for h in hdul[1:])
            assert hdul[0].header["OBJECTID"] == oid
            want = fink.get_cutouts(oid, cache=False)
            np.testing.assert_array_equal(hdul["SCIENCE"].data, want["SCIENCE"].data)
    assert not path.exists()


def test_cutouts_png_for_one_object(run, tmp_path):
    path = tmp_path / "stamps.png"
    status, _, _ = run(TDE, "--columns", "i:jd,i:objectId", "--cutouts", str(path))
    assert status == 0
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


# ----------------------------------------------------------------------------- errors

def test_unknown_output_extension_is_a_usage_error(tmp_path, capsys):
    assert main([TDE, "-o", str(tmp_path / "out.xlsx"), "--server", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the table format" in err and ".ecsv" in err
    assert not (tmp_path / "out.xlsx").exists()
    assert main([TDE, "--cutouts", str(tmp_path / "x.txt")]) == 2
    assert "--cutouts" in capsys.readouterr().err


def test_invalid_object_name_is_a_usage_error(capsys):
    assert main(["ZTF21aax", "--server", "http://127.0.0.1:9"]) == 2
    assert "Not ZTF object names (like 'ZTF21aaxtctv'" in capsys.readouterr().err


def test_lightcurve_needs_photometry_columns(capsys, tmp_path):
    status = main([TDE, "--columns", "i:jd,i:ra", "--lightcurve", str(tmp_path / "lc.png")])
    assert status == 2
    assert "--lightcurve needs the columns i:fid, i:magpsf, i:sigmapsf" in (
        capsys.readouterr().err)


def test_argparse_errors_return_2(capsys):
    assert main([]) == 2
    assert main([TDE, "--output-format", "xml"]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_unknown_object_exits_1_with_a_message(run, tmp_path):
    status, stdout, stderr = run("ZTF18aaaaaaa", "-o", str(tmp_path / "none.ecsv"))
    assert status == 1
    assert "fink-query: error: Fink has no alerts for ZTF18aaaaaaa" in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not (tmp_path / "none.ecsv").exists()


def test_unreachable_server_exits_1(capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with conf.set_temp("max_retries", 0):
        status = main([TDE, "--server", f"http://127.0.0.1:{port}", "--no-cache"])
    assert status == 1
    assert "Could not reach Fink" in capsys.readouterr().err


def test_quiet_prints_nothing(run, tmp_path):
    status, stdout, stderr = run(TDE, "-q", "-o", str(tmp_path / "t.ecsv"))
    assert (status, stdout, stderr) == (0, "", "")


def test_without_output_prints_a_preview(run):
    status, stdout, _ = run(TDE)
    assert status == 0
    assert "i:magpsf" in stdout and stdout.count(TDE) >= 5


# ----------------------------------------------------------------------------- the emulator

def test_emulator_data_flag_serves_the_given_files(emulator, tmp_path, capsys):
    from astroquery_fink.testing import bundled_data_files
    [tde_file] = [p for p in bundled_data_files() if p.name.startswith("ztf20abfcszi")]
    out = tmp_path / "tde.ecsv"
    # IDs after the file list are taken as IDs
    assert main(["--emulator-data", str(tde_file), TDE, "-o", str(out)]) == 0
    want = FinkClass(server=emulator.url).query_object(TDE, cache=False)
    got = Table.read(out)
    assert_same_table(got, want)
    assert "rows:    21" in capsys.readouterr().out


def test_emulator_data_errors_are_usage_errors(tmp_path, capsys):
    status = main(["--emulator-data", str(tmp_path / "none.parquet"), TDE])
    assert status == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--emulator-data", TDE]) == 2
    assert "expected at least one FILE" in capsys.readouterr().err
    assert main([TDE, "--server", "http://x.test", "--emulator-data", __file__]) == 2
    assert "--server and --emulator-data exclude each other" in capsys.readouterr().err
    # the same for --emulator: another server's data, silently, otherwise
    assert main([TDE, "--server", "http://127.0.0.1:1", "--emulator"]) == 2
    assert "--server and --emulator exclude each other" in capsys.readouterr().err
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    assert main([TDE, "--emulator-data", str(bad)]) == 2
    assert "bad.parquet" in capsys.readouterr().err


def test_emulator_flag_uses_the_bundled_alerts(emulator, tmp_path, capsys):
    out = tmp_path / "night.ecsv"
    assert main(["ZTF18aaqfhlj", "--emulator", "-o", str(out)]) == 0
    got = Table.read(out)
    assert len(got) > 0 and set(got["i:objectId"]) == {"ZTF18aaqfhlj"}
    assert "objects: 1 (ZTF18aaqfhlj)" in capsys.readouterr().out


def test_python_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "astroquery_fink", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"fink-query {__version__}"


# ----------------------------------------------------------------------------- plumbing

def _fake_query_object(monkeypatch, result) -> list:
    """Replace FinkClass.query_object: record the calls, answer with ``result``."""
    calls = []

    def query_object(fink, object_id, **kwargs):
        calls.append((fink.server, fink.timeout, object_id, kwargs))
        if kwargs.get("get_query_payload"):
            return {}
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(FinkClass, "query_object", query_object)
    return calls


def test_options_map_to_query_object_arguments(monkeypatch, tmp_path, capsys):
    table = Table({"i:objectId": ["ZTF21aaxtctv"], "i:jd": [2459537.05], "i:fid": [1],
                   "i:magpsf": [18.0], "i:sigmapsf": [0.1], "d:tag": ["valid"]})
    calls = _fake_query_object(monkeypatch, table)
    status = main(["ZTF21aaxtctv,ZTF19acmdpyr", "--server", "http://fink.test", "--timeout",
                   "12", "--no-cache", "--prefix", "--output-format", "votable",
                   "--lightcurve", str(tmp_path / "lc.png")])
    assert status == 0, capsys.readouterr().err
    server, timeout, ids, kwargs = calls[-1]
    assert (server, timeout, ids) == ("http://fink.test", 12.0, ["ZTF21aaxtctv", "ZTF19acmdpyr"])
    # only what the command line gives (and --lightcurve implies) is passed on
    assert kwargs == dict(withupperlim=True, output_format="votable", prefix=True, cache=False)


def test_partial_result_writes_the_rows_that_arrived_and_exits_1(monkeypatch, tmp_path,
                                                                  capsys):
    from astroquery_fink.exceptions import PartialResultError
    table = Table({"i:objectId": ["ZTF21aaxtctv"], "i:jd": [2459537.05]})
    error = PartialResultError("1 of 2 objects could not be fetched", table=table,
                               failed_ids=["ZTF19acmdpyr"], errors={})
    _fake_query_object(monkeypatch, error)
    out = tmp_path / "partial.ecsv"
    assert main(["ZTF21aaxtctv", "ZTF19acmdpyr", "--server", "http://fink.test",
                 "-o", str(out)]) == 1
    stdout, stderr = capsys.readouterr()
    assert "1 of 2 objects could not be fetched" in stderr
    assert list(Table.read(out)["i:jd"]) == [2459537.05]
    assert "objects: 1 (ZTF21aaxtctv)" in stdout


def test_warnings_are_one_line_on_stderr(run, tmp_path):
    status, _, stderr = run(TDE, "--columns", "i:jd,i:foo", "-o", str(tmp_path / "t.ecsv"))
    assert status == 0
    assert stderr.strip() == ("fink-query: warning: 'i:foo' is not in the Fink schema known to "
                              "this client; the server ignores unknown names")


def test_comma_separated_ids_as_the_help_says(run, emulator, tmp_path):
    out = tmp_path / "two.ecsv"
    status, stdout, _ = run(f"{TDE},{TAGGED}", "--columns", "i:objectId,i:jd", "-o", str(out))
    assert status == 0, stdout
    table = Table.read(out)
    assert sorted(set(table["i:objectId"])) == sorted([TDE, TAGGED])


@pytest.mark.parametrize(("args", "words"), [
    (["--cutout-kind", "Science"], "--cutout-kind is used only with --withcutouts"),
    (["--withupperlim", "--output-format", "parquet"],
     "cannot write parquet with --withupperlim: use --output-format csv"),
])
def test_usage_messages_name_the_flags_not_python_keywords(capsys, args, words):
    assert main([TDE, "--server", "http://127.0.0.1:9", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "withcutouts=True" not in err and "output_format" not in err


def test_non_ascii_text_in_every_output_format(tmp_path, capsys):
    table = Table({"i:objectId": ["ZTF20abfcszi", "ZTF21aaxtctv"],
                   "v:constellation": ["Boötes", "Ursa Major"]})
    for suffix in (".ecsv", ".fits", ".vot", ".parquet", ".csv"):
        path = tmp_path / f"t{suffix}"
        notes = _write_table(table, str(path))
        back = Table.read(path, **({"use_names_over_ids": True} if suffix == ".vot" else {}))
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in back["v:constellation"]]
        if suffix == ".fits":  # FITS text is ASCII: transliterated, and said so
            assert names == ["Bootes", "Ursa Major"]
            assert notes and "'Boötes' -> 'Bootes'" in notes[0]
        else:
            assert names == ["Boötes", "Ursa Major"], suffix


def test_missing_parquet_extra_is_said_before_any_query(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    assert main([TDE, "--server", "http://127.0.0.1:9", "-o", str(tmp_path / "x.parquet")]) == 1
    assert "install the parquet extra" in capsys.readouterr().err


def test_an_id_without_alerts_is_a_warning_over_the_rows_of_the_others(run, tmp_path):
    out = tmp_path / "some.ecsv"
    status, _, stderr = run(TDE, "ZTF21zzzzzzz", "-o", str(out))
    assert status == 0
    assert "warning: 1 of 2 requested objects returned no alerts: ZTF21zzzzzzz" in stderr
    assert len(Table.read(out)) == 21


def test_hints_for_a_rubin_id_and_an_unquoted_position(capsys):
    assert main(["170028485706776685", "--server", "http://127.0.0.1:9"]) == 2
    assert "these look like Rubin diaObjectIds: add --survey lsst" in capsys.readouterr().err
    assert main(["region", "23.5", "30.7", "10arcmin", "--server", "http://127.0.0.1:9"]) == 2
    assert 'a position is one quoted argument: "23.5 30.7"' in capsys.readouterr().err


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(emulator):
    # `fink-query ... | head -1`: the pipe closes while the preview is printed
    shell = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m astroquery_fink {TDE} --server {emulator.url} "
                       "--no-cache | head -1; exit ${PIPESTATUS[0]}"],
        capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stderr
    assert "BrokenPipe" not in shell.stderr and shell.stdout.startswith("objects: 1")
