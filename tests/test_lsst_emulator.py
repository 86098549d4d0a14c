"""The Rubin client over real HTTP against the loopback Fink/LSST emulator, asserting values
read independently from the alert files (fastavro, astropy)."""
import io
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astroquery.exceptions import InvalidQueryError, NoResultsWarning

from astroquery_fink import FinkLSSTClass
from astroquery_fink.lsst import flux_to_mag, to_time

fastavro = pytest.importorskip("fastavro")
pytest.importorskip("flask")

DATA = Path(__file__).parent / "data" / "lsst"
PROCESSED = DATA / "part-2-918301.avro"
RAW = sorted(p for p in DATA.glob("1692*.avro"))
FORMATS = ["json", "csv", "parquet"]


def read(path):
    with open(path, "rb") as fh:
        return list(fastavro.reader(fh))


@pytest.fixture(scope="module")
def alerts():
    return read(PROCESSED) + [a for p in RAW for a in read(p)]


@pytest.fixture(scope="module")
def static(alerts):
    """diaObjectId -> its alert (the files hold one alert per object)."""
    return {a["diaSource"]["diaObjectId"]: a for a in alerts if a["diaSource"]["diaObjectId"]}


@pytest.fixture(scope="module")
def finklsst():
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator([PROCESSED, *RAW], survey="lsst") as emu:
        yield FinkLSSTClass(server=emu.url)


def sources_of(alert):
    return [alert["diaSource"], *(alert["prvDiaSources"] or [])]


def stored(alert) -> int:
    """Rows the server holds for an object: one per row key (salt_diaObjectId_midpoint),
    so two diaSources of one visit (313897383979122767 has such a pair) are one row."""
    return len({s["midpointMjdTai"] for s in sources_of(alert)})


def test_light_curves_rows_and_fluxes_per_object(finklsst, static):
    ids = list(static)
    t = finklsst.query_object(ids, columns=["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai",
                                            "r:psfFlux", "r:psfFluxErr", "r:band"])
    assert t.meta["missing_ids"] == []
    assert len(t) == sum(stored(a) for a in static.values()) == 1746
    assert np.all(np.diff(t["r:midpointMjdTai"]) <= 0)
    expected = {s["diaSourceId"]: s for a in static.values() for s in sources_of(a)}
    assert set(t["r:diaSourceId"].tolist()) <= set(expected)
    assert len(set(t["r:diaSourceId"].tolist())) == len(t)
    flux = np.array([expected[i]["psfFlux"] for i in t["r:diaSourceId"].tolist()])
    np.testing.assert_allclose(t["r:psfFlux"], flux, rtol=1e-6)
    bands = [expected[i]["band"] for i in t["r:diaSourceId"].tolist()]
    assert t["r:band"].tolist() == bands
    counts = dict(zip(*np.unique(t["r:diaObjectId"], return_counts=True), strict=True))
    assert counts == {oid: stored(a) for oid, a in static.items()}
    assert counts[170028485706776685] == 346 and counts[313897383979122767] == 319
    assert counts[169298432639893512] == 2  # LSSTCam: second detection, one prvDiaSource


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_give_one_table_with_exact_ids(finklsst, fmt):
    oid = 313897383979122767
    ref = finklsst.query_object(oid, output_format="json")
    t = finklsst.query_object(oid, output_format=fmt)
    assert len(t) == len(ref) == 319 and set(t.colnames) == set(ref.colnames)
    assert t["r:diaObjectId"].dtype == np.int64
    assert set(t["r:diaObjectId"].tolist()) == {313897383979122767}
    assert t["r:diaSourceId"].tolist() == ref["r:diaSourceId"].tolist()
    for name in ("r:psfFlux", "r:midpointMjdTai", "r:isDipole", "r:ssObjectId", "r:band"):
        assert t[name].dtype.kind == ref[name].dtype.kind, name
        assert np.ma.getmaskarray(t[name]).tolist() == np.ma.getmaskarray(ref[name]).tolist()


def test_summary_row_and_forced_photometry_counts(finklsst, static):
    ddf = [oid for oid, a in static.items() if a.get("pred")]
    s = finklsst.get_object_summary(ddf)
    assert sorted(s["r:diaObjectId"].tolist()) == sorted(ddf)
    for row in s:
        a = static[int(row["r:diaObjectId"])]
        assert row["r:nDiaSources"] == a["diaObject"]["nDiaSources"]
        assert row["r:ra"] == pytest.approx(a["diaObject"]["ra"])
        assert row["f:firstDiaSourceMjdTaiFink"] == pytest.approx(
            a["misc"]["firstDiaSourceMjdTaiFink"])
        assert bool(row["f:is_cataloged"]) is a["pred"]["is_cataloged"]
    fp = finklsst.query_forced_photometry(ddf)
    counts = dict(zip(*np.unique(fp["r:diaObjectId"], return_counts=True), strict=True))
    assert counts == {oid: len(static[oid]["prvDiaForcedSources"]) for oid in ddf}
    assert fp["r:psfFlux"].unit == u.nJy
    mag, err = flux_to_mag(fp)
    assert mag.unit == u.ABmag and len(err) == len(fp)


def test_cone_search_membership_by_separation(finklsst, alerts, static):
    centre = SkyCoord(10.2, -44.5, unit="deg")
    radius = 0.6 * u.deg
    latest = {oid: a["diaSource"] for oid, a in static.items()}
    coords = SkyCoord([s["ra"] for s in latest.values()], [s["dec"] for s in latest.values()],
                      unit="deg")
    inside = {oid for oid, sep in zip(latest, centre.separation(coords), strict=True)
              if sep <= radius}
    assert inside  # the LSSTCam field
    t = finklsst.query_region(centre, radius, columns=["r:diaObjectId"])
    assert set(t["r:diaObjectId"].tolist()) == inside
    assert np.all(np.diff(t["v:separation_degree"]) >= 0)
    sep = centre.separation(SkyCoord(t["r:ra"], t["r:dec"])).deg
    np.testing.assert_allclose(t["v:separation_degree"], sep, atol=1e-9)
    # two positions in one call, labelled; one of them empty
    two = finklsst.query_region([centre, SkyCoord(0, 80, unit="deg")], radius,
                                columns=["r:diaObjectId"])
    assert set(two["input_index"].tolist()) == {0} and len(two) == len(inside)


def test_cutouts_equal_the_stamps_of_every_size(finklsst, alerts):
    by_shape = {}
    for a in alerts:
        with fits.open(io.BytesIO(a["cutoutScience"])) as h:
            by_shape.setdefault(h[0].data.shape, a)
    assert len(by_shape) >= 3  # 30, 38, 67, 71 px...
    for shape, a in by_shape.items():
        hdul = finklsst.get_cutouts(a["diaSourceId"])
        assert hdul[0].header["DIASRCID"] == a["diaSourceId"]
        for kind in ("Science", "Template", "Difference"):
            with fits.open(io.BytesIO(a[f"cutout{kind}"])) as ref:
                np.testing.assert_array_equal(hdul[kind.upper()].data, ref[0].data)
                np.testing.assert_array_equal(hdul[kind.upper() + "_PSF"].data, ref[2].data)
        assert hdul["SCIENCE"].data.shape == shape
    a = by_shape[max(by_shape)]
    arrays = finklsst.get_cutouts(a["diaSourceId"], as_array=True)
    with fits.open(io.BytesIO(a["cutoutDifference"])) as ref:
        np.testing.assert_array_equal(arrays["Difference"], ref[0].data)
    with pytest.raises(InvalidQueryError, match="no alert with diaSourceId"):
        finklsst.get_cutouts(170094456272322681)


def test_cutouts_from_a_light_curve_row_carry_ids_and_time(finklsst, static):
    t = finklsst.query_object(170028485706776685)
    hdul = finklsst.get_cutouts(t[0], kind="Difference")
    assert [h.name for h in hdul] == ["PRIMARY", "DIFFERENCE", "DIFFERENCE_UNCERT",
                                      "DIFFERENCE_PSF"]
    head = hdul[0].header
    assert head["DIAOBJID"] == 170028485706776685
    assert head["DIASRCID"] == static[170028485706776685]["diaSourceId"] == 170094456272322680
    assert head["MJD-AVG"] == pytest.approx(61105.093643486834) and head["TIMESYS"] == "TAI"
    assert to_time(t)[0].utc.iso.startswith("2026-03-06 02:14")


def test_midpoint_selects_one_source_and_sso_has_no_object(finklsst, static):
    a = static[170028485706776685]
    one = finklsst.query_object(170028485706776685, midpointMjdTai=a["diaSource"]["midpointMjdTai"])
    assert one["r:diaSourceId"].tolist() == [a["diaSource"]["diaSourceId"]]
    s = finklsst.query_sso("K04J12Q")
    assert len(s) == 1 and np.all(s["r:diaObjectId"].mask)
    assert s["r:ssObjectId"][0] == 21163624394469969
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        assert len(finklsst.query_object(170094456480989258)) == 0  # an SSO diaSourceId


def test_schema_and_lists(finklsst):
    s = finklsst.get_schema("sources")
    names = set(s["name"])
    assert {"r:psfFlux", "r:midpointMjdTai", "f:clf_cats_class"} <= names
    assert s["unit"][s["name"] == "r:psfFlux"][0] == "nJy"
    assert "in_tns" in finklsst.get_tags()["tag"]
    assert len(finklsst.get_blocks()) >= 10


def test_async_twin_and_figures(finklsst, static):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from astroquery_fink.plotting import plot_lsst_cutouts, plot_lsst_lightcurve

    response = finklsst.query_object_async(170028485706776685, columns=["r:psfFlux"])
    lines = response.text.splitlines()  # the raw csv answer (the default format)
    assert response.status_code == 200 and lines[0] == "r:diaObjectId,r:midpointMjdTai,r:psfFlux"
    assert len(lines) == 1 + 346 and {x.split(",")[0] for x in lines[1:]} == {
        "170028485706776685"}
    lc = finklsst.query_object(170028485706776685)
    fp = finklsst.query_forced_photometry(170028485706776685)
    ax = plot_lsst_lightcurve(lc, forced=fp, magnitude=True, flux_column="r:scienceFlux")
    assert ax.yaxis_inverted() and ax.get_xlabel() == "MJD (TAI)"
    labels = sorted(t.get_text() for t in ax.get_legend().get_texts())
    bands = sorted({s["band"] for s in sources_of(static[170028485706776685])})
    assert [x for x in labels if "forced" not in x] == bands
    # every plotted magnitude point is a source with a positive science flux
    drawn = sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() not in
                ("None", None, ""))
    positive = np.sum(np.ma.filled(lc["r:scienceFlux"], -1) > 0) + \
        np.sum(np.ma.filled(fp["r:scienceFlux"], -1) > 0)
    assert drawn == positive
    fig = plot_lsst_cutouts(finklsst.get_cutouts(lc[0]))
    assert [a.get_title() for a in fig.axes[:3]] == ["Science", "Template", "Difference"]
    assert "diaSourceId 170094456272322680" in fig._suptitle.get_text()
    plt.close("all")


def test_magnitudes_of_difference_fluxes_say_what_is_left_out(finklsst):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from astropy.utils.exceptions import AstropyUserWarning

    from astroquery_fink.plotting import plot_lsst_lightcurve

    lc = finklsst.query_object(170028485706776685)
    flux = np.ma.filled(lc["r:psfFlux"].astype(float), np.nan)
    not_positive = int(np.sum(np.isfinite(flux) & (flux <= 0)))
    assert not_positive > 0
    with pytest.warns(AstropyUserWarning, match=f"^{not_positive} point.s. with a r:psfFlux "
                                                "not positive have no magnitude"):
        ax = plot_lsst_lightcurve(lc, magnitude=True)
    drawn = sum(len(line.get_xdata()) for line in ax.lines
                if line.get_marker() not in ("None", None, ""))
    assert drawn == int(np.sum(flux > 0)) and ax.get_ylabel() == "AB magnitude (psfFlux)"
    plt.close("all")


def test_a_gw_event_without_a_map_is_said_so_as_on_ztf(finklsst):
    # the server answers a GraceDB failure with the one-row table {"status": ...}: before the
    # two surveys shared one sky-map search, Rubin users got a bare ErrorAnswerError
    with pytest.raises(InvalidQueryError,
                       match="No sky map of 'S230518h' came from GraceDB .*not reachable"):
        finklsst.query_skymap("S230518h", credible_level=0.9)
    raw = finklsst.query_skymap_async("S230518h", credible_level=0.9)
    assert raw.json() == [{"status": "GraceDB is not reachable from the Fink emulator"}]


def test_the_default_wire_format_is_exact(lsst_emulator, static):
    # the server's JSON rounds floats to 10 decimals (pandas to_json, fink-object-api
    # apps/utils/utils.py): a covariance of -1.4e-11 became -0.0, and a midpointMjdTai moved
    # by microseconds no longer found its source; the default (csv) keeps every digit
    rubin = FinkLSSTClass(server=lsst_emulator.url)
    oid = 170028485706776685
    obj = static[oid]["diaObject"]
    s = rubin.get_object_summary(oid)
    assert s.meta["payload"]["output-format"] == "csv"
    # Avro floats are stored as the shortest text of their float32 (as HBase returns them)
    for name in ("ra_dec_Cov", "raErr", "decErr"):
        assert s[f"r:{name}"][0] == float(str(np.float32(obj[name]))), name
    assert s["r:ra_dec_Cov"][0] == pytest.approx(-1.3939346e-11, rel=1e-7)
    lc = rubin.query_object(oid, columns=["r:diaSourceId", "r:midpointMjdTai"])
    times = {s["diaSourceId"]: s["midpointMjdTai"] for s in sources_of(static[oid])}
    assert {i: times[i] for i in lc["r:diaSourceId"].tolist()} == dict(
        zip(lc["r:diaSourceId"].tolist(), lc["r:midpointMjdTai"].tolist(), strict=True))
    rounded = rubin.query_object(oid, columns=["r:diaSourceId", "r:midpointMjdTai"],
                                 output_format="json")
    moved = [k for k in range(len(lc))
             if rounded["r:midpointMjdTai"][k] != lc["r:midpointMjdTai"][k]]
    assert len(moved) > len(lc) // 2  # what JSON did to most times
    for k in [0, 1, *moved[-3:]]:
        row = lc[k]
        one = rubin.query_object(oid, midpointMjdTai=row["r:midpointMjdTai"],
                                 columns=["r:diaSourceId"])
        assert one["r:diaSourceId"].tolist() == [row["r:diaSourceId"]]


def test_every_source_reads_alike_from_csv_either_way_and_from_parquet(lsst_emulator,
                                                                       monkeypatch):
    # the bundled sample's whole light curves (about 1.4 MB of csv): pyarrow's reading and
    # the Python one give the same Table, and that of the exact parquet answer
    pytest.importorskip("pyarrow")
    import requests

    from astroquery_fink import _tables
    from astroquery_fink.lsst.schema import columns

    url = lsst_emulator.url + "/api/v1/sources"
    ids = ",".join(str(i) for i in lsst_emulator.object_ids)
    body = {fmt: requests.post(url, json={"diaObjectId": ids, "output-format": fmt},
                               timeout=60).content for fmt in ("csv", "parquet")}
    names = body["csv"].split(b"\n", 1)[0].decode().split(",")
    assert _tables._csv_via_arrow(body["csv"], names, columns()) is not None
    tables = []
    for threshold in (0, 1 << 62):  # pyarrow from this size on (0: always, else never)
        monkeypatch.setattr(_tables, "_SMALL_CSV_BYTES", threshold)
        tables.append(_tables.parse_table(body["csv"], "csv", schema=columns()))
    tables.append(_tables.parse_table(body["parquet"], "parquet", schema=columns()))
    ref = tables[-1]
    assert len(ref) > 1000
    for t in tables[:2]:
        assert t.colnames == ref.colnames
        for name in ref.colnames:
            assert t[name].dtype.kind == ref[name].dtype.kind, name
            missing = np.ma.getmaskarray(ref[name])
            assert np.ma.getmaskarray(t[name]).tolist() == missing.tolist(), name
            got, want = np.ma.getdata(t[name])[~missing], np.ma.getdata(ref[name])[~missing]
            assert got.tolist() == want.tolist(), name


def test_a_selection_without_the_time_column_is_still_newest_first(finklsst):
    # the client asks r:midpointMjdTai to sort by it (the server sorts only when it comes)
    oid = 313897383979122767
    with_time = finklsst.query_object(oid, columns=["r:psfFlux", "r:midpointMjdTai"])
    only_flux = finklsst.query_object(oid, columns=["r:psfFlux"])
    assert only_flux.colnames == ["r:psfFlux"]
    assert np.all(np.diff(with_time["r:midpointMjdTai"]) <= 0)
    assert only_flux["r:psfFlux"].tolist() == with_time["r:psfFlux"].tolist()


def test_a_tns_reverse_lookup_without_a_tns_name_is_no_match(finklsst):
    # the server answers the object's r:diaObjectId alone when no alert holds a TNS name
    with pytest.warns(NoResultsWarning, match="no TNS name for diaObjectId 313897383979122767"):
        t = finklsst.resolve(313897383979122767, resolver="tns", reverse=True)
    assert len(t) == 0
