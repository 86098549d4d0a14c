"""Merging the answers of several requests: exact order of 64-bit IDs, one type per column,
duplicates removed, and near-equal batches."""
import json

import numpy as np
import pandas as pd
import pytest
from _helpers import make_response
from astropy.table import Column, MaskedColumn, Table

from astroquery_fink import _merge, conf
from astroquery_fink._query import batched
from astroquery_fink.lsst.endpoints import OBJECTS as LSST_OBJECTS
from astroquery_fink.ztf.endpoints import OBJECTS

# Rubin diaObjectIds 1 apart above 2**53: the same float64
LOW, HIGH = 313761043604045880, 313761043604045881


def rubin_sources(rows):
    """Answers like /api/v1/sources on ``rows``, in the server's order (newest first), the
    rows of one date in the order given (here the greater ID first)."""
    def answer(url, body):
        ids = {int(i) for i in body["diaObjectId"].split(",")}
        kept = [r for r in rows if r["r:diaObjectId"] in ids]
        kept.sort(key=lambda r: -r["r:midpointMjdTai"])
        return make_response(json.dumps(kept))
    return answer


def test_float64_cannot_tell_the_ids_apart():
    assert float(LOW) == float(HIGH) and LOW > 2**53


@pytest.mark.parametrize("size", [1, 100])
def test_rubin_ids_one_apart_sort_exactly_in_every_batching(lsst_recorded, size):
    dates = [60800.25, 60800.5, 60801.0]
    rows = [{"r:diaObjectId": oid, "r:diaSourceId": oid * 10 + k,
             "r:midpointMjdTai": mjd, "r:psfFlux": float(k)}
            for k, mjd in enumerate(dates) for oid in (HIGH, LOW)]
    fink, rec = lsst_recorded(rubin_sources(rows))
    with conf.set_temp("batch_size", size):
        table = fink.query_object([HIGH, LOW], output_format="json")
    assert len(rec.calls) == (2 if size == 1 else 1)
    assert table["r:diaObjectId"].dtype == np.int64
    # the server's order (newest first), ties by diaObjectId, compared as Python ints
    expected = sorted(rows, key=lambda r: (-r["r:midpointMjdTai"], r["r:diaObjectId"]))
    assert table["r:diaObjectId"].tolist() == [r["r:diaObjectId"] for r in expected]
    assert table["r:diaSourceId"].tolist() == [r["r:diaSourceId"] for r in expected]


@pytest.mark.parametrize("size", [1, 100])
def test_rubin_objects_sorted_by_exact_id(lsst_recorded, size):
    ids = [LOW + d for d in (7, 1, 0, 63, 2, 64, 5)]

    def answer(url, body):
        asked = [int(i) for i in body["diaObjectId"].split(",")]
        # the server's order: reversed, so that the client's sort is what is tested
        return make_response(json.dumps([{"r:diaObjectId": i, "r:ra": 1.0}
                                         for i in asked[::-1]]))

    fink, _ = lsst_recorded(answer)
    with conf.set_temp("batch_size", size):
        table = fink.get_object_summary(ids, output_format="json")
    assert table["r:diaObjectId"].tolist() == sorted(ids)
    parts = [Table({"r:diaObjectId": np.array([i], np.int64)}) for i in ids]
    assert _merge.merge(parts, LSST_OBJECTS)["r:diaObjectId"].tolist() == sorted(ids)


def test_sort_keys_are_exact_for_both_directions_and_missing_last():
    values = np.array([HIGH, LOW, LOW + 2, -(2**63), 2**63 - 1], np.int64)
    mask = np.array([False, False, False, False, True])
    for descending in (False, True):
        key = _merge._sort_key(values, mask, descending)
        order = np.argsort(key, kind="stable")
        present = sorted(values[:4].tolist(), reverse=descending)
        assert values[order].tolist() == present + [2**63 - 1]
    floats = np.array([2.0, np.nan, 1.0, 3.0])
    assert floats[np.argsort(_merge._sort_key(floats, None, True), kind="stable")][:3].tolist() \
        == [3.0, 2.0, 1.0]


# ----------------------------------------------------------------------------- one type

def test_columns_typed_differently_take_the_widest_type():
    a = Table({"i:objectId": ["ZTF1"], "i:jd": [3.0], "n": [1], "t": [True], "s": ["abc"]})
    b = Table({"i:objectId": ["ZTF2"], "i:jd": [2.0], "n": [2.5], "t": [2], "s": [7]})
    c = Table({"i:objectId": ["ZTF3"], "i:jd": [1.0],
               "n": MaskedColumn(["x"], mask=[True]), "t": MaskedColumn([0.0], mask=[True])})
    out = _merge.merge([a, b, c], OBJECTS)
    assert out["n"].dtype == np.float64 and out["n"].tolist() == [1.0, 2.5, None]
    assert out["t"].dtype == np.int64 and out["t"].tolist() == [1, 2, None]
    assert out["s"].dtype.kind == "U" and out["s"].tolist() == ["abc", "7", None]


def test_all_masked_part_takes_the_exact_int_type():
    big = 2**62 + 1
    a = Table({"i:objectId": ["ZTF1"], "i:jd": [2.0], "d:x": [big]})
    b = Table({"i:objectId": ["ZTF2"], "i:jd": [1.0],
               "d:x": MaskedColumn(np.array([np.nan]), mask=[True])})
    out = _merge.merge([a, b], OBJECTS)
    assert out["d:x"].dtype == np.int64 and out["d:x"][0] == big
    assert out["d:x"].mask.tolist() == [False, True]


def test_column_without_any_value_keeps_the_type_its_parts_have():
    a = Table({"i:objectId": ["ZTF1"], "i:jd": [2.0],
               "d:vsx": MaskedColumn(["nan"], mask=[True])})
    b = Table({"i:objectId": ["ZTF2"], "i:jd": [1.0],
               "d:vsx": MaskedColumn(["nan"], mask=[True])})
    out = _merge.merge([a, b], OBJECTS)
    assert out["d:vsx"].dtype == np.dtype("U3") and out["d:vsx"].mask.all()


def test_stamps_of_different_shapes_are_padded_with_masked_nan():
    full = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    edge = np.full((1, 2, 3), 5.0, np.float32)  # an edge-of-CCD stamp
    a = Table({"i:objectId": ["ZTF1", "ZTF1"], "i:jd": [3.0, 2.0], "b:stamp": full})
    b = Table({"i:objectId": ["ZTF2"], "i:jd": [1.0], "b:stamp": edge})
    out = _merge.merge([a, b], OBJECTS)
    stamp = out["b:stamp"]
    assert stamp.shape == (3, 3, 3) and isinstance(stamp, MaskedColumn)
    data, mask = np.ma.getdata(stamp), np.ma.getmaskarray(stamp)
    assert np.array_equal(data[:2], full) and not mask[:2].any()
    assert np.array_equal(data[2, :2], edge[0]) and not mask[2, :2].any()
    assert mask[2, 2].all() and np.isnan(data[2, 2]).all()


def test_units_descriptions_and_masked_only_where_missing():
    a = Table({"i:objectId": ["ZTF1"], "i:jd": [2.0], "i:magpsf": [18.5]})
    a["i:magpsf"].unit, a["i:magpsf"].description = "mag", "PSF magnitude"
    b = Table({"i:objectId": ["ZTF2"], "i:jd": [1.0], "i:magpsf": [19.0], "d:only_b": [4]})
    out = _merge.merge([a, b], OBJECTS)
    assert out["i:magpsf"].unit == "mag" and out["i:magpsf"].description == "PSF magnitude"
    # nothing missing: a plain Column, as a single answer gives
    assert type(out["i:magpsf"]) is Column and type(out["i:jd"]) is Column
    # absent from one answer: masked there
    assert isinstance(out["d:only_b"], MaskedColumn)
    assert out["d:only_b"].tolist() == [None, 4]


def test_merge_equals_pandas_concat_dedupe_and_sort():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "i:objectId": [f"ZTF{k:02d}" for k in rng.integers(0, 30, n)],
        "i:jd": rng.integers(0, 40, n) / 4 + 2459000.5,
        "d:tag": np.array(["valid", "upperlim"])[rng.integers(0, 2, n)],
        "i:candid": rng.integers(10**18, 10**18 + 50, n),
        "i:magpsf": rng.normal(18, 1, n)})
    # overlapping batches (rows repeated), each in its own order
    cuts = [frame.iloc[:150], frame.iloc[100:300], frame.iloc[280:], frame.iloc[:20]]
    parts = [Table.from_pandas(part.sample(frac=1, random_state=k))
             for k, part in enumerate(cuts)]
    out = _merge.merge(parts, OBJECTS)
    whole = pd.concat([p.to_pandas() for p in parts], ignore_index=True)
    expected = whole.drop_duplicates(["i:objectId", "i:jd", "d:tag"]).sort_values(
        ["i:jd", "i:objectId", "i:candid"], ascending=[False, True, True], kind="stable")
    assert len(out) == len(expected)
    for name in frame.columns:
        assert out[name].tolist() == expected[name].tolist(), name


# ----------------------------------------------------------------------------- batches

@pytest.mark.parametrize(("n", "size", "workers", "lengths"), [
    (101, 50, 1, [34, 34, 33]),
    (101, 50, 3, [34, 34, 33]),
    (101, 50, 4, [26, 25, 25, 25]),
    (1000, 50, 4, [50] * 20),
    (1000, 300, 4, [250] * 4),
    (8, 3, 4, [2, 2, 2, 2]),
    (3, 1, 4, [1, 1, 1]),  # never more batches than IDs
    (7, 50, 4, [7]),  # one batch stays one request
    (0, 50, 4, []),
])
def test_batches_are_near_equal_and_one_per_worker(n, size, workers, lengths):
    ids = [f"ZTF{k:05d}" for k in range(n)]
    with conf.set_temp("max_workers", workers):
        batches, payloads = batched(OBJECTS, ids, {"output-format": "json"}, size=size)
    assert [len(b) for b in batches] == lengths
    assert [i for b in batches for i in b] == ids
    assert [p["objectId"] for p in payloads] == [",".join(b) for b in batches]
    assert all(p["output-format"] == "json" for p in payloads)


@pytest.mark.parametrize("fold_limit", [2**62, 4])
def test_duplicate_rows_found_by_exact_key_folded_or_not(monkeypatch, fold_limit):
    # IDs one apart above 2**53 (equal as float64), a missing value as a key of its own;
    # with a tiny fold limit the key columns are compared side by side instead
    monkeypatch.setattr(_merge, "_FOLD_LIMIT", fold_limit)
    ids = np.array([HIGH, LOW, HIGH, LOW, HIGH, LOW], np.int64)
    mjd = np.array([1.5, 1.5, 1.5, 2.0, 2.0, 2.0])
    mask = np.array([False, False, False, False, True, True])
    keys = {"id": (ids, None), "mjd": (mjd, mask)}
    # rows 0 and 2 repeat (HIGH, 1.5); rows 4 and 5 differ by ID, both with a missing date
    assert _merge._first_rows(keys, ("id", "mjd"), 6).tolist() == [0, 1, 3, 4, 5]
    assert _merge._first_rows({"id": (ids[:2], None), "mjd": (mjd[:2], None)},
                              ("id", "mjd"), 2) is None


def test_pages_of_signed_and_unsigned_64_bit_integers_merge_exactly():
    # a column the schema does not know is uint64 where an integer is beyond int64 (a
    # query_class(fetch_all=True) page): the merge keeps it uint64, never wrapped to -1
    from astroquery.exceptions import TableParseError

    from astroquery_fink.ztf import endpoints
    first = Table({"i:objectId": ["A", "B"], "i:jd": [1.0, 2.0], "x:flags": np.array([5, 6])})
    second = Table({"i:objectId": ["C"], "i:jd": [3.0],
                    "x:flags": np.array([2**64 - 1], np.uint64)})
    merged = _merge.merge([first, second], endpoints.LATESTS)
    assert merged["x:flags"].dtype == np.uint64
    assert sorted(int(v) for v in merged["x:flags"]) == [5, 6, 2**64 - 1]
    negative = Table({"i:objectId": ["D"], "i:jd": [4.0], "x:flags": np.array([-1])})
    with pytest.raises(TableParseError, match="^Column x:flags: negative integers and integers "
                                              "beyond int64 in one column"):
        _merge.merge([first, second, negative], endpoints.LATESTS)
