# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Answers of several requests -> one Table: rows checked against what was asked, types made
one, duplicates removed, the server's order restored, and its limits reported."""
from collections.abc import Sequence

import numpy as np
from astropy.table import Table
from astroquery.exceptions import MaxResultsWarning, RemoteServiceError, TableParseError

from ._endpoint import Endpoint
from ._errors import warn

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


def check_rows_belong(answer, endpoint: Endpoint, ids: Sequence, *, prefix: bool,
                      schema) -> None:
    """Refuse an answer (`~astroquery_fink._tables.Decoded`) holding rows of IDs that were
    not asked for (never taken silently)."""
    name = endpoint.id_column
    if name is None or not len(answer):
        return
    # the client asks the ID column with every selection: rows without it cannot be told
    # apart from rows of IDs not asked for
    if name not in answer.columns:
        raise RemoteServiceError(
            f"Fink's {endpoint.what} answer has {len(answer)} rows but no {name} column: "
            "whose rows they are cannot be told; the answer is refused rather than merged")
    column = answer.typed(name, schema)
    absent = np.ma.getmaskarray(column)
    if absent.any():
        raise RemoteServiceError(
            f"{int(absent.sum())} of the {len(answer)} rows of Fink's {endpoint.what} answer "
            f"have no {name}: whose rows they are cannot be told; the answer is refused "
            "rather than merged")
    stray = owners(column, ids, prefix=prefix) < 0
    if stray.any():
        shown = ", ".join(map(str, np.unique(np.asarray(column)[stray])[:5]))
        raise RemoteServiceError(
            f"Fink's {endpoint.what} answer holds rows of IDs that were not asked for "
            f"({shown}); the answer is refused rather than merged")


def check_described(answer, endpoint: Endpoint, requested, schema) -> None:
    """Refuse an answer whose columns are none of the schema's nor of those asked for
    (``requested``): one line of text ("Unauthorized", "Error: ...") read as a csv header,
    another service's table; the server only answers columns of its tables. Checked on each
    answer, so that such a body is never cached."""
    names = list(answer.columns)
    if not endpoint.described or not names:
        return
    if not any(n in schema or n in (requested or ()) for n in names):
        raise RemoteServiceError(
            f"Fink's {endpoint.what} answer is not {endpoint.rows}: its columns "
            f"({', '.join(names[:5])}) are none of the schema's nor of those asked for")


def check_rows_asked(answer, endpoint: Endpoint, payload: dict, schema) -> None:
    """Refuse an answer holding rows its request did not ask for, by the endpoint's
    ``strays`` check (a cone search's rows outside the cone, a prefix scan's rows of
    another prefix, ...)."""
    for check in endpoint.strays if len(answer) else ():
        found = check(answer, payload, schema)
        if found is not None and found[0].any():
            mask, asked = found
            raise RemoteServiceError(
                f"Fink's {endpoint.what} answer holds {int(mask.sum())} of its {len(answer)} "
                f"rows not {asked}, which were not asked for; the answer is refused rather "
                "than merged")


def _limit(endpoint: Endpoint, payload: dict) -> int | None:
    """The value of the endpoint's limit argument for this request, if it has one."""
    if endpoint.limit_arg is None:
        return None
    limit = payload.get(endpoint.limit_arg, endpoint.limit_default)
    return None if limit is None else int(limit)


def check_row_counts(answer, endpoint: Endpoint, ids: Sequence, payload: dict, *,
                     prefix: bool, schema) -> None:
    """Refuse an answer with more rows than the server gives for its request: beyond its
    limit argument (``n``), beyond the rows per requested ID, or per scan. The server's
    scans stop at their limit (HBase ``setLimit``), so such an answer is not the endpoint's.
    """
    rows, limit = len(answer), _limit(endpoint, payload)
    if endpoint.limit_per_scan and endpoint.scan_column is None:
        return  # scans the rows do not name: any number of rows may come
    if endpoint.limit_per_scan:
        cap, limit = (limit if limit is not None else endpoint.rows_per_id), None
    else:
        cap = endpoint.rows_per_id
    if limit is not None and rows > limit:
        beyond = f"its limit {endpoint.limit_arg}={limit}"
    elif cap is None or rows <= cap:
        return
    else:
        counts = _rows_per_id(answer, endpoint, ids, prefix=prefix, schema=schema) \
            if endpoint.id_column is not None else _rows_per_scan(answer, endpoint, schema)
        over = [] if counts is None else [k for k, n in zip(*counts, strict=True) if n > cap]
        if not over:
            return
        per = "scan" if endpoint.id_column is None else "requested ID"
        beyond = (f"the server's {cap} rows per {per} for {', '.join(map(str, over[:5]))}"
                  f"{' ...' if len(over) > 5 else ''}")
    raise RemoteServiceError(
        f"Fink's {endpoint.what} answer has {rows} rows, more than {beyond}: the server "
        "never sends more, so the answer is refused rather than merged")


def _rows_per_id(answer, endpoint: Endpoint, ids: Sequence, *, prefix: bool, schema):
    """Rows per requested ID of one answer (and per ``cap_group`` value, counted apart):
    the IDs and their counts, or None when the rows do not say their ID."""
    column = answer.typed(endpoint.id_column, schema)
    if column is None:
        return None
    owner = owners(column, ids, prefix=prefix)
    groups = None if endpoint.cap_group is None else answer.typed(endpoint.cap_group, schema)
    n_groups = 1
    if groups is not None:
        tags = np.ma.filled(np.asarray(groups, dtype=str), "")
        _, tag_index = np.unique(tags, return_inverse=True)
        n_groups = int(tag_index.max()) + 1
        owner = owner * n_groups + tag_index.reshape(-1)
    values, counts = np.unique(owner[owner >= 0], return_counts=True)
    return [ids[v // n_groups] for v in values], counts


def _rows_per_scan(answer, endpoint: Endpoint, schema):
    """Rows per server scan of one answer (see `Endpoint.scan_column`): the scans, named
    for messages, and their counts; or None when the rows do not say their scan."""
    name = endpoint.scan_column
    if name is None:  # one scan for the whole answer
        return [f"the {endpoint.what} query"], np.array([len(answer)])
    column = answer.typed(name, schema)
    if column is None:
        return None
    values, counts = np.unique(np.ma.filled(np.asarray(column, dtype=str), ""),
                               return_counts=True)
    return [f"{name} {v}" if endpoint.limit_per_scan else str(v) for v in values], counts


def warn_if_cut(answer, endpoint: Endpoint, ids: Sequence, payload: dict, *, prefix: bool,
                schema, label: str | None = None) -> list[str]:
    """Warn about the rows the server's caps cut from one answer (a
    `~astroquery_fink._tables.Decoded`); return what was cut. ``label`` names the request
    among those of one query (``"input_index 3"``), for a cap on its whole answer."""
    cut = []
    answer_of = f"Fink's {endpoint.what} answer" + (f" for {label}" if label else "")
    rows = len(answer)
    limit = _limit(endpoint, payload)
    if endpoint.limit_per_scan and endpoint.scan_column is not None:
        scan_cap = limit if limit is not None else endpoint.rows_per_id
        return cut + _warn_if_scans_cut(answer, endpoint, schema, scan_cap)
    if limit is not None and rows >= limit:
        cut.append(f"{endpoint.limit_arg}={limit}")
        warn(
            f"{answer_of} has {rows} rows, its limit "
            f"{endpoint.limit_arg}={limit}: more rows may exist; raise {endpoint.limit_arg} "
            f"or narrow the query (e.g. {endpoint.narrow_by})", MaxResultsWarning)
    elif limit is not None and endpoint.filtered_after_limit is not None:
        thinned = endpoint.filtered_after_limit(payload)
        if thinned:
            cut.append(f"{endpoint.limit_arg}={limit}")
            warn(f"{answer_of} has {rows} rows, but the server {thinned} "
                 f"after cutting at {endpoint.limit_arg}={limit} rows: more rows may exist; "
                 f"raise {endpoint.limit_arg} to look further back", MaxResultsWarning)
    cap = endpoint.rows_per_id
    if cap is None or rows < cap or not endpoint.cut_at_rows_per_id:
        return cut
    if endpoint.id_column is None:
        return cut + _warn_if_scans_cut(answer, endpoint, schema, cap)
    counts = _rows_per_id(answer, endpoint, ids, prefix=prefix, schema=schema)
    if counts is None:
        return cut
    capped = sorted({str(i) for i, n in zip(*counts, strict=True) if n >= cap})
    if capped:
        cut += capped
        what = "prefix" if prefix else "ID"
        warn(
            f"{', '.join(capped[:10])}{' ...' if len(capped) > 10 else ''} reached the "
            f"server's limit of {cap} rows per requested {what}: only the oldest rows came back. "
            + ("Use longer prefixes (more characters) so that each covers fewer objects, or "
               if prefix else "Use ")
            + "Fink's Data Transfer service for complete histories", MaxResultsWarning)
    return cut


def _warn_if_scans_cut(answer, endpoint: Endpoint, schema, cap: int | None) -> list[str]:
    """The cap of an endpoint whose rows are counted per server scan, not per requested ID
    (see `Endpoint.scan_column`)."""
    if cap is None or len(answer) < cap:
        return []
    if endpoint.scan_column is None and endpoint.limit_per_scan:
        # several scans the rows do not name: one of them may have reached the cap
        warn(f"Fink's {endpoint.what} answer has {len(answer)} rows, as many as the server's "
             f"limit of {cap} rows per scan, and its rows do not say their scan: one may "
             "have been cut. Narrow the query, or use Fink's Data Transfer service for "
             "complete data", MaxResultsWarning)
        return [f"{cap} rows per scan"]
    counts = _rows_per_scan(answer, endpoint, schema)
    if counts is None:
        return []  # the rows do not say their scan: nothing to count them by
    scans = [s for s, n in zip(*counts, strict=True) if n >= cap]
    if scans:
        raise_it = f" (raise {endpoint.limit_arg})" if endpoint.limit_per_scan else ""
        warn(f"{', '.join(scans[:10])}{' ...' if len(scans) > 10 else ''} reached the "
             f"server's limit of {cap} rows per scan: only the first rows in the server's "
             f"key order came back. Narrow the query{raise_it}, or use Fink's Data Transfer "
             "service for complete data", MaxResultsWarning)
    return scans


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
        return sort_rows(tables[0], endpoint)
    # one concatenation per column, then the rows kept, in order, taken once: no
    # intermediate Table (astropy's vstack, then indexing twice, costs ~100x more)
    names = list(dict.fromkeys(n for t in tables for n in t.colnames))
    lengths = [len(t) for t in tables]
    joined = {name: _joined([t.columns.get(name) for t in tables], lengths)
              for name in names}
    take = server_rows({n: d if m is None else np.ma.MaskedArray(d, mask=m, copy=False)
                        for n, (d, m, _) in joined.items()}, endpoint, unique=True)
    data, units, descriptions = {}, {}, {}
    for name, (values, mask, info) in joined.items():
        if take is not None:
            values = values[take]
            mask = None if mask is None else mask[take]
        # masked only where a value is missing, as a single answer is (astropy's convention)
        data[name] = values if mask is None or not mask.any() else np.ma.MaskedArray(
            values, mask=mask, copy=False)
        if info.get("unit") is not None:
            units[name] = info["unit"]
        if info.get("description"):
            descriptions[name] = info["description"]
    table = Table(data, units=units, descriptions=descriptions, copy=False)
    for name, (_, _, info) in joined.items():
        if info.get("format") is not None:
            table[name].format = info["format"]
        if info.get("meta"):
            table[name].meta.update(info["meta"])
    for t in tables:
        table.meta.update(t.meta)
    return table


def sort_rows(table: Table, endpoint: Endpoint) -> Table:
    """The server's order (``endpoint.sort``), ties broken by ``endpoint.tiebreak``."""
    take = server_rows(table.columns, endpoint, unique=False)
    return table if take is None else table[take]


def server_rows(columns: dict, endpoint: Endpoint, *, unique: bool) -> np.ndarray | None:
    """The rows to keep and their order: with ``unique``, one row per server row key
    (answers of overlapping requests may repeat rows); in the server's order
    (``endpoint.sort``, ties broken by ``endpoint.tiebreak``). ``columns`` maps names to
    arrays (masked where missing) or Columns; only the key columns are read. None when every
    row stays where it is: most answers come in the server's order already, and then no
    column is copied."""
    ordering = [*endpoint.tiebreak, *(s for s, _ in endpoint.sort)]
    used = {k: (np.asarray(columns[k]), _mask_of(columns[k]))
            for k in dict.fromkeys([*endpoint.row_key, *ordering]) if k in columns}
    n = len(next(iter(used.values()))[0]) if used else 0
    if n < 2:
        return None
    rows = _first_rows({k: used[k] for k in endpoint.row_key if k in used},
                       endpoint.row_key, n) if unique else None
    keys = {k: (d if rows is None else d[rows], m if rows is None or m is None else m[rows])
            for k, (d, m) in used.items() if k in ordering}
    order = _order(keys, endpoint)
    take = rows if order is None else (order if rows is None else rows[order])
    if take is None or np.array_equal(take, np.arange(n)):
        return None
    return take


def _order(columns: dict, endpoint: Endpoint) -> np.ndarray | None:
    """The row order of ``endpoint.sort`` then ``endpoint.tiebreak`` over ``columns``
    ({name: (values, mask or None)}), stable; None when there is nothing to sort by."""
    keys = []
    for name in reversed(endpoint.tiebreak):
        if name in columns:
            keys.append(_sort_key(*columns[name], descending=False))
    for name, descending in reversed(endpoint.sort):
        if name in columns:
            keys.append(_sort_key(*columns[name], descending=descending))
    if not keys or len(keys[0]) < 2:
        return None
    return np.lexsort(keys)


def _sort_key(data: np.ndarray, mask: np.ndarray | None, descending: bool) -> np.ndarray:
    """Exact int64 ranks of the values (never through float: 64-bit IDs that differ by less
    than 2**11 would tie), negated for a descending order; missing values and NaN last."""
    if data.ndim > 1:
        return np.zeros(len(data), np.int64)
    missing = np.zeros(len(data), bool) if mask is None else mask.copy()
    if data.dtype.kind == "f":
        missing |= np.isnan(data)
    ranks = np.unique(data, return_inverse=True)[1].astype(np.int64).reshape(-1)
    if descending:
        ranks = -ranks
    ranks[missing] = len(data) + 1
    return ranks


# Row keys are folded into one int64 while the product of the columns' ranges stays below this.
_FOLD_LIMIT = 2**62


def _first_rows(columns: dict, row_key: tuple[str, ...], n: int) -> np.ndarray | None:
    """The rows to keep, one per server row key (overlapping batches may repeat rows), in
    their order; None to keep them all."""
    if not columns or len(columns) < min(2, len(row_key)):
        return None
    # Each key column as dense codes (0: missing, a value of its own), folded into one
    # int64 per row while the product of their ranges fits (np.unique on rows is slower).
    codes, span, wide = np.zeros(n, np.int64), 1, []
    for data, mask in columns.values():
        if data.ndim > 1:
            return None
        code = np.unique(data, return_inverse=True)[1].reshape(-1).astype(np.int64) + 1
        if mask is not None:
            code[mask] = 0
        size = int(code.max()) + 1
        if span * size < _FOLD_LIMIT:
            codes, span = codes * size + code, span * size
        else:
            wide.append(code)
    keys = np.column_stack([codes, *wide]) if wide else codes
    first = np.unique(keys, axis=0 if wide else None, return_index=True)[1]
    return None if len(first) == n else np.sort(first)


def _mask_of(column) -> np.ndarray | None:
    mask = getattr(column, "mask", None)
    if mask is None or mask is np.ma.nomask or not np.any(mask):
        return None
    return np.asarray(mask, bool)


def _joined(parts: list, lengths: list[int]) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """One column's parts (None where a table lacks the column) as one array, its mask (None
    when nothing is missing) and its attributes (unit, description, format, meta).

    A part with no value (all masked: JSON carries no type for nulls), or no part at all,
    takes the type the others give the column; otherwise the widest kind wins (bool < int <
    float < text), and stamps of different shapes are padded with masked NaN.
    """
    info: dict = {"meta": {}}
    datas, masks, empty = [], [], []
    for part in parts:
        if part is None:
            datas.append(None)
            masks.append(None)
            empty.append(True)
            continue
        # the last value wins, as in astropy's vstack (Column attributes, not .info: faster)
        for attr in ("unit", "description", "format"):
            value = getattr(part, attr)
            if value is not None:
                info[attr] = value
        if part.meta:
            info["meta"].update(part.meta)
        mask = _mask_of(part)
        datas.append(np.asarray(part))
        masks.append(mask)
        empty.append(mask is not None and len(part) > 0 and bool(mask.all()))
    if all(empty):  # no value anywhere: the parts are joined as they are
        empty = [d is None for d in datas]
    typed = [d for d, e in zip(datas, empty, strict=True) if not e]
    shapes = {t.shape[1:] for t in typed}
    if len(shapes) > 1:
        shape = tuple(np.max(list(shapes), axis=0))
        target = np.result_type(np.float32, *(t.dtype for t in typed))
    else:
        shape = typed[0].shape[1:]
        target = _common_dtype([t.dtype for t in typed])
    values, masked_at = [], []  # masked_at: (first row, mask) of the parts with a mask
    start = 0
    for data, mask, nothing, n in zip(datas, masks, empty, lengths, strict=True):
        if nothing:
            data, mask = np.zeros((n,) + shape, target), np.ones((n,) + shape, bool)
        elif data.shape[1:] != shape:
            data, mask = _padded(data, mask, shape, target)
        elif data.dtype != target:
            if target.kind == "u" and data.dtype.kind == "i" and bool(
                    (data[~mask] if mask is not None else data).min(initial=0) < 0):
                name = next(p.name for p in parts if p is not None)
                raise TableParseError(
                    f"Column {name}: negative integers and integers beyond "
                    "int64 in one column, which no 64-bit integer type holds")
            data = _cast(data, target)
        values.append(data)
        if mask is not None:
            masked_at.append((start, mask))
        start += n
    out = np.concatenate(values) if len(values) > 1 else values[0]
    if not masked_at:
        return out, None, info
    mask = np.zeros(out.shape, bool)
    for first, part_mask in masked_at:
        mask[first:first + len(part_mask)] = part_mask
    return out, mask, info


def _common_dtype(dtypes: list[np.dtype]) -> np.dtype:
    """The widest kind of ``dtypes``; among dtypes of that kind, numpy's common type."""
    width = max(_WIDTH.get(d.kind, 3) for d in dtypes)
    if width == 3:
        return np.dtype(object) if any(d.kind == "O" for d in dtypes) else np.dtype(str)
    same = [d for d in dtypes if _WIDTH.get(d.kind, 3) == width]
    if width == 1 and {d.kind for d in same} == {"i", "u"}:
        # numpy would make int64 with uint64 a float; the typing gives uint64 only to
        # integers beyond int64 (a column the schema does not know): uint64 holds both, if
        # no integer is negative (refused where the parts are joined, `_joined`)
        return np.dtype(np.uint64)
    return np.result_type(*same)


def _cast(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "U":
        if data.dtype.kind == "U":
            return data  # the concatenation takes the widest
        if data.dtype.kind != "S":
            # str() of each Python value (numpy's astype would print floats differently)
            return np.array([str(v) for v in data.tolist()], dtype=str) if len(data) \
                else data.astype(str)
    return data.astype(dtype)


def _padded(data: np.ndarray, mask: np.ndarray | None, shape: tuple, dtype: np.dtype):
    n = len(data)
    out = np.full((n,) + shape, np.nan, dtype=dtype)
    out_mask = np.ones(out.shape, bool)
    region = (slice(None),) + tuple(slice(0, k) for k in data.shape[1:])
    out[region] = data
    out_mask[region] = False if mask is None else mask
    return out, out_mask
