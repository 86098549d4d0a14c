"""/api/v1/tracklet of the emulator, checked against the alert files read with pyarrow."""
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import astroquery_fink.testing as testing
from astroquery_fink.testing import bundled_data_files

SOLAR = Path(testing.__file__).parent / "data" / "solar"
TRACKLET = "TRCK_20210604_093609_00"
# i: columns of the index tables (fink-broker fink_broker/ztf/hbase_utils.py
# load_ztf_index_cols), written out here as the specification.
INDEX_I = {
    "objectId", "candid", "publisher", "rcid", "chipsf", "distnr", "ra", "dec", "jd", "fid",
    "nid", "field", "xpos", "ypos", "rb", "ssdistnr", "ssmagnr", "ssnamenr", "jdstarthist",
    "jdendhist", "tooflag", "sgscore1", "distpsnr1", "neargaia", "maggaia", "nmtchps",
    "diffmaglim", "magpsf", "sigmapsf", "magnr", "sigmagnr", "magzpsci", "isdiffpos",
    "classtar", "drb", "ndethist",
}


@pytest.fixture(scope="module")
def tracklet_alerts():
    """Alerts of every file (bundled sample + solar folder) with a tracklet, as a DataFrame."""
    rows = []
    for path in [*bundled_data_files(), *sorted(SOLAR.glob("*.parquet"))]:
        for rec in pq.read_table(path, use_threads=False).to_pylist():
            trk = rec.get("tracklet")
            if isinstance(trk, str) and trk not in ("", "null"):
                rows.append({"objectId": rec["objectId"], "tracklet": trk,
                             **{f"c_{k}": v for k, v in rec["candidate"].items()}})
    return pd.DataFrame(rows)


def _f32(x):
    return float(np.format_float_positional(np.float32(x), unique=True))


def post(client, **payload):
    return client.post("/api/v1/tracklet", json=payload)


def test_date_prefix_rows_and_values(client, tracklet_alerts):
    r = post(client, date="2021-06-04")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    got = pd.read_json(io.StringIO(r.get_data(as_text=True)))
    expected = tracklet_alerts[tracklet_alerts["tracklet"].str.startswith("TRCK_20210604")]
    assert len(expected) == 15 and len(got) == 15
    assert set(got["i:objectId"]) == set(expected["objectId"])
    assert (got["d:tracklet"] == TRACKLET).all()
    assert (got["v:classification"] == "Tracklet").all()
    exp = expected.set_index("objectId")
    for _, row in got.iterrows():
        assert row["i:magpsf"] == pytest.approx(_f32(exp.loc[row["i:objectId"], "c_magpsf"]))
        assert row["i:candid"] == exp.loc[row["i:objectId"], "c_candid"]
    # sorted by i:jd descending (one exposure: all equal here)
    assert list(got["i:jd"]) == sorted(got["i:jd"], reverse=True)


def test_all_columns_are_the_index_table_ones(client):
    row = post(client, id=TRACKLET).get_json()[0]
    assert {k[2:] for k in row if k.startswith("i:")} == INDEX_I
    # Fink columns filled with fink-broker defaults when the old alerts lack them
    assert row["d:tns"] == "" and row["d:DR3Name"] == "Unknown" and row["d:roid"] in (0, 1, 2)
    assert row["d:blazar_stats_m0"] == 0.0 and row["d:blazar_stats_instantness_low"] == -1.0
    assert {k for k in row if k.startswith("v:")} == {
        "v:classification", "v:lastdate", "v:firstdate", "v:lapse", "v:constellation"}
    assert row["v:lastdate"].startswith("2021-06-04 09:36:09")


@pytest.mark.parametrize("payload, n", [
    ({"id": TRACKLET}, 15), ({"id": "TRCK_2021"}, 15), ({"date": "2021-06-04 09:36:09"}, 15),
    ({"date": "2021-06-04 09:36:09 00"}, 15), ({"date": "2021-06-04 09:36:10"}, 0),
    ({"date": "2021-06-03"}, 0),
])
def test_id_and_date_prefixes(client, payload, n):
    r = post(client, **payload)
    assert r.status_code == 200 and len(r.get_json()) == n


def test_columns_truncated(client):
    rows = post(client, id=TRACKLET, columns="i:objectId, i:jd,d:tracklet").get_json()
    assert len(rows) == 15
    assert all(set(x) == {"i:objectId", "i:jd", "d:tracklet"} for x in rows)


def test_neither_id_nor_date_is_400(client):
    r = post(client, columns="i:jd")
    assert r.status_code == 400
    assert r.get_data(as_text=True) == (
        "{'status': 'error', 'text': 'You need to specify a date at the format "
        "YYYY-MM-DD hh:mm:ss\\n'}")


def test_get_query_string_and_formats(client):
    r = client.get("/api/v1/tracklet?date=2021-06-04&output-format=csv")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/csv"
    assert len(pd.read_csv(io.StringIO(r.get_data(as_text=True)))) == 15
    r = post(client, id=TRACKLET, **{"output-format": "parquet"})
    pdf = pd.read_parquet(io.BytesIO(r.data))
    # parquet keeps the HBase row keys tracklet_objectId as index
    assert all(k == f"{TRACKLET}_{o}" for k, o in zip(pdf.index, pdf["i:objectId"], strict=True))
    assert client.get("/api/v1/tracklet").get_data(as_text=True) == (
        "Get satellites and debris candidates")
