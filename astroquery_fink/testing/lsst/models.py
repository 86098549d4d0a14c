"""Query semantics of the Fink/LSST API: one function per endpoint, no HTTP.

Each function reads the request arguments (a mapping of what the client sent: strings for a
query string, JSON values for a body) as fink-object-api ``apps/routes/v1/lsst/<endpoint>/
utils.py`` does, scans the tables of `LsstStore` with the server's row-key prefixes and decodes
the rows as ``apps/utils/decoding.py::format_lsst_hbase_output``. The server's own error answers
are raised as `ApiError`, its 500s as `..wire.ServerFailure`; any other exception is an
emulator bug.
"""
from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from .._hbase import raw_frame, set_limit
from ..wire import ServerFailure, isoify_time, number, parse_time, server_fails, sky_coord, text
from .store import CUTOUT_KINDS, LsstStore, Table, healpix1024

__all__ = ["ApiError", "BLOCKS", "TAGS", "blocks", "conesearch", "cutout", "decode", "fp",
           "objects", "resolver", "schema", "skymap", "sources", "sso", "statistics",
           "tag_alerts", "tags"]

_SCHEMA_FILE = resources.files(__package__).joinpath("data/lsst_schema_fields.json")

#: Tags of fink-filters 7.35 (``fink_filters/rubin/livestream/filter_*/filter.py``):
#: tag -> (DESCRIPTION, HBASE_SUPPORT).
TAGS = {
    "extragalactic_lt20mag_candidate": (
        "Select alerts that are rising, bright (mag < 20), and extragalactic candidates", True),
    "extragalactic_new_candidate": (
        "Select LSST alerts new (< 5days first apparition), bright (mag < 24), potentially "
        "extragalactic with a fading or rising rate passing the cuts", True),
    "extragalactic_svom": (
        "Select LSST alerts new (< 5days first apparition), bright (mag < 24), potentially "
        "extragalactic", False),
    "hostless_candidate": (
        "Select LSST alerts that are hostless according to ELEPHANT. See "
        "https://arxiv.org/abs/2404.18165.", True),
    "in_tns": ("Select alerts with a known counterpart in TNS (AT or confirmed) at the time "
               "of emission by Rubin", True),
    "most_likely_sn": (
        "Selects alerts that are likely to be SN, based on SuperNNova and CATS classifiers.",
        True),
    "remove_unlikely_transients": (
        "Filters out alerts unlikely to be transients of interest to the DESC community.",
        False),
    "sn_near_galaxy_candidate": (
        "Select alerts matching in catalogs to a galaxy and properties consistent with SNe",
        True),
    "uniform_sample": ("Select 1% of all live alerts in a uniformly random way", False),
}

#: Blocks of fink-filters 7.35 (``fink_filters/rubin/blocks.py``): name -> first docstring line.
BLOCKS = {
    "b_extragalactic_loose_candidate": "Flag for alerts in Rubin that are extragalactic "
                                       "candidates",
    "b_extragalactic_near_galaxy_candidate": "Flag for alerts in Rubin that are extragalactic "
                                             "candidates near a known galaxy",
    "b_good_quality": "Select alerts with good quality for science",
    "b_is_fading": "Return alerts with fading lightcurve in one filter.",
    "b_is_new": "Return alerts for which the underlying object is seen for the first time by "
                "Rubin",
    "b_is_rising": "Return alerts with rising lightcurve in one filter.",
    "b_is_solar_system": "Return alerts that are asteroids according to Rubin",
    "b_outside_galactic_plane_20_deg": "Return alerts outside the galactic plane (+/- |20| deg)",
    "b_outside_galactic_plane_5_deg": "Return alerts outside the galactic plane (+/- |5| deg)",
    "b_xmatched_gaia_star": "Return alerts xmatched to stars with good parallax with Gaia.",
    "b_xmatched_mangrove": "Return alerts xmatched with a Mangrove galaxy.",
    "b_xmatched_simbad_galaxy": "Return alerts xmatched to a galaxy with SIMBAD.",
    "b_xmatched_simbad_unknown": "Return alerts xmatched as unknown or failed with SIMBAD.",
    "b_xmatched_vsx": "Return alerts xmatched with stellar and non-stellar sources from VSX "
                      "catalogue.",
    "b_xmatched_vsx_star": "Return alerts xmatched with stellar sources from VSX catalogue.",
}


class ApiError(Exception):
    """An error answer of the server.

    Parameters
    ----------
    text : str or Exception
        The message (an exception object is shown by its repr, as the server does).
    status : int
        HTTP status (400 unless said).
    plain : bool
        True: the body is ``text`` itself; False (default): the server's
        ``str({'status': 'error', 'text': text})``.
    """

    def __init__(self, text, status: int = 400, *, plain: bool = False):
        super().__init__(str(text))
        self.text = text
        self.status = status
        self.plain = plain


# ---------------------------------------------------------------------------------------------
# Decoding (format_lsst_hbase_output)
# ---------------------------------------------------------------------------------------------
def _column(values: list, kind: str, index) -> pd.Series:
    n_missing = sum(v is None for v in values)
    if kind == "int":
        return pd.Series(pd.array(values, dtype="Int64"), index=index)
    if kind == "float":
        return pd.Series(np.array([np.nan if v is None else v for v in values], dtype=float),
                         index=index)
    if n_missing == len(values):
        # A column with no cell at all is built with its type (str for text and booleans),
        # as the server does (decoding.py::format_lsst_hbase_output): VOTable can write it.
        return pd.Series([None] * len(values), dtype=str, index=index)
    # HBase text cast with astype(str): a missing cell becomes the text "nan"; then the
    # booleans' "true"/"false" become True/False.
    return pd.Series(["nan" if v is None else v for v in values], dtype=object, index=index)


def decode(rows: list[tuple[str, dict]], table: Table, columns: list[str] | None, *,
           group_alerts: bool = False, sort: bool = True) -> pd.DataFrame:
    """Rows of a scan -> the server's DataFrame (``format_lsst_hbase_output``).

    Parameters
    ----------
    rows : list of (str, dict)
        ``(row key, cells)`` as returned by `Table.scan`.
    table : Table
        The table scanned (its column kinds).
    columns : list of str or None
        None: all-columns mode (every column of the table, null where absent); else truncated
        mode (only the requested columns that came back in at least one row).
    group_alerts : bool
        Keep the latest alert per ``r:diaObjectId`` (conesearch).
    sort : bool
        Sort by ``r:midpointMjdTai`` descending when present.

    Returns
    -------
    pandas.DataFrame
        Indexed by row key; empty without rows.
    """
    if columns is not None:
        # a scan with columns returns only the rows holding one of their cells (Lomikel's
        # HBaseClient adds each name with Scan.addColumn; HBase skips rows without any);
        # a '*' among them asks every column
        wanted = set(table.columns) if "*" in columns else set(columns)
        rows = [(k, r) for k, r in rows if any(r.get(c) is not None for c in wanted)]
    if not rows:
        return pd.DataFrame({})
    index = pd.Index([k for k, _ in rows])
    if columns is None:
        names = list(table.columns)
    else:
        present = set().union(*(r.keys() for _, r in rows)) & wanted
        # HBase returns the cells of a row sorted by column name.
        names = sorted(c for c in present if c in table.columns)
    pdf = pd.DataFrame({c: _column([r.get(c) for _, r in rows], table.columns[c], index)
                        for c in names}, index=index)
    if group_alerts and {"r:midpointMjdTai", "r:diaObjectId"} <= set(pdf.columns):
        pdf = pdf.loc[pdf.groupby("r:diaObjectId")["r:midpointMjdTai"].idxmax()]
    if sort and "r:midpointMjdTai" in pdf.columns:
        pdf = pdf.sort_values("r:midpointMjdTai", ascending=False, kind="stable")
    return pdf


def _columns(args: Mapping) -> list[str] | None:
    """``columns`` argument: None for all (absent or ``*``), else the names without
    spaces (a ``*`` among them: every column, as Lomikel's HBaseClient fetches every column
    when its filter holds one, yet decoded as a selection: `decode`)."""
    if "columns" not in args:
        return None
    cols = text(args["columns"], "columns").replace(" ", "")
    return None if cols == "*" else cols.split(",")


def _id_prefixes(ids: str, suffix: str | None = None) -> list[str]:
    """Salted prefixes of ``diaObjectId`` (one ID or a comma list; a list is stripped)."""
    if not isinstance(ids, str):
        raise ServerFailure(f"{ids!r}: `\",\" in ids` fails on a JSON number")
    if "," in ids:
        return [f"{i[-3:]}_{i}" for i in (p.strip() for p in ids.split(","))]
    key = ids if suffix is None else f"{ids}_{suffix}"
    return [f"{ids[-3:]}_{key}"]


def _scan(table: Table, prefixes: list[str], limit: int | None) -> list[tuple[str, dict]]:
    found: dict = {}
    for prefix in prefixes:
        found.update(table.scan(prefix, limit))
    return list(found.items())


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------
def sources(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/sources``: the diaSources of one object or a comma list of objects."""
    ids = args["diaObjectId"]
    # midpointMjdTai extends the key of a single ID only; its text is used as sent.
    mjd = None if "midpointMjdTai" not in args else f"{args['midpointMjdTai']}"
    prefixes = _id_prefixes(ids, mjd if "," not in str(ids) else None)
    return decode(_scan(store.sources, prefixes, nlimit), store.sources, _columns(args))


def objects(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/objects``: the latest diaObject row of each object."""
    prefixes = _id_prefixes(args["diaObjectId"])
    return decode(_scan(store.objects, prefixes, nlimit), store.objects, _columns(args))


def fp(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/fp``: the forced photometry of one object or a comma list."""
    prefixes = _id_prefixes(args["diaObjectId"])
    return decode(_scan(store.fp, prefixes, nlimit), store.fp, _columns(args))


def _mjd(value) -> float:
    """``isoify_time`` then TAI MJD: ISO text, or a JD (> 2400000) or MJD number."""
    from astropy.time import Time

    return Time(isoify_time(value), scale="tai").mjd


def conesearch(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/conesearch``: the latest alert of each object within ``radius`` arcsec.

    The nside-1024 pixels overlapping the cone are scanned, ``n`` rows at most each, as on the
    server. Without astropy-healpix, candidates are taken by angular distance instead and
    ``n`` caps the rows in total.
    """
    from astropy.coordinates import SkyCoord

    cols: str | None = None
    if "columns" in args:
        cols = text(args["columns"], "columns").replace(" ", "")
        # Appended only when not a substring (so "r:raErr" hides "r:ra": KeyError -> 500).
        for name in ("r:ra", "r:dec", "r:midpointMjdTai"):
            if name not in cols:
                cols = f"{cols},{name}"
    n = number(args.get("n", 1000))
    radius = number(args["radius"], float)
    if radius > 18000.0:
        raise ApiError("`radius` cannot be bigger than 18,000 arcseconds (5 degrees).\n")
    coord = sky_coord(args["ra"], args["dec"])
    if ("startdate" in args or "stopdate" in args) and (
            cols is not None and "f:firstDiaSourceMjdTaiFink" not in cols):
        raise ApiError("You need to specify f:firstDiaSourceMjdTaiFink in the columns to "
                       "filter on dates.\n")
    radius_deg = radius / 3600.0
    rows = _cone_rows(store.pixel, coord, radius_deg, n)
    # The pixel scans are always decoded in truncated mode ("*" = every stored column).
    names = list(store.pixel.columns) if cols is None or "*" in cols else cols.split(",")
    pdf = decode(rows, store.pixel, names, group_alerts=True)
    if pdf.empty:
        return pdf
    # A column hidden by a substring (e.g. "r:raErr" for "r:ra") is missing: KeyError, 500.
    with server_fails(KeyError):
        if "startdate" in args:
            start = _mjd(args["startdate"])
            pdf = pdf[pdf["f:firstDiaSourceMjdTaiFink"].astype(float) >= start]
            if "window" in args:
                pdf = pdf[pdf["r:midpointMjdTai"] <= start + number(args["window"], float)]
        if "stopdate" in args:
            pdf = pdf[pdf["r:midpointMjdTai"] <= _mjd(args["stopdate"])]
        if len(pdf) > 0:
            ra, dec = pdf["r:ra"], pdf["r:dec"]
    if len(pdf) > 0:
        sep = coord.separation(SkyCoord(ra, dec, unit="deg")).deg
        pdf = pdf.assign(**{"v:separation_degree": sep})
        pdf = pdf.sort_values("v:separation_degree", kind="stable")
        pdf = pdf[~(pdf["v:separation_degree"] > radius_deg)]
    return pdf


def _cone_rows(table: Table, coord, radius_deg: float, n: int) -> list[tuple[str, dict]]:
    """Rows of the pixels overlapping the cone (``query_disc(inclusive=True)``)."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    grid = healpix1024()
    if grid is not None:
        pixels = grid.cone_search_lonlat(coord.ra, coord.dec, radius_deg * u.deg)
        return _scan(table, [f"{p}_" for p in sorted(pixels)], n)
    keys, ra, dec = table.positions()
    if not keys:
        return []
    # Everything a pixel (3.4 arcmin) away from the cone may be scanned: a margin of 0.06 deg.
    sep = coord.separation(SkyCoord(ra, dec, unit="deg")).deg
    return [(keys[i], table.rows[keys[i]]) for i in np.flatnonzero(sep <= radius_deg + 0.06)][:n]


def cutout(store: LsstStore, sid: str) -> dict | None:
    """The stamps of diaSourceId ``sid`` (``{kind: FITS bytes}``), None if unknown."""
    if not isinstance(sid, str):
        raise ServerFailure(f"diaSourceId {sid!r}: the salt sid[-3:] needs text")
    rows = store.cutouts.scan(f"{sid[-3:]}_{sid}", 1)
    return rows[0][1]["stamps"] if rows else None


def cutout_fits(stamp: bytes) -> bytes:
    """The stamp's HDUList re-written by astropy (PRIMARY, UNCERT, PSFIMAGE)."""
    from astropy.io import fits

    with fits.open(io.BytesIO(stamp)) as hdul:
        buf = io.BytesIO()
        hdul.writeto(buf)
    return buf.getvalue()


def cutout_array(stamp: bytes) -> list:
    """The PRIMARY image of a stamp as nested lists (row 0 first)."""
    from astropy.io import fits

    with fits.open(io.BytesIO(stamp)) as hdul:
        return np.asarray(hdul[0].data, dtype=float).tolist()


@cache
def _schema_data() -> dict:
    with _SCHEMA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def _fields(entries: list, fink: bool = False) -> dict:
    out = {}
    for e in entries:  # a later duplicate name wins, as in the server's dict comprehension
        out[e["name"]] = {"type": e["type"], "doc": e.get("doc", "TBD")}
        if fink:
            out[e["name"]].update(fink_broker_version=e.get("fink_broker_version", "4.0"),
                                  fink_science_version=e.get("fink_science_version", "8.26.0"))
    return {k: out[k] for k in sorted(out)}


def schema(args: Mapping) -> dict:
    """``/api/v1/schema``: the categories of fields of one endpoint, for one schema version.

    The answer is built from a derived copy of the Rubin and Fink field lists (version
    ``latest`` fixed to the one recorded). An unknown version is a 500, as when the server
    cannot download its schema files; an unknown endpoint is a 404.
    """
    data = _schema_data()
    if "major_version" not in args or "minor_version" not in args:
        version = data["latest"]
    else:
        version = f"{args['major_version']}.{args['minor_version']}"
    if version not in data["versions"]:
        raise ServerFailure(f"no alert_packet schema {version}")
    v = data["versions"][version]
    root, src, obj = v["alert_root"], data["fink_source"], data["fink_object"]
    r_name, f_name = "LSST original fields (r:)", "Fink science module outputs (f:)"
    sso_f = [{"name": "sso_name", "type": "str", "doc": "Resolved name from quaero"}]
    endpoint = text(args["endpoint"], "endpoint")  # a dict key: a list fails
    table = {
        "/api/v1/sources": {r_name: v["diaSource"] + root, f_name: src},
        "/api/v1/tags": {r_name: v["diaSource"] + root, f_name: src},
        "/api/v1/fp": {r_name: v["diaForcedSource"]},
        "/api/v1/objects": {r_name: v["diaObject"] + root, f_name: obj},
        "/api/v1/conesearch": {r_name: v["diaSource"] + v["diaObject"] + root,
                               f_name: src + obj},
        "/api/v1/cutouts": {"LSST original cutouts (b:)": v["cutouts"]},
        "/api/v1/sso": {r_name: v["ssSource"] + v["diaSource"] + root, f_name: sso_f},
        "/api/v1/statistics": {f_name: data["fink_statistics"]},
    }
    if endpoint == "/datatransfer/fink":
        dotted = [{**e, "name": e["name"].replace("_", ".", 1)} for e in src] + [
            {**e, "name": ("misc." if e["name"] == "firstDiaSourceMjdTaiFink" else "pred.")
             + e["name"]} for e in obj]
        return {"Fink": _fields(dotted, fink=True)}
    if endpoint == "/datatransfer/lsst":
        def section(entries, name):
            return [{**e, "name": ("misc." if e["name"] == "firstDiaSourceMjdTaiFink"
                                   else name) + e["name"]} for e in entries]
        entries = (root + section(v["diaObject"], "diaObject.")
                   + section(v["diaSource"], "diaSource.")
                   + section(v["diaSource"], "prvDiaSources.")
                   + section(v["diaForcedSource"], "prvDiaForcedSources.")
                   + section(v["ssSource"], "ssSource.")
                   + section(v["mpc_orbits"], "mpc_orbits.") + v["cutouts"])
        return {"LSST": _fields(entries)}
    if endpoint not in table:
        raise ApiError(f"{endpoint} is not a valid endpoint", 404, plain=True)
    return {cat: _fields(entries, fink=cat == f_name)
            for cat, entries in table[endpoint].items()}


#: Names quaero resolves whatever the loaded alerts hold: numbers and comet designations
#: (``10P``, ``10P/Tempel``, ``C/2020 F3``); offline they have no alert, so no row.
_QUAERO_KNOWS = re.compile(r"\d+|\d+[PD](/.*)?|[PCDXI]/.+")


def sso(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/sso``: the alerts of Solar System objects by name or designation.

    Names resolve offline through the designations present in the loaded alerts (the server
    asks IMCCE's quaero); ephemerides cannot be computed offline (the Miriade failure answer).
    """
    cols = _columns(args)
    flag = {k: k in args and (args[k] == "True" or args[k] is True)
            for k in ("withResiduals", "withEphem")}
    with_ephem = flag["withEphem"] or flag["withResiduals"]
    if cols is not None:
        extra = ["r:packed_primary_provisional_designation"]
        if with_ephem:
            extra += ["r:midpointMjdTai", "r:psfFlux"]
        cols = cols + [c for c in extra if c not in ",".join(cols)]
    text = str(args["n_or_d"])
    ids = [i.strip() for i in text.split(",")] if "," in text else [text.strip()]
    if len(ids) > 1 and flag["withResiduals"]:
        raise ApiError("You cannot request residuals for a list object names.\n")
    names: dict = {}
    for id_ in ids:
        found = store.sso_names.get(id_.replace("_", " ").lower())
        if found is None:
            if _QUAERO_KNOWS.fullmatch(id_):
                continue  # a number or a comet: known to quaero, with no alert here
            raise ApiError(f"{id_} is not a valid name or number according to quaero.\n")
        names[found[1]] = found[0]
    rows = _scan(store.sso, [f"{p[1:3]}_{p}_" for p in names], nlimit)
    if not rows:
        return pd.DataFrame()
    pdf = decode(rows, store.sso, cols)
    pdf["f:sso_name"] = pdf["r:packed_primary_provisional_designation"].map(names)
    if with_ephem:
        raise ApiError("We could not obtain the ephemerides information. Check Miriade "
                       "availabilities.")
    return pdf


def resolver(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/resolver``: TNS, SIMBAD and SSO names <-> LSST IDs, from the loaded alerts.

    ``reverse`` is honoured only as JSON ``true``. SIMBAD forward (a CDS Sesame query) is not
    emulated offline and answers an empty table; an unknown resolver is a 500.
    """
    kind, name = args["resolver"], args["name_or_id"]
    reverse = args.get("reverse", False) is True
    if kind != "ssodnet" or reverse:
        name = text(name, "name_or_id")  # subscripted or lower-cased by the server
    nmax = args.get("nmax", 10)  # given to setLimit as sent: a query-string text fails there
    if kind == "tns":
        # every TNS scan is limited to nmax; the full table (name "") is tested first
        if name == "":
            return raw_frame(store.tns.scan("", set_limit(nmax)))
        if reverse:
            rows = _scan(store.sources, [f"{name[-3:]}_{name}_"], set_limit(nmax))
            cols = ["r:diaObjectId", "f:xm_tns_fullname", "f:xm_tns_type", "f:xm_tns_redshift"]
            pdf = raw_frame(rows, cols).drop_duplicates()
            if "f:xm_tns_fullname" not in pdf:
                return pdf  # no TNS cell in any row: the object's ID alone (the else branch)
            return pdf[pdf["f:xm_tns_fullname"].notna() & (pdf["f:xm_tns_fullname"] != "nan")]
        return raw_frame(store.tns.scan(f"{name[-1]}_{name}".lower(), set_limit(nmax)))
    if kind == "simbad":
        if reverse:
            rows = _scan(store.objects, [f"{name[-3:]}_{name}"], set_limit(nmax))
            return raw_frame(rows, ["r:diaObjectId", "f:main_label_crossmatch", "r:ra", "r:dec"])
        return pd.DataFrame()
    if kind == "ssodnet":
        if reverse:
            return raw_frame(store.sso_resolver.scan(f"{name[-3:]}_{name}", set_limit(nmax)))
        set_limit(nmax)  # on the orbit table's client, before the server asks its own /sso
        cols = "r:packed_primary_provisional_designation,r:ssObjectId,r:diaSourceId"
        try:
            pdf = sso(store, {"n_or_d": name, "columns": cols}, nlimit)
        except ApiError as err:
            # the server reads /sso's answer with pd.read_json: its error text is no JSON
            raise ServerFailure(f"/sso answered an error: {err}") from err
        return pdf.reset_index(drop=True)  # read_json's index, not the row keys
    raise ServerFailure(f"unknown resolver {kind!r}: UnboundLocalError on the server")


def skymap(store: LsstStore, args: Mapping, nlimit: int) -> pd.DataFrame:
    """``/api/v1/skymap``: alerts inside a GW credible region (needs astropy-healpix).

    ``bayestar`` is the text of a Python bytes literal of the gzipped FITS map (read with
    `ast.literal_eval`, never evaluated, as for ZTF: `..ztf_skymap.read_bayestar`).
    ``event_name`` needs GraceDB: offline it answers the server's one-row ``status`` table.
    """
    from ..ztf_skymap import read_bayestar, ud_grade_ring

    if "bayestar" in args:
        prob, date_obs = read_bayestar(args["bayestar"])  # RING order
    elif "event_name" in args:
        return pd.DataFrame([{"status": "GraceDB is not reachable from the Fink emulator"}])
    else:
        raise ServerFailure("no bayestar: UnboundLocalError on the server")
    threshold = number(args["credible_level"], float)
    from astropy import units as u
    from astropy.time import Time
    from astropy_healpix import HEALPix, npix_to_nside

    npix_to_nside(len(prob))  # a map of another size fails here, as healpy's does there
    idx = np.argsort(prob)[::-1]
    levels = np.empty_like(prob)
    levels[idx] = np.cumsum(prob[idx])
    # the server's hp.ud_grade(credible_levels, 1024): the alerts' pixels are nside 1024
    levels = ud_grade_ring(levels, 1024)
    hp = HEALPix(nside=1024, order="ring")
    keys, ra, dec = store.pixel.positions()
    with np.errstate(invalid="ignore"):  # an alert without position is in no region
        pix = hp.lonlat_to_healpix(ra * u.deg, dec * u.deg)
    inside = (pix >= 0) & (levels[np.clip(pix, 0, None)] <= threshold)
    rows = [(keys[i], store.pixel.rows[keys[i]]) for i in np.flatnonzero(inside)]
    pdf = decode(rows, store.pixel, list(store.pixel.columns), sort=False)
    if not pdf.empty:
        pdf["v:startgwMjdTai"] = Time(date_obs, scale="utc").tai.mjd
    return pdf


def statistics(store: LsstStore, args: Mapping) -> pd.DataFrame:
    """``/api/v1/statistics``: nightly counters (text values, as HBase returns them)."""
    # the server only compares the date with "" and formats it into the row key prefix
    date = "20" if args["date"] == "" else f"{args['date']}"
    cols = text(args.get("columns", "*"), "columns")
    rows = [store.statistics[k] for k in sorted(store.statistics) if k.startswith(date)]
    pdf = pd.DataFrame(rows, index=[r["f:night"] for r in rows])
    if "*" not in cols and not pdf.empty:
        # Names as sent (spaces kept); the row key always comes back, renamed f:night; a
        # night holding none of the selected counters is not scanned (Scan.addColumn)
        counters = [c for c in cols.split(",") if c in pdf.columns and c != "f:night"]
        if set(cols.split(",")) - {"f:night"}:
            pdf = pdf[pdf[counters].notna().any(axis=1)] if counters else pdf.iloc[:0]
        pdf = pdf[[c for c in pdf.columns if c in {"f:night", *cols.split(",")}]]
    return pdf


def tags() -> dict:
    """``GET /api/v1/tags``: tag -> description and API support."""
    return {k: {"description": d, "API support": s} for k, (d, s) in TAGS.items()}


def tag_alerts(store: LsstStore, args: Mapping) -> pd.DataFrame:
    """``/api/v1/tags``: the newest ``n`` alerts of a tag between two dates.

    Only ``in_tns`` is filled from the alerts (those with a TNS counterpart); the other tags
    with API support are empty tables here.
    """
    from astropy.time import Time

    tag = text(args["tag"], "tag")  # a dict key: a list fails
    if tag not in TAGS:
        raise ApiError(
            f"\n        {tag} is not a valid tag. Here is the list of tags:\n        "
            f"{list(TAGS)}\n        And you can always retrieve available tags at "
            "https://api.lsst.fink-portal.org/api/v1/tags\n        ", plain=True)
    if not TAGS[tag][1]:
        raise ApiError(
            f"\n        {tag} is only available from the Livestream service (no API support "
            "defined).\n        And you can always retrieve available tags and their API "
            "support at https://api.lsst.fink-portal.org/api/v1/tags\n        ", plain=True)
    n = number(args.get("n", 10))
    start = parse_time(args.get("startdate", "2019-11-01 00:00:00")).mjd
    stop = parse_time(args["stopdate"]).mjd if "stopdate" in args else Time.now().mjd
    # Lomikel scans from the smaller of the two keys to the larger (a TreeSet of both)
    start, stop = min(start, stop), max(start, stop)
    table = store.tags.get(tag) or Table(f"rubin.tag_{tag}", dict(store.sources.columns))
    keys = [k for k in table.keys() if start <= float(k.split("_")[0]) <= stop]  # noqa: SIM118
    columns = _columns(args)
    if columns is not None and "*" not in columns:  # the limit counts the rows it lets pass
        keys = [k for k in keys if any(table.rows[k].get(c) is not None for c in columns)]
    # a reversed scan keeps the newest n (none for n <= 0: Lomikel stops at i >= limit), and
    # its results come back in key order (a TreeMap): oldest first, unless decode sorts
    newest = list(reversed(keys))[:max(n, 0)]
    rows = [(k, table.rows[k]) for k in sorted(newest)]
    return decode(rows, table, columns)


def blocks() -> dict:
    """``GET /api/v1/blocks``: block name -> first line of its docstring."""
    return dict(BLOCKS)


#: Names exported for the routes.
KINDS = CUTOUT_KINDS
