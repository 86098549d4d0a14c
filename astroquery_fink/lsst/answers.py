# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Rubin answers that need more than the shared parsing: the tag list and the blocks
(``GET /api/v1/tags``, ``GET /api/v1/blocks``), checked and made Tables, and the statistics'
nights as times."""
import numpy as np
from astropy.table import Table
from astroquery.exceptions import RemoteServiceError

from .._tables import json_object, night_times

__all__: list[str] = []


def tag_list(content: bytes) -> Table:
    """``{tag: {"description": text, "API support": bool}}`` (fink-object-api
    apps/routes/v1/lsst/tags/api.py) -> a Table sorted by tag, else an error naming the
    entries that are not so."""
    data = json_object(content, "tags")
    wrong = [k for k, v in data.items() if not (
        isinstance(v, dict) and isinstance(v.get("description"), str)
        and isinstance(v.get("API support"), bool))]
    if wrong:
        raise RemoteServiceError(
            "Fink's tag list is not {tag: {description, API support}} for "
            f"{', '.join(map(repr, wrong[:5]))}: {content[:200]!r}")
    rows = [(str(k), v["description"], v["API support"]) for k, v in sorted(data.items())]
    return Table(rows=rows, names=("tag", "description", "api_support"),
                 dtype=(str, str, bool))


def block_list(content: bytes) -> Table:
    """``{block: description}`` -> a Table sorted by block, else an error."""
    data = json_object(content, "blocks")
    wrong = [k for k, v in data.items() if not isinstance(v, str)]
    if wrong:
        raise RemoteServiceError(f"Fink's block list is not {{block: description}} for "
                                 f"{', '.join(map(repr, wrong[:5]))}: {content[:200]!r}")
    return Table(rows=sorted(data.items()), names=("block", "description"), dtype=(str, str))


def with_night_time(table: Table) -> Table:
    """Add ``time`` (the night's UTC date, as ZTF's statistics have) from ``f:night``
    (YYYYMMDD); a missing night is a missing time."""
    if "f:night" not in table.colnames:
        return table
    missing = np.ma.getmaskarray(table["f:night"])
    time = night_times([None if m else str(v) for v, m in zip(
        np.ma.getdata(table["f:night"]), missing, strict=True)])
    table.add_column(time, name="time", index=0)
    return table
