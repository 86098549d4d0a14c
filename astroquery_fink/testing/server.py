"""`FinkEmulator`: load alert files and serve the emulated API on a local port."""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from .app import create_app
from .engine import NLIMIT, Engine
from .store import AlertStore, bundled_data_files, read_alert_files

__all__ = ["FinkEmulator"]

PathArg = str | os.PathLike | Sequence[str | os.PathLike] | None


class FinkEmulator:
    """An offline Fink ZTF REST API serving alerts read from files.

    Parameters
    ----------
    data : path-like, list of path-like, or None
        Alert files (Fink parquet, raw ZTF avro) or directories. None serves the bundled
        sample (`bundled_data_files`).
    host : str
        Interface to bind (keep the default loopback).
    port : int
        Port to bind; 0 picks a free one (see `url` after `start`).
    nlimit : int
        Rows per scan, per ID and per table (the server's ``NLIMIT``, default 10 000).

    Raises
    ------
    AlertFileError
        If a path is missing or is not an alert file.

    Examples
    --------
    >>> with FinkEmulator() as emu:  # doctest: +SKIP
    ...     requests.post(emu.url + "/api/v1/objects", json={"objectId": "ZTF20abfcszi"})
    """

    def __init__(self, data: PathArg = None, *, host: str = "127.0.0.1", port: int = 0,
                 nlimit: int = NLIMIT):
        if data is None:
            paths = bundled_data_files()
        elif isinstance(data, (str, os.PathLike)):
            paths = [data]
        else:
            paths = list(data)
        self.store = AlertStore(read_alert_files(paths))
        self.engine = Engine(self.store, nlimit=nlimit)
        #: The Flask application (usable with ``app.test_client()`` without `start`).
        self.app = create_app(self.engine)
        self.host = host
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
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (valid after `start`)."""
        if self._server is None:
            raise RuntimeError("FinkEmulator is not started; call start() first")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> FinkEmulator:
        """Bind the port and serve in a daemon thread; ready when this returns.

        Returns
        -------
        FinkEmulator
            ``self``.
        """
        if self._server is not None:
            return self
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="fink-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until interrupted (used by the CLI)."""
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self.app, threaded=True)
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
