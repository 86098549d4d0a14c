"""Loader, v: rules on synthetic rows, CLI and server lifecycle of the emulator."""
import shutil

import fastavro
import numpy as np
import pandas as pd
import pytest
import requests
from emu_helpers import RAW_AVRO, read_avro

from astroquery_fink.testing import AlertFileError, FinkEmulator, bundled_data_files
from astroquery_fink.testing.__main__ import main
from astroquery_fink.testing.engine import classify, rate_and_color


# ---------------------------------------------------------------------------------- loader
def test_bundled_sample_loads(emu, raw_alerts):
    assert emu.object_ids == sorted({r["objectId"] for r in raw_alerts})
    assert emu.url.startswith("http://127.0.0.1:")
    assert len(bundled_data_files()) == 4


def test_raw_avro_file(raw_alerts):
    records = read_avro(RAW_AVRO[0])
    oid = records[0]["objectId"]
    client = FinkEmulator(RAW_AVRO[0], strict=True).app.test_client()
    rows = client.post("/api/v1/objects", json={"objectId": oid, "withupperlim": True}).get_json()
    valid = [x for x in rows if x["d:tag"] == "valid"]
    assert len(valid) == 1
    assert valid[0]["i:candid"] == records[0]["candidate"]["candid"]
    assert valid[0]["i:publisher"] == records[0]["publisher"]
    assert not any(k.startswith("d:") and k not in ("d:tag", "d:tracklet", "d:tns")
                   and not k.startswith("d:blazar") for k in valid[0])
    assert valid[0]["v:classification"] == "Unknown"  # no d: values in a raw alert
    prv = records[0]["prv_candidates"]
    n_upper = sum(x["d:tag"] == "upperlim" for x in rows)
    if prv[-1]["magpsf"] is None:
        assert n_upper == len({e["jd"] for e in prv if e["magpsf"] is None})
    else:
        assert n_upper == 0


def test_directory_and_several_paths(tmp_path):
    for p in RAW_AVRO:
        shutil.copy(p, tmp_path / p.name)
    expected = sorted({read_avro(p)[0]["objectId"] for p in RAW_AVRO})
    assert FinkEmulator(tmp_path).object_ids == expected
    tde = [p for p in bundled_data_files() if "tde" in p.name]
    assert FinkEmulator([*tde, RAW_AVRO[0]]).object_ids == sorted(
        ["ZTF20abfcszi", read_avro(RAW_AVRO[0])[0]["objectId"]])


def test_history_null_and_missing_fields(tmp_path):
    # An alert file without prv_candidates values: no extra rows, fine otherwise.
    records = read_avro(RAW_AVRO[0])
    with open(RAW_AVRO[0], "rb") as fh:
        schema = fastavro.reader(fh).writer_schema
    records[0]["prv_candidates"] = None
    records[0]["candidate"]["fid"] = 3
    out = tmp_path / "nohist.avro"
    with open(out, "wb") as fh:
        fastavro.writer(fh, schema, records)
    client = FinkEmulator(out, strict=True).app.test_client()
    rows = client.post("/api/v1/objects", json={"objectId": records[0]["objectId"],
                                                "withupperlim": "True"}).get_json()
    assert [x["d:tag"] for x in rows] == ["valid"]
    assert rows[0]["i:fid"] == 3 and rows[0]["v:rate"] is None


def test_not_an_alert_file(tmp_path):
    text = tmp_path / "notes.parquet"
    text.write_text("hello")
    with pytest.raises(AlertFileError, match="notes.parquet"):
        FinkEmulator(text)
    table = tmp_path / "table.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(table)
    with pytest.raises(AlertFileError, match=r"table.parquet.*objectId, candidate"):
        FinkEmulator(table)
    with pytest.raises(AlertFileError, match="no such file"):
        FinkEmulator(tmp_path / "missing.avro")
    assert issubclass(AlertFileError, ValueError)


def test_cli_bad_file_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.avro"
    bad.write_bytes(b"nope")
    assert main(["--data", str(bad), "--port", "0"]) == 2
    assert "bad.avro" in capsys.readouterr().err


# --------------------------------------------------------------------------- v: on synthetic rows
def _row(**kw):
    base = {"d:cdsxmatch": "Unknown", "d:roid": 0, "d:mulens": 0.0, "d:snn_snia_vs_nonia": 0.0,
            "d:snn_sn_vs_all": 0.0, "d:rf_snia_vs_nonia": 0.0, "d:rf_kn_vs_nonkn": 0.0,
            "d:tracklet": "", "i:ndethist": 5, "i:drb": 0.9, "i:classtar": 0.9,
            "i:jd": 2459000.0, "i:jdstarthist": 2458990.0}
    base.update(kw)
    return base


@pytest.mark.parametrize(("fields", "label"), [
    ({}, "Unknown"),
    ({"d:mulens": 0.5}, "Microlensing candidate"),
    ({"d:snn_sn_vs_all": 0.9}, "SN candidate"),
    ({"d:snn_sn_vs_all": 0.9, "d:cdsxmatch": "Galaxy"}, "SN candidate"),  # Galaxy*: not real
    ({"d:snn_sn_vs_all": 0.9, "i:ndethist": 1}, "Unknown"),
    ({"d:snn_sn_vs_all": 0.9, "i:jdstarthist": 2458900.0}, "Unknown"),  # > 90 d
    ({"d:snn_sn_vs_all": 0.9, "d:rf_snia_vs_nonia": 0.9}, "Early SN Ia candidate"),
    ({"d:rf_kn_vs_nonkn": 0.9, "i:jdstarthist": 2458998.0}, "Kilonova candidate"),
    ({"d:roid": 2}, "Solar System candidate"),
    ({"d:roid": 3}, "Solar System MPC"),
    ({"d:tracklet": "TRCK_20210603_000000_00"}, "Tracklet"),
    ({"d:mulens": 0.5, "d:roid": 2}, "Ambiguous"),
    ({"d:snn_sn_vs_all": 0.9, "d:roid": 2}, "Ambiguous"),
    ({"d:rf_kn_vs_nonkn": 0.9, "i:jdstarthist": 2458998.0, "d:roid": 2},
     "Solar System candidate"),  # KN is not counted for Ambiguous
    ({"d:cdsxmatch": "RRLyr", "d:mulens": 0.5}, "RRLyr"),
    ({"d:cdsxmatch": "Fail 500", "d:mulens": 0.5}, "Microlensing candidate"),
    ({"d:cdsxmatch": "QSO", "d:snn_sn_vs_all": 0.9}, "QSO"),
    ({"d:cdsxmatch": "Seyfert_1", "d:snn_sn_vs_all": 0.9}, "Seyfert_1"),  # EG_HOST, real
    ({"i:drb": 0.3, "d:snn_sn_vs_all": 0.9}, "Unknown"),
])
def test_classification_rules(fields, label):
    assert classify(pd.DataFrame([_row(**fields)]))[0] == label


def test_rate_and_color_constructed_pair():
    sub = pd.DataFrame({
        "i:jd": [100.0, 100.1, 101.0, 101.2, 105.0],
        "i:fid": [1, 2, 1, 2, 3],
        "i:magpsf": [18.0, 17.5, 18.4, 17.7, 16.0],
        "i:sigmapsf": [0.1, 0.2, 0.1, 0.2, 0.1],
    })
    out = rate_and_color(sub)
    # g: (18.4 - 18.0) / 1.0 ; r: (17.7 - 17.5) / 1.1 ; first of each band and fid 3 NaN
    np.testing.assert_allclose(out["v:rate"], [np.nan, np.nan, 0.4, 0.2 / 1.1, np.nan],
                               rtol=1e-12)
    np.testing.assert_allclose(out["v:sigma(rate)"][2], np.hypot(0.1, 0.1) / 1.0)
    # g-r pairs: (100.0, 100.1) -> 0.5 ; (101.0, 101.2) -> 0.7 ; copied to rows within 0.3 d
    np.testing.assert_allclose(out["v:g-r"], [0.5, 0.5, 0.7, 0.7, np.nan], rtol=1e-12)
    np.testing.assert_allclose(out["v:sigma(g-r)"][0], np.hypot(0.1, 0.2))
    np.testing.assert_allclose(out["v:rate(g-r)"], [np.nan, np.nan, 0.2, 0.2, np.nan],
                               rtol=1e-9)
    sig = np.hypot(np.hypot(0.1, 0.2), np.hypot(0.1, 0.2)) / 1.0
    np.testing.assert_allclose(out["v:sigma(rate(g-r))"][2], sig)


def test_unpaired_g_discarded():
    sub = pd.DataFrame({"i:jd": [100.0, 100.5], "i:fid": [1, 2], "i:magpsf": [18.0, 17.0],
                        "i:sigmapsf": [0.1, 0.1]})
    assert rate_and_color(sub)["v:g-r"].isna().all()  # 0.5 d apart > 0.3 d tolerance


# --------------------------------------------------------------------------------- lifecycle
def test_start_stop_and_concurrency():
    tde = [p for p in bundled_data_files() if "tde" in p.name]
    emu = FinkEmulator(tde, strict=True)
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.start()
    url = emu.url
    try:
        from concurrent.futures import ThreadPoolExecutor

        def one(_):
            return requests.post(url + "/api/v1/objects", json={"objectId": "ZTF20abfcszi",
                                 "output-format": "votable"}, timeout=30).status_code

        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(one, range(8))) == {200}
    finally:
        emu.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/v1/schema", timeout=5)
