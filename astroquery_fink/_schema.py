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


#: The fields of Fink's TNS resolver tables (``ztf.tns_resolver`` with the ``d:`` family,
#: ``rubin.tns_resolver`` with ``f:``; fink-broker fink_broker/common/hbase_utils.py,
#: format_tns_for_hbase), stored and sent as text.
TNS_FIELDS = {
    "fullname": "TNS name (e.g. AT 2020mot)",
    "internalname": "A name the object was reported to TNS with (e.g. a survey's ID)",
    "type": "TNS classification ('nan' if none)",
    "redshift": "TNS redshift, as text ('nan' if none)",
    "ra": "TNS right ascension (J2000), in degrees, as text",
    "declination": "TNS declination (J2000), in degrees, as text",
    "discoverydate": "TNS discovery date (UTC, 'YYYY-MM-DD hh:mm:ss.sss'), as text",
}
