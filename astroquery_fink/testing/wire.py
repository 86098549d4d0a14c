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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from flask import Flask, Response, current_app, jsonify, request, send_file
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, UnsupportedMediaType

__all__ = ["STRICT", "Route", "Routes", "ServerError", "ServerFailure", "add_cors", "add_routes",
           "bad_request", "payload", "require", "restx_error", "send_cutout", "send_tabular",
           "server_fails", "set_strict", "text"]

_log = logging.getLogger("astroquery_fink.testing")
# warnings.catch_warnings is process-global: serialise its use between request threads.
_WARN_LOCK = threading.Lock()
TABULAR_FORMATS = "json, csv, votable, or parquet"
#: Flask config key: True makes an unintended exception propagate (see `set_strict`).
STRICT = "FINK_EMULATOR_STRICT"
#: Flask extension key: the unintended exceptions seen in strict mode, in order.
ERRORS = "fink_emulator_errors"


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


class ServerFailure(Exception):
    """The real server fails here: an uncaught exception there, answered as a bare HTTP 500.

    Raise it (or a subclass) wherever the emulator means "the server would answer 500"; any
    other exception in a handler is an emulator bug (see `set_strict`).
    """


@contextmanager
def server_fails(*types: type[BaseException]) -> Iterator[None]:
    """Turn exceptions of ``types`` raised inside into `ServerFailure` (the server's own 500).

    For statements the server runs as they are, e.g. ``int(args["n"])`` on a text that is not a
    number: the same Python error is the server's 500 there.
    """
    try:
        yield
    except HTTPException:
        raise  # e.g. werkzeug's BadRequestKeyError: a 400, not a 500
    except types as exc:
        raise ServerFailure(f"{type(exc).__name__}: {exc}") from exc


def set_strict(app: Flask, strict: bool) -> None:
    """Choose how an app answers an exception that is not a `ServerFailure` (an emulator bug).

    Not strict (default): the server's 500, with the traceback logged. Strict: the exception
    propagates (``app.test_client()`` raises it; on a socket, werkzeug answers 500) and is
    recorded in ``app.extensions["fink_emulator_errors"]``.
    """
    app.config[STRICT] = bool(strict)
    app.config["PROPAGATE_EXCEPTIONS"] = bool(strict) or None
    app.extensions.setdefault(ERRORS, [])


def text(value, what: str = "argument") -> str:
    """An argument the server uses with ``str`` methods (``.replace``, ``.split``, ``in``).

    A JSON number, list or null fails there with AttributeError or TypeError: the server's 500.
    """
    if not isinstance(value, str):
        raise ServerFailure(f"{what}={value!r}: the server calls a str method on it")
    return value


def number(value, kind: type = int):
    """``int(value)`` or ``float(value)`` of an argument, failing as the server does (500)."""
    with server_fails(ValueError, TypeError):
        return kind(value)


def parse_time(value):
    """``astropy.time.Time(value)`` of a date argument; unparsable: the server's 500."""
    from astropy.time import Time

    with server_fails(ValueError, TypeError):
        return Time(value)


def isoify_time(value) -> str:
    """``isoify_time`` of fink-object-api ``apps/utils/utils.py``: ISO, JD or MJD -> ISO text.

    A number above 2400000 is a JD, any other an MJD; anything else is the server's 500.
    """
    from astropy.time import Time

    with server_fails(ValueError, TypeError):
        try:
            return Time(value).iso
        except ValueError:
            f = float(value)
            return (Time(f, format="jd") if f // 2400000 else Time(f, format="mjd")).iso


def sky_coord(ra, dec):
    """Cone-search coordinates as both servers parse them (``conesearch/utils.py``).

    ``h`` in RA: astropy's own parsing; ``:`` or a space: hour angle and degrees; otherwise
    degrees. Unparsable: the server's 400 with the exception's repr as ``text``.
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    if ra is None or dec is None or isinstance(ra, (list, dict)) or isinstance(dec, (list, dict)):
        raise ServerFailure(f"ra={ra!r}, dec={dec!r}: no scalar coordinates")  # SkyCoord fails
    try:
        if "h" in str(ra):
            return SkyCoord(ra, dec, frame="icrs")
        if ":" in str(ra) or " " in str(ra):
            return SkyCoord(ra, dec, frame="icrs", unit=(u.hourangle, u.deg))
        return SkyCoord(ra, dec, frame="icrs", unit="deg")
    except ValueError as exc:
        raise ServerError(bad_request(exc)) from None


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
            raise ServerFailure("parquet: index mixes int and str")
        import pyarrow as pa

        buf = io.BytesIO()
        try:
            pdf.to_parquet(buf)
        except pa.ArrowException as err:
            # a column pyarrow cannot convert, as on the server (same pandas and pyarrow),
            # e.g. booleans cast with astype(str) then replace(): True, False and "nan"
            raise ServerFailure(f"parquet: {err}") from err
        return Response(buf.getvalue(), 200, content_type="parquet")
    raise ServerError(bad_request(
        f"Output format `{output_format}` is not supported. Choose among {TABULAR_FORMATS}\n"))


@dataclass(frozen=True)
class CutoutCodec:
    """How one survey's stamps are found and written by `send_cutout`.

    Parameters
    ----------
    id_name : str
        The required ID argument (``objectId`` or ``diaSourceId``).
    kinds : tuple of str
        The stamp kinds (``Science``, ``Template``, ``Difference``).
    array_key : str
        Key of a kind in the ``array`` answer, e.g. ``b:cutout{}_stampData``.
    find : callable
        ``find(backend, args) -> {kind: stamp} or None`` (None: the empty PNG answer).
    to_array, to_fits : callable
        ``stamp -> 2-D list`` and ``stamp -> FITS bytes``.
    """

    id_name: str
    kinds: tuple[str, ...]
    array_key: str
    find: Callable
    to_array: Callable
    to_fits: Callable


def send_cutout(codec: CutoutCodec, backend, args: Mapping, doc_url: str) -> Response:
    """The ``/api/v1/cutouts`` flow of both surveys (``apps/routes/v1/*/cutouts/utils.py``).

    Required arguments, then the ``kind`` check (an ``assert`` in apps/routes/v1/*/cutouts/
    api.py: 500), then ``kind=All`` and ``output-format`` (400s), then the stamp lookup.
    """
    from ._plotting import render_png

    require(args, [codec.id_name, "kind"], doc_url)
    kind = args["kind"]
    if kind not in (*codec.kinds, "All"):
        raise ServerFailure(f"bad kind {kind!r}")
    output_format = args.get("output-format", "PNG")
    if kind == "All":
        with server_fails(KeyError):  # args["output-format"] without the key: 500
            if args["output-format"] != "array":
                raise ServerError(bad_request(
                    "The option `kind=All` is only compatible with `output-format=array`.\n"))
    filename = f"{args[codec.id_name]}_{kind}"
    if output_format == "PNG":
        filename += ".png"
    elif output_format == "FITS":
        filename += ".fits"
    elif output_format != "array":
        raise ServerError(bad_request("output-format must be one of: PNG, FITS, or array.\n"))
    stamps = codec.find(backend, args)
    if stamps is None:
        # Nothing found: an empty PNG attachment with status 200, whatever the format.
        return send_file(io.BytesIO(), mimetype="image/png", as_attachment=True,
                         download_name=filename)
    if output_format == "array":
        kinds = codec.kinds if kind == "All" else (kind,)
        # jsonify: sorted keys, NaN as the bare token NaN
        return jsonify({codec.array_key.format(k): codec.to_array(stamps[k]) for k in kinds})
    if output_format == "FITS":
        body, mimetype = codec.to_fits(stamps[kind]), "application/octet-stream"
    else:
        body, mimetype = render_png(codec.to_array(stamps[kind]), args), "image/png"
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=filename)


@dataclass(frozen=True)
class Route:
    """One emulated endpoint: routes are data (declared with `Routes`), registered by `add_routes`.

    Parameters
    ----------
    path : str
        URL path, e.g. ``/api/v1/conesearch``.
    handler : callable
        ``handler(backend, args) -> flask.Response``; raises `ServerError` for the server's
        own error answers and `ServerFailure` for its 500s. Any other exception is an
        emulator bug: a logged 500, or raised in strict mode (`set_strict`).
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


class Routes(list):
    """The routes of one emulator module, each declared above its handler.

    ``@ROUTES.route(path, description, **options)`` appends a `Route` (``options`` are its
    ``methods`` and ``reads_args``), as flask-restx's ``@ns.route`` does on the server: a
    route's path and description sit next to the code that answers it.
    """

    def route(self, path: str, description: str, **options) -> Callable:
        """Decorator declaring ``handler`` as the route at ``path``."""
        def declare(handler: Callable) -> Callable:
            self.append(Route(path, handler, description, **options))
            return handler
        return declare


def add_routes(app: Flask, backend, routes: Iterable[Route], title: str = "Fink object API",
               ) -> None:
    """Register ``routes`` on ``app``, each calling its handler with ``backend``.

    Every route takes GET and POST: a method the resource does not define gets flask-restx's
    JSON 405 (not werkzeug's HTML page). ``GET /`` and ``GET /swagger.json`` answer a minimal
    page and OpenAPI 2.0 document listing the routes (flask-restx serves Swagger UI there).
    """
    routes = list(routes)
    for route in routes:
        # every method reaches the view, which answers restx's JSON 405 for those the
        # resource does not define (werkzeug's would be an HTML page)
        app.add_url_rule(route.path, endpoint=route.path, view_func=_view(route, backend),
                         methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                         provide_automatic_options=False)

    @app.after_request
    def no_store(response: Response) -> Response:
        # Not a header of the real server: an emulator's data differ from one start to the
        # next on the same URL, so no cache (HTTP's or a client's) may keep its answers.
        response.headers["Cache-Control"] = "no-store"
        return response
    spec = _swagger(routes, title)
    app.add_url_rule("/swagger.json", endpoint="swagger", view_func=lambda: jsonify(spec))
    page = (f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f'<a href="swagger.json">{title}</a></body></html>')
    app.add_url_rule("/", endpoint="swagger_ui", view_func=lambda: Response(page, 200))


def _swagger(routes: list[Route], title: str) -> dict:
    """A minimal OpenAPI 2.0 document: one path per route, its methods and namespace."""
    paths = {}
    for route in routes:
        tag = route.path.strip("/")
        paths[route.path] = {m.lower(): {"tags": [tag], "summary": route.description,
                                         "responses": {"200": {"description": "Success"}}}
                             for m in route.methods}
    return {"swagger": "2.0", "basePath": "/", "info": {"title": title, "version": "emulated"},
            "produces": ["application/json"], "consumes": ["application/json"],
            "tags": [{"name": r.path.strip("/"), "description": r.description} for r in routes],
            "paths": paths}


def _view(route: Route, backend):
    allow = ", ".join(sorted({*route.methods, "HEAD", "OPTIONS"}))

    def view():
        if request.method == "OPTIONS":  # flask's own answer, for the resource's methods
            return Response("", 200, headers={"Allow": allow})
        # flask-restx answers HEAD with the resource's get (resource.py, dispatch_request);
        # werkzeug leaves the body out
        method = "GET" if request.method == "HEAD" else request.method
        if method not in route.methods:
            # no such method on the restx resource
            exc = MethodNotAllowed(valid_methods=list(route.methods))
            response = restx_error(exc.code, exc.description)
            response.headers["Allow"] = allow
            return response
        if not route.reads_args:
            args: Mapping = {}
        elif method == "GET" and len(request.args) == 0:
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
        except ServerFailure as exc:
            # Where the server fails: the restx handler's bare 500, as there.
            _log.debug("emulated %s: the server's 500 (%s)", route.path, exc)
            return restx_error(500, "Internal Server Error")
        except Exception as exc:
            # Not meant: an emulator bug. Strict mode lets it propagate; otherwise the server's
            # bare 500, with the traceback logged so that it is not mistaken for emulation.
            if current_app.config.get(STRICT):
                current_app.extensions.setdefault(ERRORS, []).append(exc)
                raise
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
