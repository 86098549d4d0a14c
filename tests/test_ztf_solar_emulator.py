"""The ZTF Solar System, tracklet and resolver clients over HTTP against the loopback
emulator, checked against the bundled alert files read here with pandas."""
import warnings
from importlib import resources

import astropy.units as u
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


def test_sso_ephemerides_with_a_selection_ask_the_columns_miriade_needs(fink):
    # the server reads i:jd and i:magpsf for Miriade without checking the selection: without
    # them it answered "We could not obtain the ephemerides information" (HTTP 400)
    payload = fink.query_sso(4371, withEphem=True, columns=["i:magpsf"], get_query_payload=True)
    assert payload["columns"].split(",")[:3] == ["i:magpsf", "i:ssnamenr", "i:jd"]
    full = fink.query_sso(4371, withEphem=True)
    some = fink.query_sso(4371, withEphem=True, columns=["i:magpsf"])
    assert list(some["i:jd"]) == list(full["i:jd"]) and len(some) == 1
    assert list(some["i:magpsf_red"]) == list(full["i:magpsf_red"])
    assert list(some["Dobs"]) == list(full["Dobs"])
    fit = fink.query_sso(4371, withResiduals=True, columns=["i:magpsf"], get_query_payload=True)
    assert set(fit["columns"].split(",")) >= {"i:jd", "i:sigmapsf", "i:fid", "i:ra", "i:dec"}


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


def test_a_reverse_ssodnet_lookup_gives_every_name_row_whatever_nmax(fink):
    # nmax caps the server's scan of the object's alerts, not its scan of the names
    # (apps/routes/v1/ztf/resolver/utils.py): 3 name rows for nmax=1 are its answer
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "may be cut" either
        t = fink.resolve("ZTF22aayqeuc", resolver="ssodnet", reverse=True, nmax=1)
    assert len(t) == 3 and len({str(v) for v in t["i:ssnamenr"]}) == 1


# Every wire format gives the json table: the columns the ZTF schema lacks have theirs
# (the SSOFT's, the resolvers' text tables, the names /sso adds), so csv numbers-as-text
# are not guessed into numbers.
_SOLAR_CALLS = {
    "ssoft": lambda f, fmt: f.get_ssoft(sso_number=8467, output_format=fmt),
    "tns": lambda f, fmt: f.resolve("AT 2020", resolver="tns", output_format=fmt),
    "tns reverse": lambda f, fmt: f.resolve("ZTF20abfcszi", resolver="tns", reverse=True,
                                            output_format=fmt),
    "ssodnet": lambda f, fmt: f.resolve("benoitcarry", resolver="ssodnet", output_format=fmt),
    "ssodnet reverse": lambda f, fmt: f.resolve("ZTF21acqdcyb", resolver="ssodnet",
                                                reverse=True, output_format=fmt),
    "sso": lambda f, fmt: f.query_sso("409439", columns=["i:objectId", "i:jd"],
                                      output_format=fmt),
}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "votable"])
@pytest.mark.parametrize("call", list(_SOLAR_CALLS))
def test_solar_and_resolver_columns_have_one_type_in_every_format(fink, call, fmt):
    want = _SOLAR_CALLS[call](fink, "json")
    got = _SOLAR_CALLS[call](fink, fmt)
    assert len(want) > 0 and got.colnames == want.colnames
    for name in want.colnames:
        assert got[name].dtype.kind == want[name].dtype.kind, name
        assert list(got[name]) == list(want[name]), name


def test_text_of_the_resolvers_and_names_stays_text(fink):
    tns = fink.resolve("AT 2020", resolver="tns", output_format="csv")
    assert list(tns["d:ra"]) == ["7.8062528"] and list(tns["d:redshift"]) == ["0.07"]
    sso = fink.resolve("benoitcarry", resolver="ssodnet", output_format="csv")
    assert list(sso["i:number"]) == ["8467"]
    named = fink.query_sso("409439", columns=["i:objectId"], output_format="csv")
    assert set(named["sso_name"]) == {"409439"} and set(named["sso_number"]) == {409439}
    assert named["sso_number"].dtype == np.int64


def test_ssoft_columns_carry_units_and_descriptions_of_the_ssoft(fink):
    t = fink.get_ssoft(sso_number=8467, version="2024.10", output_format="csv")
    assert list(t["version"]) == ["2024.10"]  # not the float 2024.1
    assert t["ssnamenr"].dtype.kind == "U" and list(t["ssnamenr"]) == ["8467"]
    assert t["H_1"].unit == u.mag and t["min_phase"].unit == u.deg
    assert t["mean_astrometry"].unit == u.arcsec and t["period"].unit == u.h
    assert t["last_jd"].unit == u.day and t["n_obs"].unit is None
    # fractional days in the files, though fink-utils' COLUMNS says int (fink-science
    # fink_science/ztf/ssoft/processor.py): not refused as "not an integer"
    for fmt in ("csv", "json", "parquet"):
        assert list(fink.get_ssoft(sso_number=8467, output_format=fmt)["n_days"]) == [899.873]
    assert t["H_1"].description == "Absolute magnitude for the ZTF filter band g"
