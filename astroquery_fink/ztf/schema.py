# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Column types, units and descriptions of Fink ZTF tables.

Built from the bundled copy of ``/api/v1/schema`` (``data/api_v1_schema.json``): the ``i:``
types are ZTF Avro types, the others the server's own type names. A few entries are corrected
to the type the server actually *stores and sends* (the stored types of fink-broker's HBase
tables, as fink-object-api reads them).
"""
import json
import re
from functools import cache
from importlib import resources

import astropy.units as u

from .._schema import SCHEMAS, ColumnInfo

__all__: list[str] = []

CATEGORY_FAMILY = {
    "ZTF original fields (i:)": "i",
    "Fink science module outputs (d:)": "d",
    "Fink on-the-fly added values (v:)": "v",
    "ZTF original cutouts (b:)": "b",
}

# Server type name -> kind used by the parser.
_KINDS = {
    "double": "float", "float": "float",
    "int": "int", "long": "int",
    "string": "str", "str": "str",
    "boolean": "bool",
    "array": "array",
}

# Where the stored type differs from the documented one (fink-object-api apps/routes/v1/ztf/schema).
_STORED_KIND = {"d:spicy_id": "int"}

# Units the docs state in words rather than in brackets.
_EXTRA_UNITS = {
    "i:ra": u.deg, "i:dec": u.deg, "i:ranr": u.deg, "i:decnr": u.deg,
    "i:jd": u.day, "i:jdstarthist": u.day, "i:jdendhist": u.day,
    "i:jdstartref": u.day, "i:jdendref": u.day,
    "i:magpsf": u.mag, "i:sigmapsf": u.mag, "i:diffmaglim": u.mag,
    "d:Plx": u.mas, "d:e_Plx": u.mas,
    "d:mag_rate": u.mag / u.day, "d:sigma_rate": u.mag / u.day,
    "d:lower_rate": u.mag / u.day, "d:upper_rate": u.mag / u.day,
    "d:delta_time": u.day, "d:jd_first_real_det": u.day, "d:jdstarthist_dt": u.day,
    "v:rate": u.mag / u.day, "v:sigma(rate)": u.mag / u.day,
    "v:g-r": u.mag, "v:sigma(g-r)": u.mag,
    "v:rate(g-r)": u.mag / u.day, "v:sigma(rate(g-r))": u.mag / u.day,
    "v:lapse": u.day,
}

_BRACKET_UNITS = {
    "mag": u.mag, "deg": u.deg, "pixels": u.pix, "pixel": u.pix, "arcsec": u.arcsec,
    "days": u.day, "day": u.day, "sec": u.s, "mag^2": u.mag**2, "DN": u.adu,
}


def _server_type(avro_type) -> str:
    if isinstance(avro_type, list):  # Avro union such as ["null", "float"]
        return next(t for t in avro_type if t != "null")
    return avro_type


def _unit_from_doc(doc: str):
    for token in re.findall(r"\[([^\]]+)\]", doc):
        if token.strip() in _BRACKET_UNITS:
            return _BRACKET_UNITS[token.strip()]
    return None


@cache
def raw_schema() -> dict:
    """The bundled ``/api/v1/schema`` answer, as the server sends it."""
    text = resources.files("astroquery_fink").joinpath("data/api_v1_schema.json").read_text()
    return json.loads(text)


@cache
def columns() -> dict[str, ColumnInfo]:
    """All known columns keyed by their prefixed name (``i:magpsf``)."""
    out = {}
    for category, fields in raw_schema().items():
        family = CATEGORY_FAMILY[category]
        for field, entry in fields.items():
            name = f"{family}:{field}"
            stype = _server_type(entry["type"])
            kind = _STORED_KIND.get(name, _KINDS.get(stype, "str"))
            unit = _EXTRA_UNITS.get(name) or _unit_from_doc(entry["doc"])
            doc, null = entry["doc"], None
            if name.startswith("d:blazar_stats_"):
                doc, null = doc + _BLAZAR_NONE, -1.0
            out[name] = ColumnInfo(name, family, kind, stype, unit, doc, null)
    return out


# fink-science writes -1 for the blazar features of an object that is not a monitored CTAO
# blazar, and the API fills -1.0 where a whole answer lacks the column (fink-object-api
# apps/utils/decoding.py, format_hbase_output): masked, so that an answer does not depend on
# how IDs were batched.
_BLAZAR_NONE = " (-1, 'not computed', is masked.)"


# The parser types ZTF answers with these (Endpoint.schema = "ztf").
SCHEMAS.setdefault("ztf", columns)
