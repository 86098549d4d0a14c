"""HTTP conventions of the LSST emulator, file loading, and a plain requests + pandas client."""
import io
import json

import numpy as np
import pandas as pd
import pytest
import requests
from astropy.io import fits
from lsst_helpers import PROCESSED, stamp

from astroquery_fink.testing import AlertFileError, FinkEmulator
from astroquery_fink.testing.lsst import bundled_lsst_files, load_store

OID = "170028485706776685"
DESCRIPTIONS = {
    "sources": "Get diaSource data based on Rubin diaObjectId",
    "objects": "Get diaObject & aggregated data based on Rubin diaObjectId",
    "fp": "Get forced photometry data based on Rubin diaObjectId",
    "conesearch": "Get Rubin alerts data based on coordinates",
    "cutouts": "Get cutout alert data based on Rubin diaSourceId",
    "statistics": "Get statistics about Fink and the Rubin alert stream",
}


def test_descriptions_and_required_arguments(lsst):
    for name, text in DESCRIPTIONS.items():
        r = lsst.get(f"/api/v1/{name}")
        assert (r.status_code, r.data.decode()) == (200, text)
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = lsst.post("/api/v1/objects", json={"columns": "r:ra"})
    assert r.status_code == 400
    # The shared argument check points to the ZTF site, also on the LSST server.
    assert r.data.decode() == str({"status": "error", "text": "A value for `diaObjectId` is "
                                   "required. See https://api.ztf.fink-portal.org \n"})
    r = lsst.post("/api/v1/sources", json={"diaObjectId": OID, "output-format": "xml"})
    assert r.status_code == 400 and b"Output format `xml` is not supported" in r.data
    r = lsst.post("/api/v1/sources", json={"diaObjectId": int(OID)})
    assert (r.status_code, json.loads(r.data)) == (500, {"message": "Internal Server Error"})


def test_formats_agree(lsst):
    cols = "r:diaSourceId,r:midpointMjdTai,r:psfFlux,r:band"
    base = {"diaObjectId": OID, "columns": cols}
    js = pd.DataFrame(json.loads(lsst.post("/api/v1/sources", json=base).data))
    pq = pd.read_parquet(io.BytesIO(lsst.post(
        "/api/v1/sources", json={**base, "output-format": "parquet"}).data))
    csv = pd.read_csv(io.BytesIO(lsst.post(
        "/api/v1/sources", json={**base, "output-format": "csv"}).data), dtype={
        "r:diaSourceId": "int64"})
    r = lsst.post("/api/v1/sources", json={**base, "output-format": "votable"})
    assert r.mimetype == "text/xml"
    assert str(pq["r:diaSourceId"].dtype) == "Int64"  # exact 64-bit IDs
    assert len(js) == len(pq) == len(csv) == 346
    assert list(js["r:diaSourceId"]) == list(pq["r:diaSourceId"]) == list(csv["r:diaSourceId"])
    np.testing.assert_allclose(pq["r:psfFlux"], js["r:psfFlux"], rtol=1e-9)


def test_not_rubin_files_are_refused(tmp_path):
    ztf = sorted((PROCESSED.parent.parent).glob("raw_ZTF*.avro"))
    assert ztf
    with pytest.raises(AlertFileError, match="not a Rubin alert file"):
        load_store([ztf[0]])
    empty = tmp_path / "empty"
    empty.mkdir()
    text = tmp_path / "notes.avro"
    text.write_text("hello")
    with pytest.raises(AlertFileError, match=r"notes.avro: not an alert file \(neither"):
        load_store([text])
    with pytest.raises(AlertFileError, match="no such file"):
        load_store([tmp_path / "missing.avro"])
    with pytest.raises(AlertFileError, match="directory holds no"):
        load_store([empty])


def test_parquet_of_alert_packets(tmp_path, processed):
    """A user's parquet of alert packets (as Spark writes them) is read like the Avro file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from astroquery_fink.testing.lsst.store import read_rubin_files

    keep = ("diaSourceId", "observation_reason", "target_name", "diaSource", "prvDiaSources",
            "prvDiaForcedSources", "diaObject", "cutoutScience", "cutoutTemplate",
            "cutoutDifference")
    recs = [{k: a[k] for k in keep} for a in processed if a["diaSource"]["diaObjectId"]]
    path = tmp_path / "alerts.parquet"
    pq.write_table(pa.Table.from_pylist(recs), path)
    assert len(read_rubin_files([path])) == 5
    store = load_store([path])
    assert len(store.object_ids) == 5
    (key, row), *_ = store.sources.scan(f"{OID[-3:]}_{OID}")
    assert row["r:diaObjectId"] == int(OID)


def test_bundled_sample():
    files = bundled_lsst_files()
    assert sum(f.stat().st_size for f in files) < 4e6
    store = load_store(None)
    assert store.n_alerts == 107 and len(store.object_ids) == 101
    assert store.object_ids == sorted(store.object_ids)
    assert "313897383979122767" in store.object_ids


def test_requests_and_pandas_client():
    """What users' pipelines do: requests.post + pandas, against FinkEmulator(survey="lsst")."""
    with FinkEmulator(data=[PROCESSED], survey="lsst", strict=True) as emu:
        api = emu.url + "/api/v1"
        assert emu.object_ids == sorted(emu.object_ids) and len(emu.object_ids) == 5
        r = requests.post(f"{api}/sources", json={"diaObjectId": OID}, timeout=30)
        lc = pd.DataFrame(r.json())
        assert r.ok and len(lc) == 346 and lc["r:psfFlux"].notna().all()
        r = requests.post(f"{api}/objects", json={"diaObjectId": OID}, timeout=30)
        obj = pd.DataFrame(r.json())
        assert len(obj) == 1 and obj["r:nDiaSources"].iloc[0] == 346
        r = requests.post(f"{api}/fp", json={"diaObjectId": OID}, timeout=30)
        assert r.ok and len(pd.DataFrame(r.json())) == 395
        r = requests.post(f"{api}/conesearch",
                          json={"ra": 63.34963, "dec": -47.18076, "radius": 60}, timeout=30)
        cone = pd.DataFrame(r.json())
        assert r.ok and OID in cone["r:diaObjectId"].astype(str).tolist()
        sid = str(lc["r:diaSourceId"].iloc[0])
        r = requests.post(f"{api}/cutouts", json={"diaSourceId": sid, "kind": "Science",
                                                  "output-format": "FITS"}, timeout=30)
        with fits.open(io.BytesIO(r.content)) as hdul:
            assert len(hdul) == 3 and hdul[0].data.shape == (30, 30)
        r = requests.post(f"{api}/cutouts", json={"diaSourceId": sid, "kind": "Science",
                                                  "output-format": "array"}, timeout=30)
        assert np.array(r.json()["b:cutoutScience"]).shape == stamp(
            emu.store.cutouts.scan(f"{sid[-3:]}_{sid}")[0][1]["stamps"]["Science"]).shape
        r = requests.post(f"{api}/schema", json={"endpoint": "/api/v1/objects"}, timeout=30)
        assert r.ok and len(r.json()["LSST original fields (r:)"]) == 82 + 3
        r = requests.get(f"{api}/blocks", timeout=30)
        assert r.ok and len(r.json()) == 15
        r = requests.post(f"{api}/statistics", json={"date": "2026"}, timeout=30)
        stats = pd.DataFrame(r.json())
        assert r.ok and stats["f:alerts"].tolist() == ["7"]


def test_a_selection_keeps_only_rows_holding_a_selected_cell(lsst, processed):
    # Lomikel's scan adds each selected name (Scan.addColumn): HBase returns no row without
    # one of their cells; the history rows hold no Fink value, the alert's row does
    oid = 313897383979122767
    (alert,) = [a for a in processed if a["diaSource"]["diaObjectId"] == oid]
    r = lsst.post("/api/v1/sources", json={"diaObjectId": str(oid),
                                           "columns": "f:clf_cats_class"})
    assert json.loads(r.data) == [{"f:clf_cats_class": alert["clf"]["cats_class"]}]
    all_rows = json.loads(lsst.post("/api/v1/sources", json={"diaObjectId": str(oid),
                                                             "columns": "r:psfFlux"}).data)
    times = {s["midpointMjdTai"] for s in [alert["diaSource"], *alert["prvDiaSources"]]}
    assert len(all_rows) == len(times) > 1


def test_statistics_selections_follow_the_scan(lsst):
    night = json.loads(lsst.post("/api/v1/statistics", json={"date": "2026"}).data)
    assert night and all("f:alerts" in row for row in night)
    assert json.loads(lsst.post("/api/v1/statistics",
                                json={"date": "2026", "columns": "f:nosuch"}).data) == []
    kept = json.loads(lsst.post("/api/v1/statistics",
                                json={"date": "2026", "columns": "f:alerts,f:nosuch"}).data)
    assert [set(row) for row in kept] == [{"f:night", "f:alerts"}] * len(night)


def test_a_star_in_columns_asks_every_column(lsst, processed):
    ds = processed[0]["diaSource"]
    args = {"ra": ds["ra"], "dec": ds["dec"], "radius": 5}
    full = json.loads(lsst.post("/api/v1/conesearch", json=args).data)
    star = json.loads(lsst.post("/api/v1/conesearch", json={**args, "columns": "*"}).data)
    assert star and set(star[0]) == set(full[0]) and len(star[0]) > 100


def test_a_star_among_names_asks_every_column_as_a_selection(lsst):
    # the server's filter holds '*' (every column) but it decodes a selection: the columns
    # no row holds are not written
    oid = "313897383979122767"
    star = json.loads(lsst.post("/api/v1/sources", json={"diaObjectId": oid,
                                                         "columns": "r:psfFlux,*"}).data)
    full = json.loads(lsst.post("/api/v1/sources", json={"diaObjectId": oid}).data)
    assert len(star) == len(full)
    held = {name for row in full for name, value in row.items() if value is not None}
    assert set(star[0]) == held < set(full[0])
