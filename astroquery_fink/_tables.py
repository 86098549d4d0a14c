# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Response bytes (json, csv, votable or parquet) -> typed `~astropy.table.Table`.

Every format is first decoded into columns of raw values; one function (`typed_column`) then
gives each column its type, mask, unit and description from the schema, so the four wire
formats end in the same Table. Missing values (``null`` or ``NaN`` on the wire) are masked.
"""
import csv
import io
import json
import re

import numpy as np
from astropy.table import MaskedColumn, Table
from astroquery.exceptions import TableParseError

from . import _schema

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


def loads_json(content: bytes):
    """Decode JSON from the server (bare ``NaN`` tokens allowed, as in /cutouts arrays)."""
    try:
        return _loads(content)
    except ValueError:
        return json.loads(content)  # the standard library accepts NaN/Infinity tokens


# ----------------------------------------------------------------------------- typing

def _infer_kind(values) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "float"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    if all(isinstance(v, list) for v in present):
        return "array"
    return "str"


def _as_bool(v):
    if isinstance(v, str):
        return v.strip().lower() in ("true", "t", "1")
    return bool(v)


def _array_cells(values):
    """Cutout cells (2-D lists, [] when the server could not fetch one) -> 3-D data, row mask."""
    shape = next((np.shape(v) for v in values if v is not None and len(v)), (0, 0))
    data = np.full((len(values),) + tuple(shape), np.nan)
    rowmask = np.ones(len(values), bool)
    for i, v in enumerate(values):
        if v is not None and len(v):
            data[i] = np.array(v, dtype=float)  # null pixels (NaN on the server) -> NaN
            rowmask[i] = False
    return data, rowmask


def typed_column(name: str, values, mask=None) -> MaskedColumn:
    """One server column -> MaskedColumn with the schema's type, unit and description.

    ``values`` is a list of Python values (json, csv) or a numpy array (votable, parquet);
    ``mask`` marks values already known to be missing. ``None`` is always missing, and so is
    NaN in a float column: the server writes NaN as null in JSON, so masking NaN everywhere
    keeps the four formats equal.
    """
    info = _schema.columns().get(name)
    kind = info.kind if info else _infer_kind(values)
    if isinstance(values, np.ndarray) and values.dtype != object and kind != "array":
        values_list = None
    else:
        values_list = list(values)
    n = len(values)
    base_mask = np.zeros(n, bool) if mask is None else np.asarray(mask, bool).copy()
    if values_list is not None:
        base_mask |= np.fromiter((v is None for v in values_list), bool, n)

    if kind == "array":
        data, rowmask = _array_cells(
            [None if m else v for v, m in zip(values_list, base_mask, strict=True)])
        fullmask = np.broadcast_to(rowmask[(...,) + (None,) * (data.ndim - 1)], data.shape)
        col = MaskedColumn(data, name=name, mask=fullmask.copy())
    elif kind == "float":
        src = values if values_list is None else values_list
        try:
            data = np.array(src, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TableParseError(f"Column {name}: not numbers ({err})") from err
        col = MaskedColumn(data, name=name, mask=base_mask | np.isnan(data))
    elif kind == "int":
        if values_list is None:
            src = values
        else:
            src = [0 if m else v for v, m in zip(values_list, base_mask, strict=True)]
        try:
            data = np.array(src, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            # e.g. '2.0' in a csv cell, or a float column standing in for a nullable int
            floats = np.array(src, dtype=np.float64)
            base_mask |= np.isnan(floats)
            data = np.where(base_mask, 0, floats).astype(np.int64)
        col = MaskedColumn(data, name=name, mask=base_mask)
    elif kind == "bool":
        src = values if values_list is None else [
            False if m else _as_bool(v) for v, m in zip(values_list, base_mask, strict=True)]
        col = MaskedColumn(np.array(src, dtype=bool), name=name, mask=base_mask)
    else:
        src = values if values_list is None else [
            "" if m else str(v) for v, m in zip(values_list, base_mask, strict=True)]
        data = np.array(src, dtype=str) if n else np.array([], dtype="U1")
        col = MaskedColumn(data, name=name, mask=base_mask)
    if info is not None:
        col.unit = info.unit
        col.description = info.description
    return col


def build_table(columns: dict, masks: dict | None = None) -> Table:
    masks = masks or {}
    return Table([typed_column(n, v, masks.get(n)) for n, v in columns.items()], masked=True)


# ----------------------------------------------------------------------------- formats

def _from_json(content: bytes) -> Table:
    try:
        rows = loads_json(content)
    except ValueError as err:
        raise TableParseError(f"The server's answer is not JSON: {content[:200]!r}") from err
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TableParseError(f"Expected a JSON list of rows, got: {content[:200]!r}")
    names = list(dict.fromkeys(k for r in rows for k in r)) if rows else []
    cols = {}
    for name in names:
        try:
            cols[name] = [r[name] for r in rows]
        except KeyError:  # rows of different shapes: absent means missing
            cols[name] = [r.get(name) for r in rows]
    return build_table(cols)


def _csv_cell(value: str):
    if value == "":
        return None
    if value.startswith("["):
        # pandas writes list cells as Python reprs ('[[1.0, nan], ...]'): read them as JSON
        # after naming NaN the JSON way; never eval text from a server.
        return json.loads(_NAN_TOKEN.sub(b"NaN", value.encode()))
    return value


def _from_csv(content: bytes) -> Table:
    text = content.decode("utf-8")
    if not text.strip():
        return Table(masked=True)
    reader = csv.reader(io.StringIO(text))
    names = next(reader)
    rows = [r for r in reader if r]
    cols = {n: [_csv_cell(r[i]) if i < len(r) else None for r in rows]
            for i, n in enumerate(names)}
    return build_table(cols)


def _from_votable(content: bytes) -> Table:
    import warnings

    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import VOWarning

    with warnings.catch_warnings():
        # The server's FIELD IDs ('i_jd') are sanitised names, which astropy warns about.
        warnings.simplefilter("ignore", VOWarning)
        vot = parse(io.BytesIO(content))
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
    return build_table(cols, masks)


def _from_parquet(content: bytes) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(content))
    cols, masks = {}, {}
    for name in table.column_names:
        if name == "__index_level_0__":  # the server writes the pandas index too
            continue
        arr = table.column(name).combine_chunks()
        masks[name] = arr.is_null().to_numpy(zero_copy_only=False)
        if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            cols[name] = arr.to_pylist()
        elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            cols[name] = arr.to_numpy(zero_copy_only=False)
        elif pa.types.is_null(arr.type):
            cols[name] = [None] * len(arr)
        else:
            cols[name] = arr.fill_null(0).to_numpy(zero_copy_only=False) if arr.null_count \
                else arr.to_numpy(zero_copy_only=False)
    return build_table(cols, masks)


_PARSERS = {"json": _from_json, "csv": _from_csv, "votable": _from_votable,
            "parquet": _from_parquet}


def parse_objects(content: bytes, output_format: str) -> Table:
    """Parse an ``/api/v1/objects``-style answer in the given wire format."""
    return _PARSERS[output_format](content)
