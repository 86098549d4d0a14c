# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""ZTF answers that need more than the shared parsing: the schema and class lists, empty
answers given their columns, and the statistics counters and nights."""
import re

import numpy as np
from astropy.table import MaskedColumn, Table
from astroquery.exceptions import RemoteServiceError

from .._tables import json_object, night_times, typed_column
from .schema import columns as known_columns

__all__: list[str] = []

def all_columns() -> list[str]:
    """The columns of an answer with every column (for empty answers): ``i:``, ``d:``, ``v:``."""
    return [n for n, c in known_columns().items() if c.family in ("i", "d", "v")
            and n != "d:tag"]


def or_empty_columns(table: Table, names: list[str] | None) -> Table:
    """An empty answer gets the columns a full one would have (typed from the schema)."""
    if len(table) or table.colnames or not names:
        return table
    schema = known_columns()
    empty = Table([typed_column(n, [], schema=schema) for n in dict.fromkeys(names)],
                  masked=True)
    empty.meta.update(table.meta)
    return empty


def counters(table: Table) -> Table:
    """Counters sent as text (HBase cells: apps/routes/v1/ztf/statistics/utils.py does not
    type them) -> integers, or floats; the row key, the date and columns of families other
    than the counters' (``basic:``, ``class:``) keep the type their wire format gives."""
    for name in table.colnames:
        column = table[name]
        if name in ("key:key", "basic:date") or not name.startswith(("basic:", "class:")) \
                or column.dtype.kind not in "US":
            continue
        mask = np.ma.getmaskarray(column)
        texts = [str(v) for v in np.asarray(column)[~mask]]
        for kind in (int, float):
            data = np.zeros(len(column), dtype=np.int64 if kind is int else float)
            try:
                data[~mask] = [kind(t) for t in texts]
            except (ValueError, OverflowError):  # not numbers, or beyond 64 bits
                continue
            table[name] = MaskedColumn(data, mask=mask, name=name,
                                       description=column.description)
            break
    return table


def counter_names(table: Table) -> list[str]:
    """``schema=True`` of ``/api/v1/statistics``: the ``schema`` column's names (none for an
    empty answer), else `~astroquery.exceptions.RemoteServiceError`."""
    if not len(table):
        return []
    names = table["schema"] if "schema" in table.colnames else None
    if names is None or getattr(names, "mask", np.False_).any() or names.dtype.kind != "U":
        raise RemoteServiceError("Fink's statistics schema answer is not a 'schema' column of "
                                 f"names: columns {table.colnames[:5]}")
    return [str(v) for v in names]


def with_night_time(table: Table) -> Table:
    """Add ``time`` (the night's UTC date) from the row key ``ztf_YYYYMMDD``."""
    if not len(table) or "key:key" not in table.colnames:
        return table
    nights = [str(v).rsplit("_", 1)[-1] for v in table["key:key"]]
    if not all(re.fullmatch(r"[0-9]{8}", d) for d in nights):
        return table  # rows of months or years: no night to date them
    table.add_column(night_times(nights, labels=list(table["key:key"])), name="time", index=0)
    table["time"].info.description = "UTC date of the night (from the row key)"
    return table


def classes_answer(content: bytes) -> dict:
    """``/api/v1/classes``: {origin: [class names]}, else an error."""
    classes = json_object(content, "/classes")
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
               for v in classes.values()):
        raise RemoteServiceError(f"Unexpected /classes answer: {content[:200]!r}")
    return classes
