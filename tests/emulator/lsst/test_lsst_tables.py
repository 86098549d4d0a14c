"""/sources, /objects and /fp against the original alert files read with fastavro."""
import json

import numpy as np
import pytest
from lsst_helpers import PROCESSED

from astroquery_fink.testing import FinkEmulator

STATIC = [170028485706776685, 313897383979122767, 170028513894596704, 313893023095193658,
          314002971860926640]


def _static(alerts):
    return [a for a in alerts if a["diaSource"]["diaObjectId"]]


def _history(alert):
    """The diaSources of an alert's object: current + previous, one per midpointMjdTai."""
    rows = {s["midpointMjdTai"]: s for s in alert["prvDiaSources"] or []}
    rows[alert["diaSource"]["midpointMjdTai"]] = alert["diaSource"]
    return [rows[k] for k in sorted(rows, reverse=True)]


def _post(client, path, **payload):
    r = client.post(path, json=payload)
    assert r.status_code == 200, r.data
    return json.loads(r.data)  # stdlib json: integers stay exact


def test_light_curves_match_alerts(lsst, processed):
    assert sorted(a["diaSource"]["diaObjectId"] for a in _static(processed)) == sorted(STATIC)
    for alert in _static(processed):
        oid = alert["diaSource"]["diaObjectId"]
        rows = _post(lsst, "/api/v1/sources", diaObjectId=str(oid),
                     columns="r:midpointMjdTai,r:psfFlux,r:psfFluxErr,r:band,r:diaSourceId")
        expected = _history(alert)
        # One row per row key <salt>_<id>_<midpointMjdTai>: two diaSources of 313897383979122767
        # share a midpoint, so 319 rows for its 320 sources, as in HBase.
        assert len(rows) == len(expected)
        assert alert["diaObject"]["nDiaSources"] - len(expected) in (0, 1)
        assert [r["r:diaSourceId"] for r in rows] == [s["diaSourceId"] for s in expected]
        assert [r["r:band"] for r in rows] == [s["band"] for s in expected]
        # float32 fields come back as the shortest text of the float32 value
        np.testing.assert_array_equal(np.float32([r["r:psfFlux"] for r in rows]),
                                      np.float32([s["psfFlux"] for s in expected]))
        np.testing.assert_array_equal(np.float32([r["r:psfFluxErr"] for r in rows]),
                                      np.float32([s["psfFluxErr"] for s in expected]))
        mjd = [r["r:midpointMjdTai"] for r in rows]
        assert mjd == sorted(mjd, reverse=True)
        np.testing.assert_allclose(mjd, [s["midpointMjdTai"] for s in expected], rtol=0,
                                   atol=1e-9)


def test_sources_all_columns_mode(lsst, processed):
    alert = _static(processed)[0]
    oid = alert["diaSource"]["diaObjectId"]
    rows = _post(lsst, "/api/v1/sources", diaObjectId=str(oid))
    assert len(rows) == 346
    r_cols = [c for c in rows[0] if c.startswith("r:")]
    f_cols = [c for c in rows[0] if c.startswith("f:")]
    assert (len(r_cols), len(f_cols)) == (101, 30)
    newest, older = rows[0], rows[1:]
    assert newest["r:diaSourceId"] == alert["diaSourceId"]
    assert newest["r:observation_reason"] == alert["observation_reason"]
    assert newest["f:xm_gaiadr3_DR3Name"] == alert["xm"]["gaiadr3_DR3Name"]
    assert newest["f:clf_cats_class"] == alert["clf"]["cats_class"]
    assert newest["f:fink_science_version"] == alert["fink_science_version"]
    assert newest["r:salt"] == str(oid)[-3:]
    # Text missing in some rows is the text "nan"; a column with no cell at all is null.
    assert {r["r:observation_reason"] for r in older} == {"nan"}
    assert {r["f:xm_gaiadr3_DR3Name"] for r in older} == {"nan"}
    assert {r["f:xm_simbad_otype"] for r in rows} == {None}
    assert {r["f:clf_cats_class"] for r in older} == {None}  # Int64 nulls
    # Booleans come back as booleans.
    assert {r["r:isDipole"] for r in rows} <= {True, False}


def test_sources_columns_list_and_prefixes(lsst, processed):
    a, b = STATIC[:2]
    one = _post(lsst, "/api/v1/sources", diaObjectId=str(a), columns="r:midpointMjdTai,r:psfFlux")
    assert set(one[0]) == {"r:midpointMjdTai", "r:psfFlux"}
    two = _post(lsst, "/api/v1/sources", diaObjectId=f"{a}, {b}", columns="r:diaObjectId")
    other = _post(lsst, "/api/v1/sources", diaObjectId=str(b), columns="r:diaObjectId")
    assert len(two) == len(one) + len(other)
    assert {r["r:diaObjectId"] for r in two} == {a, b}
    # midpointMjdTai as sent (full repr) selects one source of a single ID
    alert = next(x for x in processed if x["diaSource"]["diaObjectId"] == a)
    mjd = alert["diaSource"]["midpointMjdTai"]
    rows = _post(lsst, "/api/v1/sources", diaObjectId=str(a), midpointMjdTai=repr(mjd))
    assert [r["r:diaSourceId"] for r in rows] == [alert["diaSourceId"]]
    # unknown IDs, and IDs too short to match the salted keys, give []
    assert _post(lsst, "/api/v1/sources", diaObjectId="ldfksjflkdsjf") == []
    assert _post(lsst, "/api/v1/sources", diaObjectId="85") == []


def test_ids_exact_beyond_2_53(lsst, processed):
    big = [oid for oid in STATIC if oid > 2**53]
    assert 313897383979122767 in big
    for oid in big:
        rows = _post(lsst, "/api/v1/objects", diaObjectId=str(oid), columns="r:diaObjectId")
        assert rows == [{"r:diaObjectId": oid}]
    r = lsst.post("/api/v1/objects", json={"diaObjectId": "313897383979122767",
                                           "columns": "r:diaObjectId"})
    assert b"313897383979122767" in r.data and b"313897383979122768" not in r.data


def test_ids_as_strings(processed):
    with FinkEmulator([PROCESSED], survey="lsst", strict=True) as emu:
        from astroquery_fink.testing.lsst import create_app

        client = create_app(emu.store, ids_as="string", strict=True).test_client()
        rows = _post(client, "/api/v1/sources", diaObjectId="313897383979122767",
                     columns="r:diaObjectId,r:diaSourceId,r:psfFlux,r:midpointMjdTai")
    alert = next(a for a in processed if a["diaSource"]["diaObjectId"] == 313897383979122767)
    assert rows[0]["r:diaObjectId"] == "313897383979122767"
    assert rows[0]["r:diaSourceId"] == str(alert["diaSourceId"])
    assert isinstance(rows[0]["r:psfFlux"], float)
    with pytest.raises(ValueError, match="ids_as"):
        create_app(emu.store, ids_as="float")


def test_objects_summary_row(lsst, processed):
    for alert in _static(processed):
        oid = alert["diaSource"]["diaObjectId"]
        (row,) = _post(lsst, "/api/v1/objects", diaObjectId=str(oid))
        assert len(row) == 91
        obj = alert["diaObject"]
        assert row["r:diaObjectId"] == oid
        assert row["r:nDiaSources"] == obj["nDiaSources"]
        assert np.float32(row["r:i_psfFluxMean"]) == np.float32(obj["i_psfFluxMean"])
        assert row["r:firstDiaSourceMjdTai"] is None  # not filled by Rubin
        assert row["f:firstDiaSourceMjdTaiFink"] == pytest.approx(
            alert["misc"]["firstDiaSourceMjdTaiFink"], abs=1e-9)
        assert row["f:is_cataloged"] is alert["pred"]["is_cataloged"] is True
        assert row["f:main_label_classifier"] == alert["clf"]["cats_class"]
    two = _post(lsst, "/api/v1/objects", diaObjectId=f"{STATIC[0]},{STATIC[3]}",
                columns="r:nDiaSources,f:firstDiaSourceMjdTaiFink")
    assert len(two) == 2 and set(two[0]) == {"r:nDiaSources", "f:firstDiaSourceMjdTaiFink"}


def test_forced_photometry(lsst, processed):
    for alert in _static(processed):
        oid = alert["diaSource"]["diaObjectId"]
        rows = _post(lsst, "/api/v1/fp", diaObjectId=str(oid))
        forced = {f["midpointMjdTai"]: f for f in alert["prvDiaForcedSources"]}
        assert len(rows) == len(forced) > 300
        assert len(rows[0]) == 15
        newest = forced[max(forced)]
        assert rows[0]["r:diaForcedSourceId"] == newest["diaForcedSourceId"]
        assert np.float32(rows[0]["r:psfFlux"]) == np.float32(newest["psfFlux"])
        mjd = [r["r:midpointMjdTai"] for r in rows]
        assert mjd == sorted(mjd, reverse=True)
    # raw v9 alerts carry no forced photometry
    assert _post(lsst, "/api/v1/fp", diaObjectId="169298432598474793") == []


def test_documented_id_exact(tmp_path, processed):
    """The Fink documentation's 313761043604045880 (no float64 near it: ...888) is exact."""
    import copy

    import fastavro

    with open(PROCESSED, "rb") as fh:
        schema = fastavro.reader(fh).writer_schema
    alert = copy.deepcopy(processed[0])
    alert["diaSource"]["diaObjectId"] = alert["diaObject"]["diaObjectId"] = 313761043604045880
    alert["prvDiaSources"], alert["prvDiaForcedSources"] = [], []
    path = tmp_path / "one.avro"
    with open(path, "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), [alert])
    with FinkEmulator([path], survey="lsst", strict=True) as emu:
        assert emu.object_ids == ["313761043604045880"]
        client = emu.app.test_client()
        for endpoint in ("sources", "objects"):
            r = client.post(f"/api/v1/{endpoint}", json={"diaObjectId": "313761043604045880",
                                                          "columns": "r:diaObjectId"})
            assert r.data == b'[{"r:diaObjectId":313761043604045880}]'
            assert json.loads(r.data)[0]["r:diaObjectId"] == 313761043604045880
