"""The Fink/LSST routes: thin handlers from request arguments to `models` and back.

Argument reading, tabular writing and error bodies are the shared ones of `..wire`
(fink-object-api ``apps/utils/utils.py``); the namespaces and their descriptions are those of
``app_lsst.py`` and ``apps/routes/v1/lsst/*/api.py``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from flask import Flask, Response, jsonify, request

from .. import wire
from .._hbase import NLIMIT
from ..wire import Routes, ServerError, bad_request, require
from . import models
from .store import LsstStore

__all__ = ["ROUTES", "create_app"]

# The shared check_args points to the ZTF site, also on the LSST server.
_DOC_URL = "https://api.ztf.fink-portal.org"

#: The LSST namespaces and their descriptions, declared in the server's order (``app_lsst.py``,
#: ``apps/routes/v1/lsst/*/api.py``).
ROUTES = Routes()


@dataclass
class Backend:
    """What the handlers share: the tables and the serving options."""

    store: LsstStore
    nlimit: int = NLIMIT
    ids_as: str = "number"


def _raise(exc: models.ApiError):
    if exc.plain:
        raise ServerError(Response(exc.text, exc.status)) from None
    raise ServerError(bad_request(exc.text)) from None


def _ids_as_text(pdf: pd.DataFrame) -> pd.DataFrame:
    """64-bit ID columns (``...Id``) as text, for ``ids_as="string"``."""
    out = pdf.copy()
    for col in out.columns:
        if str(col).endswith("Id") and isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = pd.Series([None if v is pd.NA else str(v) for v in out[col]],
                                 dtype=object, index=out.index)
    return out


def _tabular(backend: Backend, fn, args: Mapping, required: list[str], *,
             with_limit: bool = True) -> Response:
    require(args, required, _DOC_URL)
    try:
        pdf = fn(backend.store, args, backend.nlimit) if with_limit else fn(backend.store, args)
    except models.ApiError as exc:
        _raise(exc)
    output_format = args.get("output-format", "json")
    if backend.ids_as == "string" and output_format in ("json", "csv"):
        pdf = _ids_as_text(pdf)
    return wire.send_tabular(pdf, output_format)


@ROUTES.route("/api/v1/sources", "Get diaSource data based on Rubin diaObjectId")
def _sources(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.sources, args, ["diaObjectId"])


@ROUTES.route("/api/v1/objects",
               "Get diaObject & aggregated data based on Rubin diaObjectId")
def _objects(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.objects, args, ["diaObjectId"])


@ROUTES.route("/api/v1/fp", "Get forced photometry data based on Rubin diaObjectId")
def _fp(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.fp, args, ["diaObjectId"])


@ROUTES.route("/api/v1/conesearch", "Get Rubin alerts data based on coordinates")
def _conesearch(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.conesearch, args, ["ra", "dec", "radius"])


_CUTOUTS = wire.CutoutCodec("diaSourceId", models.KINDS, "b:cutout{}",
                            lambda backend, args: models.cutout(backend.store,
                                                                args["diaSourceId"]),
                            models.cutout_array, models.cutout_fits)


@ROUTES.route("/api/v1/cutouts", "Get cutout alert data based on Rubin diaSourceId")
def _cutouts(backend: Backend, args: Mapping) -> Response:
    # Unknown diaSourceId: an empty PNG attachment with status 200, whatever the format.
    return wire.send_cutout(_CUTOUTS, backend, args, _DOC_URL)


@ROUTES.route("/api/v1/schema",
               "Retrieve the data schema for a given endpoint for Fink/Rubin API")
def _schema(backend: Backend, args: Mapping) -> Response:
    require(args, ["endpoint"], _DOC_URL)
    try:
        types = models.schema(args)
    except models.ApiError as exc:
        _raise(exc)
    return Response(json.dumps(types), 200, content_type="application/json")


@ROUTES.route("/api/v1/sso", "Retrieve Solar System object data from Fink/Rubin based on "
               "their number or designation")
def _sso(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.sso, args, ["n_or_d"])


@ROUTES.route("/api/v1/resolver", "Resolve astronomical names to LSST IDs, and vice-versa")
def _resolver(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.resolver, args, ["resolver", "name_or_id"])


@ROUTES.route("/api/v1/skymap", "Return Fink/LSST alerts within a GW skymap")
def _skymap(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.skymap, args, ["credible_level"])


@ROUTES.route("/api/v1/statistics", "Get statistics about Fink and the Rubin alert stream")
def _statistics(backend: Backend, args: Mapping) -> Response:
    return _tabular(backend, models.statistics, args, ["date"], with_limit=False)


@ROUTES.route("/api/v1/tags", "Get latest Rubin alerts by tags", reads_args=False)
def _tags(backend: Backend, args: Mapping) -> Response:
    if request.method in ("GET", "HEAD") and len(request.args) == 0:
        return jsonify(models.tags())  # the tag list, keys sorted
    args = wire.payload()
    return _tabular(backend, models.tag_alerts, args, ["tag"], with_limit=False)


@ROUTES.route("/api/v1/blocks", "Get blocks definition", methods=("GET",), reads_args=False)
def _blocks(backend: Backend, args: Mapping) -> Response:
    return jsonify(models.blocks())


def create_app(store: LsstStore, *, nlimit: int = NLIMIT, ids_as: str = "number",
               strict: bool = False) -> Flask:
    """Build the Flask app serving the emulated Fink/LSST API.

    Parameters
    ----------
    store : LsstStore
        The tables (from `load_store`).
    nlimit : int
        Rows per prefix scan (the server's ``NLIMIT``).
    ids_as : {'number', 'string'}
        How 64-bit IDs (``r:diaObjectId``, ``r:diaSourceId``, ... columns ending in ``Id``) are
        written in JSON and CSV answers: exact JSON numbers (default, as pandas writes them) or
        JSON strings.
    strict : bool
        Let exceptions that are not the server's own 500 propagate (`..wire.set_strict`).

    Returns
    -------
    flask.Flask
        Every route of `ROUTES`, with the server's CORS headers.
    """
    if ids_as not in ("number", "string"):
        raise ValueError(f"ids_as must be 'number' or 'string', not {ids_as!r}")
    app = Flask("fink_lsst_emulator")
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024  # the server's request size limit
    backend = Backend(store, nlimit=nlimit, ids_as=ids_as)
    app.extensions["fink_lsst_backend"] = backend
    wire.add_routes(app, backend, ROUTES, title="Fink/LSST object API")
    wire.add_cors(app)
    wire.set_strict(app, strict)
    return app
