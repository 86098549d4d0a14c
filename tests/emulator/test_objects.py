"""/api/v1/objects of the emulator, checked against values read from the alert files."""
import io
import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import requests
from astropy.coordinates import SkyCoord, get_constellation
from astropy.io import votable
from astropy.time import Time
from emu_helpers import stamp_pixels

TDE = "ZTF20abfcszi"


def post(emu, **payload):
    return requests.post(emu.url + "/api/v1/objects", json=payload, timeout=30)


def alerts_of(raw_alerts, oid):
    return [r for r in raw_alerts if r["objectId"] == oid]


def _f32(x):
    return float(np.format_float_positional(np.float32(x), unique=True))


# --------------------------------------------------------------------------- basic queries
def test_single_object_rows_and_values(emu, raw_alerts):
    r = post(emu, objectId=TDE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    rows = r.json()
    raw = sorted(alerts_of(raw_alerts, TDE), key=lambda a: -a["candidate"]["jd"])
    assert len(raw) == 21 and len(rows) == 21
    # sorted by i:jd descending, exact 64-bit candids, magpsf as the float32 text
    assert [x["i:candid"] for x in rows] == [a["candidate"]["candid"] for a in raw]
    assert [x["i:jd"] for x in rows] == pytest.approx([a["candidate"]["jd"] for a in raw],
                                                      abs=1e-7)
    assert [x["i:magpsf"] for x in rows] == [_f32(a["candidate"]["magpsf"]) for a in raw]
    assert all(x["i:objectId"] == TDE and x["i:publisher"] == "Fink" for x in rows)
    assert rows[0]["d:cdsxmatch"] == raw[0]["cdsxmatch"]
    assert rows[0]["d:snn_snia_vs_nonia"] == pytest.approx(raw[0]["snn_snia_vs_nonia"])


def test_all_columns_defaults_and_v(emu):
    row = post(emu, objectId=TDE).json()[0]
    assert row["d:tracklet"] == "" and row["d:tns"] == ""  # absent in the file -> defaults
    for k in ("m0", "m1", "m2", "instantness_low", "robustness_low", "instantness_high",
              "robustness_high"):
        assert row[f"d:blazar_stats_{k}"] == -1.0
    assert {k for k in row if k.startswith("v:")} == {
        "v:classification", "v:rate", "v:sigma(rate)", "v:g-r", "v:sigma(g-r)",
        "v:rate(g-r)", "v:sigma(rate(g-r))", "v:lastdate", "v:firstdate", "v:lapse",
        "v:constellation"}
    assert not any(k.startswith("d:t2_") or k == "d:spicy_name" for k in row)


def test_v_dates_lapse_constellation(emu, raw_alerts):
    rows = post(emu, objectId=TDE).json()
    raw = {a["candidate"]["candid"]: a["candidate"] for a in alerts_of(raw_alerts, TDE)}
    for x in rows:
        c = raw[x["i:candid"]]
        assert x["v:lastdate"] == Time(c["jd"], format="jd").iso
        assert x["v:firstdate"] == Time(c["jdstarthist"], format="jd").iso
        assert x["v:lapse"] == pytest.approx(c["jd"] - c["jdstarthist"], abs=1e-8)
    c = raw[rows[0]["i:candid"]]
    assert rows[0]["v:constellation"] == get_constellation(
        SkyCoord(c["ra"], c["dec"], unit="deg"))
    assert rows[0]["v:lastdate"] == "2020-08-31 09:07:44.996"  # format YYYY-MM-DD hh:mm:ss.sss


def test_v_rate_by_band(emu, raw_alerts):
    rows = post(emu, objectId=TDE).json()
    cands = sorted((a["candidate"] for a in alerts_of(raw_alerts, TDE)), key=lambda c: c["jd"])
    by_candid = {x["i:candid"]: x for x in rows}
    for fid in (1, 2):
        band = [c for c in cands if c["fid"] == fid]
        assert by_candid[band[0]["candid"]]["v:rate"] is None  # first point of the band
        prev, cur = band[-2], band[-1]
        djd = cur["jd"] - prev["jd"]
        expected = (_f32(cur["magpsf"]) - _f32(prev["magpsf"])) / djd
        sig = math.hypot(_f32(cur["sigmapsf"]), _f32(prev["sigmapsf"])) / djd
        assert by_candid[cur["candid"]]["v:rate"] == pytest.approx(expected, rel=1e-8)
        assert by_candid[cur["candid"]]["v:sigma(rate)"] == pytest.approx(sig, rel=1e-8)


def test_several_objects_interleave_and_dedupe(emu, raw_alerts):
    ids = ["ZTF25aauurnj", "ZTF25aaugqpe"]
    rows = post(emu, objectId=" , ".join(ids) + "," + ids[0]).json()
    assert len(rows) == sum(len(alerts_of(raw_alerts, i)) for i in ids) == 6
    jds = [x["i:jd"] for x in rows]
    assert jds == sorted(jds, reverse=True)
    assert {x["i:objectId"] for x in rows} == set(ids)


def test_prefix_matching_case_sensitive(emu, raw_alerts):
    expected = {r["objectId"] for r in raw_alerts if r["objectId"].startswith("ZTF25")}
    rows = post(emu, objectId="ZTF25").json()
    assert {x["i:objectId"] for x in rows} == expected
    assert post(emu, objectId="ztf25").json() == []
    assert post(emu, objectId=TDE + " ").json() == []  # single ID not stripped


def test_per_id_cap_keeps_oldest(raw_alerts):
    from astroquery_fink.testing import FinkEmulator, bundled_data_files

    tde_file = [p for p in bundled_data_files() if "tde" in p.name]
    client = FinkEmulator(tde_file, nlimit=5, strict=True).app.test_client()
    rows = client.post("/api/v1/objects", json={"objectId": TDE}).get_json()
    oldest = sorted(a["candidate"]["jd"] for a in alerts_of(raw_alerts, TDE))[:5]
    assert sorted(x["i:jd"] for x in rows) == pytest.approx(oldest, abs=1e-7)
    # the cap is per ID: a second overlapping ID scans again from the oldest
    rows = client.post("/api/v1/objects", json={"objectId": f"{TDE},ZTF20"}).get_json()
    assert len(rows) == 5


def test_unknown_object(emu):
    assert post(emu, objectId="ZTF99zzzzzzz").text == "[]"
    r = post(emu, objectId="ZTF99zzzzzzz", **{"output-format": "csv"})
    assert r.status_code == 200 and r.text == "\n"
    assert post(emu, objectId="ZTF99zzzzzzz", withupperlim=True).json() == []
    assert post(emu, objectId="ZTF99zzzzzzz", withcutouts=True).json() == []


# --------------------------------------------------------------------------------- columns
def test_columns_truncated(emu):
    rows = post(emu, objectId=TDE, columns="i:jd, i:magpsf,unknown:x,i:nope,magpsf").json()
    assert len(rows) == 21 and all(set(x) == {"i:jd", "i:magpsf"} for x in rows)
    jds = [x["i:jd"] for x in rows]
    assert jds == sorted(jds, reverse=True)
    assert post(emu, objectId=TDE, columns="d:tracklet,i:jd").json()[0] == {
        "i:jd": rows[0]["i:jd"]}  # no defaults in truncated mode
    assert post(emu, objectId=TDE, columns="*").json() == post(emu, objectId=TDE).json()


def test_columns_v_gives_empty(emu):
    assert post(emu, objectId=TDE, columns="v:classification,i:jd").json() == []


# ---------------------------------------------------------------------------- withupperlim
def _expected_extra(raw_alerts, oid):
    """Ingestion filter of fink-broker bin/ztf/archive_index.py, written from the raw histories."""
    def bad(e):
        return (e["magpsf"] is not None and e["rb"] is not None and e["nbad"] is not None
                and not (e["rb"] >= 0.55 and e["nbad"] == 0))

    upper, badq = set(), set()
    for a in alerts_of(raw_alerts, oid):
        prv = a["prv_candidates"] or []
        if prv and prv[-1]["magpsf"] is None:
            upper |= {e["jd"] for e in prv if e["magpsf"] is None}
        elif prv and bad(prv[-1]):
            badq |= {e["jd"] for e in prv if bad(e)}
    valid = {a["candidate"]["jd"] for a in alerts_of(raw_alerts, oid)}
    return upper, badq - valid


@pytest.mark.parametrize("oid", ["ZTF25aauurnj", "ZTF19abxdvsa", "ZTF18abjtlqo", TDE])
def test_withupperlim_counts(emu, raw_alerts, oid):
    rows = post(emu, objectId=oid, withupperlim=True).json()
    upper, badq = _expected_extra(raw_alerts, oid)
    tags = defaultdict(list)
    for x in rows:
        tags[x["d:tag"]].append(x)
    assert len(tags["valid"]) == len(alerts_of(raw_alerts, oid))
    assert sorted(x["i:jd"] for x in tags["upperlim"]) == pytest.approx(sorted(upper))
    assert sorted(x["i:jd"] for x in tags["badquality"]) == pytest.approx(sorted(badq))
    jds = [x["i:jd"] for x in rows]
    assert jds == sorted(jds, reverse=True)


def test_withupperlim_filter_ignores_histories_not_ending_with_limit(emu):
    # ZTF19abxdvsa has 23 upper limits in its history, but its last entry is a bad detection.
    tags = [x["d:tag"] for x in post(emu, objectId="ZTF19abxdvsa", withupperlim=True).json()]
    assert tags.count("upperlim") == 0 and tags.count("badquality") == 6


def test_withupperlim_extra_rows_are_strings(emu, raw_alerts):
    rows = post(emu, objectId="ZTF25aauurnj", withupperlim=True).json()
    up = next(x for x in rows if x["d:tag"] == "upperlim")
    assert up["i:candid"] == -1 and isinstance(up["i:jd"], float)
    assert isinstance(up["i:fid"], str) and isinstance(up["i:diffmaglim"], str)
    assert up["i:magpsf"] is None and up["v:classification"] is None
    hist = {e["jd"]: e for a in alerts_of(raw_alerts, "ZTF25aauurnj")
            for e in a["prv_candidates"]}
    entry = hist[min(hist, key=lambda j: abs(j - up["i:jd"]))]
    assert up["i:fid"] == str(entry["fid"])
    assert float(up["i:diffmaglim"]) == _f32(entry["diffmaglim"])
    bad = next(x for x in rows if x["d:tag"] == "badquality")
    assert isinstance(bad["i:magpsf"], str) and bad["i:candid"] == -1
    valid = next(x for x in rows if x["d:tag"] == "valid")
    assert isinstance(valid["i:fid"], int)


def test_withupperlim_with_columns_adds_extra_fields(emu):
    rows = post(emu, objectId="ZTF25aauurnj", withupperlim=True, columns="i:jd,i:magpsf").json()
    assert {"i:fid", "i:diffmaglim", "i:candid", "d:tag"} <= set(rows[0])


def test_exact_true_rule(emu):
    n = len(post(emu, objectId="ZTF25aauurnj").json())
    for value in ("true", 1, "1", "yes"):
        assert len(post(emu, objectId="ZTF25aauurnj", withupperlim=value).json()) == n
    assert len(post(emu, objectId="ZTF25aauurnj", withupperlim="True").json()) > n
    r = requests.get(emu.url + "/api/v1/objects",
                     params={"objectId": "ZTF25aauurnj", "withupperlim": "true"}, timeout=30)
    assert len(r.json()) == n


# ----------------------------------------------------------------------------- withcutouts
def test_withcutouts_all_kinds(emu, raw_alerts):
    rows = post(emu, objectId="ZTF25aavcvel", withcutouts=True).json()
    raw = {a["candidate"]["candid"]: a for a in alerts_of(raw_alerts, "ZTF25aavcvel")}
    for x in rows:
        for kind in ("Science", "Template", "Difference"):
            got = np.array(x[f"b:cutout{kind}_stampData"], dtype=float)
            want = stamp_pixels(raw[x["i:candid"]][f"cutout{kind}"]["stampData"])
            assert got.shape == want.shape == (63, 63)
            # /objects JSON carries pandas double_precision=10
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, equal_nan=True)


def test_withcutouts_one_kind_and_invalid_kind(emu):
    row = post(emu, objectId="ZTF25aavbqut", withcutouts=True,
               **{"cutout-kind": "Science"}).json()[0]
    assert "b:cutoutScience_stampData" in row and "b:cutoutTemplate_stampData" not in row
    row = post(emu, objectId="ZTF25aavbqut", withcutouts=True,
               **{"cutout-kind": "Foo"}).json()[0]
    assert row["b:cutoutFoo_stampData"] == []


def test_withcutouts_needs_objectid_and_candid(emu):
    r = post(emu, objectId=TDE, withcutouts=True, columns="i:jd,i:candid")
    assert r.status_code == 500 and r.json() == {"message": "Internal Server Error"}
    r = post(emu, objectId=TDE, withcutouts=True, columns="i:objectId,i:candid")
    assert r.status_code == 200


# ---------------------------------------------------------------------------------- formats
def test_csv(emu):
    r = post(emu, objectId=TDE, **{"output-format": "csv"})
    assert r.headers["Content-Type"] == "application/csv"
    pdf = pd.read_csv(io.StringIO(r.text))
    assert len(pdf) == 21 and pdf["i:candid"].iloc[0] == post(emu, objectId=TDE).json()[0][
        "i:candid"]


def test_csv_list_cells_are_python_repr(emu):
    r = post(emu, objectId="ZTF25aavbqut", withcutouts=True, columns="i:objectId,i:candid",
             **{"cutout-kind": "Science", "output-format": "csv"})
    cell = pd.read_csv(io.StringIO(r.text))["b:cutoutScience_stampData"].iloc[0]
    assert cell.startswith("[[") and "," in cell


@pytest.mark.filterwarnings(
    "ignore::astropy.io.votable.exceptions.VOWarning"
)  # W03 etc. on parse: names like 'i:jd' are sanitised to 'i_jd', as with the real server
def test_votable(emu):
    r = post(emu, objectId=TDE, **{"output-format": "votable"})
    assert r.headers["Content-Type"] == "text/xml"
    table = votable.parse(io.BytesIO(r.content)).get_first_table().to_table()
    assert len(table) == 21 and "i_jd" in table.colnames


def test_parquet_with_index(emu):
    r = post(emu, objectId=TDE, **{"output-format": "parquet"})
    assert r.headers["Content-Type"] == "parquet"
    import pyarrow.parquet as pq

    names = pq.read_table(io.BytesIO(r.content), use_threads=False).schema.names
    assert "__index_level_0__" in names
    pdf = pd.read_parquet(io.BytesIO(r.content), use_threads=False)
    assert len(pdf) == 21 and pdf["i:candid"].dtype.kind == "i"
    r = post(emu, objectId=TDE, columns="i:jd", **{"output-format": "parquet"})
    index = pd.read_parquet(io.BytesIO(r.content), use_threads=False).index
    assert index[0].startswith(TDE + "_")  # row keys in truncated mode


def test_parquet_withupperlim_all_columns_is_500(emu):
    r = post(emu, objectId="ZTF25aauurnj", withupperlim=True, **{"output-format": "parquet"})
    assert r.status_code == 500 and r.json() == {"message": "Internal Server Error"}


def test_json_float_precision(emu):
    text = post(emu, objectId=TDE, columns="i:jd").text
    assert json.loads(text)[0]["i:jd"] == pytest.approx(2459092.8803819, abs=1e-9)
    assert "2459092.8803819" in text or "2459092.880381" in text


# ----------------------------------------------------------------------------- HTTP rules
def test_get_without_query_string(emu):
    r = requests.get(emu.url + "/api/v1/objects", timeout=30)
    assert r.status_code == 200 and r.text == "Get object data based on ZTF ID"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"


def test_get_query_equals_post(emu):
    params = {"objectId": TDE, "columns": "i:jd,i:magpsf"}
    g = requests.get(emu.url + "/api/v1/objects", params=params, timeout=30)
    assert g.json() == post(emu, **params).json()


def test_post_with_query_string_ignores_body(emu):
    r = requests.post(emu.url + "/api/v1/objects", params={"objectId": "ZTF25aavbqut"},
                      json={"objectId": TDE}, timeout=30)
    assert {x["i:objectId"] for x in r.json()} == {"ZTF25aavbqut"}
    r = requests.post(emu.url + "/api/v1/objects", params={"objectId": "ZTF25aavbqut"},
                      data="not json", timeout=30)
    assert r.status_code == 200


def test_cors_headers_everywhere(emu):
    for r in (post(emu, objectId=TDE), post(emu), requests.get(emu.url + "/nope", timeout=30)):
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
        assert r.headers["Access-Control-Allow-Methods"] == "GET,PUT,POST,DELETE,OPTIONS"


# ------------------------------------------------------------------------ errors (section 6)
def test_missing_required_argument(emu):
    r = post(emu, columns="i:jd")
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    # the live URL is only text in the server's message; the request went to the emulator
    assert r.text == ("{'status': 'error', 'text': 'A value for `objectId` is required. "
                      "See https://api.ztf.fink-portal.org \\n'}")


def test_unsupported_output_format_after_query(emu):
    r = post(emu, objectId=TDE, **{"output-format": "JSON"})
    assert r.status_code == 400
    assert r.text == ("{'status': 'error', 'text': 'Output format `JSON` is not supported. "
                      "Choose among json, csv, votable, or parquet\\n'}")
    # the query runs first: a query error wins over the format error
    assert post(emu, objectId="a,", **{"output-format": "JSON"}).status_code == 500


def test_body_not_json(emu):
    r = requests.post(emu.url + "/api/v1/objects", data="objectId=x", timeout=30)
    assert r.status_code == 415
    assert r.json() == {"message": "Did not attempt to load JSON data because the request "
                        "Content-Type was not 'application/json'."}
    r = requests.post(emu.url + "/api/v1/objects", data="{bad",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400
    assert r.json() == {"message": "The browser (or proxy) sent a request that this server "
                        "could not understand."}


def test_empty_element_is_500(emu):
    r = post(emu, objectId=TDE + ",")
    assert r.status_code == 500 and r.text == '{"message": "Internal Server Error"}\n'


def test_unknown_path_404(emu):
    r = requests.get(emu.url + "/api/v1/nothing", timeout=30)
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]


def test_schema(emu):
    r = requests.get(emu.url + "/api/v1/schema", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    data = r.json()
    assert list(data) == sorted(data)
    assert [len(data[k]) for k in sorted(data)] == [11, 46, 3, 108]
    assert data["ZTF original fields (i:)"]["magpsf"]["type"] == "float"
