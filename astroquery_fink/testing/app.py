"""Thin Flask layer: argument handling and serialisation exactly as the Fink ZTF server.

Query semantics live in `engine`; this module only reproduces the HTTP conventions of
FINK_API.md sections 0, 1.3, 5 and 6.
"""
from __future__ import annotations

import io
import json
import threading
import warnings
from importlib import resources

import numpy as np
import pandas as pd
from flask import Flask, Response, jsonify, request, send_file
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from .engine import Engine

__all__ = ["create_app"]

# Static schema data shared with the client (not its code): the package's copy of the answer.
_SCHEMA_FILE = resources.files("astroquery_fink").joinpath("data/api_v1_schema.json")
_DOC_URL = "https://api.ztf.fink-portal.org"
_OBJECTS_DESC = "Get object data based on ZTF ID"
_CUTOUTS_DESC = "Get cutout data based on ZTF ID"
_SCHEMA_DESC = "Get the data schema"
# warnings.catch_warnings is process-global: serialise its use between request threads.
_WARN_LOCK = threading.Lock()


def _restx_error(code: int, message: str) -> Response:
    """flask-restx error body: ``json.dumps({"message": ...}) + "\\n"`` (section 0)."""
    return Response(json.dumps({"message": message}) + "\n", code, mimetype="application/json")


def _text_400(rep: dict) -> Response:
    """400 answers are ``Response(str(dict), 400)``: a Python repr as text/html (section 0)."""
    return Response(str(rep), 400)


def _missing(payload, names) -> Response | None:
    """``check_args``: only the presence of required keys is checked (section 0 item 4)."""
    for name in names:
        if name not in payload:
            return _text_400({
                "status": "error",
                "text": f"A value for `{name}` is required. See {_DOC_URL} \n",
            })
    return None


def _payload():
    """GET/POST argument source (section 0 item 3): query string first, else JSON body."""
    if len(request.args) > 0:
        return request.args
    if not request.is_json:
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request Content-Type was not "
            "'application/json'."
        )
    try:
        return json.loads(request.get_data(as_text=True))
    except ValueError:
        raise BadRequest() from None


def _send_tabular(pdf: pd.DataFrame, output_format) -> Response:
    """``send_tabular_data`` (section 1.3)."""
    if output_format == "json":
        return Response(pdf.to_json(orient="records"), 200, content_type="application/json")
    if output_format == "csv":
        return Response(pdf.to_csv(index=False), 200, content_type="application/csv")
    if output_format == "votable":
        from astropy.io import votable
        from astropy.table import Table

        buf = io.BytesIO()
        with _WARN_LOCK, warnings.catch_warnings():
            # W03 (ID sanitised from 'i:jd' to 'i_jd') and friends, as on the server.
            warnings.simplefilter("ignore")
            votable.writeto(votable.from_table(Table.from_pandas(pdf)), buf)
        return Response(buf.getvalue(), 200, content_type="text/xml")
    if output_format == "parquet":
        if pdf.index.inferred_type in ("mixed", "mixed-integer"):
            # pandas 2 + pyarrow refuse an index mixing int positions (valid rows) and str
            # row keys (withupperlim rows): HTTP 500 on the server (section 1.3, parquet).
            raise TypeError("parquet: index mixes int and str")
        buf = io.BytesIO()
        pdf.to_parquet(buf)
        return Response(buf.getvalue(), 200, content_type="parquet")
    return _text_400({
        "status": "error",
        "text": f"Output format `{output_format}` is not supported. Choose among json, csv, "
                "votable, or parquet\n",
    })


def _objects(engine: Engine, payload) -> Response:
    missing = _missing(payload, ["objectId"])
    if missing is not None:
        return missing
    columns = payload.get("columns", None)
    pdf = engine.objects(
        payload["objectId"],
        columns=columns,
        # exact-"True" rule (section 1.1)
        withupperlim="withupperlim" in payload and str(payload["withupperlim"]) == "True",
        withcutouts="withcutouts" in payload and str(payload["withcutouts"]) == "True",
        cutout_kind=payload.get("cutout-kind", "All"),
    )
    # The format is checked only now, after the query (section 1.2 step 5).
    return _send_tabular(pdf, payload.get("output-format", "json"))


def _png(array: list, payload) -> bytes:
    """PNG rendering of ``/cutouts`` (section 5)."""
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
    missing = _missing(payload, ["objectId", "kind"])
    if missing is not None:
        return missing
    kind = payload["kind"]
    if kind not in ("Science", "Template", "Difference", "All"):
        raise ValueError("bad kind")  # an `assert` on the server -> 500 (section 5)
    output_format = payload.get("output-format", "PNG")
    # payload["output-format"] raises KeyError for kind=All without it -> 500 (section 5)
    if kind == "All" and payload["output-format"] != "array":
        return _text_400({
            "status": "error",
            "text": "The option `kind=All` is only compatible with `output-format=array`.\n",
        })
    filename = f"{payload['objectId']}_{kind}"
    if output_format == "PNG":
        filename += ".png"
    elif output_format == "FITS":
        filename += ".fits"
    elif output_format != "array":
        return _text_400({
            "status": "error", "text": "output-format must be one of: PNG, FITS, or array.\n"
        })
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


def create_app(engine: Engine) -> Flask:
    """Build the Flask app serving the emulated Fink ZTF API.

    Parameters
    ----------
    engine : Engine
        The query engine over the loaded alerts.

    Returns
    -------
    flask.Flask
        Routes ``/api/v1/objects``, ``/api/v1/cutouts`` (GET, POST) and ``/api/v1/schema``.
    """
    app = Flask("fink_emulator")
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024  # section 0
    app.extensions["fink_engine"] = engine

    def endpoint(handler, description):
        def view():
            # GET without query string: the namespace description (section 0 item 1).
            if request.method == "GET" and len(request.args) == 0:
                return Response(description, 200)
            try:
                return handler(engine, _payload())
            except HTTPException as exc:
                return _restx_error(exc.code, exc.description)
            except Exception:
                # Uncaught errors go through the restx handler (section 0 item 6).
                return _restx_error(500, "Internal Server Error")

        view.__name__ = handler.__name__.lstrip("_")
        return view

    app.add_url_rule("/api/v1/objects", view_func=endpoint(_objects, _OBJECTS_DESC),
                     methods=["GET", "POST"])
    app.add_url_rule("/api/v1/cutouts", view_func=endpoint(_cutouts, _CUTOUTS_DESC),
                     methods=["GET", "POST"])

    schema_text: list[str] = []

    @app.get("/api/v1/schema")
    def schema():
        # Static copy of the reference file, re-dumped by flask.json (sorted keys, section 4).
        if not schema_text:
            from flask import json as flask_json

            with _SCHEMA_FILE.open(encoding="utf-8") as fh:
                schema_text.append(flask_json.dumps(json.load(fh)))
        return Response(schema_text[0], 200, content_type="application/json")

    schema.__doc__ = _SCHEMA_DESC

    @app.after_request
    def cors(response: Response) -> Response:
        # On every response, errors included (section 0, CORS).
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type,Authorization"
        response.headers["Access-Control-Allow-Methods"] = "GET,PUT,POST,DELETE,OPTIONS"
        return response

    return app
