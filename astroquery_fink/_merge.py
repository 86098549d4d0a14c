# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Answers of several requests -> one Table: rows checked against what was asked, types made
one, duplicates removed, the server's order restored, and its limits reported."""
import warnings
from collections.abc import Sequence

import numpy as np
from astropy.table import MaskedColumn, Table, vstack
from astroquery.exceptions import MaxResultsWarning, RemoteServiceError

from ._endpoint import Endpoint

__all__: list[str] = []

# Wider kinds hold the narrower ones without loss: bool < int < float < text.
_WIDTH = {"b": 0, "i": 1, "u": 1, "f": 2, "U": 3, "S": 3, "O": 3}


def owners(values: np.ndarray, ids: Sequence, *, prefix: bool) -> np.ndarray:
    """For each row's ID value, the index in ``ids`` of the requested ID it belongs to, or -1.

    With ``prefix``, a row belongs to the requested ID its value starts with; the prefixes
    must not cover one another (see `drop_covered_prefixes`), so at most one matches.
    """
    values = np.ma.filled(np.asarray(values), np.zeros((), np.asarray(values).dtype))
    if not len(ids) or not len(values):
        return np.full(len(values), -1)
    # text IDs keep their own width (a longer ID must not be cut to the column's width)
    requested = np.asarray(ids, dtype=str if prefix or values.dtype.kind in "US"
                           else values.dtype)
    order = np.argsort(requested, kind="stable")
    keys = requested[order]
    if prefix:
        values = values.astype(str)
        # the only candidate is the greatest prefix not after the value
        at = np.searchsorted(keys, values, side="right") - 1
        ok = at >= 0
        cand = keys[np.clip(at, 0, None)]
        ok &= np.char.startswith(values, cand) if len(values) else ok
    else:
        at = np.searchsorted(keys, values)
        at = np.clip(at, 0, len(keys) - 1)
        ok = keys[at] == values
    return np.where(ok, order[np.clip(at, 0, None)], -1)


def drop_covered_prefixes(ids: list[str]) -> list[str]:
    """Prefixes that another prefix of the list already covers are dropped (their rows would
    come twice); order kept."""
    ordered = sorted(ids)
    covered, last = set(), None
    for item in ordered:
        if last is not None and item.startswith(last):
            covered.add(item)
        else:
            last = item
    return [i for i in ids if i not in covered]


def check_rows_belong(table: Table, endpoint: Endpoint, ids: Sequence, *, prefix: bool) -> None:
    """Refuse an answer holding rows of IDs that were not asked for (never taken silently)."""
    name = endpoint.id_column
    if name is None or name not in table.colnames or not len(table):
        return
    # a row without the ID (a selection without it, filled by other rows) is not a stray
    stray = (owners(table[name], ids, prefix=prefix) < 0) & ~np.ma.getmaskarray(table[name])
    if stray.any():
        shown = ", ".join(map(str, np.unique(np.asarray(table[name])[stray])[:5]))
        raise RemoteServiceError(
            f"Fink's {endpoint.what} answer holds rows of IDs that were not asked for "
            f"({shown}); the answer is refused rather than merged")


def warn_if_cut(table: Table, endpoint: Endpoint, ids: Sequence, payload: dict, *,
                prefix: bool) -> list[str]:
    """Warn about the rows the server's caps cut from one answer; return what was cut."""
    cut = []
    if endpoint.limit_arg is not None and endpoint.limit_arg in payload:
        limit = int(payload[endpoint.limit_arg])
        if len(table) >= limit:
            cut.append(f"{endpoint.limit_arg}={limit}")
            warnings.warn(
                f"Fink's {endpoint.what} answer has {len(table)} rows, its limit "
                f"{endpoint.limit_arg}={limit}: more rows may exist; raise {endpoint.limit_arg} "
                "or narrow the query (e.g. a shorter date range)", MaxResultsWarning,
                stacklevel=4)
    cap = endpoint.rows_per_id
    name = endpoint.id_column
    if cap is None or name is None or name not in table.colnames or len(table) < cap:
        return cut
    owner = owners(table[name], ids, prefix=prefix)
    group = endpoint.cap_group
    if group is not None and group in table.colnames:
        tags = np.ma.filled(np.asarray(table[group], dtype=str), "")
        _, tag_index = np.unique(tags, return_inverse=True)
        owner = owner * (tag_index.max() + 1) + tag_index
    values, counts = np.unique(owner[owner >= 0], return_counts=True)
    n_groups = 1 if group is None or group not in table.colnames else tag_index.max() + 1
    capped = sorted({str(ids[v // n_groups]) for v in values[counts >= cap]})
    if capped:
        cut += capped
        what = "prefix" if prefix else "ID"
        warnings.warn(
            f"{', '.join(capped[:10])}{' ...' if len(capped) > 10 else ''} reached the "
            f"server's limit of {cap} rows per requested {what}: only the oldest rows came back. "
            + ("Use longer prefixes (more characters) so that each covers fewer objects, "
               if prefix else "")
            + "or Fink's Data Transfer service for complete histories", MaxResultsWarning,
            stacklevel=4)
    return cut


def missing_ids(table: Table, endpoint: Endpoint, ids: Sequence, *, prefix: bool) -> list:
    """The requested IDs no row belongs to, in the order asked."""
    name = endpoint.id_column
    if name is None or name not in table.colnames:
        return [] if len(table) else list(ids)
    found = set(owners(table[name], ids, prefix=prefix).tolist())
    return [i for k, i in enumerate(ids) if k not in found]


def merge(tables: Sequence[Table], endpoint: Endpoint) -> Table:
    """One Table from the answers of several requests: one type per column, one row per
    server row key, in the server's order (ties in a fixed order)."""
    tables = [t for t in tables if len(t.colnames)]
    if not tables:
        return Table()
    if len(tables) == 1:
        table = tables[0]
    else:
        table = vstack(_one_type_per_column(tables), join_type="outer",
                       metadata_conflicts="silent")
        table = _unique_rows(table, endpoint.row_key)
    return sort_rows(table, endpoint)


def sort_rows(table: Table, endpoint: Endpoint) -> Table:
    """The server's order (``endpoint.sort``), ties broken by ``endpoint.tiebreak``."""
    keys = []
    for name in reversed(endpoint.tiebreak):
        if name in table.colnames:
            keys.append(_sort_key(table[name], descending=False))
    for name, descending in reversed(endpoint.sort):
        if name in table.colnames:
            keys.append(_sort_key(table[name], descending))
    if not keys or len(table) < 2:
        return table
    return table[np.lexsort(keys)]


def _sort_key(column, descending: bool) -> np.ndarray:
    data = np.asarray(column)
    if data.ndim > 1:
        return np.zeros(len(data))
    mask = np.ma.getmaskarray(column)
    if data.dtype.kind in "biuf":
        data = data.astype(float)
        data = np.where(mask, np.inf, -data if descending else data)  # missing last
        return data
    ranks = np.unique(data, return_inverse=True)[1].astype(float)
    return np.where(mask, np.inf, -ranks if descending else ranks)


def _unique_rows(table: Table, row_key: tuple[str, ...]) -> Table:
    """One row per server row key (overlapping batches may repeat rows)."""
    names = [n for n in row_key if n in table.colnames]
    if not names or len(names) < min(2, len(row_key)):
        return table
    keys = list(zip(*(np.ma.filled(table[n]).tolist() for n in names), strict=True))
    first = list({k: i for i, k in reversed(list(enumerate(keys)))}.values())
    return table if len(first) == len(table) else table[sorted(first)]


def _one_type_per_column(tables: Sequence[Table]) -> list[Table]:
    """Give each column one type across tables, so that merging never fails.

    A column with no value in one answer (all masked: JSON carries no type for nulls) takes
    the type the others give it; otherwise the widest type wins (bool < int < float < text),
    and stamps of different shapes are padded with masked NaN.
    """
    names = list(dict.fromkeys(n for t in tables for n in t.colnames))
    out = [t.copy(copy_data=False) for t in tables]
    for name in names:
        columns = [t[name] for t in out if name in t.colnames]
        typed = [c for c in columns if not _all_masked(c)]
        if not typed:
            continue
        shapes = {c.shape[1:] for c in typed}
        kinds = {c.dtype.kind for c in typed}
        if len(shapes) > 1:
            shape = tuple(np.max([s for s in shapes], axis=0))
            for t in out:
                if name in t.colnames and t[name].shape[1:] != shape:
                    t[name] = _padded(t[name], shape)
            continue
        kind = max(kinds, key=lambda k: _WIDTH.get(k, 3))
        target = next(c.dtype for c in typed if c.dtype.kind == kind)
        if kind in "US":
            target = np.dtype(str)
        for t in out:
            if name not in t.colnames:
                continue
            col = t[name]
            if col.dtype.kind == target.kind and col.shape[1:] == typed[0].shape[1:]:
                continue
            if _all_masked(col):
                data = np.zeros((len(col),) + typed[0].shape[1:], dtype=target)
                t[name] = MaskedColumn(data, mask=np.ones(data.shape, bool), name=name,
                                       unit=col.unit, description=col.description)
            else:
                t[name] = _cast(col, target)
    return out


def _all_masked(column) -> bool:
    return len(column) > 0 and bool(np.all(np.ma.getmaskarray(column)))


def _cast(column, dtype):
    mask = np.ma.getmaskarray(column)
    data = np.asarray(column)
    if dtype.kind == "U":
        values = np.array([str(v) for v in data.tolist()], dtype=str) if len(data) else \
            data.astype(str)
    else:
        values = data.astype(dtype)
    return MaskedColumn(values, mask=mask, name=column.name, unit=column.unit,
                        description=column.description)


def _padded(column, shape):
    n = len(column)
    data = np.full((n,) + shape, np.nan, dtype=np.float32)
    mask = np.ones(data.shape, bool)
    region = (slice(None),) + tuple(slice(0, k) for k in column.shape[1:])
    data[region] = np.asarray(column)
    mask[region] = np.ma.getmaskarray(column)
    return MaskedColumn(data, mask=mask, name=column.name, unit=column.unit,
                        description=column.description)
