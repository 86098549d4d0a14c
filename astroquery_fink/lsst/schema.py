# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Column types, units and descriptions of the Fink Rubin/LSST tables, and what the client
does to an LSST answer after parsing (missing text, booleans, "no ID" zeros).

Built from ``data/lsst_schema.json``: names, Avro types and docs of the Rubin alert records
(lsst/alert_packet schemas 9.0, 10.0, 11.0: diaSource, diaObject, diaForcedSource, ssSource,
mpc_orbits) and of the Fink fields (fink-object-api apps/routes/v1/lsst/schema/utils.py),
derived by ``tests/data/lsst/derive_lsst_schema.py``. Columns are named as the server names
them: ``r:`` Rubin fields (section names dropped: ``diaSource.psfFlux`` -> ``r:psfFlux``),
``f:`` Fink fields, ``v:`` values computed at query time, ``b:`` cutouts.

Units come from the bracketed unit of each Rubin doc (``[nJy]``, ``[deg]``); an uncertainty
(``xErr``, "Uncertainty of x") takes the unit of its value (some docs give another one), and
times (``*MjdTai``) are days, MJD in the TAI scale.
"""
import json
from functools import cache
from importlib import resources

import astropy.units as u
import numpy as np
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError

from .._errors import refusing_bad_arguments, shown
from .._schema import SCHEMAS, TNS_FIELDS, ColumnInfo, with_text_columns

__all__ = ["columns", "statistics_columns", "to_time", "flux_to_mag", "BANDS"]

#: Rubin bands, bluest first.
BANDS = ("u", "g", "r", "i", "z", "y")

_KINDS = {"double": "float", "float": "float", "int": "int", "long": "int",
          "string": "str", "str": "str", "boolean": "bool", "bytes": "array"}

# Bracketed units of the Rubin docs -> astropy (tokens astropy cannot read as they are).
_UNITS = {
    "nJy": u.nJy, "deg": u.deg, "degrees": u.deg, "nJy/d": u.nJy / u.day,
    "nJy.arcsec**2": u.nJy * u.arcsec**2, "pixel": u.pix, "days": u.day, "d": u.day,
    "AU": u.AU, "au": u.AU, "AU/d": u.AU / u.day, "arcsec": u.arcsec, "deg**2": u.deg**2,
    "degrees per day": u.deg / u.day, "mag": u.mag, "m^2/ton": u.m**2 / u.tonne,
}

# Units the docs give in words, and the columns Fink adds.
_NAMED_UNITS = {
    "f:xm_gaiadr3_Plx": u.mas, "f:xm_gaiadr3_e_Plx": u.mas,
    "f:firstDiaSourceMjdTaiFink": u.day,
    "v:separation_degree": u.deg, "v:startgwMjdTai": u.day,
}

# Where the server stores another type than its /schema says (the Fink data files hold a
# double for this one; fink-broker fink_broker/rubin/hbase_utils.py load_fink_cols).
_STORED_KIND = {"f:firstDiaSourceMjdTaiFink": "float"}

# Columns the server computes at query time (fink-object-api apps/routes/v1/lsst/conesearch
# and skymap utils.py), and the salt of the row keys (apps/utils/decoding.py keeps it).
_EXTRA = {
    "v:separation_degree": ("double", "Angular distance between the cone centre and the "
                            "diaSource position [deg]."),
    "v:startgwMjdTai": ("double", "Start of the gravitational-wave event (DATE-OBS of the "
                        "sky map), as MJD (TAI)."),
    "r:salt": ("string", "Salt of the HBase row key (last 3 digits of the ID)."),
    "f:pixel1024": ("long", "HEALPix index (nside 1024, RING) of the diaSource position."),
    "f:sso_name": ("string", "Name of the Solar System object, as resolved by the server."),
}

#: 64-bit Rubin IDs where 0 stands for "no ID" (an SSO alert has diaObjectId 0, a source
#: not associated with an SSO ssObjectId 0): masked in the client's Tables.
ID_COLUMNS = ("r:diaObjectId", "r:diaSourceId", "r:ssObjectId", "r:parentDiaSourceId",
              "r:diaForcedSourceId")



@cache
def raw() -> dict:
    """The bundled derived schema (``data/lsst_schema.json``)."""
    text = resources.files("astroquery_fink").joinpath("data/lsst_schema.json").read_text()
    return json.loads(text)


def _server_type(avro_type) -> str:
    if isinstance(avro_type, list):
        return _server_type(next((t for t in avro_type if t != "null"), "null"))
    if isinstance(avro_type, dict):
        return str(avro_type.get("type"))
    return str(avro_type)


def _unit(name: str, doc: str, known: dict):
    if name in _NAMED_UNITS:
        return _NAMED_UNITS[name]
    if name.endswith("MjdTai") or "MjdTai" in name.split(":")[-1]:
        return u.day
    base = name[:-3]
    if name.endswith("Err") and doc.startswith("Uncertainty of") and base in known:
        return known[base]
    tokens = [t for t in _bracketed(doc) if t in _UNITS]
    return _UNITS[tokens[-1]] if tokens else None


def _bracketed(doc: str) -> list[str]:
    out, depth, start = [], 0, 0
    for k, ch in enumerate(doc):
        if ch == "[":
            depth, start = depth + 1, k + 1
        elif ch == "]" and depth:
            depth -= 1
            out.append(doc[start:k].strip())
    return out


@cache
def columns() -> dict[str, ColumnInfo]:
    """Every known LSST column by its prefixed name (``r:psfFlux``), with its type as the
    Rubin schema gives it (``kind`` ``bool`` for flags), unit and description."""
    entries = dict(raw()["columns"])
    for name, (stype, doc) in _EXTRA.items():
        entries.setdefault(name, {"type": stype, "doc": doc})
    units: dict = {}
    out = {}
    for name, entry in entries.items():
        family = name.split(":", 1)[0]
        stype = _server_type(entry["type"])
        kind = _STORED_KIND.get(name, _KINDS.get(stype, "str"))
        doc = entry.get("doc") or ""
        unit = _unit(name, doc, units)
        units[name] = unit
        out[name] = ColumnInfo(name, family, kind, stype, unit, doc,
                               null=0 if name in ID_COLUMNS else None)
    return out


#: Fields of /statistics that are not counters.
_STATISTICS_TEXT = ("f:fink_broker_version", "f:fink_science_version",
                    "f:lsst_schema_version")


@cache
def statistics_columns() -> dict[str, ColumnInfo]:
    """The columns of ``/api/v1/statistics``: the same names as elsewhere, but counters
    (``f:is_sso`` is a flag in ``/objects``, a count here), sent as text by the server
    (fink-object-api apps/routes/v1/lsst/statistics/utils.py casts nothing)."""
    out = dict(columns())
    for name, entry in raw()["columns"].items():
        if "fink_statistics" in entry.get("sections", ()) and name not in _STATISTICS_TEXT:
            info = out[name]
            out[name] = ColumnInfo(name, info.family, "int", info.server_type, None,
                                   info.description)
    return out


@cache
def resolver_columns() -> dict[str, ColumnInfo]:
    """The columns of ``/api/v1/resolver`` answers: the Rubin columns (SIMBAD and SsODNet
    reverse) and the TNS table's own. That table's cells are sent as stored, as text
    (fink-object-api apps/routes/v1/lsst/resolver/utils.py: ``hbase_to_dict``, no cast), so
    its numbers are text in every wire format, as JSON sends them."""
    return with_text_columns(columns(), _TNS_TEXT)


# The columns of rubin.tns_resolver (fink-object-api apps/routes/v1/lsst/resolver/utils.py).
_TNS_TEXT = {**{f"f:{field}": doc for field, doc in TNS_FIELDS.items()},
             "f:salt": "Row-key salt: the last letter of the name, lower case"}


# ----------------------------------------------------------------------------- helpers

@refusing_bad_arguments
def to_time(table_or_values, column: str = "r:midpointMjdTai") -> Time:
    """Rubin times (MJD in the TAI scale) as an `~astropy.time.Time`.

    Parameters
    ----------
    table_or_values : `~astropy.table.Table`, column or array-like
        A Table from `~astroquery_fink.FinkLSSTClass` (its ``column`` is used), or MJD values.
    column : str, optional
        The time column of a Table: ``r:midpointMjdTai`` (default), ``r:timeProcessedMjdTai``,
        ``f:firstDiaSourceMjdTaiFink``, ...

    Returns
    -------
    time : `~astropy.time.Time`
        ``format="mjd"``, ``scale="tai"``; masked where the value is missing. Use
        ``time.utc.iso`` for calendar dates in UTC.

    Examples
    --------
    >>> from astroquery_fink.lsst import to_time
    >>> to_time(61105.093643486834).utc.iso
    '2026-03-06 02:14:13.797'
    """
    values = table_or_values[column] if isinstance(table_or_values, Table) else table_or_values
    if isinstance(values, Time):
        return Time(values.tai, format="mjd")
    if values is None or isinstance(values, str | bytes):
        raise InvalidQueryError(f"to_time needs MJD (TAI) values or a Table, not {shown(values)}")
    if hasattr(values, "unit") and values.unit is not None:
        values = u.Quantity(values).to_value(u.day)
    data = np.ma.masked_invalid(np.ma.asarray(values, dtype=float))
    return Time(data, format="mjd", scale="tai")


@refusing_bad_arguments
def flux_to_mag(table_or_flux, flux_err=None, *, flux_column: str = "r:psfFlux",
                err_column: str | None = None):
    """Rubin fluxes (nJy) -> AB magnitudes, and their errors.

    Parameters
    ----------
    table_or_flux : `~astropy.table.Table`, `~astropy.units.Quantity` or array-like
        A Table from `~astroquery_fink.FinkLSSTClass` (its ``flux_column`` is used), or
        fluxes: a Quantity in any spectral flux density unit, or numbers in nJy.
    flux_err : `~astropy.units.Quantity` or array-like, optional
        The flux uncertainties (same convention); with a Table, its ``err_column``
        (default ``flux_column + "Err"``) is used unless this is given.
    flux_column : str, optional
        Flux column of a Table: ``r:psfFlux`` (difference image, default),
        ``r:scienceFlux`` (science image), ``r:apFlux``, ...
    err_column : str, optional
        Its uncertainty column; default ``flux_column + "Err"``.

    Returns
    -------
    mag : `~astropy.units.Quantity`
        In ``u.ABmag``; NaN where the flux is not positive (a difference flux can be
        negative) or missing.
    mag_err : `~astropy.units.Quantity`
        In ``u.mag``: ``2.5 / ln(10) * flux_err / flux`` (first-order); returned only when
        there are uncertainties (always with a Table).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astroquery_fink.lsst import flux_to_mag
    >>> mag, err = flux_to_mag([1000.0, 10000.0], [10.0, 100.0])
    >>> mag.round(3), err.round(4)
    (<Magnitude [23.9, 21.4] mag(AB)>, <Quantity [0.0109, 0.0109] mag>)
    """
    if table_or_flux is None or isinstance(table_or_flux, str | bytes):
        raise InvalidQueryError(
            f"flux_to_mag needs fluxes (nJy) or a Table, not {shown(table_or_flux)}")
    if isinstance(table_or_flux, Table):
        err_column = err_column or flux_column + "Err"
        flux = table_or_flux[flux_column]
        if flux_err is None and err_column in table_or_flux.colnames:
            flux_err = table_or_flux[err_column]
        flux = njy(flux)
        flux_err = None if flux_err is None else njy(flux_err)
        with_err = True
    else:
        flux = njy(table_or_flux)
        flux_err = None if flux_err is None else njy(flux_err)
        with_err = flux_err is not None
    good = np.isfinite(flux) & (flux > 0)
    safe = np.where(good, flux, 1.0)
    mag = (safe * u.nJy).to(u.ABmag)
    mag = np.where(good, mag.value, np.nan) * u.ABmag
    if not with_err:
        return mag
    if flux_err is None:
        return mag, np.full(np.shape(flux), np.nan) * u.mag
    err = 2.5 / np.log(10) * np.abs(flux_err) / safe
    return mag, np.where(good, err, np.nan) * u.mag


def njy(values) -> np.ndarray:
    """Fluxes as float nJy, NaN where missing."""
    if isinstance(values, u.Quantity) or getattr(values, "unit", None) is not None:
        q = u.Quantity(np.ma.filled(np.ma.asarray(values, dtype=float), np.nan),
                       getattr(values, "unit", None) or u.nJy)
        return q.to_value(u.nJy)
    return np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)


# The parser types Rubin answers with these (Endpoint.schema); registered here, where the
# Rubin schema lives (this module is imported with the package).
SCHEMAS.setdefault("lsst", columns)
SCHEMAS.setdefault("lsst_statistics", statistics_columns)
SCHEMAS.setdefault("lsst_resolver", resolver_columns)
