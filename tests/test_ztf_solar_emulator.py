"""The ZTF Solar System, tracklet and resolver clients over HTTP against the loopback
emulator, checked against the bundled alert files read here with pandas."""
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astroquery.exceptions import InvalidQueryError, NoResultsWarning

TRACKLET = "TRCK_20210604_093609_00"


def _read(name):
    root = resources.files("astroquery_fink.testing").joinpath("data")
    df = pd.read_parquet(root.joinpath(name))
    cand = pd.json_normalize(df["candidate"].tolist())
    out = pd.DataFrame({"objectId": df["objectId"], "jd": cand["jd"], "candid": cand["candid"],
                        "ssnamenr": cand["ssnamenr"].astype(str)})
    if "tracklet" in df.columns:
        out["tracklet"] = df["tracklet"].to_numpy()
    return out


@pytest.fixture(scope="module")
def sso_alerts():
    names = ["solar/sso_2022-08-04.parquet", "night_2021-11-20_part2.parquet",
             "night_2021-11-20_part3.parquet"]
    alerts = pd.concat([_read(n) for n in names], ignore_index=True)
    return alerts[alerts["ssnamenr"].str.fullmatch(r"\d+")]


def test_sso_rows_are_the_alerts_of_each_number(fink, sso_alerts):
    numbers = sorted(set(sso_alerts["ssnamenr"]))
    assert len(numbers) == 6
    t = fink.query_sso(numbers)
    assert sorted(t["i:candid"]) == sorted(sso_alerts["candid"])
    assert np.all(np.diff(t["i:jd"]) <= 0)
    assert sorted(set(t["i:ssnamenr"])) == numbers
    assert all(int(n) == s for n, s in zip(t["i:ssnamenr"], t["sso_number"], strict=True))
    one = fink.query_sso(4371, columns=["i:jd", "i:magpsf"])
    assert set(one.colnames) >= {"i:jd", "i:magpsf", "i:ssnamenr", "sso_name", "sso_number"}
    assert list(one["i:jd"]) == list(sso_alerts["jd"][sso_alerts["ssnamenr"] == "4371"])


def test_sso_ephemerides_and_cutouts(fink):
    t = fink.query_sso("4371", withEphem=True)
    assert len(t) == 1 and {"Phase", "RA", "Dec"} <= set(t.colnames)
    t = fink.query_sso("4371", withcutouts=True, cutout_kind="Difference",
                       columns=["i:jd"], output_format="json")
    stamp = t["b:cutoutDifference_stampData"]
    assert stamp.shape[0] == 1 and stamp.ndim == 3 and stamp.shape[1] == stamp.shape[2]


def test_tracklet_by_date_and_by_id(fink):
    alerts = _read("solar/tracklet_2021-06-04.parquet")
    members = alerts[alerts["tracklet"] == TRACKLET]
    by_date = fink.query_tracklet(date="2021-06-04")
    by_id = fink.query_tracklet(TRACKLET, columns=["i:objectId", "i:candid", "d:tracklet"])
    assert sorted(by_date["i:candid"]) == sorted(members["candid"]) == sorted(by_id["i:candid"])
    assert set(by_date["d:tracklet"]) == {TRACKLET} and len(by_date) == 15
    assert np.all(np.diff(by_date["i:jd"]) <= 0)
    with pytest.warns(NoResultsWarning):
        assert len(fink.query_tracklet(date="2020-01-01")) == 0


def test_ssoft_ssocand_and_bulk_file(fink, tmp_path):
    t = fink.get_ssoft()
    assert sorted(t["sso_number"]) == [8467, 33803] and t["sso_number"].dtype.kind == "i"
    one = fink.get_ssoft(sso_name="Julienpeloton")
    assert list(one["sso_number"]) == [33803]
    schema = fink.get_ssoft(schema=True)
    assert set(t.colnames) <= set(schema)
    lc = fink.query_ssocand("lightcurves")
    orb = fink.query_ssocand("orbParams")
    assert len(orb) == 1 and len(lc) == 4
    path = fink.download_ssobulk(tmp_path / "sso.parquet", progress=False)
    bulk = pq.read_table(path)
    assert bulk.num_rows > 0 and path.stat().st_size > 0
    assert not list(tmp_path.glob("*.tmp*"))


def test_resolver(fink):
    t = fink.resolve("8467", resolver="ssodnet", nmax=1)
    # HBase cells: the server sends them as text
    assert {str(v) for v in t["i:number"]} == {"8467"}
    assert {str(v) for v in t["i:name"]} == {"Benoitcarry"}
    t = fink.resolve("ZTF20abfcszi", resolver="tns", reverse=True)
    assert "AT 2020mot" in [str(v) for v in t["d:fullname"]]
    t = fink.resolve("Vega", resolver="simbad")
    assert len(t) == 1 and abs(float(t["jradeg"][0]) - 279.23) < 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        assert len(fink.resolve("Nowhere", resolver="ssodnet", nmax=1)) == 0
    with pytest.raises(InvalidQueryError, match="ZTF object name"):
        fink.resolve("Vega", resolver="simbad", reverse=True)
