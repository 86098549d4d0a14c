"""Thin Flask layer: argument handling and serialisation exactly as the Fink ZTF server.

Query semantics live in `engine`; this module only reproduces the HTTP conventions of
fink-object-api ``apps/routes/v1/ztf/{objects,cutouts,schema}/api.py`` and
``apps/utils/utils.py``.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

from flask import Flask, Response

from . import ztf_resolver, ztf_search, ztf_solar
from .engine import Engine, QueryError
from .store import CUTOUT_KINDS, decode_stamp, stamp_fits
from .wire import (
    CutoutCodec,
    Routes,
    add_cors,
    add_routes,
    require,
    send_cutout,
    send_tabular,
    set_strict,
)

__all__ = ["create_app"]

# Static schema data shared with the client (not its code): the package's copy of the answer.
_SCHEMA_FILE = resources.files("astroquery_fink").joinpath("data/api_v1_schema.json")
_DOC_URL = "https://api.ztf.fink-portal.org"

#: The object, cutout and schema routes; the endpoint modules declare the others.
ROUTES = Routes()


@ROUTES.route("/api/v1/objects", "Get object data based on ZTF ID")
def _objects(engine: Engine, payload) -> Response:
    require(payload, ["objectId"], _DOC_URL)
    columns = payload.get("columns", None)
    pdf = engine.objects(
        payload["objectId"],
        columns=columns,
        # exact-"True" rule (objects/utils.py)
        withupperlim="withupperlim" in payload and str(payload["withupperlim"]) == "True",
        withcutouts="withcutouts" in payload and str(payload["withcutouts"]) == "True",
        cutout_kind=payload.get("cutout-kind", "All"),
    )
    # The format is checked only now, after the query (objects/api.py).
    return send_tabular(pdf, payload.get("output-format", "json"))


def _find_stamps(engine: Engine, payload) -> dict:
    # Unknown objectId or candid: the server fails indexing an empty result (500).
    stamps = engine.find_cutout(payload["objectId"], payload.get("candid")).stamps
    if not stamps:
        # an alert read without its stamps: the data-lake read finds nothing, as for a
        # missing alert
        raise QueryError(f"no stamps for objectId={payload['objectId']!r}")
    return stamps


_CUTOUTS = CutoutCodec("objectId", CUTOUT_KINDS, "b:cutout{}_stampData", _find_stamps,
                       decode_stamp, stamp_fits)


@ROUTES.route("/api/v1/cutouts", "Get cutout data based on ZTF ID")
def _cutouts(engine: Engine, payload) -> Response:
    return send_cutout(_CUTOUTS, engine, payload, _DOC_URL)


@ROUTES.route("/api/v1/schema", "Get the data schema", methods=("GET",), reads_args=False)
def _schema(engine: Engine, payload) -> Response:
    # Static copy of the reference file, re-dumped by flask.json (sorted keys).
    return Response(_schema_text(), 200, content_type="application/json")


@cache
def _schema_text() -> str:
    from flask import json as flask_json

    with _SCHEMA_FILE.open(encoding="utf-8") as fh:
        return flask_json.dumps(json.load(fh))



def create_app(engine: Engine, *, strict: bool = False) -> Flask:
    """Build the Flask app serving the emulated Fink ZTF API.

    Parameters
    ----------
    engine : Engine
        The query engine over the loaded alerts.
    strict : bool
        Let exceptions that are not the server's own 500 propagate (`wire.set_strict`).

    Returns
    -------
    flask.Flask
        Every route of `ROUTES` (and of the endpoint modules), with the server's CORS headers.
    """
    app = Flask("fink_emulator")
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024  # the server's request size limit
    app.extensions["fink_engine"] = engine
    add_routes(app, engine, [*ROUTES, *ztf_search.ROUTES, *ztf_solar.ROUTES,
                             *ztf_resolver.ROUTES],
               title="Fink/ZTF object API")
    add_cors(app)
    set_strict(app, strict)
    return app
