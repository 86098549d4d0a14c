"""/api/v1/latests and /api/v1/classes of the emulator, checked against the alert files."""
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.time import Time
from emu_helpers import rows_of


def latests(client, **payload):
    return client.post("/api/v1/latests", json=payload)




@pytest.fixture(scope="module")
def alerts(raw_alerts):
    """One row per alert of the files: jd, objectId, cdsxmatch, mag_rate."""
    return pd.DataFrame([{"objectId": a["objectId"], "candid": a["candidate"]["candid"],
                          "jd": a["candidate"]["jd"], "cdsxmatch": a.get("cdsxmatch"),
                          "mag_rate": a.get("mag_rate")} for a in raw_alerts])


# Fink's classes of alert fields, computed by fink-filters' own extract_fink_classification_
# (tests/data/ztf_make_classes.py): the bundled alerts, and synthetic rows firing every rule.
_ORACLE = Path(__file__).parents[1] / "data" / "ztf_fink_classes.parquet"
_RULE_FIELDS = {"cdsxmatch": "d", "roid": "d", "mulens": "d", "snn_snia_vs_nonia": "d",
                "snn_sn_vs_all": "d", "rf_snia_vs_nonia": "d", "ndethist": "i", "drb": "i",
                "classtar": "i", "jd": "i", "jdstarthist": "i", "rf_kn_vs_nonkn": "d",
                "tracklet": "d"}


@pytest.fixture(scope="module")
def oracle():
    return pd.read_parquet(_ORACLE)


@pytest.fixture(scope="module")
def classified(oracle, alerts):
    """Fink's class of every bundled alert, by candid (from fink-filters, not the emulator)."""
    bundled = oracle[oracle["kind"] == "bundled"]
    assert sorted(bundled["candid"]) == sorted(alerts["candid"])
    return dict(zip(bundled["candid"], bundled["fink_class"], strict=True))


def test_objects_classification_is_fink_filters(client, alerts, classified):
    oids = ",".join(sorted(set(alerts["objectId"])))
    full = rows_of(client.post("/api/v1/objects", json={"objectId": oids}))
    assert len(full) == len(alerts)
    assert dict(zip(full["i:candid"], full["v:classification"], strict=True)) == classified


def test_classification_rules_agree_with_fink_filters_on_every_branch(oracle):
    from astroquery_fink.testing.engine import classify

    synthetic = oracle[oracle["kind"] == "synthetic"]
    # every rule fired in the oracle, alone and together
    assert {"SN candidate", "Early SN Ia candidate", "Kilonova candidate",
            "Microlensing candidate", "Solar System candidate", "Solar System MPC",
            "Tracklet", "Ambiguous", "Unknown", "QSO"} <= set(synthetic["fink_class"])
    rows = pd.DataFrame({f"{family}:{name}": synthetic[name].to_numpy()
                         for name, family in _RULE_FIELDS.items()})
    assert list(classify(rows)) == list(synthetic["fink_class"])


def test_simbad_class_counts_from_the_files(client, alerts):
    # a real SIMBAD match is the alert's class: counted from d:cdsxmatch of the files
    counts = Counter(alerts["cdsxmatch"])
    for label in ("Candidate_CV*", "Seyfert_2", "HotSubdwarf", "Star"):
        pdf = rows_of(latests(client, **{"class": f"(SIMBAD) {label}", "n": 100}))
        assert len(pdf) == counts[label] > 0
        assert set(pdf["v:classification"]) == {label}
        assert set(pdf["d:cdsxmatch"]) == {label}
        same = rows_of(latests(client, **{"class": label, "n": 100}))
        assert same.equals(pdf)


def test_fink_class_rows_and_order(client, alerts, classified):
    expected = alerts[[classified[c] == "SN candidate" for c in alerts["candid"]]]
    assert len(expected) == 21
    pdf = rows_of(latests(client, **{"class": "SN candidate", "n": 1000}))
    assert sorted(pdf["i:candid"]) == sorted(expected["candid"])
    assert list(pdf["i:jd"]) == sorted(pdf["i:jd"], reverse=True)
    # default n is 10; n keeps the newest alerts
    assert len(rows_of(latests(client, **{"class": "SN candidate"}))) == 10
    top = rows_of(latests(client, **{"class": "SN candidate", "n": 3}))
    assert list(top["i:candid"]) == list(expected.sort_values("jd", ascending=False)["candid"][:3])
    # all-columns mode: index columns, defaults and row v: columns, no rate columns
    assert {"v:classification", "v:lastdate", "v:firstdate", "v:lapse",
            "v:constellation", "d:tns", "d:tracklet", "d:blazar_stats_m0"} <= set(pdf.columns)
    assert "v:rate" not in pdf.columns
    assert "i:fwhm" not in pdf.columns  # not an index-table column


def test_dates_filter_the_alert_jd(client, alerts, classified):
    kinds = {"SN candidate", "Kilonova candidate"}
    for start, stop in (("2025-06-01", "2025-07-01"), ("2020-08-01", "2020-08-10"),
                        ("2000-01-01", "2001-01-01")):
        jd0, jd1 = Time(start).jd, Time(stop).jd
        for kind in kinds:
            pdf = rows_of(latests(client, **{"class": kind, "n": 1000, "startdate": start,
                                             "stopdate": stop}))
            expected = alerts[[(classified[c] == kind) and jd0 <= j < jd1
                               for c, j in zip(alerts["candid"], alerts["jd"], strict=True)]]
            assert sorted(pdf.get("i:candid", [])) == sorted(expected["candid"])
    # JD numbers are not parsed by this endpoint: uncaught on the server
    r = latests(client, **{"class": "SN candidate", "startdate": "2459000.5"})
    assert r.status_code == 500


def test_trends(client, alerts, classified):
    kind = "SN candidate"
    args = {"class": kind, "n": 1000, "startdate": "2025-06-01", "stopdate": "2025-07-01"}
    every = rows_of(latests(client, **args))
    rising = rows_of(latests(client, **args, trend="rising"))
    fading = rows_of(latests(client, **args, trend="fading"))
    rates = dict(zip(alerts["candid"], alerts["mag_rate"], strict=True))
    assert sorted(rising["i:candid"]) == sorted(c for c in every["i:candid"] if rates[c] < 0)
    assert sorted(fading["i:candid"]) == sorted(c for c in every["i:candid"] if rates[c] > 0)
    assert len(rising) + len(fading) == len(every) == 3
    assert len(rising) > 0 and len(fading) > 0


def test_trend_errors(client):
    r = latests(client, **{"class": "SN candidate", "trend": "up"})
    assert r.status_code == 400
    assert r.get_data(as_text=True) == (
        "\n        up is not a valid trend.\n        Trend must be among: rising, fading, "
        "low_state, new_low_state\n        ")
    r = latests(client, **{"class": "SN candidate", "trend": "low_state"})
    assert r.status_code == 400
    assert r.get_data(as_text=True) == (
        "\n        low_state trend is only implemented for the `(CTA) Blazar low state` "
        "class.\n        SN candidate class can accept trend among: rising, fading.\n        ")
    r = latests(client, n=3)
    assert r.get_data(as_text=True) == str(
        {"status": "error",
         "text": "A value for `class` is required. See https://api.ztf.fink-portal.org \n"})


def test_columns_color_and_unbuilt_tables(client):
    pdf = rows_of(latests(client, **{"class": "SN candidate", "columns": "i:jd,i:objectId"}))
    assert list(pdf.columns) == ["i:jd", "i:objectId"] and len(pdf) == 10
    pdf = rows_of(latests(client, **{"class": "SN candidate", "columns": "i:objectId"}))
    assert list(pdf.columns) == ["i:objectId"]
    colored = rows_of(latests(client, **{"class": "SN candidate", "n": 1000, "color": True}))
    assert {"v:rate", "v:g-r", "v:sigma(rate(g-r))"} <= set(colored.columns)
    # the TDE: both bands among its SN candidate alerts -> some colour values
    assert colored["v:g-r"].notna().any()
    # v:rate over the returned rows of each object and band, from their own magnitudes
    for _, band in colored.groupby(["i:objectId", "i:fid"]):
        band = band.sort_values("i:jd")
        expected = band["i:magpsf"].diff() / band["i:jd"].diff()
        assert np.allclose(band["v:rate"], expected, equal_nan=True, rtol=1e-6)
    for label in ("(CTA) Blazar low state", "SLSN candidate", "(TNS) SN Ia", "(TNS) nope"):
        r = latests(client, **{"class": label})
        assert r.status_code == 200 and r.get_data(as_text=True) == "[]"


def test_tns_class_from_d_tns(tmp_path, raw_alerts):
    """(TNS) X: the alerts whose d:tns is X (a file with TNS labels written here)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from astroquery_fink.testing import FinkEmulator, bundled_data_files

    table = pq.read_table(next(p for p in bundled_data_files() if "2025" in p.name),
                          use_threads=False)
    oids = table.column("objectId").to_pylist()
    tns = ["SN Ia" if o == "ZTF25aaugqpe" else ("SN II" if o == "ZTF25aauurnj" else "")
           for o in oids]
    table = table.set_column(table.schema.get_field_index("tns"), "tns", pa.array(tns))
    pq.write_table(table, tmp_path / "tns.parquet")
    client = FinkEmulator(tmp_path / "tns.parquet", strict=True).app.test_client()
    pdf = rows_of(latests(client, **{"class": "(TNS) SN Ia", "n": 100}))
    assert sorted(pdf["i:objectId"]) == ["ZTF25aaugqpe"] * oids.count("ZTF25aaugqpe")
    assert set(pdf["d:tns"]) == {"SN Ia"}
    pdf = rows_of(latests(client, **{"class": "(TNS) SN II", "n": 1}))
    assert list(pdf["i:objectId"]) == ["ZTF25aauurnj"]


# ------------------------------------------------------------------------------- classes
def test_classes(client):
    r = client.get("/api/v1/classes")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.get_json()
    simbad = ("Cross-match with SIMBAD (see "
              "http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)")
    assert list(body) == sorted(body)  # flask.json sorts the keys
    assert set(body) == {"Fink classifiers", "Cross-match with TNS", simbad}
    assert body["Fink classifiers"] == sorted([
        "Early SN Ia candidate", "Kilonova candidate", "SN candidate", "SLSN candidate",
        "Microlensing candidate", "Tracklet", "Solar System MPC", "Solar System candidate",
        "Ambiguous", "(CTA) Blazar low state", "(CTA) Blazar high state"], key=str.lower)
    assert len(body["Cross-match with TNS"]) == 43
    assert len(body[simbad]) == 315
    for key, prefix in (("Cross-match with TNS", "(TNS) "), (simbad, "(SIMBAD) ")):
        values = body[key]
        assert all(v.startswith(prefix) for v in values)
        names = [v[len(prefix):] for v in values]
        assert names == sorted(names, key=str.lower)
    assert "(SIMBAD) Candidate_YSO" in body[simbad] and "(SIMBAD) YSO_Candidate" in body[simbad]
    assert "(SIMBAD) Unknown" not in body[simbad]
    assert "(TNS) SN Ia" in body["Cross-match with TNS"]
    assert client.post("/api/v1/classes", json={}).status_code == 405
    assert np.all([isinstance(v, list) for v in body.values()])


def test_a_column_selection_keeps_the_alerts_holding_it_before_the_limit(client):
    # Lomikel's Scan.addColumn: the scan returns only rows holding a selected cell, and its
    # limit counts those rows (2 of the 8 "Unknown" alerts hold d:DR3Name)
    import json as _json

    def latests(**args):
        answer = client.post("/api/v1/latests", json={
            "class": "(SIMBAD) Unknown", "startdate": "2019-11-01", "stopdate": "2026-01-01",
            "output-format": "json", **args})
        assert answer.status_code == 200, answer.data
        return _json.loads(answer.data)

    assert len(latests(n=100)) == 8
    assert [set(row) for row in latests(n=100, columns="d:DR3Name")] == [{"d:DR3Name"}] * 2
    assert len(latests(n=1, columns="d:DR3Name")) == 1
