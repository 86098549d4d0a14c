# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`ColumnInfo`, what the client knows of one server column, and the registry of column
schemas (`SCHEMAS`) that `Endpoint.schema` names; each survey registers its own
(``ztf/schema.py``, ``lsst/schema.py``)."""
from collections.abc import Callable
from dataclasses import dataclass

import astropy.units as u

__all__: list[str] = []


@dataclass(frozen=True)
class ColumnInfo:
    """What the client knows about one server column."""

    name: str
    family: str
    kind: str  # 'float', 'int', 'str', 'bool' or 'array'
    server_type: str
    unit: u.UnitBase | None
    description: str
    #: A value the server writes for "none" (e.g. 0 for a Rubin ID): masked like a null.
    null: object = None


#: Schema name -> function returning its columns (name -> `ColumnInfo`).
SCHEMAS: dict[str, Callable[[], dict[str, ColumnInfo]]] = {}


def with_text_columns(columns: dict[str, ColumnInfo], docs: dict[str, str]
                      ) -> dict[str, ColumnInfo]:
    """``columns`` and the columns of ``docs`` (name -> description) typed as text: a table
    whose HBase cells the server sends as stored (a resolver's), so that its numbers are
    text in every wire format, as JSON sends them."""
    out = dict(columns)
    for name, doc in docs.items():
        out[name] = ColumnInfo(name, name.split(":")[0], "str", "string", None, doc)
    return out
