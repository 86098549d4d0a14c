"""Where the Rubin emulator follows the server's code path (fink-object-api 17051ca,
apps/routes/v1/lsst/*): limits, error answers and argument reading."""
import io
import json

import pyarrow.parquet as pq
import pytest
from lsst_helpers import PROCESSED

from astroquery_fink.testing.lsst import create_app, load_store

TNS_NAMES = ["AT 2026aba", "AT 2026aca", "AT 2026ada", "SN 2026aea", "AT 2025zzz"]


@pytest.fixture(scope="module")
def tns_client():
    """An app whose TNS table holds five names (keys as fink-broker writes them)."""
    store = load_store([PROCESSED])
    for name in TNS_NAMES:
        store.tns.put(f"{name[-1]}_{name}".lower(), {"f:fullname": name, "f:type": "nan"})
    return create_app(store, strict=True).test_client()


def _names(r):
    assert r.status_code == 200, r.data
    return sorted(row["f:fullname"] for row in json.loads(r.data))


def test_tns_scans_stop_at_nmax(tns_client):
    """resolver/utils.py calls setLimit(nmax) before every TNS scan."""
    post = lambda **kw: tns_client.post(  # noqa: E731
        "/api/v1/resolver", json={"resolver": "tns", **kw})
    # the salt is the last letter of the name asked: "a_at 2026a" finds the three a-names
    assert _names(post(name_or_id="AT 2026a")) == ["AT 2026aba", "AT 2026aca", "AT 2026ada"]
    assert len(_names(post(name_or_id="AT 2026a", nmax=2))) == 2
    assert _names(post(name_or_id="")) == sorted(TNS_NAMES)
    assert len(_names(post(name_or_id="", nmax=2))) == 2
    # the whole table is tested before `reverse`
    assert len(_names(post(name_or_id="", reverse=True, nmax=3))) == 3
    r = tns_client.get("/api/v1/resolver?resolver=tns&name_or_id=AT%202026aba&nmax=2")
    assert r.status_code == 500  # setLimit("2"): a query-string text is no Java int


def test_ssodnet_forward_error_of_its_sso_request_is_a_500(lsst):
    """The server reads its own /sso answer with pd.read_json: a 400 text is no JSON."""
    assert lsst.post("/api/v1/sso", json={"n_or_d": "kdflsjffld"}).status_code == 400
    r = lsst.post("/api/v1/resolver", json={"resolver": "ssodnet", "name_or_id": "kdflsjffld"})
    assert (r.status_code, json.loads(r.data)) == (500, {"message": "Internal Server Error"})


def test_ssodnet_forward_rows_have_no_row_keys(lsst, processed):
    sso = next(a for a in processed if not a["diaSource"]["diaObjectId"])
    name = sso["mpc_orbits"]["packed_primary_provisional_designation"]
    r = lsst.post("/api/v1/resolver", json={"resolver": "ssodnet", "name_or_id": name,
                                            "output-format": "parquet"})
    assert r.status_code == 200
    table = pq.read_table(io.BytesIO(r.data))
    assert "__index_level_0__" not in table.column_names
    assert [str(v) for v in table.column("r:diaSourceId").to_pylist()] == [
        str(sso["diaSourceId"])]


def test_statistics_date_is_formatted_into_the_key(lsst):
    """statistics/utils.py only compares the date with "" and formats it: a number works."""
    as_text = lsst.post("/api/v1/statistics", json={"date": "2026"})
    as_number = lsst.post("/api/v1/statistics", json={"date": 2026})
    assert as_text.status_code == as_number.status_code == 200
    assert json.loads(as_number.data) == json.loads(as_text.data) != []


def test_cutout_kind_is_checked_before_the_lookup(lsst):
    """cutouts/api.py asserts the kind right after the required arguments."""
    r = lsst.post("/api/v1/cutouts", json={"diaSourceId": "1", "kind": "Foo"})
    assert (r.status_code, json.loads(r.data)) == (500, {"message": "Internal Server Error"})
