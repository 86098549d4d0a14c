"""Emulated ZTF search endpoints: conesearch, latests, classes, anomaly, statistics, skymap.

Each handler reads its arguments as fink-object-api ``apps/routes/v1/ztf/<name>/{api,utils}.py``
does (same defaults, same parsing, same order of checks, hence the same 400 bodies and the
same 500s), runs the query in `ztf_tables` (index tables rebuilt from the loaded alerts) and
serialises with `wire.send_tabular`.

``/conesearch`` keeps what the server's HEALPix search returns once it has filtered by the exact
separation: the last alert of each object within the radius, with ``SkyCoord.separation``; the
nside-128 pixels (astropy-healpix) only decide which rows each capped pixel scan returns (see
`ztf_tables`).

What comes from bundled fixtures rather than from the alerts:

* ``/classes``: the three class lists (``data/ztf_classes.json``: fink-object-api
  ``assets/fink_types.csv`` and ``assets/tns_types.csv``, fink-utils SIMBAD labels);
* ``/skymap`` with ``event_name``: offline stand-in maps (`ztf_skymap.FIXTURE_EVENTS`) instead
  of a GraceDB download;
* ``/latests`` for ``(CTA) Blazar low state``, ``(CTA) Blazar high state`` and
  ``SLSN candidate``: their tables are filled by separate fink-broker jobs that the emulator
  does not run; the answer is always empty.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources

import pandas as pd
from flask import Response

from .engine import Engine
from .wire import (
    Routes,
    ServerError,
    ServerFailure,
    bad_request,
    isoify_time,
    number,
    parse_time,
    require,
    send_tabular,
    server_fails,
    sky_coord,
    text,
)
from .ztf_tables import search_tables

__all__ = ["ROUTES"]

#: The search routes, registered by `app.create_app`.
ROUTES = Routes()

_DOC_URL = "https://api.ztf.fink-portal.org"
_FINK_START = "2019-11-01 00:00:00"  # start of the Fink operations: default start date
_MAX_RADIUS_TEXT = "`radius` cannot be bigger than 18,000 arcseconds (5 degrees).\n"
_TRENDS = ("rising", "fading", "low_state", "new_low_state")
_BAD_TREND = ("\n        {} is not a valid trend.\n        Trend must be among: rising, fading, "
              "low_state, new_low_state\n        ")
_LOW_STATE_ONLY = ("\n        {} trend is only implemented for the `(CTA) Blazar low state` "
                   "class.\n        {} class can accept trend among: rising, fading.\n        ")
#: Classes served from tables the emulator does not build (always empty).
_UNBUILT_CLASSES = ("(CTA) Blazar low state", "(CTA) Blazar high state", "SLSN candidate")
_SIMBAD_TITLE = ("Cross-match with SIMBAD (see "
                 "http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)")


@cache
def _class_lists() -> dict:
    path = resources.files(__package__).joinpath("data/ztf_classes.json")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _jd(value) -> float:
    return parse_time(value).jd


def _now_jd() -> float:
    from astropy.time import Time

    return Time.now().jd


# ----------------------------------------------------------------------------- conesearch
@ROUTES.route("/api/v1/conesearch", "Get object data based on coordinates")
def _conesearch(engine: Engine, args: Mapping) -> Response:
    require(args, ["ra", "dec", "radius"], _DOC_URL)
    if "columns" in args:
        cols = text(args["columns"], "columns").replace(" ", "")
        # substring tests, as on the server
        if "i:ra" not in cols:
            cols = ",".join([cols, "i:ra"])
        if "i:dec" not in cols:
            cols = ",".join([cols, "i:dec"])
        if not {"i:ra", "i:dec"} <= set(cols.split(",")):
            # a longer name ("i:ranr") passed the test: the separation step then fails on
            # the missing column (KeyError, HTTP 500)
            raise ServerFailure("KeyError: 'i:ra' or 'i:dec' not in the selected columns")
    else:
        cols = "*"
    jd_start = _jd(isoify_time(args["startdate"])) if "startdate" in args \
        else _jd(_FINK_START)
    if "stopdate" in args:
        jd_stop = _jd(isoify_time(args["stopdate"]))
    elif "window" in args and "startdate" in args:
        jd_stop = jd_start + number(args["window"], float)
    else:
        jd_stop = _now_jd()
    n = number(args.get("n", 1000))
    radius = number(args["radius"], float)
    if radius > 18000.0:
        raise ServerError(bad_request(_MAX_RADIUS_TEXT))
    coord = sky_coord(args["ra"], args["dec"])
    dated = "startdate" in args  # a range scan only when startdate is given
    pdf = search_tables(engine).conesearch(
        float(coord.ra.deg), float(coord.dec.deg), radius / 3600.0, n,
        jd_start if dated else None, jd_stop if dated else None, cols)
    return send_tabular(pdf, args.get("output-format", "json"))


# -------------------------------------------------------------------------------- latests
@ROUTES.route("/api/v1/latests", "Get object data based their class")
def _latests(engine: Engine, args: Mapping) -> Response:
    require(args, ["class"], _DOC_URL)
    if "trend" in args and args["trend"] not in _TRENDS:
        raise ServerError(Response(_BAD_TREND.format(args["trend"]), 400))
    if args.get("trend") in ("low_state", "new_low_state") \
            and args.get("class") != "(CTA) Blazar low state":
        raise ServerError(Response(_LOW_STATE_ONLY.format(args["trend"], args["class"]), 400))
    n = 10 if "n" not in args else number(args["n"])
    jd_start = _jd(_FINK_START) if "startdate" not in args else _jd(args["startdate"])
    jd_stop = _now_jd() if "stopdate" not in args else _jd(args["stopdate"])
    color = "color" in args  # presence alone, as on the server
    cols = text(args["columns"], "columns").replace(" ", "") if "columns" in args else "*"

    label = text(args["class"], "class")
    is_tns = label.startswith("(TNS)") and label.split("(TNS) ")[1] in _class_lists()["tns"]
    tables = search_tables(engine)
    if is_tns:
        pdf = tables.latests("tns", label.split("(TNS) ")[1], jd_start, jd_stop, n, cols,
                             color)
    elif label in _UNBUILT_CLASSES:
        pdf = pd.DataFrame({})
    else:
        if label.startswith("(SIMBAD)"):
            label = label.split("(SIMBAD) ")[1]
        pdf = tables.latests("class", label, jd_start, jd_stop, n, cols, color)

    if len(pdf) > 0:
        trend = args.get("trend")
        if trend == "rising":
            pdf = pdf[pdf["d:mag_rate"] < 0]
        elif trend == "fading":
            pdf = pdf[pdf["d:mag_rate"] > 0]
    return send_tabular(pdf, args.get("output-format", "json"))


# -------------------------------------------------------------------------------- classes
@ROUTES.route("/api/v1/classes", "Get Fink derived class names, and their origin",
               methods=("GET",), reads_args=False)
def _classes(engine: Engine, args: Mapping) -> Response:
    from flask import json as flask_json

    lists = _class_lists()

    def lower(s: str) -> str:
        return s.lower()

    types = {
        "Fink classifiers": sorted(lists["fink"], key=lower),
        "Cross-match with TNS": ["(TNS) " + x for x in sorted(lists["tns"], key=lower)],
        _SIMBAD_TITLE: ["(SIMBAD) " + x for x in sorted(lists["simbad"], key=lower)],
    }
    # flask.json sorts the keys, as on the server
    return Response(flask_json.dumps(types), 200, content_type="application/json")


# -------------------------------------------------------------------------------- anomaly
@ROUTES.route("/api/v1/anomaly", "Get alerts tagged as anomaly")
def _anomaly(engine: Engine, args: Mapping) -> Response:
    n = 10 if "n" not in args else number(args["n"])
    jd_start = _jd(_FINK_START) if "start_date" not in args else _jd(args["start_date"])
    # stop_date + 1 day: a single day can be asked with start_date == stop_date
    jd_stop = _now_jd() if "stop_date" not in args else _jd(args["stop_date"]) + 1
    cols = text(args["columns"], "columns").replace(" ", "") if "columns" in args else "*"
    pdf = search_tables(engine).anomaly(jd_start, jd_stop, n, cols)
    return send_tabular(pdf, args.get("output-format", "json"))


# ----------------------------------------------------------------------------- statistics
@ROUTES.route("/api/v1/statistics", "Get statistics about Fink and the ZTF alert stream")
def _statistics(engine: Engine, args: Mapping) -> Response:
    require(args, ["date"], _DOC_URL)
    tables = search_tables(engine)
    if "schema" in args and str(args["schema"]) == "True":
        pdf = tables.statistics_schema()
    else:
        pdf = tables.statistics(str(args["date"]), text(args.get("columns", "*"), "columns"))
    return send_tabular(pdf, args.get("output-format", "json"))


# --------------------------------------------------------------------------------- skymap
@ROUTES.route("/api/v1/skymap", "Return Fink/ZTF alerts within a GW skymap")
def _skymap(engine: Engine, args: Mapping) -> Response:
    from astropy.time import Time

    from .ztf_skymap import GRACEDB_NOT_FOUND, credible_pixels, fixture_map

    n_day_before = args.get("n_day_before", 1)
    n_day_after = args.get("n_day_after", 6)
    if "bayestar" in args:
        bayestar = args["bayestar"]
    elif "event_name" in args:
        data = fixture_map(str(args["event_name"]))
        if data is None:  # GraceDB's 404, reported in a one-row table as on the server
            pdf = pd.DataFrame([{"status": GRACEDB_NOT_FOUND}])
            return send_tabular(pdf, args.get("output-format", "json"))
        bayestar = str(data)
    else:
        raise ServerFailure("no bayestar: the server fails on an unbound name")
    with server_fails(KeyError):  # no credible_level
        level = number(args["credible_level"], float)
    pixels, date_obs = credible_pixels(bayestar, level)
    jd_event = Time(date_obs).jd
    # a string (GET query) fails in this arithmetic: HTTP 500, as on the server
    with server_fails(TypeError):
        jd_start = jd_event - n_day_before
        jd_stop = jd_start + n_day_after
    pdf = search_tables(engine).skymap(pixels, jd_start, jd_stop)
    if not pdf.empty:
        pdf["v:jdstartgw"] = jd_event
        pdf = pdf[(pdf["i:jd"] - pdf["i:jdstarthist"]) <= n_day_after]
    return send_tabular(pdf, args.get("output-format", "json"))
