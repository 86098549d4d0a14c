"""Parsing details: the fast JSON path equals the exact one; odd cells read safely."""
import json

import numpy as np
import pytest
from _helpers import recorded_json
from astroquery.exceptions import RemoteServiceError, TableParseError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from astroquery_fink import _tables


def big_answer(extra=None):
    rows = recorded_json("objects_ZTF20abfcszi_columns.json")
    many = []
    for k in range(5000):  # well above the size where the pyarrow path starts
        row = dict(rows[k % len(rows)])
        row["i:jd"] += k * 1e-4
        row["i:magpsf"] = None if k % 7 == 0 else row["i:magpsf"]
        many.append(row)
    if extra:
        many[5].update(extra)
    content = json.dumps(many, separators=(",", ":")).encode()
    assert len(content) > _tables._ARROW_JSON_MIN_BYTES
    return content


def assert_same(a, b):
    assert a.colnames == b.colnames
    for name in a.colnames:
        assert a[name].dtype == b[name].dtype, name
        assert np.array_equal(np.ma.getmaskarray(a[name]), np.ma.getmaskarray(b[name])), name
        assert list(a[name].filled(0) if hasattr(a[name], "filled") else a[name]) == \
            list(b[name].filled(0) if hasattr(b[name], "filled") else b[name]), name


def test_arrow_json_path_equals_exact_path():
    content = big_answer()
    assert _tables._json_via_arrow(content) is not None
    fast = _tables.parse_table(content, "json")
    exact = _tables.parse_table(content, "json", mixed_types=True)  # forces the dict path
    assert_same(fast, exact)
    assert fast["i:magpsf"].mask.sum() == len([k for k in range(5000) if k % 7 == 0])


def test_row_separator_inside_a_string_is_read_right():
    # In JSON a quote inside a string is escaped, so '},{"' there cannot split a row.
    content = big_answer({"d:cdsxmatch": 'weird},{"label'})
    assert _tables._json_via_arrow(content) is not None
    table = _tables.parse_table(content, "json")
    assert table["d:cdsxmatch"][5] == 'weird},{"label'
    assert len(table) == 5000


def test_answer_arrow_cannot_read_falls_back_to_exact_path():
    content = big_answer({"i:fid": "2"})  # a number sent as a string, as upper limits are
    assert _tables._json_via_arrow(content) is None
    table = _tables.parse_table(content, "json")
    assert table["i:fid"].dtype == np.int64 and table["i:fid"][5] == 2


def test_csv_list_cells_are_read_without_eval():
    content = (b'i:candid,b:cutoutScience_stampData\n'
               b'7,"[[1.0, nan], [2.5, 3.0]]"\n'
               b'8,[]\n')
    table = _tables.parse_table(content, "csv")
    cut = table["b:cutoutScience_stampData"]
    assert cut.shape == (2, 2, 2)
    assert cut[0, 0, 0] == 1.0 and np.isnan(cut.data[0, 0, 1]) and cut[0, 1, 0] == 2.5
    assert cut.mask[1].all() and not cut.mask[0].any()


def test_csv_code_in_a_cell_is_never_run():
    content = b'i:candid,b:cutoutScience_stampData\n7,"[__import__(\'os\').getcwd()]"\n'
    with pytest.raises(TableParseError, match="JSONDecodeError"):
        _tables.parse_table(content, "csv")


def test_unknown_columns_get_inferred_types():
    table = _tables.parse_table(b'[{"x:new": 1, "x:s": "a", "x:f": 1.5, "x:b": true}]', "json")
    assert table["x:new"].dtype == np.int64 and table["x:s"][0] == "a"
    assert table["x:f"][0] == 1.5 and table["x:b"].dtype == bool


def test_booleans_from_strings_are_booleans():
    table = _tables.parse_table(b"d:from_upper\nTrue\nFalse\n", "csv")
    assert list(table["d:from_upper"]) == [True, False]


def test_integers_are_exact_or_refused():
    big = 1338380384115015005
    content = json.dumps([{"i:candid": big}, {"i:candid": "2.0"}, {"i:candid": None}]).encode()
    t = _tables.parse_table(content, "json")
    assert list(t["i:candid"].data[:2]) == [big, 2] and t["i:candid"].mask[2]
    for bad in ("2.5", 2**63, "1e30"):
        with pytest.raises(TableParseError):
            _tables.parse_table(json.dumps([{"i:candid": big}, {"i:candid": bad}]).encode(),
                                  "json")


def test_parsing_in_threads_leaves_the_garbage_collector_as_it_was():
    import gc
    from concurrent.futures import ThreadPoolExecutor
    content = big_answer()
    assert gc.isenabled()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: _tables.parse_table(content, "json"), range(8)))
    assert gc.isenabled()
    gc.disable()
    try:
        _tables.parse_table(content, "json")
        assert not gc.isenabled()  # the user's choice is kept too
    finally:
        gc.enable()


def test_without_pyarrow_json_is_parsed_and_parquet_is_refused_clearly(monkeypatch, recorded):
    import sys

    from astroquery.exceptions import InvalidQueryError
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.json", None)
    content = big_answer()
    table = _tables.parse_table(content, "json")  # the pure path
    assert len(table) == 5000 and table["i:candid"].dtype == np.int64
    fink, _ = recorded([])
    assert fink.query_object("ZTF20abfcszi", get_query_payload=True)["output-format"] == "json"
    with pytest.raises(InvalidQueryError, match=r"pip install 'astroquery_fink\[parquet\]'"):
        fink.query_object("ZTF20abfcszi", output_format="parquet")


def test_without_orjson_the_standard_library_decodes(monkeypatch):
    monkeypatch.setattr(_tables, "_loads", json.loads)
    table = _tables.parse_table(b'[{"i:candid": 1338380384115015005, "i:magpsf": null}]',
                                  "json")
    assert table["i:candid"][0] == 1338380384115015005 and table["i:magpsf"].mask[0]


def parquet_bytes(table, **options) -> bytes:
    import io

    import pyarrow.parquet as pq
    buf = io.BytesIO()
    pq.write_table(table, buf, **options)
    return buf.getvalue()


def test_parquet_text_in_row_groups_with_own_dictionaries_equals_json():
    pa = pytest.importorskip("pyarrow")
    n = 1000
    long = "[" + ",".join(str(k * 0.5) for k in range(60)) + "]"
    rows = {
        "i:objectId": [f"ZTF{k % 13:02d}" for k in range(n)],
        # mostly null and long, like d:lc_features_*; also an empty string (missing) and
        # a text starting with a NUL character (not missing)
        "d:lc_features_g": [long + str(k) if k % 50 == 0 else None for k in range(n)],
        "d:cdsxmatch": ["" if k == 3 else "\x00odd" if k == 4 else f"c{k % 900}"
                        for k in range(n)],
        "i:fid": [1 + k % 2 for k in range(n)],
        "i:magpsf": [None if k % 9 == 0 else 18.0 + k / 1000 for k in range(n)],
    }
    # small row groups: each chunk has its own dictionary, some chunks all null
    content = parquet_bytes(pa.table(rows), row_group_size=37)
    from_parquet = _tables.parse_table(content, "parquet")
    from_json = _tables.parse_table(json.dumps([
        {name: rows[name][k] for name in rows} for k in range(n)]).encode(), "json")
    assert_same(from_parquet, from_json)
    lc = from_parquet["d:lc_features_g"]
    assert lc[50] == long + "50" and lc.mask.sum() == n - n // 50
    cds = from_parquet["d:cdsxmatch"]
    assert cds.mask[3] and not cds.mask[4] and cds[4] == "\x00odd" and cds[5] == "c5"
    assert cds.mask.sum() == 1
    assert from_parquet["i:magpsf"].mask.sum() == len(range(0, n, 9))


def test_parquet_categorical_columns_are_read_as_their_values():
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import io
    frame = pd.DataFrame({
        "d:cdsxmatch": pd.Categorical(["Star", None, "QSO", "Star"]),
        "x:level": pd.Categorical([3, 1, 3, 2]),  # a categorical of numbers
    })
    buf = io.BytesIO()
    frame.to_parquet(buf)
    table = _tables.parse_table(buf.getvalue(), "parquet")
    assert list(table["d:cdsxmatch"].filled("-")) == ["Star", "-", "QSO", "Star"]
    assert table["x:level"].dtype == np.int64 and list(table["x:level"]) == [3, 1, 3, 2]


def test_empty_text_test_reads_only_what_it_must():
    data = np.array(["", "a", "\x00b", "", "long text"])
    known = np.array([False, False, False, True, False])
    assert list(_tables._or_empty(data, known)) == [True, False, False, True, False]
    strided = np.array(["", "x", "", "y"])[::2]  # not contiguous: the plain comparison
    assert list(_tables._or_empty(strided, np.zeros(2, bool))) == [True, True]


def test_parquet_nulls_in_every_type_equal_json():
    pa = pytest.importorskip("pyarrow")
    rows = {
        "d:from_upper": [True, None, False, None],  # bool with nulls
        "i:magpsf": [18.5, None, float("nan"), 19.25],  # float: null and NaN, both missing
        "i:fid": [1, None, 2, 1],  # int with nulls: exact, not through float
        "d:Plx": [None] * 4,  # no value at all (arrow's null type)
        "d:cdsxmatch": pa.array([None] * 4, pa.string()),  # a typed column with no value
        "i:candid": pa.array([None] * 4, pa.int64()),
    }
    from_parquet = _tables.parse_table(parquet_bytes(pa.table(rows)), "parquet")
    plain = {k: (v.to_pylist() if isinstance(v, pa.Array) else v) for k, v in rows.items()}
    from_json = _tables.parse_table(json.dumps(
        [{k: plain[k][i] for k in plain} for i in range(4)]).encode(), "json")
    assert_same(from_parquet, from_json)
    assert list(from_parquet["d:from_upper"].filled(True)) == [True, True, False, True]
    assert list(from_parquet["d:from_upper"].mask) == [False, True, False, True]
    assert list(from_parquet["i:magpsf"].mask) == [False, True, True, False]
    assert list(from_parquet["i:fid"].filled(-1)) == [1, -1, 2, 1]
    for name in ("d:Plx", "d:cdsxmatch", "i:candid"):
        assert from_parquet[name].mask.all(), name
    assert from_parquet["d:Plx"].dtype == np.float64
    assert from_parquet["d:cdsxmatch"].dtype.kind == "U"
    assert from_parquet["i:candid"].dtype == np.int64


# Any column of any kind, nulls anywhere, parquet row groups of any size: the parquet path
# (dictionaries, lazily filled text, typed masks) gives the Table the exact JSON path gives.
_KINDS = {
    "d:cdsxmatch": st.one_of(st.sampled_from(["", "\x00", "\x00b", "a\x00", "QSO", "é"]),
                             st.text(st.characters(exclude_categories=("Cs",)), max_size=12)),
    # a column the schema does not know: JSON says nothing of its type, so it needs a value
    # (an all-null one is a float column from JSON, text from parquet), and no text that
    # looks like a number or a list, which JSON's inference reads as such
    "x:unknown_text": st.text(alphabet="ab, {}\"\\", min_size=1, max_size=6),
    "i:magpsf": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "i:candid": st.integers(-(2**63), 2**63 - 1),
    "d:from_upper": st.booleans(),
}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_parquet_and_json_give_one_table(data):
    pa = pytest.importorskip("pyarrow")
    n = data.draw(st.integers(1, 25), label="rows")
    names = data.draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, unique=True))
    rows = {name: data.draw(st.lists(st.one_of(st.none(), _KINDS[name]), min_size=n,
                                     max_size=n), label=name) for name in names}
    assume(any(v is not None for v in rows.get("x:unknown_text", [0])))
    types = {"d:cdsxmatch": pa.string(), "x:unknown_text": pa.string(),
             "i:magpsf": pa.float64(), "i:candid": pa.int64(), "d:from_upper": pa.bool_()}
    table = pa.table({name: pa.array(v, types[name]) for name, v in rows.items()})
    group = data.draw(st.integers(1, n), label="row_group_size")
    from_parquet = _tables.parse_table(parquet_bytes(table, row_group_size=group), "parquet")
    from_json = _tables.parse_table(json.dumps(
        [{name: rows[name][k] for name in names} for k in range(n)]).encode(), "json")
    assert_same(from_parquet, from_json)
    for name in names:  # and what arrived is what was sent
        column = from_parquet[name]
        for k, value in enumerate(rows[name]):
            missing = value is None or (isinstance(value, str) and value.rstrip("\x00") == "")
            assert bool(np.ma.getmaskarray(column)[k]) == missing, (name, k, value)
            if not missing:
                expected = value.rstrip("\x00") if isinstance(value, str) else value
                assert column[k] == expected, (name, k, value)


def test_parquet_dictionaries_with_narrow_indices():
    pa = pytest.importorskip("pyarrow")
    # 128 entries and a null: the null's slot does not fit int8 indices
    full = pa.DictionaryArray.from_arrays(pa.array([0, None, 127], pa.int8()),
                                          pa.array([f"c{i}" for i in range(128)]))
    table = _tables.parse_table(parquet_bytes(pa.table({"d:cdsxmatch": full})), "parquet")
    assert list(table["d:cdsxmatch"].filled("-")) == ["c0", "-", "c127"]
    # two row groups of 100 values each: their union does not fit int8 indices
    values = [f"v{i}" for i in range(200)]
    chunks = pa.chunked_array([
        pa.DictionaryArray.from_arrays(pa.array(range(100), pa.int8()), pa.array(values[:100])),
        pa.DictionaryArray.from_arrays(pa.array(range(100), pa.int8()), pa.array(values[100:]))])
    table = _tables.parse_table(
        parquet_bytes(pa.table({"d:cdsxmatch": chunks}), row_group_size=100), "parquet")
    assert list(table["d:cdsxmatch"]) == values


def test_a_null_inside_an_arrow_dictionary_is_missing():
    pa = pytest.importorskip("pyarrow")
    column = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()),
                                            pa.array(["a", None]))
    table = _tables.build_table(*_tables._arrow_columns(pa.table({"d:cdsxmatch": column})))
    assert list(table["d:cdsxmatch"].mask) == [False, True, False]
    assert table["d:cdsxmatch"][0] == "a"


def test_typed_column_takes_a_list_mask():
    column = _tables.typed_column("i:magpsf", [None, None], [True, True])
    assert column.mask.all() and column.dtype == np.float64 and column.unit == "mag"


def test_integers_sent_as_floats_are_exact_or_refused():
    pa = pytest.importorskip("pyarrow")
    fine = pa.table({"i:candid": pa.array([2.0**53 - 1, None, -7.0])})  # pandas' nullable ints
    table = _tables.parse_table(parquet_bytes(fine), "parquet")
    assert list(table["i:candid"].filled(0)) == [2**53 - 1, 0, -7] and table["i:candid"].mask[1]
    for bad in (2.5, 2.0**53, 2.0**60):  # not an integer; from 2**53 on, maybe not this one
        with pytest.raises(TableParseError, match="not an exact integer"):
            _tables.parse_table(parquet_bytes(pa.table({"i:candid": [1.0, bad]})), "parquet")


@pytest.mark.parametrize("extra", [
    {"x:date": "2021-03-04"},  # pyarrow would read it as a timestamp
    {"i:candid": 2**63 + 5},  # beyond 64 bits: pyarrow makes the column floats
    {"i:candid": 1.5},  # a float in an integer column: floats too
])
def test_large_json_answers_keep_their_values_or_fail(extra):
    content = big_answer(extra)
    if "i:candid" in extra:  # either path refuses what is not an exact 64-bit integer
        with pytest.raises(TableParseError, match="i:candid"):
            _tables.parse_table(content, "json")
    else:  # the pyarrow path steps aside, the exact path keeps the text
        assert _tables._json_via_arrow(content) is None
        table = _tables.parse_table(content, "json")
        assert table["x:date"][5] == "2021-03-04" and table["x:date"].mask.sum() == 4999


def test_integer_columns_never_truncate():
    content = json.dumps([{"i:candid": 3}, {"i:candid": 2.0}]).encode()
    assert list(_tables.parse_table(content, "json")["i:candid"]) == [3, 2]
    for cells in ([3, 1.5], [None, 1.5], [3, 2.0**60]):
        content = json.dumps([{"i:candid": v} for v in cells]).encode()
        with pytest.raises(TableParseError, match="i:candid"):
            _tables.parse_table(content, "json")
    with pytest.raises(TableParseError, match="64 bits"):
        _tables.typed_column("i:candid", np.array([1, 2**64 - 1], np.uint64))


def test_answers_typed_as_they_arrive_join_those_typed_later():
    # a large answer typed in its worker, small ones left raw, a column absent from one:
    # the combined Table equals the one typing all the rows at once
    rows = recorded_json("objects_ZTF20abfcszi_columns.json")
    big = [dict(rows[k % len(rows)], **{"i:jd": 2459000.5 + k}) for k in range(300)]
    small = [dict(r, **{"i:magpsf": None}) for r in rows[:3]]
    bare = [{k: v for k, v in r.items() if k != "i:fid"} for r in rows[3:5]]
    schema = _tables._or_ztf(None)

    def decoded(part):
        return _tables.decode(json.dumps(part).encode(), "json", schema=schema)

    parts = [decoded(big).typed_now(schema), decoded(small), decoded(bare)]
    assert parts[0].is_typed and not parts[1].is_typed
    joined = _tables.build(_tables.combine(parts), schema)
    whole = _tables.build(decoded(big + small + bare), schema)
    assert_same(joined, whole)
    assert joined["i:magpsf"].mask[300:303].all() and joined["i:fid"].mask[303:].all()
    assert joined["i:jd"][299] == 2459000.5 + 299


def _votable(rows: dict) -> bytes:
    import io
    import warnings

    from astropy.io.votable import from_table
    from astropy.table import Table

    out = io.BytesIO()
    with warnings.catch_warnings():  # the IDs it makes of names such as 'i:candid'
        warnings.simplefilter("ignore")
        from_table(Table(rows)).to_xml(out, tabledata_format="tabledata")
    return out.getvalue()


@pytest.mark.parametrize("value", [b"123456789012345678901", b"9223372036854775808",
                                   b"-9223372036854775809"])
def test_a_votable_integer_beyond_64_bits_is_refused_not_clipped(value):
    content = _votable({"i:candid": np.array([1338380384115015005, 7], dtype=np.int64)})
    content = content.replace(b"1338380384115015005", value)
    with pytest.raises(TableParseError, match=f"an integer its field cannot hold: Value "
                                              f"'{value.decode()}' is out of range for a "
                                              "64-bit integer field"):
        _tables.decode(content, "votable")
    ok = _tables.build(_tables.decode(_votable({"i:candid": np.array([2**63 - 1])}), "votable"),
                       None)
    assert ok["i:candid"][0] == 2**63 - 1


@pytest.mark.parametrize(("cell", "words"), [
    (2**63, "i:candid: 9223372036854775808 does not fit 64 bits"),
    ("12x", "i:candid: '12x' is not an integer"),
    ("inf", "i:candid: 'inf' is not an integer"),  # not "does not fit 64 bits"
])
def test_integer_cells_are_refused_in_plain_words(cell, words):
    decoded = _tables.decode(json.dumps([{"i:candid": 1}, {"i:candid": None},
                                         {"i:candid": cell}]).encode(), "json")
    with pytest.raises(TableParseError) as info:
        _tables.build(decoded, None)
    assert str(info.value).endswith(words)


def test_a_csv_answer_in_another_charset_is_said_as_text_not_binary_data():
    with pytest.raises(RemoteServiceError) as info:
        _tables.parse_table(b"i:jd,v:constellation\n1.0,Bo\xf6tes\n", "csv")
    assert str(info.value) == ("Fink's answer is not csv: 32 bytes of text that is not UTF-8 "
                               "(byte 0xf6 at 27), starting 'i:jd,v:constellation 1.0,Bo\ufffdtes'")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_byte_order_mark_is_not_part_of_the_first_column_name(fmt):
    body = {"csv": b"i:jd,i:objectId\n2459000.5,ZTF20abfcszi\n",
            "json": b'[{"i:jd":2459000.5,"i:objectId":"ZTF20abfcszi"}]'}[fmt]
    table = _tables.parse_table(b"\xef\xbb\xbf" + body, fmt)
    assert table.colnames == ["i:jd", "i:objectId"]
    assert table["i:jd"].unit == "d" and list(table["i:jd"]) == [2459000.5]


@pytest.mark.parametrize("literal", [b"18446744073709551616", b"-9223372036854775809",
                                     b"123456789012345678901234567890"])
@pytest.mark.parametrize("size", ["small", "large"])
def test_json_integers_beyond_64_bits_are_refused_never_floats(literal, size):
    # orjson (and pyarrow's reader, for large answers) read these as floats: a column the
    # schema does not know became float without a word, its integers rounded.
    if size == "small":
        content = b'[{"x_count":1,"i:jd":1.0},{"x_count":' + literal + b',"i:jd":2.0}]'
    else:
        content = big_answer({"x_count": 0})
        content = content.replace(b'"x_count":0', b'"x_count":' + literal)
        assert _tables._json_via_arrow(content) is not None  # the fast path was taken
    with pytest.raises(TableParseError) as info:
        _tables.parse_table(content, "json")
    assert str(info.value) == f"Column x_count: {literal.decode()} does not fit 64 bits"


@pytest.mark.parametrize("fmt", ["json", "large json", "csv", "parquet"])
def test_an_unknown_columns_unsigned_64_bit_integers_are_kept_exact(fmt):
    # 2**63 .. 2**64 - 1 fit no int64 but a uint64, the wire type of a parquet column
    top = 2**64 - 1
    if fmt == "json":
        content = b'[{"x_flags":5,"i:jd":1.0},{"x_flags":%d,"i:jd":2.0},{"i:jd":3.0}]' % top
    elif fmt == "large json":
        content = big_answer({"x_flags": top})
        assert _tables._json_via_arrow(content) is not None  # the fast path was taken
    elif fmt == "csv":
        content = b"x_flags,i:jd\n5,1.0\n%d,2.0\n,3.0\n" % top
    else:
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq
        out = io.BytesIO()
        pq.write_table(pa.table({"x_flags": pa.array([5, top, None], pa.uint64()),
                                 "i:jd": [1.0, 2.0, 3.0]}), out)
        content = out.getvalue()
    column = _tables.parse_table(content, fmt.split()[-1])["x_flags"]
    assert column.dtype == np.uint64
    present = [int(v) for v in np.ma.MaskedArray(column).compressed()]
    if fmt == "large json":  # one row of 5,000 has the column
        assert present == [top] and int(np.ma.getmaskarray(column).sum()) == 4999
    else:
        assert present == [5, top] and list(np.ma.getmaskarray(column)) == [False, False, True]
    # a known int64 column is still refused so: its schema type cannot hold the value
    with pytest.raises(TableParseError, match="i:candid: 18446744073709551615 does not fit"):
        _tables.parse_table(b'[{"i:candid":%d}]' % top, "json")


def test_large_json_floats_stay_floats_and_known_int_columns_say_64_bits():
    table = _tables.parse_table(b'[{"x_flux":1e20},{"x_flux":3}]', "json")
    assert table["x_flux"].dtype == np.float64 and list(table["x_flux"]) == [1e20, 3.0]
    # a float, and an int orjson reads as one: said as the server wrote it
    for cell, shown in ((b"1.8e19", "1.8e+19"), (b"1180591620717411303424",
                                                  "1180591620717411303424")):
        with pytest.raises(TableParseError) as info:
            _tables.parse_table(b'[{"i:candid":' + cell + b"}]", "json")
        assert str(info.value) == f"Column i:candid: {shown} does not fit 64 bits", cell


def test_a_votable_integer_beyond_a_32_bit_field_is_refused():
    content = _votable({"i:fid": np.array([1, 2], dtype=np.int32)}).replace(
        b"<TD>2</TD>", b"<TD>3000000000</TD>")
    with pytest.raises(TableParseError, match="out of range for a 32-bit integer field"):
        _tables.decode(content, "votable")


@pytest.mark.parametrize("swaps", [1, 400])  # few rows moved (in place), or many (copied)
def test_rows_taken_in_place_or_copied_give_the_same_columns(swaps):
    rng = np.random.default_rng(3)
    n = 1000
    take = np.arange(n)
    for a, b in rng.integers(0, n, size=(swaps, 2)):
        take[[a, b]] = take[[b, a]]
    base = rng.normal(size=n)
    shared = np.arange(n, dtype=np.int64)
    frozen = np.arange(n, dtype=np.float64)
    frozen.flags.writeable = False  # as numpy views of pyarrow's buffers are
    data = {
        "f": base.copy(),
        "m": np.ma.MaskedArray(np.array([f"s{k}" for k in range(n)]), mask=np.arange(n) % 7 == 0),
        "a": shared, "b": shared[:],  # one memory: moving rows in one must not move the other's
        "r": frozen,
        "c": np.arange(2 * n, dtype=np.int64).reshape(n, 2),
    }
    expected = {k: np.ma.copy(v)[take] if np.ma.isMaskedArray(v) else v.copy()[take]
                for k, v in data.items()}
    out = _tables._taken(data, take)
    for k, v in expected.items():
        assert np.array_equal(np.ma.getdata(out[k]), np.ma.getdata(v)), k
        assert np.array_equal(np.ma.getmaskarray(out[k]), np.ma.getmaskarray(v)), k
    assert np.array_equal(frozen, np.arange(n))  # a read-only column is copied, not written
