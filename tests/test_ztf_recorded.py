"""The ZTF search clients against recorded answers (tests/data/ztf_*, built by
tests/data/ztf_make_recorded.py from the bundled alerts with pandas) and stand-in servers."""
import ast
import gzip
import io
import json
import threading
import time

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from _helpers import DATA, make_response, recorded_bytes, recorded_json
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import (
    InputWarning,
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
)

from astroquery_fink import conf
from astroquery_fink.exceptions import PartialResultError

CONES = [(23.5, 30.7), (23.62, 30.95), (60.0, 25.0)]
RADIUS = 1800 * u.arcsec


def cone_answers(fmt="json"):
    """A stand-in /conesearch answering each recorded position."""
    def answer(url, payload):
        assert url.endswith("/api/v1/conesearch")
        k = int(np.argmin([abs(payload["ra"] - ra) + abs(payload["dec"] - dec)
                           for ra, dec in CONES]))
        return make_response(recorded_bytes(f"ztf_conesearch_{k}.{fmt}"))
    return answer


def test_region_one_position(recorded):
    fink, rec = recorded(cone_answers())
    t = fink.query_region(SkyCoord(*CONES[0], unit="deg"), RADIUS, output_format="json")
    raw = recorded_json("ztf_conesearch_0.json")
    assert len(t) == 9 == len(raw)
    assert "input_index" not in t.colnames
    assert list(t["i:objectId"]) == [r["i:objectId"] for r in raw]
    assert t["v:separation_degree"].unit == u.deg
    assert np.all(np.diff(t["v:separation_degree"]) >= 0)
    # distances agree with astropy's, and every object is within the radius
    sep = SkyCoord(*CONES[0], unit="deg").separation(SkyCoord(t["i:ra"], t["i:dec"]))
    np.testing.assert_allclose(sep.deg, t["v:separation_degree"], atol=1e-9)
    assert np.all(sep <= RADIUS)
    assert t["i:candid"].dtype == np.int64
    assert [int(c) for c in t["i:candid"]] == [r["i:candid"] for r in raw]
    assert rec.calls[0][2]["json"] == {"ra": 23.5, "dec": 30.7, "radius": 1800.0, "n": 1000,
                                      "output-format": "json"}
    assert t.meta["endpoint"] == "/api/v1/conesearch"


def test_region_several_positions_labelled_and_kept_apart(recorded):
    fink, rec = recorded(cone_answers())
    coords = SkyCoord([c[0] for c in CONES], [c[1] for c in CONES], unit="deg")
    t = fink.query_region(coords, RADIUS, output_format="json",
                          columns=["i:magpsf", "i:candid"])
    assert len(rec.calls) == 3
    assert all(c[2]["json"]["columns"] == "i:magpsf,i:candid,i:objectId,i:jd"
               for c in rec.calls)
    assert len(t) == 9 + 8
    assert list(np.bincount(t["input_index"])) == [9, 8]
    # ZTF19aawtdog is near both positions: one row for each
    assert sorted(t["input_index"][t["i:objectId"] == "ZTF19aawtdog"]) == [0, 1]
    for k in (0, 1):
        rows = t[t["input_index"] == k]
        assert np.all(np.diff(rows["v:separation_degree"]) >= 0)
        sep = coords[k].separation(SkyCoord(rows["i:ra"], rows["i:dec"]))
        np.testing.assert_allclose(sep.deg, rows["v:separation_degree"], atol=1e-9)


def test_region_parquet_gives_the_json_table(recorded):
    fink, _ = recorded(cone_answers("parquet"))
    tp = fink.query_region("23.5 30.7", RADIUS, output_format="parquet")
    fink, _ = recorded(cone_answers("json"))
    tj = fink.query_region("01:34:00 +30:42:00", RADIUS, output_format="json")
    assert tp.colnames == tj.colnames
    for name in tj.colnames:
        assert tp[name].dtype.kind == tj[name].dtype.kind, name
        if tj[name].dtype.kind == "f":
            # pandas writes JSON floats with 10 significant digits
            np.testing.assert_allclose(tp[name], tj[name], rtol=1e-9, atol=1e-9)
        else:
            assert list(tp[name]) == list(tj[name]), name


def test_region_empty_answer_warns_and_has_columns(recorded):
    fink, _ = recorded(cone_answers())
    with pytest.warns(NoResultsWarning, match="cone search"):
        t = fink.query_region((60 * u.deg, 25 * u.deg), RADIUS, output_format="json",
                              columns=["i:magpsf"])
    assert len(t) == 0
    assert {"i:magpsf", "i:objectId", "i:jd", "v:separation_degree"} <= set(t.colnames)
    assert t["v:separation_degree"].unit == u.deg and t["i:magpsf"].unit == u.mag


def test_region_cut_at_n_warns(recorded):
    fink, _ = recorded(cone_answers())
    with pytest.warns(MaxResultsWarning, match=r"n=9: .*narrow the query \(e.g. a smaller "
                                               r"radius\)"):
        t = fink.query_region("23.5 30.7", RADIUS, n=9, output_format="json")
    assert len(t) == 9 and t.meta["cut"] == ["n=9"]


@pytest.mark.parametrize("kwargs, match", [
    ({"radius": 18_001 * u.arcsec}, "maximum of 18,000"),
    ({"radius": 6 * u.deg}, "maximum of 18,000"),
    ({"radius": 10}, "needs a unit"),
    ({"window": 2 * u.day}, "needs startdate"),
    ({"startdate": "2021-01-02", "stopdate": "2021-01-01"}, "before"),
    ({"startdate": 2459000.5}, "ambiguous"),
    ({"startdate": "2021-01-01", "stopdate": "2021-02-01", "window": 1 * u.day}, "not both"),
    ({"n": 0}, "a whole number from 1"),
    ({"columns": ["v:classification"]}, "cannot be selected"),
])
def test_region_bad_input_refused_before_any_request(recorded, kwargs, match):
    fink, rec = recorded(cone_answers())
    kwargs = {"radius": RADIUS, **kwargs}
    with pytest.raises(InvalidQueryError, match=match):
        fink.query_region("23.5 30.7", **kwargs)
    with pytest.raises(InvalidQueryError, match="sky positions"):
        fink.query_region((23.5, 30.7), RADIUS)
    assert rec.calls == []


def test_region_dates_sent_as_iso():
    from astroquery_fink import Fink
    payload = Fink.query_region("23.5 30.7", RADIUS, startdate=Time(59500, format="mjd"),
                                window=12 * u.hour, get_query_payload=True)
    assert payload["startdate"] == "2021-10-13 00:00:00.000" and payload["window"] == 0.5


def test_thousand_positions_one_request_each_with_bounded_concurrency(recorded):
    busy, peak, lock = [0], [0], threading.Lock()

    def answer(url, payload):
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.0005)
        with lock:
            busy[0] -= 1
        row = {"i:objectId": "ZTF21aaaaaaa", "i:ra": payload["ra"], "i:dec": payload["dec"],
               "i:jd": 2459500.5, "v:separation_degree": 0.0}
        return make_response(pd.DataFrame([row]).to_json(orient="records"))

    fink, rec = recorded(answer)
    rng = np.random.default_rng(1)
    coords = SkyCoord(rng.uniform(0, 360, 1000), rng.uniform(-30, 80, 1000), unit="deg")
    with conf.set_temp("max_workers", 4):
        t = fink.query_region(coords, 5 * u.arcsec, output_format="json", progress=False)
    assert len(rec.calls) == 1000 and len(t) == 1000
    assert 1 <= peak[0] <= 4
    assert list(t["input_index"]) == list(range(1000))
    np.testing.assert_allclose(t["i:ra"], coords.ra.deg)


# ----------------------------------------------------------------------------- class search

def latests_server(calls=None):
    """A stand-in /latests over the recorded alerts: the class is the SIMBAD cross-match, the
    answer the newest n alerts in [startdate, stopdate] (a reversed scan with a limit)."""
    alerts = pd.read_parquet(DATA / "ztf_latests_alerts.parquet")

    def answer(url, payload):
        assert url.endswith("/api/v1/latests")
        label = payload["class"].removeprefix("(SIMBAD) ")
        start = Time(payload.get("startdate", "2019-11-01")).jd
        stop = Time(payload["stopdate"]).jd if "stopdate" in payload else Time.now().jd
        rows = alerts[(alerts["d:cdsxmatch"] == label) & (alerts["i:jd"] >= start)
                      & (alerts["i:jd"] <= stop)]
        rows = rows.sort_values("i:jd", ascending=False).head(int(payload["n"]))
        if "columns" in payload:
            rows = rows[payload["columns"].split(",")]
        return make_response(rows.to_json(orient="records"))
    return answer, alerts


def test_class_cut_warns_and_fetch_all_gets_every_alert(recorded):
    answer, alerts = latests_server()
    galaxy = alerts[alerts["d:cdsxmatch"] == "Galaxy"]
    fink, rec = recorded(answer)
    with pytest.warns(MaxResultsWarning, match="n=4"):
        t = fink.query_class("(SIMBAD) Galaxy", n=4, output_format="json")
    assert list(t["i:candid"]) == list(galaxy["i:candid"][:4])
    fink, rec = recorded(answer)
    t = fink.query_class("(SIMBAD) Galaxy", n=4, fetch_all=True, output_format="json")
    assert len(galaxy) == 19
    assert sorted(t["i:candid"]) == sorted(galaxy["i:candid"])
    assert np.all(np.diff(t["i:jd"]) <= 0)
    assert "_window" not in t.colnames and t.meta["requests"] == len(rec.calls) > 1
    # each part was asked with explicit dates, its n and the same class
    assert all({"startdate", "stopdate"} <= set(c[2]["json"]) for c in rec.calls)


def synthetic_latests(jds, fail_from=None):
    """/latests over alerts at the given times, as the server scans it: row keys
    ``<class>_<jd>_<objectId>`` compared as text from ``<class>_<start jd>`` (kept) to
    ``<class>_<stop jd>`` (excluded), newest ``n`` first; requests from number ``fail_from``
    on fail with HTTP 500."""
    alerts = pd.DataFrame({"i:objectId": [f"ZTF21aaa{k:05d}" for k in range(len(jds))],
                           "i:jd": jds, "i:candid": np.arange(len(jds)) + 10**18})
    keys = np.array([f"x_{jd!r}_{oid}" for jd, oid in zip(alerts["i:jd"], alerts["i:objectId"],
                                                          strict=True)])
    calls = []

    def answer(url, payload):
        calls.append(payload)
        if fail_from is not None and len(calls) >= fail_from:
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        start, stop = (f"x_{Time(payload[k]).jd}" for k in ("startdate", "stopdate"))
        inside = np.flatnonzero((keys >= start) & (keys < stop))
        newest = inside[np.argsort(keys[inside])[::-1]][:int(payload["n"])]
        return make_response(alerts.iloc[newest].to_json(orient="records"))
    return answer, alerts, calls


# ZTF times: 7 decimals, each shared by the alerts of one exposure
EXPOSURES = np.round(2460000.5123457 + np.arange(16) * 0.0412345, 7)


def test_class_fetch_all_pages_through_the_range(recorded):
    # 40 alerts, 1 to 4 per exposure: pages are cut inside exposures
    jds = np.repeat(EXPOSURES, [3, 1, 4, 2] * 4)[:40]
    answer, alerts, calls = synthetic_latests(jds)
    fink, _ = recorded(answer)
    t = fink.query_class("SN candidate", n=7, fetch_all=True, startdate="2023-01-01",
                         stopdate="2023-03-01", output_format="json")
    assert sorted(t["i:candid"]) == sorted(alerts["i:candid"])
    # each answer gives at least one alert that came before: at most 4 (an exposure) again
    assert t.meta["requests"] == len(calls) <= -(-40 // 3) and len(calls) >= 40 // 7
    assert all(p["n"] == 7 for p in calls)
    assert "cut" not in t.meta


def test_class_fetch_all_names_alerts_of_one_exposure_it_cannot_split(recorded):
    jds = np.r_[EXPOSURES[9], [EXPOSURES[7]] * 5, EXPOSURES[5], EXPOSURES[3]]
    answer, alerts, calls = synthetic_latests(jds)
    fink, _ = recorded(answer)
    with pytest.warns(MaxResultsWarning,
                      match="1 date range may still hold more than the n=3 alerts") as w:
        t = fink.query_class("SN candidate", n=3, fetch_all=True, startdate="2023-01-01",
                             stopdate="2023-03-01", output_format="json")
    # the alerts before and after the crowded exposure all come; 3 of its 5 do
    assert sorted(t["i:jd"]) == [EXPOSURES[3], EXPOSURES[5]] + [EXPOSURES[7]] * 3 + [
        EXPOSURES[9]]
    (a, b), = t.meta["cut"]
    assert Time(a).jd < EXPOSURES[7] < Time(b).jd
    assert Time(a, format="iso").iso in str(w[0].message)


def test_class_fetch_all_failure_keeps_the_pages_that_arrived(recorded):
    answer, alerts, calls = synthetic_latests(EXPOSURES[:10], fail_from=3)
    fink, _ = recorded(answer)
    with conf.set_temp("max_retries", 0), pytest.raises(PartialResultError) as info:
        fink.query_class("SN candidate", n=3, fetch_all=True, startdate="2023-01-01",
                         stopdate="2023-03-01", output_format="json")
    err = info.value
    # two pages of 3, the second starting again at the first's oldest: 5 alerts
    assert sorted(err.table["i:jd"]) == list(EXPOSURES[5:10])
    assert "_window" not in err.table.colnames
    (failed,) = err.failed_ids
    start, stop = failed.split("/")
    assert start == "2023-01-01 00:00:00.000"
    # just above the oldest alert's jd text: one unit of its last decimal, and the rounding
    assert 1e-7 < Time(stop).jd - EXPOSURES[5] < 1e-7 + 3e-8
    assert "HTTP 500" in str(err.errors[failed]) and "5 alerts" in str(err)


def test_class_fetch_all_on_the_emulator_keeps_alerts_of_one_exposure(emulator):
    # IR: 3 alerts, two of one exposure (2459540.6867477): n=2 cuts inside it
    from astroquery_fink import FinkClass

    fink = FinkClass(server=emulator.url)
    full = fink.query_class("(SIMBAD) IR", n=5000, columns=["i:jd", "i:objectId"])
    # the second page is 2 alerts of the same exposure: it may have held more, and says so
    with pytest.warns(MaxResultsWarning, match="may still hold more than the n=2 alerts"):
        paged = fink.query_class("(SIMBAD) IR", n=2, fetch_all=True,
                                 columns=["i:jd", "i:objectId"])
    assert len(full) == 3 and len(set(full["i:jd"])) == 2
    assert sorted(zip(paged["i:objectId"], paged["i:jd"], strict=True)) == sorted(
        zip(full["i:objectId"], full["i:jd"], strict=True))


def test_class_fetch_all_is_bounded(recorded):
    answer, _ = latests_server()
    fink, rec = recorded(answer)
    with pytest.warns(MaxResultsWarning,
                      match="1 date range may still hold more than the n=2 alerts"):
        t = fink.query_class("(SIMBAD) Galaxy", n=2, fetch_all=True, max_requests=3,
                             output_format="json")
    assert len(rec.calls) == 3 and 0 < len(t) < 19 and t.meta["cut"]


def test_class_max_requests_without_fetch_all_is_refused_not_ignored(recorded):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError) as info:
        fink.query_class("(SIMBAD) Galaxy", n=2, max_requests=3)
    assert str(info.value) == "max_requests applies with fetch_all=True only"
    assert rec.calls == []


def test_class_fetch_all_columns_keep_the_selection(recorded):
    answer, alerts = latests_server()
    fink, rec = recorded(answer)
    t = fink.query_class("(SIMBAD) Galaxy", n=5, fetch_all=True, columns=["i:magpsf"],
                         output_format="json")
    assert rec.calls[0][2]["json"]["columns"] == "i:magpsf,i:objectId,i:jd"
    assert t.colnames == ["i:magpsf"] and len(t) == 19


@pytest.mark.parametrize("kwargs, match", [
    ({"trend": "up"}, "trend='up' is unknown"),
    ({"trend": "low_state"}, "only for class"),
    ({"trend": "rising", "fetch_all": True}, "trend"),
    ({"n": -1}, "a whole number from 1"),
    ({"color": "yes"}, "True or False"),
])
def test_class_bad_input(recorded, kwargs, match):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match=match):
        fink.query_class("SN candidate", **kwargs)
    with pytest.raises(InvalidQueryError, match="per object"):
        fink.query_class("SLSN candidate", fetch_all=True)
    assert rec.calls == []


def test_class_payload_names_are_the_servers():
    from astroquery_fink import Fink
    payload = Fink.query_class("(CTA) Blazar low state", n=5, trend="new_low_state",
                               color=True, startdate="2024-11-03 12:30:00",
                               output_format="csv", get_query_payload=True)
    assert payload == {"class": "(CTA) Blazar low state", "n": 5,
                       "startdate": "2024-11-03 12:30:00.000", "trend": "new_low_state",
                       "color": True, "output-format": "csv"}
    assert "color" not in Fink.query_class("SN candidate", get_query_payload=True)


def test_classes_dict_and_table(recorded):
    fink, rec = recorded([make_response(recorded_bytes("ztf_classes.json"))] * 2)
    classes = fink.get_classes()
    assert classes == recorded_json("ztf_classes.json")
    assert rec.calls[0][0] == "GET"
    t = fink.get_classes(as_table=True)
    assert len(t) == 7 and t.colnames == ["class", "origin"]
    assert list(t["class"][t["origin"] == "Fink classifiers"]) == [
        "Ambiguous", "Early SN Ia candidate", "SN candidate"]


# ----------------------------------------------------------------------------- statistics

def test_statistics_time_column_and_counts(recorded):
    fink, rec = recorded([make_response(recorded_bytes("ztf_statistics_all.json"))])
    t = fink.get_statistics(output_format="json")
    assert rec.calls[0][2]["json"] == {"date": "", "output-format": "json"}
    assert isinstance(t["time"], Time) and t.colnames[0] == "time"
    assert list(t["time"].strftime("%Y%m%d")) == list(t["basic:date"])
    assert np.all(np.diff(t["time"].jd) > 0)
    # every bundled alert is counted once, on its UTC night
    jd = pd.read_parquet(DATA / "ztf_latests_alerts.parquet")["i:jd"]
    nights = pd.Series(Time(jd.to_numpy(), format="jd").strftime("%Y%m%d")).value_counts()
    assert dict(zip(t["basic:date"], t["basic:sci"], strict=True)) == nights.to_dict()
    assert t["basic:sci"].dtype.kind == "i"


def test_statistics_arguments():
    from astroquery_fink import Fink
    assert Fink.get_statistics("2021-11", columns="basic:sci", get_query_payload=True) == {
        "date": "202111", "columns": "basic:sci", "output-format": "parquet"}
    assert Fink.get_statistics(Time("2021-11-20T03:00:00"), get_query_payload=True)[
        "date"] == "20211120"
    with pytest.raises(InvalidQueryError, match="YYYYMMDD"):
        Fink.get_statistics("Nov 2021")


# ----------------------------------------------------------------------------- other endpoints

def test_skymap_sends_the_gzipped_fits_as_the_server_reads_it(tmp_path):
    from astroquery_fink import Fink
    path = tmp_path / "map.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"PROB": [0.5, 0.5]}))]).writeto(
        path)
    payload = Fink.query_skymap(bayestar=path, credible_level=0.1, get_query_payload=True)
    sent = ast.literal_eval(payload["bayestar"])  # the server evaluates the text
    assert gzip.decompress(sent) == path.read_bytes()
    assert payload["credible_level"] == 0.1 and payload["n_day_before"] == 1.0
    with pytest.warns(InputWarning, match="7 days at most"):
        Fink.query_skymap("S200219ac", credible_level=0.2, n_day_before=8 * u.day,
                          get_query_payload=True)
    with pytest.raises(InvalidQueryError, match="not a FITS"):
        Fink.query_skymap(bayestar=b"hello", credible_level=0.1)
    with pytest.raises(InvalidQueryError, match="one"):
        Fink.query_skymap("S200219ac", bayestar=path, credible_level=0.1)
    with pytest.raises(InvalidQueryError, match=r"\(0, 1\]"):
        Fink.query_skymap("S200219ac", credible_level=0)


def test_sso_ssoft_ssocand_tracklet_resolver_anomaly_payloads():
    from astroquery_fink import Fink
    assert Fink.query_sso(["8467", 8467, "2010 JO69"], withEphem=True,
                          get_query_payload=True) == [
        {"n_or_d": "8467", "withEphem": True, "output-format": "parquet"},
        {"n_or_d": "2010JO69", "withEphem": True, "output-format": "parquet"}]
    p = Fink.query_sso("8467", withcutouts=True, cutout_kind="Template",
                       columns=["i:jd"], get_query_payload=True)
    assert p["columns"] == "i:jd,i:ssnamenr,i:objectId,i:candid" and p["cutout-kind"] == "Template"
    with pytest.raises(InvalidQueryError, match="one object"):
        Fink.query_sso("8467,1922", withResiduals=True)
    assert Fink.get_ssoft(sso_name="Julienpeloton", version="2024.11",
                          get_query_payload=True) == {
        "sso_name": "Julienpeloton", "flavor": "SHG1G2", "version": "2024.11",
        "output-format": "parquet"}
    for kwargs in ({"version": "2023.01"}, {"flavor": "SSHG1G2"}, {"version": "24.11"}):
        with pytest.raises(InvalidQueryError):
            Fink.get_ssoft(**kwargs)
    with pytest.raises(InvalidQueryError, match="lightcurves"):
        Fink.query_ssocand("orbParams", start_date="2021-01-01")
    assert Fink.query_tracklet(date=Time("2021-11-20T03:14:28"), get_query_payload=True)[
        "date"] == "2021-11-20 03:14:28"
    assert Fink.query_tracklet("TRCK_20211120_03", get_query_payload=True)["id"] == \
        "TRCK_20211120_03"
    for bad in ({"id": "TRACK_1"}, {"date": "20-11-2021"}, {}):
        with pytest.raises(InvalidQueryError):
            Fink.query_tracklet(**bad)
    assert Fink.resolve("ZTF21aaxtctv", resolver="simbad", reverse=True,
                        get_query_payload=True) == {
        "resolver": "simbad", "name": "ZTF21aaxtctv", "nmax": 10, "reverse": True,
        "output-format": "parquet"}
    with pytest.raises(InvalidQueryError, match="resolver=.* is unknown"):
        Fink.resolve("Vega", resolver="sesame")
    assert Fink.query_anomaly(n=3, stop_date="2021-11-20", get_query_payload=True) == {
        "n": 3, "stop_date": "2021-11-20 00:00:00.000", "output-format": "parquet"}


def test_resolver_cap_warning_depends_on_the_service(recorded):
    # HBase cells, sent as text (fink-object-api apps/utils/decoding.py, hbase_to_dict)
    rows = pd.DataFrame({"i:ssnamenr": ["33803"], "i:name": ["Julienpeloton"],
                         "i:number": ["33803"]}).to_json(orient="records")
    fink, _ = recorded([make_response(rows)] * 2)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = fink.resolve("julienpeloton", resolver="ssodnet", nmax=1, output_format="json")
    assert t["i:number"][0] == "33803"
    with pytest.warns(MaxResultsWarning, match=r"nmax=1: .*\(e.g. a longer name\)"):
        fink.resolve("ZTF21aaxtctv", resolver="tns", reverse=True, nmax=1,
                     output_format="json")


def test_ssoft_parquet_table(recorded):
    frame = pd.DataFrame({"sso_name": ["Julienpeloton"], "sso_number": [33803],
                          "H_1": [15.2], "G1_1": [0.3]})
    buf = io.BytesIO()
    frame.to_parquet(buf)
    fink, rec = recorded([make_response(buf.getvalue(), content_type="parquet")])
    t = fink.get_ssoft(sso_number=33803)
    assert t["sso_number"][0] == 33803 and t["H_1"][0] == 15.2
    assert rec.calls[0][2]["json"]["sso_number"] == 33803


# ------------------------------------------------- solar system, tracklets, anomalies, candidates

ALERT_COLUMNS = ["i:objectId", "i:jd", "i:candid", "i:magpsf", "i:ra", "i:dec"]


def newest_first(rows):
    """The documented order: i:jd descending, ties (one exposure) by i:objectId."""
    return sorted(rows, key=lambda r: (-r["i:jd"], r["i:objectId"]))


def test_sso_rows_are_the_recorded_alerts(recorded):
    rows = recorded_json("ztf_sso.json")
    numbers = [r["sso_number"] for r in rows]
    fink, rec = recorded(lambda url, body: make_response(json.dumps(
        [r for r in rows if str(r["sso_number"]) == body["n_or_d"]]).encode()))
    t = fink.query_sso(numbers, columns=ALERT_COLUMNS, output_format="json")
    # one request per name; i:ssnamenr, which the server adds to every selection, is asked
    # for: each object's rows are one scan, capped at 10,000
    assert [c[2]["json"]["n_or_d"] for c in rec.calls] == [str(n) for n in numbers]
    assert rec.calls[0][2]["json"]["columns"].split(",") == ALERT_COLUMNS + ["i:ssnamenr"]
    assert list(t["i:candid"]) == [r["i:candid"] for r in newest_first(rows)]
    assert list(t["sso_number"]) == [r["sso_number"] for r in newest_first(rows)]
    assert list(t["sso_name"]) == [r["sso_name"] for r in newest_first(rows)]
    assert t["i:candid"].dtype == np.int64 and t["sso_number"].dtype == np.int64
    assert t["i:magpsf"].unit == u.mag and np.allclose(
        t["i:magpsf"], [r["i:magpsf"] for r in newest_first(rows)])


def test_tracklet_rows_are_the_recorded_alerts_of_the_night(recorded):
    rows = recorded_json("ztf_tracklet.json")
    fink, rec = recorded([make_response(recorded_bytes("ztf_tracklet.json"))])
    t = fink.query_tracklet(date="2021-06-04", output_format="json")
    assert rec.calls[0][2]["json"]["date"] == "2021-06-04"
    assert len(t) == len(rows) == 15 and set(t["d:tracklet"]) == {"TRCK_20210604_093609_00"}
    assert list(t["i:jd"]) == [r["i:jd"] for r in newest_first(rows)]
    assert list(t["i:objectId"]) == [r["i:objectId"] for r in newest_first(rows)]


def test_anomaly_rows_keep_their_scores(recorded):
    rows = recorded_json("ztf_anomaly.json")
    fink, rec = recorded([make_response(recorded_bytes("ztf_anomaly.json"))])
    t = fink.query_anomaly(n=10, start_date="2025-06-01", output_format="json")
    assert rec.calls[0][2]["json"] == {"n": 10, "start_date": "2025-06-01 00:00:00.000",
                                       "output-format": "json"}
    expected = newest_first(rows)
    assert list(t["i:candid"]) == [r["i:candid"] for r in expected]
    assert np.allclose(t["d:anomaly_score"], [r["d:anomaly_score"] for r in expected])
    with pytest.warns(MaxResultsWarning, match="n=9"):  # as many rows as asked: cut
        fink2, _ = recorded([make_response(recorded_bytes("ztf_anomaly.json"))])
        fink2.query_anomaly(n=9, output_format="json")


def test_ssocand_orbits_keep_their_values(recorded):
    rows = recorded_json("ztf_ssocand_orbParams.json")
    fink, rec = recorded([make_response(recorded_bytes("ztf_ssocand_orbParams.json"))])
    t = fink.query_ssocand("orbParams", output_format="json")
    assert rec.calls[0][2]["json"]["kind"] == "orbParams"
    assert len(t) == len(rows) == 1
    for name, value in rows[0].items():
        assert (t[name][0] == value) if isinstance(value, str) else np.isclose(t[name][0],
                                                                               value), name


def test_ssobulk_file_is_the_recorded_answer(recorded, tmp_path):
    answer = recorded_bytes("ztf_ssobulk.parquet")
    fink, rec = recorded([make_response(answer, content_type="application/parquet")])
    path = fink.download_ssobulk(tmp_path / "bulk.parquet", progress=False)
    assert rec.calls[0][0] == "POST" and rec.calls[0][2]["json"] == {"output-format": "parquet"}
    assert path.read_bytes() == answer
    frame = pd.read_parquet(path)
    assert list(frame["i:candid"]) == [r["i:candid"] for r in recorded_json("ztf_sso.json")]
    assert not list(tmp_path.glob(".bulk.parquet.*"))  # no partial file left behind


def test_skymap_rows_are_the_recorded_alerts_in_the_region(recorded):
    rows = recorded_json("ztf_skymap.json")  # computed with astropy-healpix from the files
    fink, rec = recorded([make_response(recorded_bytes("ztf_skymap.json"))])
    t = fink.query_skymap("EMU250610a", credible_level=0.9)
    assert rec.calls[0][2]["json"]["event_name"] == "EMU250610a"
    assert list(t["i:objectId"]) == [r["i:objectId"] for r in newest_first(rows)] == [
        "ZTF25aaugqpe", "ZTF25aauurnj"]
    assert list(t["i:candid"]) == [r["i:candid"] for r in newest_first(rows)]
    assert np.allclose(t["v:jdstartgw"], Time("2025-06-10T00:00:00").jd)


def test_skymap_gracedb_failure_row_is_the_servers_words(recorded):
    answer = '[{"status": "No superevent found with id S999999zz"}]'
    fink, _ = recorded([make_response(answer)])
    with pytest.raises(InvalidQueryError, match="No superevent found with id S999999zz"):
        fink.query_skymap("S999999zz", credible_level=0.9)


def test_simbad_reverse_rows_are_the_recorded_alerts(recorded):
    rows = recorded_json("ztf_resolver_simbad_reverse.json")
    fink, rec = recorded([make_response(recorded_bytes("ztf_resolver_simbad_reverse.json"))])
    t = fink.resolve("ZTF20abfcszi", resolver="simbad", reverse=True, nmax=25,
                     output_format="json")
    assert rec.calls[0][2]["json"] == {"resolver": "simbad", "name": "ZTF20abfcszi",
                                       "nmax": 25, "reverse": True, "output-format": "json"}
    assert len(t) == len(rows) == 21
    # each alert with its own cross-match (it changed along the light curve)
    assert dict(zip(t["i:candid"], t["d:cdsxmatch"], strict=True)) == {
        r["i:candid"]: r["d:cdsxmatch"] for r in rows}
    assert t["i:candid"].dtype == np.int64 and t["i:ra"].unit == u.deg
