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

from .._schema import SCHEMAS, TNS_FIELDS, ColumnInfo, with_text_columns

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
    # /api/v1/sso adds the name and number each alert's object resolved to, as in the SSOFT
    # (fink-object-api apps/routes/v1/ztf/sso/utils.py)
    out.update({name: ssoft_columns()[name] for name in ("sso_name", "sso_number")})
    # the cone search's table (ztf.pixel128) stores the alert's classification as d:
    # (fink-broker load_ztf_crossmatch_cols; apps/routes/v1/ztf/conesearch/utils.py)
    # (family "": not a column of the alert table, whose empty answers list the i:/d:/v: ones)
    out.setdefault("d:classification", ColumnInfo(
        "d:classification", "", "str", "string", None,
        "Fink's classification of the alert, as stored with the cone search's index"))
    return out


@cache
def ssoft_columns() -> dict[str, ColumnInfo]:
    """The SSOFT's columns, those of every flavour (fink-utils fink_utils/sso/ssoft.py,
    ``COLUMNS*``; bundled as ``data/ztf_ssoft_schema.json``): units from their descriptions."""
    text = resources.files("astroquery_fink").joinpath("data/ztf_ssoft_schema.json").read_text()
    groups = json.loads(text)
    stored = groups.get("STORED_TYPES", {})  # where the files differ from COLUMNS*
    out = {}
    for group, fields in groups.items():
        if not group.startswith("COLUMNS"):
            continue
        for name, entry in fields.items():
            doc, stype = entry["description"], stored.get(name, entry["type"])
            unit = next((unit for words, unit in _SSOFT_UNITS if words in doc.lower()), None)
            out[name] = ColumnInfo(name, "", _KINDS.get(stype, "str"), stype, unit, doc, None)
    return out


# Units of the SSOFT columns, said in words in their descriptions.
_SSOFT_UNITS = (
    ("in degree", u.deg), ("in radian", u.rad), ("in arcsecond", u.arcsec),
    ("in magnitude", u.mag), ("absolute magnitude", u.mag), ("in hour", u.h),
    ("julian date", u.day), ("number of days", u.day),
)


@cache
def resolver_columns() -> dict[str, ColumnInfo]:
    """The columns of ``/api/v1/resolver`` answers: the ZTF columns (SIMBAD reverse) and the
    TNS and SsODNet tables' own. Those tables hold text (HBase cells, sent as they are stored:
    fink-object-api apps/routes/v1/ztf/resolver/utils.py), so their numbers are text in every
    wire format, as JSON sends them (csv would otherwise be read as numbers)."""
    return with_text_columns(columns(), _RESOLVER_TEXT)


# The TNS table's columns and the SsODNet resolver table's.
_RESOLVER_TEXT = {
    **{f"d:{field}": doc for field, doc in TNS_FIELDS.items()},
    "i:name": "Name of the Solar System object (SsODNet)",
    "i:number": "IAU number of the Solar System object, as text (SsODNet)",
}


# fink-science writes -1 for the blazar features of an object that is not a monitored CTAO
# blazar, and the API fills -1.0 where a whole answer lacks the column (fink-object-api
# apps/utils/decoding.py, format_hbase_output): masked, so that an answer does not depend on
# how IDs were batched.
_BLAZAR_NONE = " (-1, 'not computed', is masked.)"


# The parser types ZTF answers with these (Endpoint.schema = "ztf").
SCHEMAS.setdefault("ztf", columns)
SCHEMAS.setdefault("ztf_ssoft", ssoft_columns)
SCHEMAS.setdefault("ztf_resolver", resolver_columns)
