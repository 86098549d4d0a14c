"""Thin Flask layer: argument handling and serialisation exactly as the Fink ZTF server.

Query semantics live in `engine`; this module only reproduces the HTTP conventions of
fink-object-api ``apps/routes/v1/ztf/{objects,cutouts,schema}/api.py`` and
``apps/utils/utils.py``.
"""
from __future__ import annotations

import io
import json
from functools import cache
from importlib import resources

import numpy as np
from flask import Flask, Response, jsonify, send_file

from . import ztf_search, ztf_solar
from .engine import Engine
from .wire import Route, ServerError, add_cors, add_routes, bad_request, require, send_tabular

__all__ = ["create_app"]

# Static schema data shared with the client (not its code): the package's copy of the answer.
_SCHEMA_FILE = resources.files("astroquery_fink").joinpath("data/api_v1_schema.json")
_DOC_URL = "https://api.ztf.fink-portal.org"
_OBJECTS_DESC = "Get object data based on ZTF ID"
_CUTOUTS_DESC = "Get cutout data based on ZTF ID"
_SCHEMA_DESC = "Get the data schema"


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


def _png(array: list, payload) -> bytes:
    """PNG rendering of ``/cutouts`` (cutouts/utils.py)."""
    from PIL import Image

    from ._plotting import convolve, legacy_normalizer, sigmoid_normalizer

    data = np.nan_to_num(np.array(array, dtype=float))
    stretch = payload.get("stretch", "sigmoid")
    with np.errstate(all="ignore"):
        if stretch == "sigmoid":
            data = sigmoid_normalizer(data, 0, 1)
        elif stretch is not None:
            data = legacy_normalizer(data, stretch=stretch)
        if "convolution_kernel" in payload:
            if payload["convolution_kernel"] not in ("gauss", "box"):
                raise ValueError("convolution_kernel must be gauss or box")  # assert -> 500
            data = convolve(data, smooth=1, kernel=payload["convolution_kernel"])
        if "colormap" in payload:
            from matplotlib import colormaps

            data = colormaps[payload["colormap"]](data)  # unknown name -> 500
        image = np.uint8(data * 255)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _cutouts(engine: Engine, payload) -> Response:
    require(payload, ["objectId", "kind"], _DOC_URL)
    kind = payload["kind"]
    if kind not in ("Science", "Template", "Difference", "All"):
        raise ValueError("bad kind")  # an `assert` on the server -> 500 (cutouts/utils.py)
    output_format = payload.get("output-format", "PNG")
    # payload["output-format"] raises KeyError for kind=All without it -> 500 (cutouts/utils.py)
    if kind == "All" and payload["output-format"] != "array":
        raise ServerError(bad_request(
            "The option `kind=All` is only compatible with `output-format=array`.\n"))
    filename = f"{payload['objectId']}_{kind}"
    if output_format == "PNG":
        filename += ".png"
    elif output_format == "FITS":
        filename += ".fits"
    elif output_format != "array":
        raise ServerError(bad_request("output-format must be one of: PNG, FITS, or array.\n"))
    alert = engine.find_cutout(payload["objectId"], payload.get("candid"))
    if output_format == "array":
        return jsonify(engine.cutout_arrays(alert, kind))  # sorted keys, bare NaN tokens
    if output_format == "FITS":
        return send_file(io.BytesIO(engine.cutout_fits(alert, kind)),
                         mimetype="application/octet-stream", as_attachment=True,
                         download_name=filename)
    png = _png(engine.cutout_arrays(alert, kind)[f"b:cutout{kind}_stampData"], payload)
    return send_file(io.BytesIO(png), mimetype="image/png", as_attachment=True,
                     download_name=filename)


def _schema(engine: Engine, payload) -> Response:
    # Static copy of the reference file, re-dumped by flask.json (sorted keys).
    return Response(_schema_text(), 200, content_type="application/json")


@cache
def _schema_text() -> str:
    from flask import json as flask_json

    with _SCHEMA_FILE.open(encoding="utf-8") as fh:
        return flask_json.dumps(json.load(fh))


#: The ZTF routes; each further endpoint module adds its own list in `create_app`.
ROUTES = [
    Route("/api/v1/objects", _objects, _OBJECTS_DESC),
    Route("/api/v1/cutouts", _cutouts, _CUTOUTS_DESC),
    Route("/api/v1/schema", _schema, _SCHEMA_DESC, methods=("GET",), reads_args=False),
]


def create_app(engine: Engine) -> Flask:
    """Build the Flask app serving the emulated Fink ZTF API.

    Parameters
    ----------
    engine : Engine
        The query engine over the loaded alerts.

    Returns
    -------
    flask.Flask
        Every route of `ROUTES` (and of the endpoint modules), with the server's CORS headers.
    """
    app = Flask("fink_emulator")
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024  # the server's request size limit
    app.extensions["fink_engine"] = engine
    add_routes(app, engine, [*ROUTES, *ztf_search.ROUTES, *ztf_solar.ROUTES])
    add_cors(app)
    return app
