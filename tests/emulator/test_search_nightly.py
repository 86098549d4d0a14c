"""/api/v1/anomaly and /api/v1/statistics of the emulator, counted from the alert files."""
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from astropy.time import Time
from emu_helpers import rows_of

from astroquery_fink.testing.engine import EG_HOST


@pytest.fixture(scope="module")
def alerts(raw_alerts):
    """One row per alert of the files, with its night (UTC date of jd)."""
    frame = pd.DataFrame([{
        "objectId": a["objectId"], "candid": a["candidate"]["candid"],
        "jd": a["candidate"]["jd"], "fid": a["candidate"]["fid"],
        "field": a["candidate"]["field"], "cdsxmatch": a.get("cdsxmatch"),
        "anomaly_score": a.get("anomaly_score")} for a in raw_alerts])
    frame["night"] = [t[:10].replace("-", "") for t in Time(frame["jd"], format="jd").iso]
    return frame


# ------------------------------------------------------------------------------- anomaly
def expected_anomalies(alerts):
    """Per night: lowest scores first, one alert per object, ten objects."""
    picked = []
    scored = alerts[alerts["anomaly_score"].notna()]
    for _, night in scored.groupby("night"):
        night = night.sort_values("anomaly_score", kind="stable")
        picked.append(night.drop_duplicates("objectId").head(10))
    return pd.concat(picked)


def test_anomaly_rows(client, alerts):
    expected = expected_anomalies(alerts)
    assert len(expected) == 4
    pdf = rows_of(client.post("/api/v1/anomaly", json={"n": 100}))
    assert sorted(pdf["i:candid"]) == sorted(expected["candid"])
    assert list(pdf["i:jd"]) == sorted(pdf["i:jd"], reverse=True)
    scores = dict(zip(expected["candid"], expected["anomaly_score"], strict=True))
    assert np.allclose(pdf["d:anomaly_score"], [scores[c] for c in pdf["i:candid"]])
    # all columns: stored ones, v: columns without the rates
    assert {"v:classification", "v:lastdate", "v:constellation", "i:fwhm"} <= set(pdf.columns)
    assert "v:rate" not in pdf.columns
    # n keeps the newest, default 10
    two = rows_of(client.post("/api/v1/anomaly", json={"n": 2}))
    assert list(two["i:candid"]) == list(expected.sort_values("jd")["candid"][::-1][:2])
    assert len(rows_of(client.get("/api/v1/anomaly?n=10"))) == 4


def test_anomaly_dates_and_columns(client, alerts):
    expected = expected_anomalies(alerts)
    day = rows_of(client.post("/api/v1/anomaly",
                              json={"start_date": "2025-06-14", "stop_date": "2025-06-14"}))
    jd0 = Time("2025-06-14").jd
    assert sorted(day["i:candid"]) == sorted(
        expected[(expected["jd"] >= jd0) & (expected["jd"] < jd0 + 1)]["candid"])
    r = client.post("/api/v1/anomaly", json={"start_date": "2020-01-01",
                                             "stop_date": "2020-12-31"})
    assert r.get_data(as_text=True) == "[]"
    cols = rows_of(client.post("/api/v1/anomaly", json={"columns": "i:jd,i:objectId"}))
    assert list(cols.columns) == ["i:jd", "i:objectId"]


# ---------------------------------------------------------------------------- statistics
def test_statistics_per_night(client, alerts):
    pdf = rows_of(client.post("/api/v1/statistics", json={"date": ""}))
    nights = sorted(alerts["night"].unique())
    assert list(pdf["key:key"]) == [f"ztf_{n}" for n in nights]
    for night, row in zip(nights, pdf.to_dict("records"), strict=True):
        sub = alerts[alerts["night"] == night]
        assert row["basic:night"] == f"ztf_{night}"
        assert row["basic:sci"] == row["basic:raw"] == len(sub)
        assert row["basic:n_g"] == (sub["fid"] == 1).sum()
        assert row["basic:n_r"] == (sub["fid"] == 2).sum()
        assert row["basic:exposures"] == sub["jd"].nunique()
        assert row["basic:fields"] == sub["field"].nunique()
        assert row["class:simbad_gal"] == sub["cdsxmatch"].isin(EG_HOST).sum()
        real = [c for c in sub["cdsxmatch"]
                if c not in ("Unknown", "Transient", "Fail", "Fail 504")
                and not c.startswith(("Fail", "Galaxy"))]
        assert row["class:simbad_tot"] == len(real)
        # every alert has one class; each real SIMBAD label is its own class
        classes = {k: v for k, v in row.items()
                   if k.startswith("class:") and k not in ("class:simbad_tot",
                                                           "class:simbad_gal")
                   and not pd.isna(v)}
        assert sum(classes.values()) == len(sub)
        for label, count in Counter(real).items():
            assert classes[f"class:{label}"] == count


def test_statistics_prefixes_columns_schema(client, alerts):
    nights = sorted(alerts["night"].unique())
    for date in ("2020", "202008", nights[0], "1999"):
        r = client.post("/api/v1/statistics", json={"date": date})
        wanted = [n for n in nights if n.startswith(date)]
        if not wanted:
            assert r.get_data(as_text=True) == "[]"
            continue
        assert list(rows_of(r)["basic:night"]) == [f"ztf_{n}" for n in wanted]
    # values are strings, as the HBase client returns them (no schema cast)
    raw = client.post("/api/v1/statistics", json={"date": nights[-1]}).get_json()
    assert raw[0]["basic:sci"] == str((alerts["night"] == nights[-1]).sum())
    # columns: the asked ones plus key:key and key:time
    pdf = rows_of(client.post("/api/v1/statistics",
                              json={"date": "", "columns": "basic:exposures,class:Unknown"}))
    assert sorted(pdf.columns) == ["basic:exposures", "class:Unknown", "key:key", "key:time"]
    schema = rows_of(client.post("/api/v1/statistics", json={"date": "", "schema": True}))
    assert list(schema.columns) == ["schema"]
    assert {"basic:raw", "basic:sci", "class:simbad_tot"} <= set(schema["schema"])
    r = client.post("/api/v1/statistics", json={"schema": True})
    assert r.status_code == 400 and "A value for `date` is required" in r.get_data(as_text=True)


def test_a_night_holding_none_of_the_selected_counters_is_not_scanned(client):
    # Lomikel's Scan.addColumn: a row without any of the selected cells does not come back
    import json as _json

    answer = client.post("/api/v1/statistics", json={"date": "20211122",
                                                     "columns": "class:Nope"})
    assert _json.loads(answer.data) == []
    answer = client.post("/api/v1/statistics", json={"date": "20211122",
                                                     "columns": "basic:sci,class:Nope"})
    (row,) = _json.loads(answer.data)
    assert set(row) == {"basic:sci", "key:key", "key:time"}
