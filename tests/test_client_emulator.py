"""The client over real HTTP against the loopback emulator: each Fink docs example, typed."""
import io
import json
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
import requests
from astropy.io import fits
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError, NoResultsWarning, RemoteServiceError

from astroquery_fink import FinkClass, conf
from astroquery_fink._http import fetch
from astroquery_fink._tables import loads_json
from astroquery_fink.testing import FinkEmulator

TDE = "ZTF20abfcszi"
NIGHT = ["ZTF18aaqfhlj", "ZTF20aawkwsc", "ZTF21acqdcyb"]
UPPER = "ZTF25aauurnj"  # many upper limits in its histories (2025 schema)
FORMATS = ["json", "csv", "votable", "parquet"]


def test_single_object_all_columns(fink):
    t = fink.query_object(TDE)
    assert len(t) == 21
    assert set(t["i:objectId"]) == {TDE}
    assert np.all(np.diff(t["i:jd"]) < 0)
    assert {"v:classification", "v:lastdate", "v:constellation", "v:rate", "d:tracklet"} \
        <= set(t.colnames)
    assert t["i:candid"].dtype == np.int64 and t["i:fid"].dtype == np.int64
    assert t["i:magpsf"].unit == u.mag and t["i:ra"].unit == u.deg and t["v:lapse"].unit == u.day
    assert t["v:rate"].unit == u.mag / u.day
    assert t["v:lastdate"][0] == Time(t["i:jd"][0], format="jd").iso == "2020-08-31 09:07:44.996"
    # the server's own default for missing blazar features (-1.0, "not computed"): a
    # float column, masked
    assert t["d:blazar_stats_m0"].dtype == np.float64 and t["d:blazar_stats_m0"].mask.all()
    assert np.ma.getdata(t["d:blazar_stats_m0"])[0] == -1.0


def test_several_objects_interleave_by_time_and_add_up(fink):
    alone = {oid: len(fink.query_object(oid)) for oid in NIGHT}
    t = fink.query_object(NIGHT)
    assert set(t["i:objectId"]) == set(NIGHT)
    assert len(t) == sum(alone.values())
    assert np.all(np.diff(t["i:jd"]) <= 0)


def test_columns_selection_returns_exactly_those(fink):
    t = fink.query_object(TDE, columns=["i:jd", "i:magpsf"])
    assert t.colnames == ["i:jd", "i:magpsf"] or set(t.colnames) == {"i:jd", "i:magpsf"}
    full = fink.query_object(TDE)
    np.testing.assert_allclose(t["i:magpsf"], full["i:magpsf"])


@pytest.mark.parametrize("fmt", FORMATS[1:])
def test_formats_give_the_json_table(fink, fmt):
    ref = fink.query_object(TDE, output_format="json")
    t = fink.query_object(TDE, output_format=fmt)
    assert_same_table(t, ref)


@pytest.mark.parametrize("fmt", ["csv", "votable", "json"])
def test_formats_agree_with_upper_limits(fink, fmt):
    ref = fink.query_object(UPPER, withupperlim=True, output_format="json")
    t = fink.query_object(UPPER, withupperlim=True, output_format=fmt)
    assert_same_table(t, ref)


def test_parquet_with_upper_limits_is_refused_because_the_server_fails(fink):
    cols = ["i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim"]
    with pytest.raises(InvalidQueryError, match="cannot write parquet"):
        fink.query_object(UPPER, columns=cols, withupperlim=True, output_format="parquet")
    # and the server does fail there, so refusing early loses nothing
    with pytest.raises(RemoteServiceError, match="HTTP 500"):
        raw(fink, "objects", {"objectId": UPPER, "columns": ",".join(cols),
                              "withupperlim": True, "output-format": "parquet"})


def assert_same_table(t, ref):
    assert sorted(t.colnames) == sorted(ref.colnames)
    assert len(t) == len(ref)
    for name in ref.colnames:
        a, b = t[name], ref[name]
        assert a.dtype.kind == b.dtype.kind, name
        assert a.unit == b.unit, name
        ma, mb = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
        if name.startswith("d:") and a.dtype.kind == "U":
            # csv cannot tell an empty string from a missing one (see the docs)
            ma = mb = ma & mb
        assert np.array_equal(ma, mb), name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(np.ma.filled(a, 0), np.ma.filled(b, 0), rtol=1e-9,
                                       atol=1e-9, err_msg=name)
        elif a.ndim == 1:
            keep = ~ma
            assert list(np.asarray(a)[keep]) == list(np.asarray(b)[keep]), name


def test_withupperlim_rows_are_typed_and_tagged(fink):
    t = fink.query_object(UPPER, withupperlim=True)
    tags = set(t["d:tag"])
    assert tags <= {"valid", "upperlim", "badquality"} and "upperlim" in tags
    upper = t[t["d:tag"] == "upperlim"]
    assert upper["i:fid"].dtype == np.int64 and set(upper["i:fid"]) <= {1, 2, 3}
    assert np.all(upper["i:candid"] == -1)
    assert not np.ma.getmaskarray(upper["i:diffmaglim"]).any()
    assert np.ma.getmaskarray(upper["i:magpsf"]).all()
    valid = t[t["d:tag"] == "valid"]
    assert len(valid) == len(fink.query_object(UPPER))
    assert np.all(np.diff(t["i:jd"]) <= 0)


def test_withcutouts_gives_3d_columns_equal_to_get_cutouts(fink):
    t = fink.query_object(TDE, withcutouts=True)
    for kind in ("Science", "Template", "Difference"):
        col = t[f"b:cutout{kind}_stampData"]
        assert col.shape == (21, 63, 63)
    latest = t[int(np.argmax(t["i:jd"]))]
    hdul = fink.get_cutouts(TDE)
    assert hdul[0].header["CANDID"] == latest["i:candid"]
    for kind in ("Science", "Template", "Difference"):
        # same orientation and values; JSON carries 10 decimals, FITS the exact float32
        np.testing.assert_allclose(np.asarray(latest[f"b:cutout{kind}_stampData"]),
                                   hdul[kind.upper()].data, rtol=0, atol=1e-9)


def test_cutout_kind_restricts_the_columns(fink):
    t = fink.query_object(TDE, withcutouts=True, cutout_kind="Science",
                          columns=["i:jd", "i:magpsf"])
    assert "b:cutoutScience_stampData" in t.colnames
    assert "b:cutoutTemplate_stampData" not in t.colnames
    assert {"i:objectId", "i:candid"} <= set(t.colnames)  # added for the server


def test_get_cutouts_by_candid_and_as_arrays(fink):
    t = fink.query_object(TDE, columns=["i:candid", "i:jd"])
    oldest = int(t["i:candid"][-1])
    hdul = fink.get_cutouts(TDE, candid=oldest)
    assert hdul[0].header["CANDID"] == oldest
    assert hdul["SCIENCE"].header["JD"] == pytest.approx(float(t["i:jd"][-1]))
    arrays = fink.get_cutouts(TDE, candid=oldest, as_array=True)
    for kind, data in arrays.items():
        np.testing.assert_array_equal(data, hdul[kind.upper()].data)
    assert isinstance(hdul, fits.HDUList) and len(hdul) == 4


def test_get_schema_table(fink):
    s = fink.get_schema()
    assert len(s) == 108 + 46 + 11 + 3
    counts = {f: int(np.sum(s["family"] == f)) for f in "idvb"}
    assert counts == {"i": 108, "d": 46, "v": 11, "b": 3}
    row = s[s["name"] == "i:magpsf"][0]
    assert row["unit"] == "mag" and row["type"] == "float"
    assert s[s["name"] == "i:aimage"][0]["type"] == "null|float"


def test_unknown_object_warns_and_gives_empty_table(fink):
    with pytest.warns(NoResultsWarning):
        t = fink.query_object("ZTF99zzzzzzz", columns=["i:jd"])
    assert len(t) == 0 and t.colnames == ["i:jd"]


def test_prefix_matching_only_when_asked(fink):
    t = fink.query_object("ZTF20abfcsz", prefix=True, columns=["i:objectId"])
    assert set(t["i:objectId"]) == {TDE}
    with pytest.raises(InvalidQueryError):
        fink.query_object("ZTF20abfcsz")


def test_batched_query_equals_one_request(fink, emulator):
    ids = emulator.object_ids[:60]
    with conf.set_temp("batch_size", 1000):
        one = fink.query_object(ids)
    with conf.set_temp("batch_size", 7), conf.set_temp("max_workers", 3):
        many = fink.query_object(ids)
    assert len(many["i:objectId"]) == len(one)
    assert many.colnames == one.colnames
    assert list(many["i:candid"]) == list(one["i:candid"])
    for name in one.colnames:
        assert many[name].dtype == one[name].dtype, name


# ------------------------------------------------ server failures (fink-object-api error bodies)

def raw(fink, endpoint, payload):
    return fetch(fink, "POST", f"{fink.server}/api/v1/{endpoint}", payload,
                 lambda r: loads_json(r.content),
                 what=endpoint, cache=False, timeout=10)


def test_missing_required_argument_is_invalid_query_with_server_text(fink):
    with pytest.raises(InvalidQueryError, match="A value for `objectId` is required"):
        raw(fink, "objects", {"columns": "i:jd"})


def test_unsupported_format_is_invalid_query(fink):
    with pytest.raises(InvalidQueryError, match="Output format `xls` is not supported"):
        raw(fink, "objects", {"objectId": TDE, "output-format": "xls"})


def test_server_500_is_remote_service_error(fink):
    with pytest.raises(RemoteServiceError, match="HTTP 500.*Internal Server Error"):
        raw(fink, "objects", {"objectId": f"{TDE},"})


def test_unknown_cutout_is_remote_service_error(fink):
    with pytest.raises(RemoteServiceError, match="HTTP 500"):
        raw(fink, "cutouts", {"objectId": "ZTF99zzzzzzz", "kind": "Science",
                              "output-format": "array"})


def test_unknown_path_is_remote_service_error_naming_the_setting(emulator):
    with pytest.raises(RemoteServiceError, match="conf.server"):
        FinkClass(server=emulator.url + "/nowhere").query_object(TDE)


def test_server_is_read_at_call_time(emulator):
    with conf.set_temp("server", emulator.url):
        from astroquery_fink import Fink
        assert len(Fink.query_object(TDE, columns=["i:jd"])) == 21


@pytest.mark.parametrize("fmt", ["csv", "votable", "parquet"])
def test_formats_agree_with_cutouts(fink, fmt):
    ref = fink.query_object(TDE, withcutouts=True, cutout_kind="Difference",
                            columns=["i:jd", "i:magpsf"], output_format="json")
    t = fink.query_object(TDE, withcutouts=True, cutout_kind="Difference",
                          columns=["i:jd", "i:magpsf"], output_format=fmt)
    col = "b:cutoutDifference_stampData"
    assert t[col].shape == ref[col].shape == (21, 63, 63)
    np.testing.assert_allclose(np.ma.filled(t[col], 0), np.ma.filled(ref[col], 0), atol=1e-9)


def test_overlapping_prefixes_in_several_batches_give_each_row_once(fink):
    with conf.set_temp("batch_size", 1):
        t = fink.query_object(["ZTF20abfcszi", "ZTF20abfcsz", "ZTF20abf"], prefix=True,
                              columns=["i:objectId", "i:jd"])
    assert len(t) == 21 and set(t["i:objectId"]) == {TDE}


def test_row_order_does_not_depend_on_batching(fink, emulator):
    ids = emulator.object_ids[:40]
    with conf.set_temp("batch_size", 50):
        one = fink.query_object(ids, columns=["i:objectId", "i:jd", "i:candid"])
    with conf.set_temp("batch_size", 3):
        many = fink.query_object(ids, columns=["i:objectId", "i:jd", "i:candid"])
    assert list(many["i:candid"]) == list(one["i:candid"])


def test_get_cutouts_refuses_several_objects_and_text_candids(fink):
    with pytest.raises(InvalidQueryError, match="one ZTF object name"):
        fink.get_cutouts([TDE, "ZTF18aaqfhlj"])
    with pytest.raises(InvalidQueryError, match="candid must be an integer"):
        fink.get_cutouts(TDE, candid="abc")
    t = fink.query_object(TDE, columns=["i:candid"])
    hdul = fink.get_cutouts(TDE, candid=str(t["i:candid"][3]), kind="Science")
    assert hdul[0].header["CANDID"] == t["i:candid"][3]


def test_upper_limits_of_several_objects_do_not_depend_on_the_batching(fink, emulator):
    """The server drops a bad-quality point at the time of a valid alert of any object of
    the request (fink-object-api apps/routes/v1/ztf/objects/utils.py): two objects seen in
    one exposure lose each other's points when sent together, so they go one per request."""
    ids = ["ZTF18aaxyyjv", "ZTF18abzvnya"]
    cols = ["i:objectId", "i:jd", "i:fid"]
    alone = []
    for oid in ids:
        r = requests.post(emulator.url + "/api/v1/objects", timeout=30, json={
            "objectId": oid, "withupperlim": True, "columns": ",".join(cols)})
        alone.append(pd.read_json(io.StringIO(r.text), dtype=False))
    together = requests.post(emulator.url + "/api/v1/objects", timeout=30, json={
        "objectId": ",".join(ids), "withupperlim": True, "columns": ",".join(cols)}).json()
    assert len(together) < sum(map(len, alone)) == 10  # the server's cross-object drop
    for size in (1, 50):
        with conf.set_temp("batch_size", size):
            t = fink.query_object(ids, withupperlim=True, columns=cols)
        assert len(t) == 10
        for oid, want in zip(ids, alone, strict=True):
            got = t[t["i:objectId"] == oid]
            assert sorted(zip(got["i:jd"], got["d:tag"], strict=True)) == sorted(
                zip(want["i:jd"].astype(float), want["d:tag"], strict=True))
    payloads = fink.query_object(ids, withupperlim=True, get_query_payload=True)
    assert [p["objectId"] for p in payloads] == ids
    with conf.set_temp("batch_size_upperlim", 50):  # the setting: one request, the drop
        assert fink.query_object(ids, withupperlim=True, get_query_payload=True)[
            "objectId"] == ",".join(ids)
        assert len(fink.query_object(ids, withupperlim=True, columns=cols)) == len(together)


def test_alerts_without_stamps_are_said(tmp_path):
    """ZTF alerts may lack their cutouts (null in the Avro schema): the server's cutout
    call fails and the cell is []; the rows are kept and a warning names what is missing."""
    fastavro = pytest.importorskip("fastavro")
    with open(Path(__file__).parent / "data" / "raw_ZTF19acihgng.avro", "rb") as fh:
        reader = fastavro.reader(fh)
        schema, records = json.loads(json.dumps(reader.writer_schema)), list(reader)
    for rec in records:
        rec["cutoutScience"] = rec["cutoutTemplate"] = rec["cutoutDifference"] = None
    path = tmp_path / "no_stamps.avro"
    with open(path, "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), records)
    with FinkEmulator(data=path) as emu:
        fink = FinkClass(server=emu.url)
        with pytest.warns(NoResultsWarning, match=r"Rows came without "
                          r"b:cutoutScience_stampData \(1 of 1 rows\), "
                          r"b:cutoutTemplate_stampData \(1 of 1 rows\)"):
            t = fink.query_object("ZTF19acihgng", withcutouts=True, cache=False)
    assert len(t) == 1 and t["i:candid"][0] == records[0]["candid"]
    assert t["b:cutoutScience_stampData"].size == 0


def test_empty_answers_have_the_columns_full_ones_have(fink):
    # a cone search reads ztf.pixel128 ("truncated": no v: columns); an object's alerts come
    # with every column of the alert table
    found = fink.query_region("23.5 30.7", 10 * u.arcmin)
    with pytest.warns(NoResultsWarning):
        empty = fink.query_region("200 -80", 10 * u.arcmin)
    assert len(found) == 7 and len(empty) == 0
    assert [(c, empty[c].dtype.kind) for c in sorted(empty.colnames)] == [
        (c, found[c].dtype.kind) for c in sorted(found.colnames)]
    with pytest.warns(NoResultsWarning):
        unknown = fink.query_object("ZTF99zzzzzzz")
    assert set(fink.query_object(TDE).colnames) <= set(unknown.colnames)
    assert "v:classification" in unknown.colnames and "d:classification" not in unknown.colnames


def test_upper_limit_rows_without_stamps_are_not_warned_about(emulator):
    # the server downloads stamps for the alerts only: upper-limit and bad-quality rows
    # (d:tag) never have any
    import warnings

    from astroquery_fink import FinkClass

    fink = FinkClass(server=emulator.url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = fink.query_object("ZTF25aauurnj", withupperlim=True, withcutouts=True,
                              cutout_kind="Science")
    assert [str(w.message) for w in caught] == []
    stamps = np.ma.getmaskarray(t["b:cutoutScience_stampData"]).reshape(len(t), -1).all(axis=1)
    assert set(np.asarray(t["d:tag"])[stamps]) == {"upperlim", "badquality"}
    assert not stamps[np.asarray(t["d:tag"]) == "valid"].any()
