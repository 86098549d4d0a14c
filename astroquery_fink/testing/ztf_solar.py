"""Emulated ZTF solar-system and tracklet endpoints (and the resolver's route).

``/api/v1/sso``, ``/ssocand``, ``/ssoft``, ``/ssobulk``, ``/tracklet`` as in fink-object-api
``apps/routes/v1/ztf/<name>/{api,utils}.py``; ``/resolver`` lives in `ztf_resolver`. Light curves
and tracklets come from alerts (the loaded store plus the bundled ``data/solar`` alerts); the
answers of outside services (Miriade, the SSOFT and SSO files, fink-fat candidates, SsODNet
names) come from the bundled fixtures of ``data/solar`` (see `_solar_data`).

A query function here (and in `ztf_resolver`) is called as ``f(tables, payload, nlimit)``
(those it needs): the index tables and fixtures (`SolarTables`), the request's arguments, and
the rows of a scan without an explicit limit (the server's ``NLIMIT``). It returns the
`pandas.DataFrame` the server serialises, and raises `ServerError` for the server's 400s and
`ServerFailure` for its 500s; its docstring names the arguments it reads.
"""
from __future__ import annotations

import datetime
import functools
import io
import json
from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd
from astropy.time import Time
from flask import Response

from . import ztf_resolver
from ._hbase import prefix_scan
from ._solar_data import SolarTables, fixture, frame, solar_tables
from .engine import classify
from .store import CUTOUT_KINDS, decode_stamp
from .wire import Routes, ServerError, ServerFailure, bad_request, require, send_tabular, text

__all__ = ["ROUTES", "sso", "tracklet", "ssocand", "ssoft", "ssobulk"]

#: The solar-system and tracklet routes, registered by `app.create_app`.
ROUTES = Routes()

_DOC_URL = "https://api.ztf.fink-portal.org"
#: Blazar features the index tables do not carry: added as -1.0 in all-columns mode.
_LATE_DEFAULTS = ("d:blazar_stats_instantness_low", "d:blazar_stats_robustness_low",
                  "d:blazar_stats_instantness_high", "d:blazar_stats_robustness_high")
#: Miriade columns of an ephemeris row, in the order the service gives them.
_MIRIADE_COLUMNS = ("Date", "LAST", "HA", "Az", "H", "Dobs", "Dhelio", "VMag", "SDSS:g",
                    "SDSS:r", "Phase", "Elong.", "AM", "dRAcosDEC", "dDEC", "RV", "RA", "Dec",
                    "Longitude", "Latitude")
_FLAVORS = ["SOCCA", "SHG1G2", "HG1G2", "HG"]


def _error(text: str):
    return ServerError(bad_request(text))


# ---------------------------------------------------------------------------------------------
# Index tables -> DataFrame (format_hbase_output with group_alerts=False, extract_color=False)
# ---------------------------------------------------------------------------------------------
def _scan(table: dict, keys: list[str], prefix: str, cols: str, limit: int) -> dict:
    """Rows of one prefix scan with the ``columns`` filter of the HBase client."""
    if prefix == "":
        raise ServerFailure("empty key prefix: the HBase client raises")
    found = prefix_scan(keys, prefix, limit)
    if cols == "*":
        return {k: table[k] for k in found}
    names = [c for c in cols.split(",") if ":" in c]
    if any(c.startswith("v:") for c in names):
        # no v: family in HBase: the scan fails inside the client, nothing comes back
        return {}
    rows = {k: {c: v for c, v in table[k].items() if not names or c in names} for k in found}
    return {k: v for k, v in rows.items() if v}


def _format(rows: dict, truncated: bool) -> pd.DataFrame:
    """The server's ``format_hbase_output`` for an index table (no rates or colours)."""
    pdf = frame(rows)
    if pdf.empty:
        return pd.DataFrame({})
    if not truncated:
        for col in _LATE_DEFAULTS:
            if col not in pdf.columns:
                pdf[col] = -1.0
        pdf["v:classification"] = classify(pdf)
        jd = pdf["i:jd"].to_numpy(dtype=float)
        jdstart = pdf["i:jdstarthist"].to_numpy(dtype=float)
        pdf["v:lastdate"] = Time(jd, format="jd").iso
        pdf["v:firstdate"] = Time(jdstart, format="jd").iso
        pdf["v:lapse"] = jd - jdstart
        from astropy.coordinates import SkyCoord, get_constellation

        pdf["v:constellation"] = get_constellation(
            SkyCoord(pdf["i:ra"].to_numpy(dtype=float), pdf["i:dec"].to_numpy(dtype=float),
                     unit="deg"))
    if "i:jd" in pdf.columns:
        pdf = pdf.sort_values("i:jd", ascending=False)
    return pdf


def _columns(payload: Mapping) -> tuple[str, bool]:
    cols = text(payload["columns"], "columns").replace(" ", "") if "columns" in payload else "*"
    return cols, cols != "*"


def _flag(payload: Mapping, name: str) -> bool:
    # the sso route accepts the string "True" or a JSON true
    return name in payload and (payload[name] == "True" or payload[name] is True)


# ---------------------------------------------------------------------------------------------
# /api/v1/tracklet
# ---------------------------------------------------------------------------------------------
def tracklet(tables: SolarTables, payload: Mapping, nlimit: int) -> pd.DataFrame:
    """``get_tracklet``: rows of ``ztf.tracklet`` whose key starts with the tracklet prefix.

    Reads ``id`` (``TRCK_YYYYMMDD_HHMMSS_NN``, a prefix) or ``date`` (``YYYY-MM-DD hh:mm:ss``,
    prefixes allowed; neither: the server's 400), and ``columns``.
    """
    cols, truncated = _columns(payload)
    if "id" in payload:
        name = text(payload["id"], "id")
    elif "date" in payload:
        date = text(payload["date"], "date")
        name = "TRCK_" + date.replace("-", "").replace(":", "").replace(" ", "_")
    else:
        raise _error("You need to specify a date at the format YYYY-MM-DD hh:mm:ss\n")
    rows = _scan(tables.tracklet, tables.keys("tracklet"), name, cols, nlimit)
    return _format(rows, truncated)


# ---------------------------------------------------------------------------------------------
# /api/v1/sso
# ---------------------------------------------------------------------------------------------
def _comet_name(tables: SolarTables, ident: str) -> str:
    """quaero's comet search, offline: a fixture name, else the input as given."""
    for comet in fixture("sso_names.json").get("comets", []):
        if ident.lower() in (a.lower().replace(" ", "") for a in [comet["name"],
                                                                  *comet.get("aliases", [])]):
            return comet["name"]
    return ident


def sso(tables: SolarTables, payload: Mapping, nlimit: int) -> pd.DataFrame:
    """``extract_sso_data``: alerts of the ssnamenr(s) matching ``n_or_d``, with
    ``sso_name`` and ``sso_number`` (and Miriade's columns with ``withEphem``).

    Reads ``n_or_d`` (required), ``withEphem``, ``withResiduals``, ``withcutouts``,
    ``cutout-kind`` and ``columns``. The server's 400s: bad columns for cutouts, residuals of
    a list, an unknown name, a bad cutout-kind, no ephemerides.
    """
    cols, truncated = _columns(payload)
    with_residuals = _flag(payload, "withResiduals")
    with_ephem = with_residuals or _flag(payload, "withEphem")
    with_cutouts = _flag(payload, "withcutouts")
    if with_cutouts and truncated and ("i:objectId" not in cols or "i:candid" not in cols):
        raise _error("You need to add 'i:objectId,i:candid' to the columns.\n")
    if truncated and "i:ssnamenr" not in cols:
        cols += ",i:ssnamenr"  # added silently, for the name columns
    n_or_d = str(payload["n_or_d"])
    ids = n_or_d.replace(" ", "").split(",")
    if len(ids) > 1 and with_residuals:
        raise _error("You cannot request residuals for a list object names.\n")

    ssnamenrs: list[str] = []
    to_name: dict[str, object] = {}
    to_number: dict[str, object] = {}
    for ident in ids:
        if ident.startswith("C/"):
            sso_name, sso_number = _comet_name(tables, ident), None
        elif ident.endswith("P"):
            sso_name, sso_number = ident, None
        else:
            sso_name, sso_number = ztf_resolver.identify(tables, ident)
            if sso_name is None and ident.isdecimal():
                # quaero knows every numbered asteroid; offline its name is unknown, so no
                # ssnamenr resolves (an empty answer unless the data hold it: then it is named)
                sso_number = int(ident)
        if not isinstance(sso_number, int) and not isinstance(sso_name, str):
            raise _error(f"{n_or_d} is not a valid name or number according to quaero.\n")
        found = ztf_resolver.ssnamenrs_of(
            tables, sso_name if isinstance(sso_name, str) else sso_number, nlimit)
        ssnamenrs.extend(found)
        for s in found:
            to_name[s], to_number[s] = sso_name, sso_number

    rows: dict = {}
    for s in ssnamenrs:
        rows.update(_scan(tables.ssnamenr, tables.keys("ssnamenr"), f"{s}_", cols, nlimit))
    if not rows:
        return pd.DataFrame()
    pdf = _format(dict(sorted(rows.items())), truncated)
    pdf["sso_name"] = pdf["i:ssnamenr"].apply(lambda x: to_name[x])
    pdf["sso_number"] = pdf["i:ssnamenr"].apply(lambda x: to_number[x])

    if with_cutouts:
        kind = payload.get("cutout-kind", "Science")
        if kind not in CUTOUT_KINDS:
            raise _error("`cutout-kind` must be `Science`, `Difference`, or `Template`.\n")
        pdf[f"b:cutout{kind}_stampData"] = [
            _cutout(tables, o, c, kind) for o, c in zip(pdf["i:objectId"], pdf["i:candid"],
                                                        strict=True)]
    if with_ephem:
        pdf = _miriade(pdf)
        if "i:magpsf_red" not in pdf.columns:
            raise _error("We could not obtain the ephemerides information. "
                         "Check Miriade availabilities.")
    if with_residuals:
        # The sHG1G2 fit is not emulated: NaN, the server's answer when the fit fails.
        pdf["residuals_shg1g2"] = np.nan
    return pdf


def _cutout(tables: SolarTables, object_id, candid, kind: str) -> list:
    """The server's call to its own /cutouts; a failed call leaves ``[]``."""
    stamps = tables.stamps.get((str(object_id), str(candid)), {})
    return decode_stamp(stamps[kind]) if kind in stamps else []


def _miriade(pdf: pd.DataFrame) -> pd.DataFrame:
    """``get_miriade_data`` with the bundled ephemerides standing for Miriade."""
    if any(c not in pdf.columns for c in ("i:ssnamenr", "i:jd", "i:magpsf")):
        return pdf  # the server logs a warning and leaves the frame as it is
    table = fixture("miriade_ephemerides.json")["rows"]
    infos = []
    for ssnamenr in np.unique(pdf["i:ssnamenr"].to_numpy()):
        sub = pdf[pdf["i:ssnamenr"] == ssnamenr]
        known = table.get(str(ssnamenr), {})
        rows = [known.get(repr(float(jd))) for jd in sub["i:jd"]]
        if not rows or any(r is None for r in rows):
            infos.append(sub)  # Miriade gave nothing for this object
            continue
        eph = pd.DataFrame([{c: r.get(c) for c in _MIRIADE_COLUMNS} for r in rows])
        info = pd.concat([eph.reset_index(), sub.reset_index()], axis=1)
        info = info.loc[:, ~info.columns.duplicated()]  # the frame's own index is dropped
        info["i:magpsf_red"] = info["i:magpsf"] - 5 * np.log10(info["Dobs"] * info["Dhelio"])
        infos.append(info)
    return pd.concat(infos) if len(infos) > 1 else infos[0]


# ---------------------------------------------------------------------------------------------
# /api/v1/ssocand
# ---------------------------------------------------------------------------------------------
_CAST = {"double": "float64", "integer": "Int64", "long": "Int64", "string": "str"}


def ssocand(payload: Mapping, nlimit: int) -> pd.DataFrame:
    """``get_ssocand`` over the bundled fink-fat fixture.

    Parameters
    ----------
    payload : mapping
        ``kind`` (``orbParams`` or ``lightcurves``), ``ssoCandId``, ``start_date``,
        ``stop_date`` (lightcurves), ``maxnumber`` (lightcurves, default 10 000).
    nlimit : int
        Rows of the orbParams scan (the client's default limit).

    Returns
    -------
    pandas.DataFrame
    """
    data = fixture("ssocand_fixture.json")
    trajectory_id = str(payload["ssoCandId"]) if "ssoCandId" in payload else None
    maxnumber = payload.get("maxnumber", 10000)
    kind = payload["kind"]
    if kind == "orbParams":
        table = {f"cand_{r['ssoCandId']}": r for r in data["orbParams"]}
        prefix = "cand_" if trajectory_id is None else f"cand_{trajectory_id}"
        found = prefix_scan(sorted(table), prefix, nlimit)
    elif kind == "lightcurves":
        table = {f"{r['jd']!r}_{r['ssoCandId']}": r for r in data["lightcurves"]}
        start = Time(payload.get("start_date", "2019-11-01"), format="iso").jd
        stop = (Time(payload["stop_date"], format="iso").jd if "stop_date" in payload
                else Time.now().jd)
        if not isinstance(maxnumber, int) or isinstance(maxnumber, bool):
            raise ServerFailure("setLimit needs an int")  # py4j refuses it
        # range scan on the text keys ``jd_ssoCandId``: start inclusive, stop exclusive
        lo, hi = f"{start}_", f"{stop}_"
        found = [k for k in sorted(table) if lo <= k < hi
                 and (trajectory_id is None or table[k]["ssoCandId"] == trajectory_id)]
        found = found[:maxnumber]
    else:
        raise ServerFailure(f"kind {kind!r}: no table (UnboundLocalError on the server)")
    if not found:
        return pd.DataFrame({})
    names = sorted(f"d:{c}" for c in table[found[0]])
    pdf = pd.DataFrame.from_dict(
        {k: {f"d:{c}": v for c, v in sorted(table[k].items())} for k in found}, orient="index")
    for col in names:
        pdf[col] = pdf[col].astype(_CAST[data["types"][col[2:]]])
    return pdf


# ---------------------------------------------------------------------------------------------
# /api/v1/ssoft and /api/v1/ssobulk (files the server reads from WebHDFS)
# ---------------------------------------------------------------------------------------------
@functools.cache
def _ssoft_columns() -> dict:
    # static schema data shared with the client (fink-utils fink_utils/sso/ssoft.py COLUMNS*)
    path = resources.files("astroquery_fink").joinpath("data/ztf_ssoft_schema.json")
    return json.loads(path.read_text())


def _ssoft_schema(flavor: str) -> dict:
    cols = _ssoft_columns()
    return {**cols["COLUMNS"], **cols[f"COLUMNS_{flavor}"]}


def _ssoft_table(flavor: str, version: str) -> pd.DataFrame:
    """The bundled SSOFT fixture in the columns of one flavour."""
    schema = _ssoft_schema(flavor)
    stored = _ssoft_columns().get("STORED_TYPES", {})  # the files' types where COLUMNS differ
    rows = fixture("ssoft_fixture.json")["rows"]
    data = {}
    for col, spec in schema.items():
        values = [version if col == "version" else r.get(col) for r in rows]
        kind = stored.get(col, spec["type"])
        if kind == "double":
            data[col] = np.array([np.nan if v is None else v for v in values], dtype="float64")
        elif kind == "int":
            data[col] = pd.array(values, dtype="Int64")
        else:
            data[col] = pd.array(values, dtype="str")
    return pd.DataFrame(data)


def _published(version: str) -> bool:
    """Whether ``ssoft_<flavor>_<version>.parquet`` exists: a monthly file from 2023.07 to
    this month (no file for a month 00 or 13)."""
    now = datetime.datetime.now(tz=datetime.UTC)
    month = version[-2:]
    return "01" <= month <= "12" and "2023.07" <= version <= f"{now.year}.{now.month:02d}"


def _webhdfs_missing(path: str) -> bytes:
    """WebHDFS's answer for a missing file (inferred), which the server passes on."""
    return json.dumps({"RemoteException": {
        "exception": "FileNotFoundException",
        "javaClassName": "java.io.FileNotFoundException",
        "message": f"File {path} does not exist."}}).encode()


def ssoft(payload: Mapping) -> Response | pd.DataFrame:
    """``get_ssoft``: the schema (a Response), a DataFrame, or the whole file (a Response).

    Parameters
    ----------
    payload : mapping
        ``schema``, ``flavor`` (SHG1G2 default, SOCCA, HG1G2, HG), ``version`` (YYYY.MM,
        from 2023.07), ``sso_name`` or ``sso_number``, ``output-format``.

    Returns
    -------
    flask.Response or pandas.DataFrame
    """
    if payload.get("schema", False):  # any truthy value, e.g. "False" in a query string
        flavor = payload.get("flavor", "SHG1G2")
        if flavor not in _FLAVORS:
            raise _error(f"flavor needs to be in {_FLAVORS}\n")
        return Response(json.dumps(_ssoft_schema(flavor)), 200, content_type="application/json")
    if "version" in payload:
        version = payload["version"]
        yyyymm = version.split(".")
        if len(yyyymm) < 2:
            raise ServerFailure(f"version {version!r}: yyyymm[1] raises IndexError")
        if len(yyyymm[0]) != 4 or len(yyyymm[1]) != 2:
            raise _error("version needs to be YYYY.MM\n")
        if version < "2023.07":
            raise _error("version starts on 2023.07\n")
    else:
        now = datetime.datetime.now(tz=datetime.UTC)
        version = f"{now.year}.{now.month:02d}"
    flavor = payload.get("flavor", "SHG1G2")
    if flavor not in _FLAVORS:
        raise _error(f"flavor needs to be in {_FLAVORS}\n")
    path = f"/SSOFT/ssoft_{flavor}_{version}.parquet"
    content = _parquet(_ssoft_table(flavor, version)) if _published(version) else None
    wants_table = ("sso_name" in payload or "sso_number" in payload
                   or payload.get("output-format", "parquet") != "parquet")
    if content is None:
        if wants_table:
            raise ServerFailure(f"{path}: not a parquet file")  # read_parquet fails
        return Response(_webhdfs_missing(path), 200, content_type="application/parquet")
    if not wants_table:
        return Response(content, 200, content_type="application/parquet")
    pdf = pd.read_parquet(io.BytesIO(content))
    if "sso_name" in payload:
        pdf = pdf[pdf["sso_name"].notna()]
        return pdf[pdf["sso_name"].astype("str") == payload["sso_name"]]
    if "sso_number" in payload:
        pdf = pdf[pdf["sso_number"].notna()]
        return pdf[pdf["sso_number"].astype("int") == int(payload["sso_number"])]
    return pdf


def _parquet(pdf: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pdf.to_parquet(buf, index=False)
    return buf.getvalue()


def ssobulk(tables: SolarTables) -> pd.DataFrame:
    """The SSO light-curve file: one row per ssnamenr, the alerts' values as lists.

    Parameters
    ----------
    tables : SolarTables
        ``sso_alerts`` and the name tables.

    Returns
    -------
    pandas.DataFrame
        ``ssnamenr, sso_name, sso_number, cra, cdec, cmagpsf, csigmapsf, cfid, cjd`` (jd
        ascending in each list), ``ssnamenr`` ascending.
    """
    by_name: dict[str, list] = {}
    for a in sorted(tables.sso_alerts, key=lambda a: a.jd):
        by_name.setdefault(a.cells["i:ssnamenr"], []).append(a)
    rows = []
    for s in sorted(by_name):
        name, number = ztf_resolver.identify(tables, s)
        row = {"ssnamenr": s, "sso_name": name, "sso_number": number}
        for k in ("ra", "dec", "magpsf", "sigmapsf", "fid", "jd"):
            row[f"c{k}"] = [a.cells.get(f"i:{k}") for a in by_name[s]]
        rows.append(row)
    return pd.DataFrame(rows, columns=["ssnamenr", "sso_name", "sso_number", "cra", "cdec",
                                       "cmagpsf", "csigmapsf", "cfid", "cjd"])


# ---------------------------------------------------------------------------------------------
# Thin handlers
# ---------------------------------------------------------------------------------------------
@ROUTES.route("/api/v1/sso", "Get Solar System object data based on their ID")
def _h_sso(engine, payload) -> Response:
    require(payload, ["n_or_d"], _DOC_URL)
    pdf = sso(solar_tables(engine), payload, engine.nlimit)
    return send_tabular(pdf, payload.get("output-format", "json"))


@ROUTES.route("/api/v1/tracklet", "Get satellites and debris candidates")
def _h_tracklet(engine, payload) -> Response:
    pdf = tracklet(solar_tables(engine), payload, engine.nlimit)
    return send_tabular(pdf, payload.get("output-format", "json"))


@ROUTES.route("/api/v1/ssocand", "Get data about Solar System candidates found by Fink")
def _h_ssocand(engine, payload) -> Response:
    require(payload, ["kind"], _DOC_URL)
    return send_tabular(ssocand(payload, engine.nlimit), payload.get("output-format", "json"))


@ROUTES.route("/api/v1/ssoft", "Get the Solar System Object Fink Table (SSoFT)")
def _h_ssoft(engine, payload) -> Response:
    out = ssoft(payload)
    if isinstance(out, pd.DataFrame):
        return send_tabular(out, payload.get("output-format", "json"))
    return out


@ROUTES.route("/api/v1/ssobulk", "Get all Fink/ZTF SSO lightcurves in once")
def _h_ssobulk(engine, payload) -> Response:
    pdf = ssobulk(solar_tables(engine))
    if payload.get("output-format", "parquet") != "parquet":
        return send_tabular(pdf, payload.get("output-format", "json"))
    return Response(_parquet(pdf), 200, content_type="application/parquet")
