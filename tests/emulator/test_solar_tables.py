"""/api/v1/ssoft, /ssocand and /ssobulk of the emulator (bundled fixtures and SSO alerts)."""
import datetime
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.time import Time

import astroquery_fink.testing as testing
from astroquery_fink.testing import bundled_data_files

SOLAR = Path(testing.__file__).parent / "data" / "solar"


def fixture(name):
    return json.loads((SOLAR / name).read_text())


def _ssoft_columns():
    # the SSOFT schema is static data shared with the client
    return json.loads((Path(testing.__file__).parents[1] / "data" / "ztf_ssoft_schema.json")
                      .read_text())


def post(client, endpoint, **payload):
    return client.post(f"/api/v1/{endpoint}", json=payload)


def frame(r):
    return pd.read_json(io.StringIO(r.get_data(as_text=True)))


def this_month():
    now = datetime.datetime.now(tz=datetime.UTC)
    return f"{now.year}.{now.month:02d}"


# --------------------------------------------------------------------------------- ssoft
@pytest.mark.parametrize("flavor", ["SHG1G2", "HG", "HG1G2", "SOCCA"])
def test_ssoft_schema(client, flavor):
    cols = _ssoft_columns()
    payload = {"schema": True} if flavor == "SHG1G2" else {"schema": True, "flavor": flavor}
    r = post(client, "ssoft", **payload)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    expected = {**cols["COLUMNS"], **cols[f"COLUMNS_{flavor}"]}
    assert list(r.get_json()) == list(expected) and r.get_json() == expected


def test_ssoft_full_table_is_parquet(client):
    r = post(client, "ssoft")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/parquet"
    pdf = pd.read_parquet(io.BytesIO(r.data))
    cols = _ssoft_columns()
    assert list(pdf.columns) == [*cols["COLUMNS"], *cols["COLUMNS_SHG1G2"]]
    rows = fixture("ssoft_fixture.json")["rows"]
    assert list(pdf["sso_name"]) == [x["sso_name"] for x in rows]
    assert (pdf["version"] == this_month()).all()
    r = post(client, "ssoft", flavor="HG", version="2024.11")
    pdf = pd.read_parquet(io.BytesIO(r.data))
    assert "G_1" in pdf.columns and "R" not in pdf.columns
    assert (pdf["version"] == "2024.11").all()


def test_ssoft_one_object(client):
    rows = fixture("ssoft_fixture.json")["rows"]
    r = post(client, "ssoft", sso_name="Julienpeloton")  # a single object: json by default
    assert r.headers["Content-Type"] == "application/json"
    got = r.get_json()
    expected = next(x for x in rows if x["sso_name"] == "Julienpeloton")
    assert len(got) == 1 and got[0]["H_1"] == expected["H_1"]
    assert got[0]["sso_number"] == 33803
    got = post(client, "ssoft", sso_number="8467", **{"output-format": "csv"})
    assert list(pd.read_csv(io.StringIO(got.get_data(as_text=True)))["sso_name"]) == [
        "Benoitcarry"]
    assert post(client, "ssoft", sso_name="julienpeloton").get_json() == []  # exact match


@pytest.mark.parametrize("payload, status, body", [
    ({"version": "2023.06"}, 400, "{'status': 'error', 'text': 'version starts on 2023.07\\n'}"),
    ({"version": "23.07"}, 400, "{'status': 'error', 'text': 'version needs to be YYYY.MM\\n'}"),
    ({"flavor": "SSHG1G2"}, 400, "{'status': 'error', 'text': \"flavor needs to be in "
                                 "['SOCCA', 'SHG1G2', 'HG1G2', 'HG']\\n\"}"),
    ({"version": "2023"}, 500, '{"message": "Internal Server Error"}\n'),
    ({"version": "2099.01", "sso_name": "Benoitcarry"}, 500,
     '{"message": "Internal Server Error"}\n'),
])
def test_ssoft_errors(client, payload, status, body):
    r = post(client, "ssoft", **payload)
    assert r.status_code == status and r.get_data(as_text=True) == body


def test_ssoft_missing_version_file_and_schema_text(client):
    # the server passes WebHDFS's error body on, with 200 (no such monthly file yet)
    for version in ("2099.01", "2024.13", "2024.00"):  # no monthly file of these names
        r = post(client, "ssoft", version=version)
        assert r.status_code == 200
        assert json.loads(r.data)["RemoteException"]["exception"] == "FileNotFoundException"
    # any truthy `schema`, even the text "False" of a query string, returns the schema
    assert "ssnamenr" in client.get("/api/v1/ssoft?schema=False").get_json()


# ------------------------------------------------------------------------------ ssocand
def test_ssocand_orbits_and_lightcurves(client):
    data = fixture("ssocand_fixture.json")
    got = frame(post(client, "ssocand", kind="orbParams"))
    assert len(got) == 1 and got["d:a"][0] == data["orbParams"][0]["a"]
    assert list(got.columns) == sorted(f"d:{c}" for c in data["orbParams"][0])
    got = frame(post(client, "ssocand", kind="lightcurves"))
    obs = sorted(data["lightcurves"], key=lambda x: x["jd"])
    assert list(got["d:candid"]) == [x["candid"] for x in obs]
    assert len(post(client, "ssocand", kind="lightcurves", maxnumber=2).get_json()) == 2
    start, stop = "2022-08-05", "2022-08-07"
    got = frame(post(client, "ssocand", kind="lightcurves", start_date=start, stop_date=stop))
    lo, hi = Time(start, format="iso").jd, Time(stop, format="iso").jd
    assert list(got["d:jd"]) == pytest.approx([x["jd"] for x in obs if lo <= x["jd"] < hi])
    cand = obs[0]["ssoCandId"]
    assert len(post(client, "ssocand", kind="orbParams", ssoCandId=cand).get_json()) == 1
    assert post(client, "ssocand", kind="lightcurves", ssoCandId="FF2099").get_json() == []


def test_ssocand_errors(client):
    r = post(client, "ssocand", maxnumber=3)
    assert r.status_code == 400 and r.get_data(as_text=True) == str(
        {"status": "error", "text": "A value for `kind` is required. See "
                                    "https://api.ztf.fink-portal.org \n"})
    assert post(client, "ssocand", kind="orbits").status_code == 500
    assert client.get("/api/v1/ssocand?kind=lightcurves&maxnumber=2").status_code == 500


# ------------------------------------------------------------------------------ ssobulk
def test_ssobulk_light_curves_of_the_sso_alerts(client):
    by_name = {}
    for path in [*bundled_data_files(), *sorted(SOLAR.glob("*.parquet"))]:
        for rec in pq.read_table(path, use_threads=False).to_pylist():
            if rec.get("roid") == 3:
                by_name.setdefault(rec["candidate"]["ssnamenr"], []).append(rec["candidate"])
    r = post(client, "ssobulk")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/parquet"
    pdf = pd.read_parquet(io.BytesIO(r.data))
    assert list(pdf["ssnamenr"]) == sorted(by_name)
    for _, row in pdf.iterrows():
        cands = sorted(by_name[row["ssnamenr"]], key=lambda c: c["jd"])
        assert list(row["cjd"]) == [c["jd"] for c in cands]
        assert list(row["cmagpsf"]) == pytest.approx([c["magpsf"] for c in cands], rel=1e-6)
    got = frame(client.get("/api/v1/ssobulk?output-format=json"))
    assert list(got["ssnamenr"].astype(str)) == sorted(by_name)
