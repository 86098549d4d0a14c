"""`FinkEmulator`: load alert files and serve the emulated API on a local port."""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections import Counter
from collections.abc import Sequence

from werkzeug.serving import WSGIRequestHandler

from .app import create_app
from .engine import NLIMIT, Engine
from .faults import FaultInjector, Faults
from .store import AlertStore, bundled_data_files, read_alert_files
from .wire import ERRORS

__all__ = ["FinkEmulator"]

PathArg = str | os.PathLike | Sequence[str | os.PathLike] | None


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log each request (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        pass


class FinkEmulator:
    """An offline Fink ZTF REST API serving alerts read from files.

    Parameters
    ----------
    data : path-like, list of path-like, or None
        Alert files (Fink parquet, raw ZTF avro) or directories. None serves the bundled
        sample (`bundled_data_files`).
    host : str
        Interface to bind (keep the default loopback); an IPv6 address with or without
        brackets (``::1`` or ``[::1]``).
    port : int
        Port to bind; 0 picks a free one (see `url` after `start`).
    nlimit : int
        Rows per scan, per ID and per table (the server's ``NLIMIT``, default 10 000).
    faults : Faults, optional
        Faults to inject into the ``/api/v1/*`` answers served on the socket (default none);
        see `faults`.
    quiet : bool
        Do not log one line per request (default True: benchmarks send thousands).
    survey : {'ztf', 'lsst'}
        Which Fink API to emulate: ZTF (``https://api.ztf.fink-portal.org``, the default) or
        Rubin/LSST (``https://api.lsst.fink-portal.org``); ``data`` must then hold alert files
        of that survey.
    ids_as : {'number', 'string'}
        Rubin only: write the 64-bit IDs as JSON numbers (as pandas does, the default) or as
        JSON strings (the Rubin server's choice is not documented; test your code with both).
    strict : bool
        False (default): every exception in a route answers the server's 500 (an emulator bug
        also logs its traceback). True: only where the real server fails; any other exception
        propagates (``app.test_client()`` raises it; on the socket werkzeug answers 500) and is
        kept in `unexpected_errors`. For the emulator's own tests.

    Raises
    ------
    AlertFileError
        If a path is missing or is not an alert file.

    Examples
    --------
    >>> import requests
    >>> with FinkEmulator() as emu:
    ...     answer = requests.post(emu.url + "/api/v1/objects",
    ...                            json={"objectId": "ZTF20abfcszi", "columns": "i:jd"})
    >>> answer.status_code, len(answer.json())
    (200, 21)

    A server that fails one request in ten with 503 and delays every answer by 50 ms:

    >>> from astroquery_fink.testing import Faults
    >>> emu = FinkEmulator(faults=Faults(error_rate=0.1, error_statuses=[503], latency=0.05))
    """

    def __init__(self, data: PathArg = None, *, host: str = "127.0.0.1", port: int = 0,
                 nlimit: int = NLIMIT, faults: Faults | None = None, quiet: bool = True,
                 survey: str = "ztf", ids_as: str = "number", strict: bool = False):
        if isinstance(data, (str, os.PathLike)):
            data = [data]
        elif data is not None:
            data = list(data)
        if survey == "ztf":
            self.store = AlertStore(read_alert_files(data or bundled_data_files()))
            self.engine = Engine(self.store, nlimit=nlimit)
            app = create_app(self.engine, strict=strict)
        elif survey == "lsst":
            from . import lsst  # pandas-heavy: only when asked for

            self.store = lsst.load_store(data)
            self.engine = None
            app = lsst.create_app(self.store, nlimit=nlimit, ids_as=ids_as, strict=strict)
        else:
            raise ValueError(f"survey must be 'ztf' or 'lsst', not {survey!r}")
        self.survey = survey
        self.strict = bool(strict)
        #: The Flask application (usable with ``app.test_client()`` without `start`).
        self.app = app
        # The fault layer wraps the app only on the socket, as a separate WSGI middleware.
        self._injector = FaultInjector(self.app, faults)
        self.quiet = quiet
        # "[::1]", as written in URLs, is the interface ::1
        self.host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def object_ids(self) -> list[str]:
        """Sorted objectIds loaded."""
        return list(self.store.object_ids)

    @property
    def n_alerts(self) -> int:
        """Number of alert rows loaded (one per objectId_jd)."""
        return self.store.n_alerts

    @property
    def unexpected_errors(self) -> list[BaseException]:
        """Exceptions raised by emulator bugs in strict mode (oldest first; clear it at will)."""
        return self.app.extensions[ERRORS]

    @property
    def faults(self) -> Faults:
        """The faults injected (`Faults`); can be replaced while serving.

        Setting it (None means ``Faults()``, no faults) restarts the draws: each request counts
        as first seen again, and `fault_log` is emptied.
        """
        return self._injector.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._injector.faults = faults

    @property
    def fault_log(self) -> Counter:
        """What was injected since `faults` was set: kind -> count.

        Kinds: ``latency``, ``error``, ``429``, ``drop``, ``truncate``, ``html``, ``slow_body``,
        ``fail_ids`` (see `Faults`).
        """
        return self._injector.log

    def _make_server(self):
        from werkzeug.serving import make_server

        handler = _QuietHandler if self.quiet else None
        said = io.StringIO()
        try:
            # werkzeug prints why it cannot listen (address in use, unknown host) to
            # stderr, then exits the process (werkzeug/serving.py BaseWSGIServer)
            with contextlib.redirect_stderr(said):
                server = make_server(self.host, self.port, self._injector, threaded=True,
                                     request_handler=handler)
        except SystemExit:
            words = " ".join(said.getvalue().split()) or "the address cannot be bound"
            raise OSError(f"cannot listen on {self.host} port {self.port}: {words}") from None
        sys.stderr.write(said.getvalue())  # anything else printed meanwhile
        return server

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``, or ``http://[::1]:54321`` for an IPv6
        host (valid after `start`)."""
        if self._server is None:
            raise RuntimeError("FinkEmulator is not started; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host  # RFC 3986 IP-literal
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> FinkEmulator:
        """Bind the port and serve in a daemon thread; ready when this returns.

        Returns
        -------
        FinkEmulator
            ``self``.
        """
        if self._server is not None:
            return self
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="fink-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, ready=None) -> None:
        """Bind and serve in the calling thread until interrupted (used by the CLI).

        Parameters
        ----------
        ready : callable, optional
            Called with no argument once the port is bound (`url` then gives the real port,
            also when ``port=0`` asked for any free one).
        """
        self._server = self._make_server()
        if ready is not None:
            ready()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> FinkEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        return (f"<FinkEmulator {len(self.store.object_ids)} objects, "
                f"{self.store.n_alerts} alerts, {where}>")
