"""The Fink server's HTTP conventions, shared by every emulated route of both surveys.

How arguments are read, how tables are written, and how failures look on the wire, as in
fink-object-api (``apps/utils/utils.py::check_args`` and ``send_tabular_data``, and
flask-restx's error handler). Query semantics never live here: a route module turns a payload
into a `pandas.DataFrame` (or bytes) and hands it to these functions.
"""
from __future__ import annotations

import io
import json
import logging
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

__all__ = ["Route", "ServerError", "add_cors", "add_routes", "bad_request", "payload", "require",
           "restx_error", "send_tabular"]

_log = logging.getLogger("astroquery_fink.testing")
# warnings.catch_warnings is process-global: serialise its use between request threads.
_WARN_LOCK = threading.Lock()
TABULAR_FORMATS = "json, csv, votable, or parquet"


class ServerError(Exception):
    """A failure the real server answers with a status and a body (serialised in one place).

    Parameters
    ----------
    response : flask.Response
        The answer to send, e.g. from `bad_request` or `restx_error`.
    """

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def restx_error(code: int, message: str) -> Response:
    """flask-restx error body: ``json.dumps({"message": ...}) + "\\n"``."""
    return Response(json.dumps({"message": message}) + "\n", code, mimetype="application/json")


def bad_request(text, *, status: str | None = "error") -> Response:
    """The server's 400: ``Response(str(dict), 400)``, a Python repr sent as text/html.

    ``text`` is put in the dict as it is (a str, or an exception object whose repr then shows,
    as the real server does for conesearch's unparsable coordinates).
    """
    rep = {"status": status, "text": text} if status is not None else {"text": text}
    return Response(str(rep), 400)


def require(args: Mapping, names: Iterable[str], doc_url: str) -> None:
    """``check_args``: only the presence of the required keys is checked."""
    for name in names:
        if name not in args:
            raise ServerError(bad_request(f"A value for `{name}` is required. See {doc_url} \n"))


def payload() -> Mapping:
    """GET/POST argument source: the query string first, else the JSON body."""
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


def send_tabular(pdf: pd.DataFrame, output_format) -> Response:
    """``send_tabular_data``: one DataFrame in the four tabular formats, or the server's 400."""
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
            # pandas 2 + pyarrow refuse an index mixing int positions and str row keys:
            # HTTP 500 on the server.
            raise TypeError("parquet: index mixes int and str")
        buf = io.BytesIO()
        pdf.to_parquet(buf)
        return Response(buf.getvalue(), 200, content_type="parquet")
    raise ServerError(bad_request(
        f"Output format `{output_format}` is not supported. Choose among {TABULAR_FORMATS}\n"))


@dataclass(frozen=True)
class Route:
    """One emulated endpoint: routes are data, registered by `add_routes`.

    Parameters
    ----------
    path : str
        URL path, e.g. ``/api/v1/conesearch``.
    handler : callable
        ``handler(backend, args) -> flask.Response``; raises `ServerError` for the server's
        own error answers. Any other exception becomes the server's 500.
    description : str
        Text of the namespace description (a GET without a query string answers it).
    methods : tuple of str
        HTTP methods (the data routes take GET and POST).
    reads_args : bool
        False for routes that take no arguments (``/schema``, ``/classes``): the handler is
        called with an empty mapping even for a GET without query string.
    """

    path: str
    handler: Callable
    description: str
    methods: tuple[str, ...] = ("GET", "POST")
    reads_args: bool = True


def add_routes(app: Flask, backend, routes: Iterable[Route]) -> None:
    """Register ``routes`` on ``app``, each calling its handler with ``backend``."""
    for route in routes:
        app.add_url_rule(route.path, endpoint=route.path, view_func=_view(route, backend),
                         methods=list(route.methods))


def _view(route: Route, backend):
    def view():
        if not route.reads_args:
            args: Mapping = {}
        elif request.method == "GET" and len(request.args) == 0:
            # GET without query string: the namespace description.
            return Response(route.description, 200)
        try:
            if route.reads_args:
                args = payload()
            return route.handler(backend, args)
        except ServerError as exc:
            return exc.response
        except HTTPException as exc:
            return restx_error(exc.code, exc.description)
        except Exception:
            # Uncaught errors go through the restx handler as a bare 500, as on the server;
            # the traceback is logged so that an emulator bug is not mistaken for emulation.
            _log.exception("emulated %s failed (answered 500)", route.path)
            return restx_error(500, "Internal Server Error")

    view.__name__ = route.path.strip("/").replace("/", "_")
    return view


def add_cors(app: Flask) -> None:
    """The server's CORS headers, on every response, errors included."""

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type,Authorization"
        response.headers["Access-Control-Allow-Methods"] = "GET,PUT,POST,DELETE,OPTIONS"
        return response
