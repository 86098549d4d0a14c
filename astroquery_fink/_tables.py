# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Response bytes (json, csv, votable or parquet) -> typed `~astropy.table.Table`.

Every format is first decoded into columns of raw values; one function (`typed_column`) then
gives each column its type, mask, unit and description from the schema, so the four wire
formats end in the same Table. Missing values (``null`` or ``NaN`` on the wire) are masked.
"""
import codecs
import contextlib
import csv
import gc
import io
import json
import operator
import re
import threading
from collections import Counter
from collections.abc import Callable

import numpy as np
from astropy.table import Column, MaskedColumn, Table
from astroquery.exceptions import RemoteServiceError, TableParseError

from . import _schema
from ._errors import binary_summary, printable, server_message
from .exceptions import ErrorAnswerError, TruncatedAnswerError

__all__: list[str] = []

try:  # orjson decodes Fink's JSON several times faster than the standard library
    import orjson as _orjson

    def _loads(content):
        return _orjson.loads(content)
except ImportError:  # pragma: no cover - exercised only without the 'fast' extra
    def _loads(content):
        return json.loads(content)

_NUMPY = {"float": np.float64, "int": np.int64, "bool": np.bool_}
_NAN_TOKEN = re.compile(rb"\bnan\b")
# The keys of the server's error answers ({"status": "error", "text": ...}, restx's
# {"message": ...}).
_ERROR_KEYS = frozenset({"status", "text", "message"})
# An HTTP API's "problem details" (RFC 9457), as a proxy or gateway in front may answer.
_PROBLEM_KEYS = frozenset({"type", "title", "status", "detail", "instance"})


def _is_error_object(value: dict) -> bool:
    """Whether a JSON object is an error, not an answer: only the keys of the server's
    errors, a ``"status": "error"`` (Fink's, also with more keys), or problem details."""
    keys = set(value)
    status = value.get("status")
    return (keys <= _ERROR_KEYS or isinstance(status, str) and status.lower() == "error"
            or "title" in keys and keys <= _PROBLEM_KEYS)


def loads_json(content: bytes):
    """Decode JSON from the server (bare ``NaN`` tokens allowed, as in /cutouts arrays)."""
    try:
        return _loads(content)
    except ValueError:
        return json.loads(content)  # the standard library accepts NaN/Infinity tokens


def night_times(nights: list[str | None], labels: list | None = None):
    """Statistics nights written YYYYMMDD as their UTC dates: a `~astropy.time.Time`, masked
    where a night is None; `TableParseError` naming (by ``labels``, default the nights) those
    that are no date."""
    from astropy.time import Time

    iso = [f"{n[:4]}-{n[4:6]}-{n[6:8]}" if n is not None else "2000-01-01" for n in nights]
    bad = []
    for k, (night, text) in enumerate(zip(nights, iso, strict=True)):
        try:
            if night is not None and (len(night) != 8 or not night.isdigit()):
                raise ValueError(night)
            Time(text, scale="utc")
        except ValueError:
            bad.append(str(labels[k] if labels is not None else night))
    if bad:
        raise TableParseError(f"Fink's statistics name nights that are not dates: "
                              f"{', '.join(bad[:5])}")
    time = Time(iso, scale="utc") if iso else Time(np.zeros(0), format="jd", scale="utc")
    missing = np.array([n is None for n in nights], dtype=bool)
    if missing.any():
        time[missing] = np.ma.masked
    return time


def json_answer(content: bytes, what: str, expected: str):
    """The decoded JSON of a whole answer: cut short, it is
    `~astroquery_fink.exceptions.TruncatedAnswerError` (tried again); not JSON, a
    `RemoteServiceError` with the server's words (``expected`` says what was expected)."""
    try:
        return loads_json(content)
    except (ValueError, RecursionError) as err:
        if isinstance(err, ValueError) and _json_stops_early(content, err):
            raise TruncatedAnswerError(
                f"The server's {what} answer stops before its end ({len(content)} bytes)"
            ) from err
        raise not_an_answer(content, expected) from err


def json_object(content: bytes, what: str, *, nested: bool = False) -> dict:
    """A JSON object answer (``/classes``, ``/schema``, ``/blocks``, ...): cut short, it is
    `~astroquery_fink.exceptions.TruncatedAnswerError` (tried again); empty, an error
    (``{"status": ..., "message": ...}``) or another value, a `RemoteServiceError` with the
    server's words. ``nested``: an object of objects of objects (the ``/schema`` answers:
    {category: {field: {"type": ..., "doc": ...}}})."""
    expected = f"the JSON object of {what}"
    value = json_answer(content, what, expected)
    if not isinstance(value, dict) or not value or _is_error_object(value) or nested and not all(
            isinstance(fields, dict) and all(isinstance(e, dict) for e in fields.values())
            for fields in value.values()):
        raise not_an_answer(content, expected)
    return value


def schema_table(answer: dict, known: dict, families: dict | None = None) -> Table:
    """A ``/schema`` answer ({category: {field: {"type", "doc"}}}) -> a Table of ``name``
    (prefixed), ``family``, ``type`` (Avro unions written ``null|float``), ``unit`` (as this
    client attaches it, from ``known``) and ``description``, sorted by name. ``families``
    maps a category to its family letter; else the letter in the category's "(x:)"."""
    rows = []
    for category, fields in answer.items():
        family = (families or {}).get(category) or (
            category.rsplit("(", 1)[-1][:1] if "(" in category else category[:1])
        for field, entry in fields.items():
            name = f"{family}:{field}"
            stype = entry.get("type")
            stype = "|".join(map(str, stype)) if isinstance(stype, list) else str(stype)
            unit = known[name].unit if name in known else None
            rows.append((name, family, stype, "" if unit is None else unit.to_string(),
                         str(entry.get("doc", ""))))
    table = Table(rows=rows, names=("name", "family", "type", "unit", "description"),
                  dtype=(str, str, str, str, str))
    table.sort("name")
    return table


# ----------------------------------------------------------------------------- typing

def _infer_kind(values, untyped_text: bool = False) -> str:
    """The kind of a column the schema does not know, as its wire format gives it.

    Typed formats (JSON, parquet, VOTable) say it: a JSON string stays text (``"007"`` is
    not 7). Only csv, whose every cell is text (``untyped_text``), is read for what its text
    says, and then only where nothing is lost (``"007"`` stays text there too).
    """
    if isinstance(values, np.ndarray) and values.dtype != object:
        return {"f": "float", "i": "int", "u": "int", "b": "bool"}.get(values.dtype.kind, "str")
    if isinstance(values, np.ndarray):  # strings from a typed format (parquet, VOTable)
        return "str" if any(isinstance(v, str) for v in values[:100]) else "float"
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return "float"
    if all(isinstance(v, str) for v in present):
        return _infer_text_kind(present) if untyped_text else "str"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if any(isinstance(v, bool) for v in present) and all(
            isinstance(v, bool) or (isinstance(v, str) and v in _NULL_TEXT) for v in present):
        return "bool"  # flags with the servers' "nan" text for a missing one
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    if all(isinstance(v, list) for v in present):
        return "array"
    return "str"


def _infer_text_kind(texts) -> str:
    """csv text -> the kind that reads every value back exactly, else text."""
    flags = [t for t in texts if t not in _NULL_TEXT]
    if flags and all(t in ("True", "False", "true", "false") for t in flags):
        return "bool"  # flags, with the servers' "nan" text for a missing one (as in JSON)
    if all(_LOSSLESS_INT.fullmatch(t) for t in texts) and "-0" not in texts:
        return "int"
    if all(_LOSSLESS_FLOAT.fullmatch(t) for t in texts) and all(map(_as_written, texts)):
        return "float"
    if all(t.startswith("[[") or t == "[]" for t in texts):
        return "array"
    return "str"


# Integers written without leading zeros or signs pandas would not write; floats likewise,
# and without trailing zeros after the first decimal, which a float would lose (so "007",
# "0x1F", "1_000", "nan" and the version "2026.10" stay text). Linear patterns: no
# backtracking.
_LOSSLESS_INT = re.compile(r"-?(0|[1-9][0-9]*)")
# pandas writes infinities as inf and -inf.
_LOSSLESS_FLOAT = re.compile(r"-?(inf|(0|[1-9][0-9]*)(\.(0|[0-9]*[1-9]))?([eE][-+]?[0-9]+)?)")


def _as_written(text: str) -> bool:
    """Whether pandas writes a number so: an integer's digits or a float's repr ("1e5",
    "-0" or "0.5e1" are someone's text, not a number pandas wrote)."""
    number = float(text)
    return repr(number) == text or (number.is_integer() and str(int(number)) == text)


_TRUE, _FALSE = ("true", "t", "1", "1.0"), ("false", "f", "0", "0.0")


def _as_bool(name: str, v) -> bool:
    """One flag cell: the texts and numbers a server writes for true and false; anything else
    is no flag (`TableParseError`), not a silent False."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, str | bytes):
        text = (v.decode() if isinstance(v, bytes) else v).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    elif isinstance(v, int | float | np.integer | np.floating) and v in (0, 1):
        return bool(v)
    raise TableParseError(f"Column {name}: {v!r} is not a flag (true or false)")


def _cells(name, values, mask):
    """Cutout cells -> one 3-D float32 column (rows x 63 x 63 for ZTF).

    Cells are 2-D lists or arrays, or [] where the server could not fetch a cutout (masked
    row). float32 is the stamps' own type, so the values equal the FITS cutouts. Stamps at a
    CCD edge are smaller (e.g. 63 x 62): they are padded with masked NaN at the high-index
    end, so pixel [i, j] is the same pixel as in the stamp itself.
    """
    n = len(values)
    # text formats (csv, VOTable) carry each cell as the Python repr of a list
    values = [_csv_list(v) if isinstance(v, str) else v for v in values]
    rowmask = np.zeros(n, bool) if mask is None else np.array(mask, bool)
    rowmask |= np.fromiter((v is None or len(v) == 0 for v in values), bool, n)
    cells = [None if m else np.asarray(v, dtype=np.float64)  # null pixels -> NaN
             for v, m in zip(values, rowmask, strict=True)]
    shapes = [c.shape for c in cells if c is not None]
    shape = tuple(np.max(shapes, axis=0)) if shapes else (0, 0)
    data = np.full((n,) + shape, np.nan, dtype=np.float32)
    fullmask = np.ones(data.shape, bool)
    for i, cell in enumerate(cells):
        if cell is not None:
            region = (i,) + tuple(slice(0, k) for k in cell.shape)
            data[region] = cell
            fullmask[region] = False
    return data, fullmask


def _missing(values, mask) -> np.ndarray:
    """Mask of the values that are None, or-ed with a mask already known."""
    out = np.zeros(len(values), bool) if mask is None else np.array(mask, bool)
    if not isinstance(values, np.ndarray) or values.dtype == object:
        flat = np.empty(len(values), dtype=object)
        flat[:] = values  # one cell per value, even when the values are lists
        out |= (flat == None) | (flat == "")  # noqa: E711 - elementwise tests
    elif values.dtype.kind == "U":
        out = _or_empty(values, out)
    elif values.dtype.kind == "S":
        out |= values == b""
    return out


def _numbers(values):
    """Values for a numeric column, with '' (a missing number in csv or VOTable text) -> None."""
    return [None if (v is None or v == "") else v for v in values]


def typed_column(name: str, values, mask=None, schema=None) -> Column:
    """One server column -> Column with the schema's type, unit and description.

    ``values`` is a sequence of Python values (json, csv) or a numpy array (votable,
    parquet); ``mask`` marks values already known to be missing. Missing are: ``None``; an
    empty string (csv and VOTable cannot tell it from a missing value, so no format does);
    and NaN in a float column (the server writes NaN as null in JSON). So the four formats
    give one Table. Numbers sent as strings (the upper-limit rows) are converted.
    """
    data, info = _typed_data(name, values, mask, _or_ztf(schema))
    extra = {} if info is None else {"unit": info.unit, "description": info.description}
    if isinstance(data, np.ma.MaskedArray):
        return MaskedColumn(data, name=name, copy=False, **extra)
    return Column(data, name=name, copy=False, **extra)


def _typed_data(name: str, values, mask, schema, untyped_text: bool = False):
    """One column's values, typed and masked where missing (see `typed_column`), and the
    schema's entry for it (None for a column the schema does not know)."""
    info = schema.get(name)
    kind = info.kind if info else _infer_kind(values, untyped_text)
    if mask is not None and len(mask) and kind in _NOTHING and np.all(mask):
        # a column with no value (typed formats say so in their masks): what the
        # converters below would give, without looking at the values
        data, missing = _NOTHING[kind](len(mask)), np.asarray(mask, bool)
    else:
        convert = {"float": _floats, "int": _ints, "array": _cells, "str": _texts,
                   "bool": _bools}[kind]
        try:
            data, missing = convert(name, values, mask)
        except TableParseError:
            wide = _uint64(values, mask) if kind == "int" and info is None else None
            if wide is not None:  # a column of ours says its type; another's, its values
                data, missing = wide
            elif kind in ("float", "int") and _list_text(values):  # csv's text of a list
                raise TableParseError(
                    f"Column {name}: cells hold lists, not single {kind} values") from None
            else:
                raise
        if kind != "array" and np.ndim(data) != 1:  # e.g. a list in a cell of numbers
            raise TableParseError(f"Column {name}: cells hold lists, not single {kind} values")
    if info is not None and info.null is not None and kind in ("int", "float", "str"):
        none = data == info.null
        if none.any():
            missing = none if missing is None else missing | none
    # astropy's convention (as in Table.read): masked only where a value is missing
    if missing is not None and missing.any():
        data = np.ma.MaskedArray(data, mask=missing, copy=False)
    return data, info


def _uint64(values, mask):
    """A column the schema does not know whose integers need 64 unsigned bits (up to
    2**64 - 1, none negative, e.g. a parquet uint64) as uint64 and its missing mask; None
    if they do not fit it either (then refused as `_ints` says)."""
    if isinstance(values, np.ndarray):
        return (values.astype(np.uint64), mask) if values.dtype.kind == "u" else None
    missing = _missing(values, mask)
    out = np.zeros(len(values), np.uint64)
    for k, v in enumerate(values):
        if missing[k]:
            continue
        if isinstance(v, bool) or not isinstance(v, int | str):
            return None
        try:
            number = int(v)  # csv text: digits only, by its typing (_LOSSLESS_INT)
        except ValueError:
            return None
        if not 0 <= number < 1 << 64:
            return None
        out[k] = number
    return out, (missing if missing.any() else None)


def _list_text(values) -> bool:
    return any(isinstance(v, str) and v.startswith("[") for v in values)


_NOTHING = {"float": lambda n: np.full(n, np.nan), "int": lambda n: np.zeros(n, np.int64),
            "bool": lambda n: np.zeros(n, bool), "str": lambda n: np.zeros(n, "U1")}


def _floats(name, values, mask):
    try:
        if isinstance(values, np.ndarray):
            data = values.astype(np.float64, copy=False)
        else:  # fromiter skips numpy's shape discovery: much faster on long tuples
            data = np.fromiter(values, np.float64, len(values))
    except (TypeError, ValueError):
        try:  # numpy turns None into NaN and numeric strings into numbers
            data = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            try:
                data = np.array(_numbers(values), dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise TableParseError(f"Column {name}: not numbers ({err})") from err
    nan = np.isnan(data)
    return data, nan if mask is None else nan | mask


def _bools(name, values, mask):
    missing = _missing(values, mask)
    if isinstance(values, np.ndarray) and values.dtype.kind == "b":
        return values, missing  # a typed format, its nulls already filled
    if missing.any() or (isinstance(values, np.ndarray) and values.dtype.kind in "OSU") or (
            not isinstance(values, np.ndarray)
            and not all(isinstance(v, bool) for v in values)):  # not plain JSON booleans
        codes = _flag_codes(values)
        if codes is not None:
            missing |= codes == _NO_FLAG
            if not (codes[~missing] == _BAD_FLAG).any():
                return (codes == 1) & ~missing, missing  # False under the mask, as below
        # cell by cell: unhashable cells, or a cell that is no flag (named in the error)
        missing |= np.fromiter((_is_null_flag(v) for v in values), bool, len(values))
        values = [False if m else _as_bool(name, v)
                  for v, m in zip(values, missing, strict=True)]
    return np.array(values, dtype=bool), missing


# A flag cell's code: 0 false, 1 true, or missing, or no flag at all.
_NO_FLAG, _BAD_FLAG = 2, 3


def _is_null_flag(v) -> bool:
    return isinstance(v, str) and v.strip().lower() in _NULL_FLAG_TEXT \
        or isinstance(v, float | np.floating) and v != v


def _flag_codes(values) -> np.ndarray | None:
    """Each cell's flag code (see `_NO_FLAG`), each distinct cell read once (a flag column
    holds a few distinct texts); None if a cell cannot be a dict key (a list)."""
    try:
        distinct = dict.fromkeys(values)
    except TypeError:
        return None
    for v in distinct:
        if _is_null_flag(v):
            distinct[v] = _NO_FLAG
        else:
            try:
                distinct[v] = int(_as_bool("", v))
            except TableParseError:
                distinct[v] = _BAD_FLAG
    return np.fromiter(map(distinct.__getitem__, values), np.int8, len(values))


def _texts(name, values, mask):
    """Text; None and empty strings are missing (csv and VOTable cannot tell them apart)."""
    if len(values) == 0:
        return np.array([], dtype="U1"), None
    missing = np.zeros(len(values), bool) if mask is None else np.array(mask, bool)
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        data = values  # already text (the arrow paths), nulls already ''
    else:
        if None in values:  # a C-level scan; numpy would write None as 'None'
            none = np.fromiter((v is None for v in values), bool, len(values))
            missing |= none
            values = ["" if m else v for v, m in zip(values, none, strict=True)]
        data = np.array(values, dtype=str)
    return data, _or_empty(data, missing)


def _or_empty(data: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``missing | (data == "") | (data == "nan")`` for a unicode array, looking first at
    the first character of values not already missing: long, mostly-null text columns are
    never read whole."""
    if len(data) == 0 or data.dtype.itemsize == 0 or not data.flags.c_contiguous:
        return missing | (data == "") | np.isin(data, _NULL_TEXT)
    rows = np.flatnonzero(~missing)
    first = data.view(np.uint32).reshape(len(data), -1)[rows, 0]
    out = missing.copy()
    empty = rows[first == 0]
    out[empty] = data[empty] == ""  # a text may start with a NUL character
    maybe = rows[first == ord("n")]
    out[maybe] = np.isin(data[maybe], _NULL_TEXT)
    return out


# The text Fink's servers write for a missing text or flag cell: pandas' ``astype(str)`` of
# a null (fink-object-api apps/utils/decoding.py, format_hbase_output and
# format_lsst_hbase_output), read back as missing.
_NULL_TEXT = ("nan",)
# In a flag column no text is a value but true and false: these are its missing cells (what
# pandas and Python write for a null).
_NULL_FLAG_TEXT = ("nan", "none", "null", "<na>")


# From 2**53 on, a float may stand for several integers: it is not taken as an exact one.
_FLOAT_EXACT_BELOW = 2**53
# No 64-bit integer has this magnitude. orjson and pyarrow read a JSON integer beyond 64 bits
# as a float, where the standard library keeps it exact: such answers are read again by the
# latter (`_may_hold_big_integers`), and typing refuses them (int columns hold 64 bits).
_INT64_MAGNITUDE = 2.0**63


def _cell_text(value) -> str:
    """A cell for a message: numbers as written, text quoted, never a Python repr."""
    if isinstance(value, str | bytes):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        return repr(printable(text[:80]))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return printable(str(value))[:80]


def _ints(name, values, mask):
    """Integers (exact to 64 bits) and their missing-value mask."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
        if values.dtype.kind == "u" and len(values) and values.max() > np.iinfo(np.int64).max:
            raise TableParseError(f"Column {name}: {values.max()} does not fit 64 bits")
        return values.astype(np.int64), mask
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        # a nullable integer written by pandas as floats with NaN: exact, or refused
        missing = np.isnan(values) if mask is None else np.isnan(values) | mask
        present = values[~missing]
        too_big = np.isfinite(present) & (np.abs(present) >= _INT64_MAGNITUDE)
        if too_big.any():
            raise TableParseError(
                f"Column {name}: {float(present[too_big][0])!r} does not fit 64 bits")
        inexact = (present != np.round(present)) | (np.abs(present) >= _FLOAT_EXACT_BELOW)
        if inexact.any():
            raise TableParseError(
                f"Column {name}: {float(present[inexact][0])!r} is not an exact integer")
        return np.where(missing, 0, values).astype(np.int64), missing
    # numpy would make 1.5 into 1 without a word: floats go cell by cell, below
    floats = any(issubclass(t, float | np.floating) for t in set(map(type, values)))
    if mask is None and not floats:
        try:  # the common case, no null: numpy converts in C, strings like "2" included
            return np.array(values, dtype=np.int64), None
        except (TypeError, ValueError, OverflowError):
            pass
    values = _numbers(values)
    missing = _missing(values, mask)
    filled = [0 if m else v for v, m in zip(values, missing, strict=True)]
    if not floats:
        try:
            return np.array(filled, dtype=np.int64), missing
        except (TypeError, ValueError, OverflowError):
            pass
    # Cell by cell ('2.0' in a csv cell, NaN standing in for a missing int), exactly or not
    # at all: an integer is never rounded through a float.
    out = np.zeros(len(filled), np.int64)
    for k, v in enumerate(filled):
        if missing[k]:
            continue
        try:
            number = _exact_int(v)
        except OverflowError as err:
            raise TableParseError(f"Column {name}: {_cell_text(v)} does not fit 64 bits") from err
        except (TypeError, ValueError) as err:
            raise TableParseError(f"Column {name}: {_cell_text(v)} is not an integer") from err
        if number is None:
            missing[k] = True
        else:
            out[k] = number
    return out, missing


def _exact_int(v):
    """An int from an int, an integral float or text; None for NaN; ValueError otherwise."""
    if isinstance(v, str):
        try:
            v = int(v)
        except ValueError:
            v = float(v)
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return None
        if np.isfinite(v) and abs(v) >= _INT64_MAGNITUDE:  # its integer needs > 64 bits
            raise OverflowError(v)
        if not float(v).is_integer() or abs(v) >= _FLOAT_EXACT_BELOW:
            raise ValueError(v)
        v = int(v)
    if not -(2**63) <= int(v) < 2**63:
        raise OverflowError(v)
    return int(v)


class Decoded:
    """An answer decoded from its wire format but not yet typed: raw values per column
    (tuples or lists of Python values, or numpy arrays), their null masks, and whether the
    text is untyped (csv). Several answers are combined (`combine`) and typed once
    (`build`): typing is most of a small answer's cost, and one typing gives every batch
    the same column types."""

    #: Whether the columns are typed numpy arrays already (`typed_now`).
    is_typed = False

    def __init__(self, columns: dict, masks: dict | None = None, untyped_text: bool = False):
        self.columns = columns
        self.masks = masks or {}
        self.untyped_text = untyped_text
        self.nrows = len(next(iter(columns.values()))) if columns else 0

    def __len__(self) -> int:
        return self.nrows

    def typed(self, name: str, schema) -> np.ndarray | None:
        """One column typed as `typed_column` types it, for the checks made on each answer:
        a numpy array, masked where values are missing (no astropy Column: building one
        costs more than the checks); None if absent."""
        if name not in self.columns:
            return None
        return _typed_data(name, self.columns[name], self.masks.get(name), _or_ztf(schema))[0]

    def with_column(self, name: str, values) -> "Decoded":
        """A copy with one more (raw) column, e.g. the label of the request."""
        return Decoded({**self.columns, name: values}, self.masks, self.untyped_text)

    def typed_now(self, schema) -> "Decoded":
        """A copy whose columns the schema knows are already typed numpy arrays (and masks),
        still to be combined: a large answer is typed as it arrives, in its worker thread,
        while the other requests wait on the server, rather than after the last one.

        A column the schema does not know stays raw: its type is read from the values of
        every answer together (one answer's nulls alone would make it float, and the
        integers of another answer would then pass through float)."""
        schema = _or_ztf(schema)
        columns, masks = {}, {}
        for name, values in self.columns.items():
            if name not in schema:
                columns[name] = values
                if self.masks.get(name) is not None:
                    masks[name] = self.masks[name]
                continue
            data, _ = _typed_data(name, values, self.masks.get(name), schema,
                                  self.untyped_text)
            if isinstance(data, np.ma.MaskedArray):
                columns[name], masks[name] = data.data, np.ma.getmaskarray(data)
            else:
                columns[name] = data
        typed = Decoded(columns, masks, self.untyped_text)
        typed.is_typed = True
        return typed


def combine(parts: list[Decoded]) -> Decoded:
    """Several decoded answers as one, row after row; a column missing from an answer is
    missing (masked) in its rows. Numpy arrays of one kind are joined as arrays; anything
    else as Python values (typing them all together gives one type per column). The
    columns are joined when first asked for: `build` types the parts of a column the
    schema gives a type to one by one instead, which is the same and spares joining."""
    parts = [p for p in parts if p.nrows and p.columns]
    if len(parts) <= 1:
        return parts[0] if parts else Decoded({})
    return _Joined(parts)


class _Joined(Decoded):
    """Decoded answers combined (see `combine`); ``columns`` and ``masks`` made when read."""

    def __init__(self, parts: list[Decoded]):
        self.parts = parts
        self.names = list(dict.fromkeys(n for p in parts for n in p.columns))
        self.untyped_text = parts[0].untyped_text
        self.nrows = sum(p.nrows for p in parts)
        self._joined: tuple[dict, dict] | None = None

    def _join_all(self) -> tuple[dict, dict]:
        if self._joined is None:
            columns, masks = {}, {}
            for name in self.names:
                columns[name], masks[name] = _join(name, self.parts)
            self._joined = columns, masks
        return self._joined

    @property
    def columns(self) -> dict:
        return self._join_all()[0]

    @property
    def masks(self) -> dict:
        return self._join_all()[1]


def _all_missing(part: Decoded, name: str) -> bool:
    mask = part.masks.get(name)
    return mask is not None and len(mask) > 0 and bool(np.all(mask))


def _join(name: str, parts: list[Decoded]):
    """One column of several parts as one: its raw values and mask (None if none missing).
    A part where the column is only missing values carries no type (parquet and VOTable
    give such a column a float type): it counts as absent, so that the other parts' values
    type the column."""
    values = [None if _all_missing(p, name) else p.columns.get(name) for p in parts]
    arrays = [v for v in values if isinstance(v, np.ndarray)]
    same = len(arrays) == len(values) and len(
        {(a.dtype.kind, a.shape[1:]) for a in arrays}) == 1 and arrays[0].dtype.kind != "O"
    if same:
        joined = np.concatenate(arrays)
    else:
        joined = []
        for p, v in zip(parts, values, strict=True):
            joined += [None] * p.nrows if v is None else (
                list(v) if isinstance(v, np.ndarray) and v.ndim > 1 else
                v.tolist() if isinstance(v, np.ndarray) else list(v))
    given = [p.masks.get(name) for p in parts]
    if all(m is None for m in given) and all(v is not None for v in values):
        return joined, None  # nothing missing anywhere: no mask to build
    mask = np.concatenate([np.ones(p.nrows, bool) if v is None else
                           np.zeros(p.nrows, bool) if m is None else np.asarray(m, bool)
                           for p, v, m in zip(parts, values, given, strict=True)])
    return joined, (mask if mask.any() else None)


# Kinds whose typing goes value by value: typing each part and joining the results gives
# what typing the joined values gives (text widths join to the widest).
_PER_PART_KINDS = ("float", "int", "bool", "str")


def _mixed(name: str, parts: list[Decoded]) -> bool:
    """Whether a column has numpy arrays in some parts and Python values in others (an
    answer read by pyarrow among small ones): joining would turn the arrays into Python
    values to type them again, where typing each part keeps them arrays."""
    values = [p.columns.get(name) for p in parts]
    arrays = sum(isinstance(v, np.ndarray) and v.dtype.kind != "O" for v in values)
    return 0 < arrays < len(values)


def _typed_parts(name: str, parts: list[Decoded], kind: str, schema, untyped_text: bool):
    """A column the schema types, typed part by part and joined (see `_PER_PART_KINDS`)."""
    datas, masks = [], []
    for p in parts:
        values = p.columns.get(name)
        if values is None:  # absent from this answer: missing in its rows
            datas.append(_NOTHING[kind](p.nrows))
            masks.append(np.ones(p.nrows, bool))
            continue
        if p.is_typed:  # typed as it arrived: kept as it is
            datas.append(values)
            masks.append(p.masks.get(name))
            continue
        data, _ = _typed_data(name, values, p.masks.get(name), schema, untyped_text)
        masks.append(np.ma.getmaskarray(data) if isinstance(data, np.ma.MaskedArray) else None)
        datas.append(np.ma.getdata(data))
    data = np.concatenate(datas)
    if any(m is not None for m in masks):
        missing = np.concatenate([np.zeros(len(d), bool) if m is None else m
                                  for d, m in zip(datas, masks, strict=True)])
        if missing.any():
            return np.ma.MaskedArray(data, mask=missing, copy=False)
    return data


def build(decoded: Decoded, schema=None, rows: Callable[[dict], np.ndarray | None] | None = None
          ) -> Table:
    """Type a decoded answer into a Table (see `typed_column`).

    ``rows``, given the typed columns (``{name: array, masked where missing}``), returns the rows
    to keep in their order (None: all, as they are): taken before the Table is made, as
    taking rows from a Table costs more than making it.
    """
    if isinstance(decoded, _Joined):
        return _build_joined(decoded, _or_ztf(schema), rows)
    if not decoded.columns:
        return Table()
    return build_table(decoded.columns, decoded.masks, schema, decoded.untyped_text, rows)


def _build_joined(joined: _Joined, schema, rows=None) -> Table:
    data, units, descriptions = {}, {}, {}
    for name in joined.names:
        info = schema.get(name)
        if info is not None and info.kind in _PER_PART_KINDS and _mixed(name, joined.parts):
            data[name] = _typed_parts(name, joined.parts, info.kind, schema,
                                      joined.untyped_text)
        else:
            values, mask = _join(name, joined.parts)
            data[name], info = _typed_data(name, values, mask, schema, joined.untyped_text)
        if info is not None and info.unit is not None:
            units[name] = info.unit
        if info is not None and info.description:
            descriptions[name] = info.description
    return _made(data, units, descriptions, rows)


def _made(data: dict, units: dict, descriptions: dict, rows) -> Table:
    """The Table of typed columns, its rows taken first when ``rows`` says (see `build`)."""
    take = None if rows is None else rows(data)
    if take is not None:
        data = _taken(data, take)
    # Arrays in a dict, units and descriptions given to Table: astropy makes each Column
    # once (making Columns first, then the Table, makes them twice).
    return Table(data, units=units, descriptions=descriptions, copy=False)


def _taken(data: dict, take: np.ndarray) -> dict:
    """Each column's rows ``take`` (row numbers).

    Answers mostly come in the server's order but for a few rows (ties in its sort, such as
    upper limits of one exposure): when ``take`` moves at most an eighth of the rows, they
    are moved in place, sparing a copy of every row of every column (~30 ms of a 10,000-row
    answer), in arrays that can be written and share memory with no other column (the
    typed columns are this query's own); any other column is copied as ``values[take]``.
    """
    n = len(next(iter(data.values())))
    moved = np.flatnonzero(take != np.arange(n)) if len(take) == n else None
    few = moved is not None and len(moved) * 8 <= n
    if not few:
        return {name: values[take] for name, values in data.items()}
    arrays = {name: [a for a in (np.ma.getdata(values), np.ma.getmask(values))
                     if a is not np.ma.nomask] for name, values in data.items()}
    # memory that two columns share is never written: the other would see the moves
    users = Counter(id(_root(a)) for parts in arrays.values() for a in parts)
    out = {}
    for name, values in data.items():
        if all(a.flags.writeable and users[id(_root(a))] == 1 for a in arrays[name]):
            values[moved] = values[take[moved]]  # the right side is a copy
            out[name] = values
        else:
            out[name] = values[take]
    return out


def _root(array: np.ndarray):
    """The object whose memory ``array`` views (itself if it owns its memory)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array if array.base is None else array.base


def build_table(columns: dict, masks: dict | None = None, schema=None,
                untyped_text: bool = False, rows=None) -> Table:
    masks, schema = masks or {}, _or_ztf(schema)
    data, units, descriptions = {}, {}, {}
    for name, values in columns.items():
        data[name], info = _typed_data(name, values, masks.get(name), schema, untyped_text)
        if info is not None and info.unit is not None:
            units[name] = info.unit
        if info is not None and info.description:
            descriptions[name] = info.description
    return _made(data, units, descriptions, rows)


# ----------------------------------------------------------------------------- formats

# Below this size the dict path is as fast, and pyarrow's start-up is not worth it.
_ARROW_JSON_MIN_BYTES = 1 << 20


# How json and orjson say that a whole document is followed by more text.
_MORE_AFTER_JSON = ("Extra data", "after document")


def _json_stops_early(content: bytes, err: ValueError) -> bool:
    """Whether JSON that does not parse is cut short (the decoder ran out of text, also
    after an inner ``]``), rather than wrong (an error page, extra data)."""
    body = content.strip()
    if body[:1] not in (b"[", b"{") or any(m in str(err) for m in _MORE_AFTER_JSON):
        return False  # not JSON, or a whole document followed by more: wrong, not cut
    # the decoder ran out of text (json and orjson count positions in characters), or the
    # text stops without closing its outer bracket (cut inside a string or a number)
    position = getattr(err, "pos", None)
    at_end = isinstance(position, int) and \
        position >= len(content.decode("utf-8", "replace").rstrip())
    return at_end or body[-1:] != {b"[": b"]", b"{": b"}"}[body[:1]]


def _from_json(content: bytes, schema, mixed_types: bool = False) -> Decoded:
    decoded = None
    if len(content) >= _ARROW_JSON_MIN_BYTES:
        decoded = _json_mixed_via_arrow(content) if mixed_types else _json_via_arrow(content)
    if decoded is None:
        try:
            rows = loads_json(content)
        except ValueError as err:
            if _json_stops_early(content, err):
                raise TruncatedAnswerError(
                    f"The server's JSON answer stops before its end ({len(content)} bytes)"
                ) from err
            raise not_an_answer(content, "JSON rows") from err
        decoded = _json_rows(content, rows)
    if _may_hold_big_integers(decoded, schema):
        # the standard library keeps every JSON integer exact, as written
        decoded = _json_rows(content, json.loads(content))
    return decoded



def _may_hold_big_integers(decoded: Decoded, schema) -> bool:
    """Whether a column the schema does not type, or types as integers, holds a float of
    magnitude >= 2**63, which may be a JSON integer beyond 64 bits read as a float (read
    again, an integer column's message then shows the value the server sent)."""
    for name, values in decoded.columns.items():
        info = schema.get(name)
        if info is not None and info.kind != "int":
            continue
        if isinstance(values, np.ndarray):
            if values.dtype.kind == "f" and np.any(np.abs(values) >= _INT64_MAGNITUDE):
                return True
        elif any(type(v) is float and abs(v) >= _INT64_MAGNITUDE for v in values):
            return True
    return False


def _json_rows(content: bytes, rows) -> Decoded:
    """The decoded JSON document of a tabular answer (a list of row dicts), by column."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise not_an_answer(content, "a JSON list of rows")
    if not rows:
        return Decoded({})
    names = list(rows[0])
    try:
        # Transpose in C: one tuple per row, then zip them into one tuple per column.
        get = operator.itemgetter(*names)
        if len(names) == 1:
            columns = [tuple(map(get, rows))]
        else:
            columns = list(zip(*map(get, rows), strict=True))
        if any(len(r) != len(names) for r in rows):
            raise KeyError("rows of different shapes")
    except KeyError:  # rows with other keys: a key absent from a row is a missing value
        names = list(dict.fromkeys(k for r in rows for k in r))
        columns = [[r.get(name) for r in rows] for name in names]
    return Decoded(dict(zip(names, columns, strict=True)))


def _csv_list(value: str | None):
    if value is None or value == "":
        return None
    # pandas writes list cells as Python reprs ('[[1.0, nan], ...]'): read them as JSON
    # after naming NaN the JSON way; never eval text from a server.
    return json.loads(_NAN_TOKEN.sub(b"NaN", value.encode()))


def _is_array_column(name: str, values, schema) -> bool:
    info = schema.get(name)
    if info is not None:
        return info.kind == "array"
    present = [v for v in values if v is not None]
    return bool(present) and all(v.startswith("[[") or v == "[]" for v in present)


def _from_csv(content: bytes, schema) -> Decoded:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.reason == "unexpected end of data":  # cut inside a character
            raise TruncatedAnswerError(f"The server's csv answer stops inside a character "
                                       f"({len(content)} bytes)") from err
        raise not_an_answer(content, "csv") from err
    if not text.strip():
        if text:  # an empty result is written "\n"
            return Decoded({})
        raise not_an_answer(content, "csv")
    if text.lstrip().startswith(("<", "{", "[")):  # HTML, or JSON such as [{"status": ...}]
        raise not_an_answer(content, "csv")
    if not text.endswith("\n"):  # pandas ends every row, the last one too
        if "\n" not in text and "," not in text and (" " in text or ":" not in text):
            # one line, no column name of a Fink table: a message ("Rate limit exceeded",
            # "Unauthorized"), said at once rather than tried again as a cut header
            raise not_an_answer(content, "csv")
        raise TruncatedAnswerError(
            f"The server's csv answer stops inside a row ({len(content)} bytes)")
    if content.count(b'"') % 2:
        # quotes come in pairs (a quote in a cell is doubled): one is open, so the answer
        # stops inside a quoted cell, maybe just after a line break of its text
        raise TruncatedAnswerError(
            f"The server's csv answer stops inside a quoted cell ({len(content)} bytes)")
    # pandas ends rows with "\n" and leaves a carriage return inside a cell unquoted, where
    # both readers would end the row: such a CR is read as another character and put back
    carriage = "\r" in text and text.count("\r\n") != text.count("\n")
    if carriage:
        text = text.replace("\r", _CR_STAND_IN)
    # strict: a quoted cell left open at the end of the text is a cut, not a value
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        names = next(reader)
        if any(" " in n.strip() and ":" not in n for n in names):
            # a sentence ("Internal error happened"), not column names: Fink's have no
            # space but after a family prefix ("class:SN candidate")
            raise not_an_answer(content, "csv")
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise TableParseError(f"The server's csv answer has the column {twice!r} twice")
        if len(content) >= _SMALL_CSV_BYTES and not carriage:
            decoded = _csv_via_arrow(content, names, schema)
            if decoded is not None:
                return decoded
        rows = [r for r in reader if r]
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise TruncatedAnswerError(f"The server's csv answer stops inside a quoted cell "
                                       f"({len(content)} bytes)") from err
        raise TableParseError(f"The server's csv answer cannot be read: {err}") from err
    if carriage:
        rows = [[v.replace(_CR_STAND_IN, "\r") for v in r] for r in rows]
    short = [k for k, r in enumerate(rows) if len(r) != len(names)]
    if short:
        if short == [len(rows) - 1] and len(rows[-1]) < len(names):
            raise TruncatedAnswerError(
                f"The server's csv answer stops inside its last row ({len(content)} bytes)")
        raise TableParseError(f"csv row {short[0] + 2} has {len(rows[short[0]])} fields, "
                              f"the header {len(names)}")
    cols = {name: _csv_cells(name, values, schema) for name, values in zip(
        names, zip(*rows, strict=True) if rows else [()] * len(names), strict=True)}
    return Decoded(cols, untyped_text=True)


def _csv_cells(name: str, values, schema):
    """One csv column's text cells as the typing reads them: an empty field is a missing
    value (pandas writes NaN and None so), and an array column's cells are lists."""
    if "" in values:
        values = [v or None for v in values]
    return [_csv_list(v) for v in values] if _is_array_column(name, values, schema) else values


# Stands for a carriage return inside a csv cell while the rows are split (a noncharacter:
# not in text that Fink serves).
_CR_STAND_IN = "\ufdd0"
# From this size on, a csv answer is read by pyarrow when it can (below, the Python reader is
# as fast).
_SMALL_CSV_BYTES = 1 << 16
# Cells pyarrow reads as numbers where the Python path does not: hexadecimal integers
# ("0x1F") and NaN with a payload ("nan(1)"). Answers holding such text go the Python way.
_NAN_PAYLOAD = re.compile(rb"[nN][aA][nN]\(")


def _arrow_only_numbers(content: bytes) -> bool:
    # plain substring tests first: a regular expression over a whole answer is slow
    return b"0x" in content or b"0X" in content or (
        b"(" in content and _NAN_PAYLOAD.search(content) is not None)


def _csv_via_arrow(content: bytes, names: list[str], schema) -> Decoded | None:
    """A csv answer read by pyarrow, giving what the Python path gives; None when pyarrow
    is absent or cannot read it so (the caller reads it in Python, with its exact errors).

    Only the columns the schema types as numbers are read as numbers (the parser rounds
    decimal text correctly, as Python's float does; integers exact, an overflow is an
    error); every other column is read as text, so that the columns the schema does not
    know are typed by the same lossless reading of their text as in the Python path.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    if _arrow_only_numbers(content):
        return None
    kinds = {name: getattr(schema.get(name), "kind", None) for name in names}
    types = {name: pa.float64() if kind == "float" else pa.int64() if kind == "int"
             else pa.string() for name, kind in kinds.items()}
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(content),
            # one thread: as fast here, and no reader threads alive at exit (see parquet)
            read_options=pa_csv.ReadOptions(use_threads=False, block_size=4 << 20),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            # an empty field is a missing number; text is kept as written ("" included)
            convert_options=pa_csv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except Exception:  # noqa: BLE001 - any reader failure means: use the Python path
        return None
    if table.column_names != names:  # e.g. a byte-order mark read otherwise
        return None
    cols, masks = {}, {}
    for name in names:
        chunked, kind = table.column(name), kinds[name]
        if kind in ("float", "int"):
            masks[name] = chunked.is_null().to_numpy() if chunked.null_count else None
            cols[name] = chunked.to_numpy() if kind == "float" or not chunked.null_count \
                else chunked.fill_null(0).to_numpy()
        elif kind == "str":
            cols[name] = _arrow_strings(chunked)  # "" is missing text, as in the Python path
        elif kind == "bool" and (flags := _arrow_flags(chunked)) is not None:
            cols[name], masks[name] = flags
        else:  # unknown columns, arrays, and flag columns with a cell that is no flag
            cols[name] = _csv_cells(name, tuple(chunked.to_pylist()), schema)
    return Decoded(cols, masks, untyped_text=True)


def _arrow_flags(chunked) -> tuple[np.ndarray, np.ndarray] | None:
    """A text column of flags -> booleans and their missing mask, each distinct text read
    once as `_bools` reads it; None if a text is no flag (for `_bools` to name it)."""
    encoded = chunked.combine_chunks().dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    codes = np.array([_NO_FLAG if v == "" else c for v, c in zip(
        distinct, _flag_codes(distinct), strict=True)], np.int8)
    if (codes == _BAD_FLAG).any():
        return None
    # the indices of one chunk (combined above) are never null: text is never null here
    data = codes[encoded.indices.to_numpy(zero_copy_only=False)]
    return data == 1, data == _NO_FLAG


def _from_votable(content: bytes, schema) -> Decoded:
    import warnings

    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import W51, VOWarning

    with warnings.catch_warnings():
        # The server's FIELD IDs ('i_jd') are sanitised names, which astropy warns about;
        # but a value out of its integer field's range (W51) would be clipped: refused.
        warnings.simplefilter("ignore", VOWarning)
        warnings.simplefilter("error", W51)
        tail = content.rstrip()[-64:]
        if content.lstrip()[:1] == b"<" and b"VOTABLE" in content[:4096] \
                and b"</VOTABLE>" not in tail:
            raise TruncatedAnswerError(
                f"The server's VOTable answer stops before its end ({len(content)} bytes)")
        if b"VOTABLE" not in content[:4096]:
            raise not_an_answer(content, "a VOTable")
        try:
            vot = parse(io.BytesIO(content), verify="warn")
        except W51 as err:
            raise TableParseError(
                "The server's VOTable answer has an integer its field cannot hold: "
                f"{printable(str(err).split('W51: ', 1)[-1])[:200]}") from None
    table = vot.get_first_table().to_table(use_names_over_ids=True)
    cols, masks = {}, {}
    for name in table.colnames:
        col = table[name]
        data = np.asarray(col)
        masks[name] = np.ma.getmaskarray(col) if data.ndim == 1 else None
        if data.dtype.kind in "SU" or data.dtype == object:
            data = np.array([v.decode() if isinstance(v, bytes) else v for v in data],
                            dtype=object)
        if data.ndim > 1 or data.dtype == object:
            cols[name] = list(data)
        else:
            cols[name] = data
    return Decoded(cols, masks)


def _arrow_columns(table) -> tuple[dict, dict]:
    """A pyarrow Table -> raw columns (numpy or lists) and their null masks."""
    import pyarrow as pa

    cols, masks = {}, {}
    for name in table.column_names:
        if name == "__index_level_0__":  # the server writes the pandas index too
            continue
        chunked = table.column(name)
        kind = chunked.type
        masks[name] = chunked.is_null().to_numpy() if chunked.null_count else None
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            cols[name] = _arrow_cells(chunked)
        elif pa.types.is_null(kind):
            cols[name] = [None] * len(chunked)
        elif _is_text(kind) or (pa.types.is_dictionary(kind) and _is_text(kind.value_type)):
            cols[name] = _arrow_strings(chunked)
        elif chunked.null_count and pa.types.is_floating(kind):
            cols[name] = chunked.to_numpy()  # nulls become NaN; the mask keeps the truth
        elif chunked.null_count:  # numpy has no null: fill, the mask keeps the truth
            cols[name] = chunked.fill_null(False if pa.types.is_boolean(kind) else 0).to_numpy()
        else:
            cols[name] = chunked.to_numpy()
    return cols, masks


def _is_text(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


_FEW_ROWS = 64


def _arrow_strings(chunked) -> np.ndarray:
    """A string column (plain or dictionary-encoded) -> numpy text, nulls as ''.

    Fink's text columns repeat a few values (classes, names), so each distinct value is
    converted once and the rows are filled by index.
    """
    import pyarrow as pa

    kind = chunked.type
    if len(chunked) <= _FEW_ROWS and not pa.types.is_dictionary(kind):
        # a few rows: each compute call below costs more than converting them one by one
        values = chunked.to_pylist()
        return np.array(["" if v is None else v for v in values], dtype=str)
    if pa.types.is_dictionary(kind) and kind.index_type.bit_width < 32:
        # room for the unified dictionary of all chunks, and for one more (null) entry
        chunked = chunked.cast(pa.dictionary(pa.int32(), kind.value_type))
    # One array first: the JSON reader gives many chunks, each would cost a round here.
    # Dictionary chunks (parquet row groups) are concatenated over a unified dictionary.
    array = chunked.combine_chunks()
    encoded = array if hasattr(array, "dictionary") else array.dictionary_encode()
    # a null inside the dictionary is a missing value too: "" (masked as empty text)
    distinct = np.array(["" if v is None else v for v in encoded.dictionary.to_pylist()]
                        + [""], dtype=str)
    null = len(distinct) - 1
    indices = encoded.indices.fill_null(null).to_numpy(zero_copy_only=False)
    if encoded.null_count == 0:
        return distinct[indices]
    # Long, mostly-null columns (d:lc_features_*): np.zeros takes memory the OS zeroes
    # lazily, so only pages holding a value are ever written.
    text = np.zeros(len(indices), dtype=distinct.dtype)
    present = indices != null
    text[present] = distinct[indices[present]]
    return text


def _arrow_cells(chunked):
    """A list<list<double>> column (cutouts) -> per-row 2-D arrays, or None where empty."""
    cells = []
    for chunk in chunked.chunks:
        # Fast path, per chunk: every cell a full square of the same size.
        lengths = chunk.value_lengths().to_numpy(zero_copy_only=False) if len(chunk) else []
        inner = chunk.flatten()
        if (len(chunk) and chunk.null_count == 0 and inner.null_count == 0
                and len(set(lengths)) == 1 and lengths[0] > 0):
            side = int(lengths[0])
            pixels = inner.flatten().to_numpy(zero_copy_only=False)
            if pixels.size == len(chunk) * side * side:
                cells.extend(pixels.astype(np.float64).reshape(len(chunk), side, side))
                continue
        cells.extend(v or None for v in chunk.to_pylist())
    return cells


# Below this size a parquet answer (a few rows: one cone search) is read in one opening of
# the file, its text as plain strings: opening it twice cost more than the dictionaries spare.
_SMALL_PARQUET_BYTES = 1 << 16


def _check_parquet_ends(head: bytes, tail: bytes, size: int) -> None:
    """A parquet file starts and ends with its magic bytes (the footer, its schema, is at
    the end): else it is cut (TruncatedAnswerError) or something else (an error page)."""
    if head[:4] != b"PAR1":
        raise not_an_answer(head, "parquet")
    if tail != b"PAR1" or size < 12:
        raise TruncatedAnswerError(
            f"The server's parquet answer stops before its footer ({size} bytes)")


def check_parquet_file(path) -> None:
    """A downloaded parquet file is whole and is parquet (see `_check_parquet_ends`); with
    pyarrow, its footer is read too."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
        size = file.seek(0, io.SEEK_END)
        file.seek(max(size - 4, 0))
        tail = file.read(4)
    _check_parquet_ends(head, tail, size)
    try:
        import pyarrow.parquet as pq
    except ImportError:  # the magic bytes are all a client without pyarrow can check
        return
    try:
        metadata = pq.read_metadata(path)
    except Exception as err:  # noqa: BLE001 - any unreadable footer
        raise TableParseError(
            f"The server's parquet file has no readable footer: {str(err).strip()}") from err
    names = {n for n in metadata.schema.names if n != "__index_level_0__"}
    if names and names <= _ERROR_KEYS:  # the server's error written as a table
        with open(path, "rb") as file:
            decode(file.read(), "parquet")  # raises ErrorAnswerError with the server's words


def _from_parquet(content: bytes, schema) -> Decoded:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_parquet_ends(content, content[-4:], len(content))
    reader = pq.ParquetFile(pa.BufferReader(content))  # BufferReader: no copy of the bytes
    if len(content) >= _SMALL_PARQUET_BYTES:
        # Text columns read as dictionaries: parquet stores them so, and it spares decoding
        # every row's string and hashing it again in `_arrow_strings`.
        text = [f.name for f in reader.schema_arrow if _is_text(f.type)]
        reader = pq.ParquetFile(pa.BufferReader(content), metadata=reader.metadata,
                                read_dictionary=text)
    # use_threads=False: threaded parquet reads can abort the interpreter at exit (exit 134)
    # while any daemon thread lives, as in notebooks and servers (apache/arrow#34314).
    return Decoded(*_arrow_columns(reader.read(use_threads=False)))


def _json_via_arrow(content: bytes) -> Decoded | None:
    """Large JSON answers through pyarrow's multi-threaded reader, when it can read them.

    pandas writes ``[{...},{...}]`` with no spaces, so a row boundary is ``},{"``; turned
    into newlines, that is the line-delimited JSON pyarrow reads. A ``},{"`` inside a string
    value would break that string's quotes, so pyarrow fails rather than misread, and the
    row count is checked too. Any failure (also: a column mixing numbers and strings, as
    upper-limit rows do) returns None and the caller decodes with orjson.
    """
    try:
        import pyarrow as pa
        import pyarrow.json as pa_json
    except ImportError:
        return None
    body = content.strip()
    if not (body.startswith(b"[{") and body.endswith(b"}]")):
        return None
    lines = body.replace(b'},{"', b'}\n{"')
    try:
        # blocks of 4 MiB: fewer chunks to join than the 1 MiB default, as fast to read
        options = pa_json.ReadOptions(block_size=4 << 20)
        # the rows without the list's brackets, as a view: no copy of a large answer
        rows = pa.BufferReader(memoryview(lines)[1:-1])
        table = pa_json.read_json(rows, read_options=options)
    except Exception:  # noqa: BLE001 - any reader failure means: use the exact path
        return None
    if table.num_rows != lines.count(b"\n") + 1 or not _arrow_json_is_exact(table):
        return None
    return Decoded(*_arrow_columns(table))


# The rows of a ``withupperlim`` answer that are detections: their numbers are numbers, where
# the upper-limit and bad-quality rows write them as text (fink-object-api
# apps/routes/v1/ztf/objects/utils.py; the rows' "d:tag" says which they are).
_VALID_ROW = b'"d:tag":"valid"'


def _json_mixed_via_arrow(content: bytes) -> Decoded | None:
    """A large answer whose columns mix numbers and text (``withupperlim``) through pyarrow's
    reader, in two groups of rows of one kind each (detections, and the other rows), when
    it can read them; None otherwise (the caller decodes with orjson).

    Each group's columns have one type, so pyarrow reads them; the groups are then put back
    in the server's row order: as arrays where both give a column the same kind, else as
    Python values (as orjson gives them), which typing turns into one type. A grouping that
    leaves a column mixed makes pyarrow fail, so only the speed depends on it.
    """
    try:
        import pyarrow as pa
        import pyarrow.json as pa_json
    except ImportError:
        return None
    body = content.strip()
    if not (body.startswith(b'[{"') and body.endswith(b"}]")) or _VALID_ROW not in body:
        return None
    pieces = body[3:-2].split(b'},{"')  # each row without its '{"' and '}'
    valid = np.fromiter((_VALID_ROW in piece for piece in pieces), bool, len(pieces))
    groups, parts = [], []
    for flags in (valid, ~valid):
        rows = np.flatnonzero(flags)
        if not len(rows):
            continue
        lines = b'{"' + b'}\n{"'.join([pieces[k] for k in rows]) + b"}"
        try:
            options = pa_json.ReadOptions(block_size=4 << 20)
            table = pa_json.read_json(pa.BufferReader(lines), read_options=options)
        except Exception:  # noqa: BLE001 - any reader failure means: use the exact path
            return None
        if table.num_rows != len(rows) or not _arrow_json_is_exact(table):
            return None
        groups.append(rows)
        parts.append(_arrow_columns(table))
    if groups[0][0] != 0:  # the columns in the order of the first row's
        groups, parts = groups[::-1], parts[::-1]
    names = list(dict.fromkeys(n for cols, _ in parts for n in cols))
    columns, masks = {}, {}
    for name in names:
        columns[name], masks[name] = _regrouped(name, groups, parts, len(pieces))
    return Decoded(columns, masks)


def _regrouped(name: str, groups: list, parts: list, n: int):
    """One column of the row groups back in the rows' order: values and mask."""
    values = [cols.get(name) for cols, _ in parts]
    group_masks = [masks.get(name) for _, masks in parts]
    # a group without the column, or with no value in it (pyarrow's null type): masked
    empty = [v is None or (m is not None and len(m) > 0 and bool(m.all()) and isinstance(v, list))
             for v, m in zip(values, group_masks, strict=True)]
    arrays = [v for v, e in zip(values, empty, strict=True) if not e]
    kinds = {(v.dtype.kind if isinstance(v, np.ndarray) and v.ndim == 1 else None)
             for v in arrays}
    if len(kinds) == 1 and None not in kinds and "O" not in kinds:
        dtype = np.result_type(*[v.dtype for v in arrays])
        # missing values hold what the orjson path leaves under the mask
        data = np.full(n, np.nan) if dtype.kind == "f" else np.zeros(n, dtype)
        mask = np.zeros(n, bool)
        for rows, v, m, e in zip(groups, values, group_masks, empty, strict=True):
            if e:
                mask[rows] = True
                continue
            data[rows] = v
            if m is not None:
                mask[rows] = m
        return data, (mask if mask.any() else None)
    out: list = [None] * n
    for rows, v, m in zip(groups, values, group_masks, strict=True):
        if v is None:
            continue
        cells = list(v) if isinstance(v, np.ndarray) and v.ndim > 1 else (
            v.tolist() if isinstance(v, np.ndarray) else list(v))
        missing = [False] * len(cells) if m is None else m.tolist()
        for k, cell, gone in zip(rows.tolist(), cells, missing, strict=True):
            out[k] = None if gone else cell
    return out, None


def _arrow_json_is_exact(table) -> bool:
    """Whether pyarrow's JSON reader kept the values as the JSON says them: it reads text
    that looks like a date as a timestamp. (A column of integers holding a float, or an
    integer beyond 64 bits, it reads as floats; `_ints` takes those back only if exact.)"""
    import pyarrow as pa

    return not any(pa.types.is_temporal(field.type) for field in table.schema)


_PARSERS = {"json": _from_json, "csv": _from_csv, "votable": _from_votable,
            "parquet": _from_parquet}


def decode(content: bytes, output_format: str, *, schema=None,
           mixed_types: bool = False) -> Decoded:
    """Decode a tabular answer (``send_tabular_data``) of the given wire format, untyped.

    Raises `TruncatedAnswerError` for an answer cut short, `RemoteServiceError` for a
    complete answer that is not rows, and `TableParseError` for one that cannot be read.
    ``mixed_types`` says that some columns hold numbers as strings in some rows (the
    upper-limit rows of ``withupperlim``), which only the exact JSON path reads.
    """
    schema = _or_ztf(schema)
    if output_format in ("csv", "json") and content.startswith(codecs.BOM_UTF8):
        # a byte-order mark (as 'utf-8-sig' writes it) is no part of the first column's name
        content = content[len(codecs.BOM_UTF8):]
    try:
        with _gc_paused():
            if output_format == "json":
                decoded = _from_json(content, schema, mixed_types)
            else:
                decoded = _PARSERS[output_format](content, schema)
    except (TruncatedAnswerError, TableParseError, RemoteServiceError):
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is a bad answer, said so
        raise TableParseError(
            f"The server's {output_format} answer could not be read: "
            f"{type(err).__name__}: {str(err)[:300]}") from err
    if len(decoded) and set(decoded.columns) <= _ERROR_KEYS:
        # an error written as rows (the server's dict made a one-row frame), in any format
        # the words: "text" (Fink's errors), "message" (flask-restx's), else "status"
        name = next(n for n in ("text", "message", "status") if n in decoded.columns)
        raise ErrorAnswerError("Fink answered with an error instead of rows: "
                        f"{server_message(_unwrapped(decoded.columns[name][0]))}")
    return decoded


def _unwrapped(cell) -> str | bytes:
    """A cell's text: bytes as they are, and text that is the repr of bytes (b'...', as csv
    answers write a bytes cell) as those bytes' text."""
    if isinstance(cell, bytes):
        return cell
    text = str(cell)
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        return text[2:-1]
    return text


def parse_table(content: bytes, output_format: str, *, schema=None,
                mixed_types: bool = False) -> Table:
    """Parse a tabular answer (``send_tabular_data``) in the given wire format.

    ``schema`` maps column names to `~astroquery_fink._schema.ColumnInfo` (default: the ZTF
    columns); columns it does not know keep the type their wire format gives them.
    See `decode` for ``mixed_types`` and the errors.
    """
    schema = _or_ztf(schema)
    decoded = decode(content, output_format, schema=schema, mixed_types=mixed_types)
    try:
        with _gc_paused():
            return build(decoded, schema)
    except (TableParseError, RemoteServiceError):
        raise
    except Exception as err:  # noqa: BLE001 - a value the schema's type cannot hold
        raise TableParseError(
            f"The server's {output_format} answer could not be typed: "
            f"{type(err).__name__}: {str(err)[:300]}") from err


def not_an_answer(content: bytes, expected: str) -> RemoteServiceError:
    """A complete answer that is not what the endpoint returns (an error page, an error
    written as rows, empty text): permanent, with the server's words if it has some."""
    if not content.strip():
        return RemoteServiceError(f"Fink's answer is empty where {expected} was expected")
    words = binary_summary(content) or server_message(content)
    return RemoteServiceError(f"Fink's answer is not {expected}: {words}")


def _or_ztf(schema):
    return _schema.SCHEMAS["ztf"]() if schema is None else schema


_gc_lock = threading.Lock()
_gc_state = {"depth": 0, "was_enabled": False}


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while decoding, then restore it as it was.

    Decoding makes millions of small objects, none of them cyclic; without the pause the
    collector scans them again and again. Parsers run in several threads at once, so the
    first one in pauses it and the last one out restores the user's setting.
    """
    with _gc_lock:
        if _gc_state["depth"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["depth"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["depth"] -= 1
            if _gc_state["depth"] == 0 and _gc_state["was_enabled"]:
                gc.enable()
