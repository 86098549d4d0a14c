"""/api/v1/sso of the emulator, checked against the alert files and the Miriade fixture."""
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from emu_helpers import stamp_pixels

import astroquery_fink.testing as testing
from astroquery_fink.testing import bundled_data_files

SOLAR = Path(testing.__file__).parent / "data" / "solar"


@pytest.fixture(scope="module")
def sso_alerts():
    """Alerts with roid == 3 of every file, keyed by ssnamenr (read with pyarrow)."""
    out = {}
    for path in [*bundled_data_files(), *sorted(SOLAR.glob("*.parquet"))]:
        for rec in pq.read_table(path, use_threads=False).to_pylist():
            if rec.get("roid") == 3:
                out.setdefault(rec["candidate"]["ssnamenr"], []).append(rec)
    return out


def post(client, **payload):
    return client.post("/api/v1/sso", json=payload)


def frame(r):
    return pd.read_json(io.StringIO(r.get_data(as_text=True)))


def _f32(x):
    return float(np.format_float_positional(np.float32(x), unique=True))


def test_sso_rows_are_the_alerts_of_the_ssnamenr(client, sso_alerts):
    assert sorted(sso_alerts) == ["19205", "409439", "4371", "55313", "55951", "86707"]
    for ssnamenr, recs in sso_alerts.items():
        r = post(client, n_or_d=ssnamenr)
        assert r.status_code == 200
        rows = r.get_json()
        assert [x["i:candid"] for x in rows] == [a["candidate"]["candid"] for a in recs]
        assert rows[0]["i:magpsf"] == pytest.approx(_f32(recs[0]["candidate"]["magpsf"]))
        assert rows[0]["i:objectId"] == recs[0]["objectId"]
        # no offline name for these numbered objects: named by their number
        assert rows[0]["sso_name"] == ssnamenr and rows[0]["sso_number"] == int(ssnamenr)
        assert rows[0]["v:classification"] == "Solar System MPC"


def test_list_of_objects_sorted_by_jd(client, sso_alerts):
    rows = post(client, n_or_d="4371, 55951,19205").get_json()
    assert sorted(x["i:ssnamenr"] for x in rows) == ["19205", "4371", "55951"]
    jds = [x["i:jd"] for x in rows]
    assert jds == sorted(jds, reverse=True)
    assert rows[-1]["i:jd"] == pytest.approx(sso_alerts["4371"][0]["candidate"]["jd"])


def test_columns_add_ssnamenr(client):
    rows = post(client, n_or_d="55951", columns="i:jd,i:magpsf").get_json()
    assert set(rows[0]) == {"i:jd", "i:magpsf", "i:ssnamenr", "sso_name", "sso_number"}


def test_known_name_without_alerts_is_empty(client):
    # 8467 Benoitcarry resolves (names fixture) but no alert of it is bundled
    for n_or_d in ("8467", "Benoitcarry", "10P", "C/2020V2"):
        r = post(client, n_or_d=n_or_d)
        assert r.status_code == 200 and r.get_json() == []


@pytest.mark.parametrize("payload, text", [
    ({"n_or_d": "notanasteroid"}, "notanasteroid is not a valid name or number according to "
                                  "quaero.\n"),
    ({"n_or_d": "55951,19205", "withResiduals": True},
     "You cannot request residuals for a list object names.\n"),
    ({"n_or_d": "55951", "withcutouts": True, "columns": "i:jd"},
     "You need to add 'i:objectId,i:candid' to the columns.\n"),
    ({"n_or_d": "55951", "withcutouts": True, "cutout-kind": "All"},
     "`cutout-kind` must be `Science`, `Difference`, or `Template`.\n"),
    ({"n_or_d": "55951", "columns": "i:jd", "withEphem": True},
     "We could not obtain the ephemerides information. Check Miriade availabilities."),
    ({"withEphem": True}, "A value for `n_or_d` is required. See "
                          "https://api.ztf.fink-portal.org \n"),
])
def test_errors_are_400_with_the_server_text(client, payload, text):
    r = post(client, **payload)
    assert r.status_code == 400
    # the server's body is str(dict): a Python repr, "\n" as backslash-n
    assert r.get_data(as_text=True) == str({"status": "error", "text": text})


def test_cutouts(client, sso_alerts):
    rec = sso_alerts["19205"][0]
    for kind in ("Science", "Template"):
        payload = {"n_or_d": "19205", "withcutouts": "True"}
        if kind != "Science":
            payload["cutout-kind"] = kind
        rows = post(client, **payload).get_json()
        expected = stamp_pixels(rec[f"cutout{kind}"]["stampData"])
        got = np.array(rows[0][f"b:cutout{kind}_stampData"], dtype=float)
        # JSON floats carry 10 decimals (pandas double_precision=10)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-9)


def test_with_ephem_from_the_fixture(client, sso_alerts):
    eph = json.loads((SOLAR / "miriade_ephemerides.json").read_text())["rows"]
    r = post(client, n_or_d="55951,4371", withEphem=True)
    assert r.status_code == 200
    got = frame(r)
    assert list(got.columns[:21]) == [
        "index", "Date", "LAST", "HA", "Az", "H", "Dobs", "Dhelio", "VMag", "SDSS:g", "SDSS:r",
        "Phase", "Elong.", "AM", "dRAcosDEC", "dDEC", "RV", "RA", "Dec", "Longitude",
        "Latitude"]
    assert got.columns[-1] == "i:magpsf_red"
    for _, row in got.iterrows():
        e = eph[row["i:ssnamenr"] if isinstance(row["i:ssnamenr"], str)
                else str(row["i:ssnamenr"])]
        (fix,) = e.values()
        mag = sso_alerts[str(row["i:ssnamenr"])][0]["candidate"]["magpsf"]
        assert row["i:magpsf"] == pytest.approx(mag, rel=1e-6)
        assert row["i:magpsf_red"] == pytest.approx(
            row["i:magpsf"] - 5 * np.log10(fix["Dobs"] * fix["Dhelio"]), abs=1e-8)
    # ssnamenr in np.unique order, each with its own 0..n-1 "index"
    assert list(got["i:ssnamenr"].astype(str)) == ["4371", "55951"]
    assert list(got["index"]) == [0, 0]


def test_with_residuals_and_flags(client):
    rows = post(client, n_or_d="55313", withResiduals="True").get_json()
    # the sHG1G2 fit is not emulated: NaN (null), as when the server's fit fails
    assert rows[0]["residuals_shg1g2"] is None and "i:magpsf_red" in rows[0]
    # only "True" or a JSON true enable an option
    rows = post(client, n_or_d="55313", withEphem="true").get_json()
    assert "Dobs" not in rows[0]


def test_query_string_options(client):
    # "True" in a query string enables an option; the camel-case withCutouts of the
    # server's argument model is not read by its code (lower-case withcutouts is)
    rows = client.get("/api/v1/sso?n_or_d=55951&withEphem=True").get_json()
    assert "Dobs" in rows[0]
    rows = client.get("/api/v1/sso?n_or_d=55951&withCutouts=True").get_json()
    assert not any(k.startswith("b:") for k in rows[0])
    assert client.get("/api/v1/sso").get_data(as_text=True) == (
        "Get Solar System object data based on their ID")


@pytest.mark.parametrize("name", ["10P", "C/2020 F3", "123456", "999999"])
def test_comets_and_numbers_are_known_to_quaero(client, sso_alerts, name):
    """R5/Z2: a comet or any number answers 200 and no rows (none of these in the data)."""
    assert name not in sso_alerts
    r = post(client, n_or_d=name)
    assert (r.status_code, r.get_json()) == (200, [])


def test_number_in_the_data_and_unknown_number(client, sso_alerts):
    known = next(s for s in sso_alerts if s.isdecimal())
    rows = post(client, n_or_d=f"{known},999999").get_json()
    assert len(rows) == len(sso_alerts[known])
    assert {r["i:ssnamenr"] for r in rows} == {known}
