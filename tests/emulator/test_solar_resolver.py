"""/api/v1/resolver of the emulator: TNS, SIMBAD and SsODNet, forward and reverse."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import astroquery_fink.testing as testing
from astroquery_fink.testing import bundled_data_files

SOLAR = Path(testing.__file__).parent / "data" / "solar"
TDE = "ZTF20abfcszi"


@pytest.fixture(scope="module")
def alerts():
    rows = []
    for path in [*bundled_data_files(), *sorted(SOLAR.glob("*.parquet"))]:
        rows.extend(pq.read_table(path, use_threads=False).to_pylist())
    return rows


def post(client, **payload):
    return client.post("/api/v1/resolver", json=payload)


def test_tns_prefix_case_insensitive_and_nmax(client):
    tns = json.loads((SOLAR / "tns_fixture.json").read_text())["rows"]
    names = sorted(r["fullname"] for r in tns if r["fullname"].lower().startswith("at 2021"))
    assert len(names) == 3
    for name in ("AT 2021", "at 2021"):
        rows = post(client, resolver="tns", name=name).get_json()
        assert [x["d:fullname"] for x in rows] == names
    assert len(post(client, resolver="tns", name="at 2021", nmax=2).get_json()) == 2
    assert post(client, resolver="tns", name="sn 2099").get_json() == []
    # name "" returns the whole table (up to nmax)
    assert len(post(client, resolver="tns", name="").get_json()) == len(tns)


def test_tns_reverse_with_positions_of_the_alerts(client, alerts):
    rows = post(client, resolver="tns", name=TDE, reverse=True).get_json()
    assert len(rows) == 1
    row = rows[0]
    assert row["d:fullname"] == "AT 2020mot" and row["d:internalname"] == TDE
    latest = max((a for a in alerts if a["objectId"] == TDE), key=lambda a: a["candidate"]["jd"])
    # raw HBase strings: the server does not cast resolver answers
    assert isinstance(row["d:ra"], str)
    assert float(row["d:ra"]) == pytest.approx(latest["candidate"]["ra"], abs=1e-9)
    assert float(row["d:declination"]) == pytest.approx(latest["candidate"]["dec"], abs=1e-9)
    assert set(row) == {"d:declination", "d:discoverydate", "d:fullname", "d:internalname",
                        "d:ra", "d:redshift", "d:type"}
    # reverse needs a JSON true: the string "true" does a forward search (none here)
    r = client.get(f"/api/v1/resolver?resolver=tns&name={TDE}&reverse=true")
    assert r.status_code == 200 and r.get_json() == []


def test_simbad_reverse_from_the_alerts(client, alerts):
    rows = post(client, resolver="simbad", name=TDE, reverse=True, nmax=5).get_json()
    mine = sorted((a for a in alerts if a["objectId"] == TDE), key=lambda a: a["candidate"]["jd"])
    assert len(mine) == 21 and len(rows) == 5
    # row-key order (objectId_jd ascending), the first nmax rows
    assert [int(x["i:candid"]) for x in rows] == [a["candidate"]["candid"] for a in mine[:5]]
    assert all(x["d:cdsxmatch"] == mine[0]["cdsxmatch"] for x in rows)
    assert set(rows[0]) == {"d:cdsxmatch", "i:candid", "i:dec", "i:jd", "i:objectId", "i:ra"}
    assert len(post(client, resolver="simbad", name=TDE, reverse=True).get_json()) == 10


def test_simbad_forward_from_the_sesame_fixture(client):
    rows = post(client, resolver="simbad", name="M31").get_json()
    assert len(rows) == 1 and rows[0]["jradeg"] == pytest.approx(10.684708)
    for col in ("name", "oid", "oname", "otype", "jpos", "jradeg", "jdedeg", "refPos", "MType",
                "nrefs"):
        assert col in rows[0]
    assert post(client, resolver="simbad", name="not a star").get_json() == []


def test_ssodnet_forward(client):
    rows = post(client, resolver="ssodnet", name="4371", nmax=1).get_json()
    # the name, number and ssnamenr index rows of one object (keys 4371@0..2)
    assert rows == [{"i:name": "4371", "i:number": "4371", "i:ssnamenr": "4371"}] * 3
    rows = post(client, resolver="ssodnet", name="julienpeloton").get_json()
    assert [x["i:name"] for x in rows] == ["Julienpeloton"]
    assert rows[0]["i:number"] == "33803" and rows[0]["i:ssnamenr"] == "33803"
    # prefix search with nmax > 1: every key starting with "55" (55313 and 55951, 3 each)
    rows = post(client, resolver="ssodnet", name="55").get_json()
    assert sorted({x["i:ssnamenr"] for x in rows}) == ["55313", "55951"] and len(rows) == 6
    assert len(post(client, resolver="ssodnet", name="55", nmax=4).get_json()) == 4


def test_ssodnet_reverse(client, alerts):
    oid = next(a["objectId"] for a in alerts if a["candidate"]["ssnamenr"] == "55951")
    rows = post(client, resolver="ssodnet", name=oid, reverse=True).get_json()
    assert len(rows) == 3 and {x["i:ssnamenr"] for x in rows} == {"55951"}
    # an alert without SSO (ssnamenr "null"): nothing in the SSO index
    assert post(client, resolver="ssodnet", name=TDE, reverse=True).get_json() == []


@pytest.mark.parametrize("query", [
    "resolver=tns&name=at&nmax=5",        # a text nmax is refused by the HBase client
    "resolver=ssodnet&name=4371&nmax=1",  # "1" == 1 is false, then "1" > 1 raises
    "resolver=vizier&name=M31",           # unknown resolver
])
def test_server_errors(client, query):
    r = client.get(f"/api/v1/resolver?{query}")
    assert r.status_code == 500 and r.get_json() == {"message": "Internal Server Error"}


def test_missing_argument_and_description(client):
    r = post(client, resolver="tns")
    assert r.status_code == 400 and r.get_data(as_text=True) == str(
        {"status": "error", "text": "A value for `name` is required. See "
                                    "https://api.ztf.fink-portal.org \n"})
    assert client.get("/api/v1/resolver").get_data(as_text=True) == (
        "Resolve astronomical names to ZTF alert names, and vice-versa")
