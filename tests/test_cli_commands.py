# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""fink-query subcommands (every query method of both surveys) against the emulators."""
import json
import warnings
from pathlib import Path

import astropy.units as u
import matplotlib
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

matplotlib.use("Agg")

from astroquery_fink import FinkClass, FinkLSSTClass  # noqa: E402
from astroquery_fink.cli import COMMANDS, main  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUBIN_OBJECT = "170028485706776685"  # 346 diaSources in the bundled Rubin alerts
RUBIN_SOURCE = "170094456272322680"  # a diaSource with its stamps
CONE = "23.5 30.7"


@pytest.fixture
def ztf(emulator):
    """The ZTF emulator on the bundled alerts (all of them: every endpoint has data)."""
    return emulator


@pytest.fixture
def lsst(lsst_emulator):
    """The Rubin emulator on the bundled Rubin alerts."""
    return lsst_emulator


@pytest.fixture
def run(ztf, lsst, capsys):
    """main() on the emulator of the survey (options before the command, as a user may
    write them); returns (status, stdout, stderr)."""
    def _run(*args, survey="ztf"):
        url = (lsst if survey == "lsst" else ztf).url
        status = main(["--server", url, "--no-cache", "--survey", survey, *args])
        out, err = capsys.readouterr()
        return status, out, err
    return _run


def same_table(got: Table, want: Table) -> None:
    """The same columns, rows and values (text formats cannot tell '' from missing)."""
    assert got.colnames == want.colnames
    assert len(got) == len(want)
    for name in want.colnames:
        a, b = got[name], want[name]
        if isinstance(b, Time):
            np.testing.assert_allclose(a.jd, b.jd, rtol=0, atol=1e-9, err_msg=name)
            continue
        if b.dtype.kind in "US" or b.dtype.kind == "O":
            a, b = np.ma.filled(a.astype(str), ""), np.ma.filled(b.astype(str), "")
        mask_a, mask_b = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
        np.testing.assert_array_equal(mask_a, mask_b, err_msg=name)
        np.testing.assert_array_equal(np.asarray(a)[~mask_a], np.asarray(b)[~mask_b],
                                      err_msg=name)


# Each command line and the client call it stands for.
CASES = {
    "ztf": [
        (["region", CONE, "10arcmin"], lambda f: f.query_region(CONE, 10 * u.arcmin)),
        (["class", "SN candidate", "-n", "20", "--columns", "i:objectId,i:jd,i:magpsf"],
         lambda f: f.query_class("SN candidate", n=20, columns="i:objectId,i:jd,i:magpsf")),
        (["classes"], lambda f: f.get_classes(as_table=True)),
        (["anomaly", "-n", "20"], lambda f: f.query_anomaly(n=20)),
        (["sso", "4371"], lambda f: f.query_sso(4371)),
        (["ssocand"], lambda f: f.query_ssocand()),
        (["ssoft", "--flavor", "HG"], lambda f: f.get_ssoft(flavor="HG")),
        (["tracklet", "--date", "2021-06-04"], lambda f: f.query_tracklet(date="2021-06-04")),
        (["resolve", "M31", "--resolver", "simbad"],
         lambda f: f.resolve("M31", resolver="simbad")),
        (["skymap", "EMU250610a", "--credible-level", "0.9"],
         lambda f: f.query_skymap("EMU250610a", credible_level=0.9)),
        (["statistics", "2021"], lambda f: f.get_statistics("2021")),
        (["schema"], lambda f: f.get_schema()),
    ],
    "lsst": [
        (["objects", RUBIN_OBJECT], lambda f: f.query_object(RUBIN_OBJECT)),
        ([RUBIN_OBJECT, "--columns", "r:midpointMjdTai,r:psfFlux"],
         lambda f: f.query_object(RUBIN_OBJECT, columns="r:midpointMjdTai,r:psfFlux")),
        (["summary", RUBIN_OBJECT], lambda f: f.get_object_summary(RUBIN_OBJECT)),
        (["forced", RUBIN_OBJECT], lambda f: f.query_forced_photometry(RUBIN_OBJECT)),
        (["region", "10.2 -44.5", "0.3deg"],
         lambda f: f.query_region("10.2 -44.5", 0.3 * u.deg)),
        (["sso", "2004 JQ12"], lambda f: f.query_sso("2004 JQ12")),
        (["resolve", RUBIN_OBJECT, "--resolver", "simbad", "--reverse"],
         lambda f: f.resolve(RUBIN_OBJECT, resolver="simbad", reverse=True)),
        (["statistics"], lambda f: f.get_statistics()),
        (["schema", "fp"], lambda f: f.get_schema("fp")),
        (["tag-list"], lambda f: f.get_tags()),
        (["blocks"], lambda f: f.get_blocks()),
    ],
}


@pytest.mark.parametrize(("survey", "args", "call"), [
    pytest.param(s, a, c, id=f"{s}-{a[0]}-{i}") for s, cases in CASES.items()
    for i, (a, c) in enumerate(cases)])
def test_command_writes_the_table_of_its_method(run, ztf, lsst, tmp_path, survey, args, call):
    out = tmp_path / "t.ecsv"
    status, stdout, stderr = run(*args, "-o", str(out), survey=survey)
    assert status == 0, stderr
    client = (FinkLSSTClass(server=lsst.url) if survey == "lsst"
              else FinkClass(server=ztf.url))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "n rows: more may exist", said by the CLI too
        want = call(client)
    got = Table.read(out)
    same_table(got, want)
    assert f"rows:    {len(want)}\n" in stdout
    assert f"wrote:   {out}" in stdout


def test_every_command_is_tested_on_each_of_its_surveys():
    tested = {(s, a[0] if a[0] in COMMANDS else "objects") for s, cases in CASES.items()
              for a, _ in cases}
    # the ones with their own tests below
    tested |= {("ztf", "cutouts"), ("lsst", "cutouts"), ("ztf", "ssobulk"),
               ("lsst", "tags"), ("ztf", "objects"), ("lsst", "skymap")}
    offered = {(s, c.name) for c in COMMANDS.values() for s in c.methods}
    assert offered == tested


# ----------------------------------------------------------------------------- values

def test_region_rows_are_within_the_radius_and_plotted(run, tmp_path):
    out, png = tmp_path / "cone.fits", tmp_path / "sky.png"
    status, stdout, _ = run("region", "01h34m00s +30d42m00s", "10arcmin", "-o", str(out),
                            "--plot", str(png))
    assert status == 0
    t = Table.read(out)
    center = SkyCoord(23.5 * u.deg, 30.7 * u.deg)
    sep = center.separation(SkyCoord(t["i:ra"], t["i:dec"], unit="deg")).to_value(u.deg)
    assert len(t) == 7 and (sep <= 10 / 60).all()
    np.testing.assert_allclose(t["v:separation_degree"], sep, atol=1e-7)
    assert list(sep) == sorted(sep)
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert f"objects: 7 ({t['i:objectId'][0]}," in stdout


def test_region_positions_from_a_file(run, tmp_path):
    positions = tmp_path / "positions.csv"
    positions.write_text("ra,dec\n23.5,30.7\n# nothing there:\n200.0, -80.0\n")
    out = tmp_path / "cones.ecsv"
    status, _, _ = run("region", str(positions), "10arcmin", "-o", str(out),
                       "--columns", "i:objectId")
    assert status == 0
    t = Table.read(out)
    assert set(t["input_index"]) == {0} and len(t) == 7


def test_statistics_plot_for_both_surveys(run, tmp_path):
    for survey, column in (("ztf", "basic:sci"), ("lsst", "f:alerts")):
        png = tmp_path / f"{survey}.png"
        status, _, stderr = run("statistics", "--plot", str(png), "--plot-columns", column,
                                survey=survey)
        assert status == 0, stderr
        assert png.read_bytes().startswith(PNG_MAGIC)


def test_statistics_with_their_time_column_in_votable(run, tmp_path):
    out = tmp_path / "stats.vot"
    status, _, stderr = run("statistics", "20211122", "-o", str(out))
    assert status == 0, stderr
    assert "time: VOTable holds no Time column, written as its values (iso, UTC)" in stderr
    assert Table.read(out)["time"].tolist() == ["2021-11-22 00:00:00.000"]


def test_rubin_counts_agree_between_commands(run, tmp_path):
    lc, summary = tmp_path / "lc.parquet", tmp_path / "summary.vot"
    assert run(RUBIN_OBJECT, "--columns", "r:diaSourceId", "-o", str(lc), survey="lsst")[0] == 0
    assert run("summary", RUBIN_OBJECT, "-o", str(summary), survey="lsst")[0] == 0
    sources = Table.read(lc)
    row = Table.read(summary, use_names_over_ids=True)[0]
    assert len(sources) == row["r:nDiaSources"] == 346
    assert str(row["r:diaObjectId"]) == RUBIN_OBJECT
    assert sources["r:diaSourceId"].dtype == np.int64 and len(set(sources["r:diaSourceId"])) == 346


def test_rubin_lightcurve_and_cutouts_of_the_latest_source(run, lsst, tmp_path):
    png, stamps = tmp_path / "lc.png", tmp_path / "stamps.fits"
    status, stdout, stderr = run(RUBIN_OBJECT, "--lightcurve", str(png), "--cutouts",
                                 str(stamps), survey="lsst")
    assert status == 0, stderr
    assert png.read_bytes().startswith(PNG_MAGIC)
    lc = FinkLSSTClass(server=lsst.url).query_object(RUBIN_OBJECT, cache=False)
    latest = lc["r:diaSourceId"][np.argmax(lc["r:midpointMjdTai"])]
    with fits.open(stamps) as hdul:
        assert hdul[0].header["DIASRCID"] == latest
        assert hdul["SCIENCE"].data.ndim == 2
    assert f"wrote:   {png}, {stamps}" in stdout


@pytest.mark.parametrize(("survey", "alert", "extra"), [
    ("ztf", "ZTF20abfcszi", ["--kind", "Difference"]),
    ("lsst", RUBIN_SOURCE, []),
])
def test_cutouts_command_fits_and_figure(run, ztf, lsst, tmp_path, survey, alert, extra):
    out, png = tmp_path / "stamps.fits", tmp_path / "stamps.png"
    status, stdout, _ = run("cutouts", alert, *extra, "-o", str(out), "--plot", str(png),
                            survey=survey)
    assert status == 0
    client = FinkLSSTClass(server=lsst.url) if survey == "lsst" else FinkClass(server=ztf.url)
    want = client.get_cutouts(alert, cache=False, **({"kind": "Difference"} if extra else {}))
    with fits.open(out) as got:
        assert [h.name for h in got] == [h.name for h in want]
        for a, b in zip(got[1:], want[1:], strict=True):
            np.testing.assert_array_equal(a.data, b.data)
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert stdout.startswith("stamps:  " + ("DIFFERENCE 63x63" if extra else "SCIENCE 30x30"))


def test_ssobulk_downloads_a_parquet_file(run, tmp_path):
    import pyarrow.parquet as pq
    path = tmp_path / "bulk.parquet"
    status, stdout, _ = run("ssobulk", str(path))
    assert status == 0 and stdout == f"wrote:   {path}\n"
    assert pq.read_metadata(path).num_rows > 0


def test_no_rows_is_exit_1(run, tmp_path):
    # no bundled Rubin alert carries a tag, nor lies in the bundled (ZTF) sky map
    status, _, stderr = run("tags", "in_tns", survey="lsst")
    assert status == 1 and "tag search answer is empty" in stderr
    from astroquery_fink import testing
    skymap = Path(testing.__file__).parent / "data" / "skymap_EMU250610a.fits.gz"
    status, _, stderr = run("skymap", "--bayestar", str(skymap), "--credible-level", "0.9",
                            survey="lsst")
    assert status == 1 and "sky map search answer is empty" in stderr
    status, _, stderr = run("class", "Not a class")
    assert status == 1 and stderr.strip().endswith(
        "class search answer is empty (or is the class name one of fink-query classes?)")


def test_emulator_flag_starts_the_rubin_emulator(tmp_path, capsys):
    out = tmp_path / "fp.csv"
    assert main(["forced", RUBIN_OBJECT, "--survey", "lsst", "--emulator", "-o", str(out)]) == 0
    assert len(Table.read(out, format="ascii.csv")) == 395
    assert f"objects: 1 ({RUBIN_OBJECT})" in capsys.readouterr().out


def test_classes_match_the_bundled_class_list(run, tmp_path):
    from astroquery_fink import testing
    bundled = json.loads((Path(testing.__file__).parent / "data" / "ztf_classes.json")
                         .read_text())
    out = tmp_path / "classes.csv"
    assert run("classes", "-o", str(out))[0] == 0
    names = set(Table.read(out, format="ascii.csv")["class"])
    want = (set(bundled["fink"]) | {f"(TNS) {n}" for n in bundled["tns"]}
            | {f"(SIMBAD) {n}" for n in bundled["simbad"]})
    assert names == want and len(names) == 11 + 43 + 315


# ----------------------------------------------------------------------------- usage

@pytest.mark.parametrize(("args", "words"), [
    (["class", "SN candidate", "--survey", "lsst"],
     "class is not a command of --survey lsst (only ztf)"),
    (["summary", RUBIN_OBJECT], "summary is not a command of --survey ztf (only lsst)"),
    (["objects", RUBIN_OBJECT, "--survey", "lsst", "--withupperlim"],
     "--withupperlim is not an option of objects with --survey lsst"),
    (["schema", "fp"], "ENDPOINT is not an argument of schema with --survey ztf"),
    (["region", CONE, "10"], "argument RADIUS: not an angle: '10'"),
    (["region", CONE, "10kg"], "argument RADIUS: not an angle: '10kg'"),
    (["region", CONE, "6deg"], "RADIUS 21600 arcsec is above the server's maximum"),
    (["region", CONE, "1deg", "--window", "3"], "argument --window: not a duration"),
    (["resolve", "M31"], "the following arguments are required: --resolver"),
    (["cutouts", "ZTF20abfcszi", "-o", "x.png"], "cutouts are written as FITS"),
    (["statistics", "--plot", "x.txt"], "--plot 'x.txt': unknown extension"),
    (["objects", RUBIN_OBJECT, "--survey", "lsst", "--columns", "r:psfFlux",
      "--lightcurve", "x.png"], "--lightcurve needs the columns r:midpointMjdTai, r:band"),
    (["region", CONE, "1deg", "--columns", "i:jd", "-o", "x.xlsx"],
     "cannot tell the table format"),
    # refused by checks that run inside the query (no get_query_payload): usage errors too
    (["cutouts", "1,2", "--survey", "lsst"], "Give one diaSourceId, not 2"),
    (["schema", "nope", "--survey", "lsst"], "ENDPOINT must be one of sources, objects"),
    # output files whose folder is missing, or that are folders
    (["ZTF20abfcszi", "-o", "/no/such/dir/x.ecsv"],
     "-o '/no/such/dir/x.ecsv': the folder '/no/such/dir' does not exist"),
    (["ZTF20abfcszi", "-o", "."], "-o '.' is a folder: name the file to write"),
    (["cutouts", "ZTF20abfcszi", "--object-id", "ZTF20abfcszi", "-o", "x.fits"],
     "--object-id is not an option of cutouts with --survey ztf"),
    (["ssobulk", "sso.csv"], "FILE 'sso.csv': the bulk download is a parquet file"),
    (["ZTF20abfcszi", "-o", "sub.ecsv/"], "-o 'sub.ecsv/' names a folder"),
    (["ZTF20abfcszi", "-o", "a" * 300 + ".ecsv"], "cannot be a file: File name too long"),
    (["ZTF20abfcszi", "--lightcurve", "/no/such/dir/x.png"],
     "--lightcurve '/no/such/dir/x.png': the folder '/no/such/dir' does not exist"),
    # the library's messages in flags: a positional's metavar, an option the parser leaves
    (["ssobulk", "/no/such/dir/sso.parquet"],
     "FILE '/no/such/dir/sso.parquet': the folder '/no/such/dir' does not exist"),
    (["region", "10 20", "5arcsec", "--survey", "lsst", "--kind", "foo"],
     "--kind foo is unknown: choose among 'within', 'across'"),
    (["region", "10 20", "5arcsec", "--survey", "lsst", "--kind", ""],
     "--kind '' is unknown: choose among 'within', 'across'"),
    (["tracklet", "TRCK_20211022", "--date", "2021"],
     "Give TRACKLET (a tracklet ID such as 'TRCK_20211120_031428_00') or --date (a prefix), "
     "one of them"),
])
def test_usage_errors_exit_2_before_any_query(capsys, args, words):
    # a server nobody answers: the error must come before any request
    assert main([*args, "--server", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_objects_without_a_command_name_and_top_level_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"    {name}" in out for name in COMMANDS)
    assert main(["ZTF21aax", "--server", "http://127.0.0.1:9"]) == 2
    assert "usage: fink-query objects" in capsys.readouterr().err


def test_region_plot_of_several_positions_draws_one_figure_each(run, tmp_path):
    positions = tmp_path / "positions.csv"
    positions.write_text("ra,dec\n23.5,30.7\n7.8064641,85.00883\n")  # ZTF20abfcszi
    png = tmp_path / "sky.png"
    status, stdout, stderr = run("region", str(positions), "10arcmin", "--plot", str(png))
    assert status == 0, stderr
    figures = [tmp_path / "sky_0.png", tmp_path / "sky_1.png"]
    assert all(f.read_bytes().startswith(PNG_MAGIC) for f in figures) and not png.exists()
    assert f"{figures[0]}, {figures[1]}" in stdout
