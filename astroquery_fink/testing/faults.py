"""Fault injection: make the emulated API misbehave on purpose, reproducibly.

A separate, explicit layer (the moto shape): `FaultInjector` is WSGI middleware wrapped around the
Flask app by `FinkEmulator`; the store, the engine and the app know nothing of it. Only
``/api/v1/*`` requests are touched, and only over the socket (``app.test_client()`` calls the
app directly and sees no faults).

Reproducibility does not depend on thread scheduling: the fault of a request is drawn from a hash
of ``(seed, method, path, query string, body, n)`` where ``n`` counts the earlier arrivals of that
exact request. A retried request therefore gets a fresh draw, and a run with the same seed and the
same requests sees the same faults whatever the number of concurrent clients.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs

__all__ = ["Faults", "FaultInjector", "FAULT_KINDS"]

#: Keys of the fault log, one per kind of injected fault.
FAULT_KINDS = ("latency", "error", "429", "drop", "truncate", "html", "slow_body", "fail_ids")

_HTML_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_SLOW_CHUNKS = 20  # pieces a slow body is dribbled in


def _rate(name: str, value) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Faults({name}={value!r}): a rate is a fraction between 0 and 1")
    return value


def _seconds(name: str, value) -> float:
    value = float(value)
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"Faults({name}={value!r}): seconds must be >= 0")
    return value


@dataclass(frozen=True)
class Faults:
    """What the emulator does wrong, and how often (all off by default).

    Every rate is the probability that one ``/api/v1/*`` request gets that fault; the kinds
    ``error``, ``429``, ``drop``, ``truncate`` and ``html`` exclude each other (their rates may
    not add up to more than 1). ``latency``, ``latency_per_id`` and ``slow_body`` apply to every
    request.

    Parameters
    ----------
    latency : float
        Seconds slept in the server before handling each request.
    latency_per_id : float
        Seconds slept in the server for each requested object ID (the comma-separated
        ``objectId`` values, ``diaObjectId`` on Rubin), added to ``latency``: a server whose
        work grows with the IDs asked for, as Fink's does (one table scan per ID).
    error_rate : float
        Fraction answered with an HTTP error drawn uniformly from ``error_statuses``, with a
        JSON body ``{"message": "<reason>"}`` as flask-restx writes it.
    error_statuses : sequence of int
        Statuses of those errors, standard 5xx ones (default 502, 503, 504).
    rate_429 : float
        Fraction answered ``429 Too Many Requests`` with ``Retry-After: <retry_after>``.
    retry_after : int
        Seconds announced in ``Retry-After`` (>= 0).
    drop_rate : float
        Fraction where the connection is closed without any answer (the client sees the remote
        end disconnect).
    truncate_rate : float
        Fraction of the 200 answers cut short: the full ``Content-Length`` is declared, part of
        the body is sent, then the connection is closed. Other answers are left whole.
    html_rate : float
        Fraction answered with a proxy's HTML error page (``text/html``), status drawn from
        ``error_statuses``.
    slow_body : float
        Seconds over which each answer's body is dribbled, in 20 chunks (the headers come first).
    fail_ids : iterable of str
        Object IDs whose requests always fail with HTTP 500 (a permanent failure): a request
        fails when one of the comma-separated ``objectId`` (Rubin: ``diaObjectId``) values
        is listed.
    seed : int
        Seed of the draws. The same seed and the same requests give the same faults.

    Raises
    ------
    ValueError
        If a rate is outside [0, 1], the exclusive rates add up to more than 1, a duration is
        negative, or a status is not 5xx.

    Examples
    --------
    >>> from astroquery_fink.testing import FinkEmulator, Faults
    >>> emu = FinkEmulator(faults=Faults(error_rate=0.2, rate_429=0.1, seed=1))
    >>> emu.faults = Faults()  # from now on, no fault
    """

    latency: float = 0.0
    latency_per_id: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (502, 503, 504)
    rate_429: float = 0.0
    retry_after: int = 1
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    html_rate: float = 0.0
    slow_body: float = 0.0
    fail_ids: frozenset[str] = field(default=frozenset())
    seed: int = 0

    def __post_init__(self):
        put = object.__setattr__
        for name in ("error_rate", "rate_429", "drop_rate", "truncate_rate", "html_rate"):
            put(self, name, _rate(name, getattr(self, name)))
        total = sum(self._exclusive())
        if total > 1.0 + 1e-12:
            raise ValueError(
                f"Faults: error_rate + rate_429 + drop_rate + truncate_rate + html_rate = "
                f"{total:g} > 1; these faults exclude each other")
        put(self, "latency", _seconds("latency", self.latency))
        put(self, "latency_per_id", _seconds("latency_per_id", self.latency_per_id))
        put(self, "slow_body", _seconds("slow_body", self.slow_body))
        if int(self.retry_after) != self.retry_after or self.retry_after < 0:
            raise ValueError(f"Faults(retry_after={self.retry_after!r}): whole seconds >= 0")
        put(self, "retry_after", int(self.retry_after))
        statuses = tuple(int(s) for s in self.error_statuses)
        known = {int(s) for s in HTTPStatus}
        if not statuses or any(not 500 <= s <= 599 or s not in known for s in statuses):
            raise ValueError(f"Faults(error_statuses={self.error_statuses!r}): give one or "
                             "more standard 5xx statuses (500, 502, 503, 504, ...)")
        put(self, "error_statuses", statuses)
        if isinstance(self.fail_ids, str):
            raise TypeError("Faults(fail_ids=...): give a list of object IDs, not one string")
        put(self, "fail_ids", frozenset(str(i) for i in self.fail_ids))
        put(self, "seed", int(self.seed))

    def _exclusive(self) -> tuple[float, ...]:
        return (self.error_rate, self.rate_429, self.drop_rate, self.truncate_rate,
                self.html_rate)

    @property
    def active(self) -> bool:
        """Whether any fault is set (``Faults()`` is not)."""
        return bool(self.latency or self.latency_per_id or self.slow_body or self.fail_ids
                    or any(self._exclusive()))

    def decide(self, method: str, path: str, query: str, body: bytes, n: int
               ) -> tuple[str | None, int, float]:
        """The fault of one request, independently of every other request.

        Parameters
        ----------
        method, path, query : str
            HTTP method, path and raw query string of the request.
        body : bytes
            Request body.
        n : int
            How many times this exact request arrived before (0 for the first time).

        Returns
        -------
        kind : str or None
            ``"error"``, ``"429"``, ``"drop"``, ``"truncate"``, ``"html"`` or None.
        status : int
            Status for ``error`` and ``html`` (one of ``error_statuses``).
        cut : float
            For ``truncate``: fraction of the body sent, in [0, 1).
        """
        h = hashlib.blake2b(digest_size=24)
        for part in (str(self.seed), method, path, query):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        h.update(len(body).to_bytes(8, "little") + body + n.to_bytes(8, "little"))
        digest = h.digest()
        u, v, w = (int.from_bytes(digest[i:i + 8], "little") / 2.0**64 for i in (0, 8, 16))
        status = self.error_statuses[int(v * len(self.error_statuses))]
        edge = 0.0
        for kind, rate in zip(("error", "429", "drop", "truncate", "html"), self._exclusive(),
                              strict=True):
            edge += rate
            if u < edge:
                return kind, status, w
        return None, status, w


#: The arguments naming the objects of a request: ZTF's, and Rubin's.
_ID_ARGUMENTS = ("objectId", "diaObjectId")


def _object_ids(query: str, body: bytes) -> set[str]:
    """The object IDs of a request (``objectId``, or Rubin's ``diaObjectId``, in the query
    string or the JSON body), split on commas."""
    arguments = parse_qs(query)
    values: list = [v for name in _ID_ARGUMENTS for v in arguments.get(name, [])]
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            values += [payload[name] for name in _ID_ARGUMENTS if name in payload]
    return {part.strip() for v in values for part in str(v).split(",")}


def _message(code: int, headers: Iterable[tuple[str, str]] = ()):
    body = (json.dumps({"message": HTTPStatus(code).phrase}) + "\n").encode()
    return code, [("Content-Type", "application/json"), *headers], body


class _Run:
    """State of one `Faults` setting: the faults, arrival counts and the log."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self.seen: Counter = Counter()
        self.log: Counter = Counter()
        self.lock = threading.Lock()

    def arrival(self, key: tuple) -> int:
        with self.lock:
            n = self.seen[key]
            self.seen[key] = n + 1
        return n

    def record(self, kind: str) -> None:
        with self.lock:
            self.log[kind] += 1


class FaultInjector:
    """WSGI middleware applying a `Faults` to the ``/api/v1/*`` requests of an app.

    Parameters
    ----------
    app : WSGI application
        The app answering the requests that are not faulted.
    faults : Faults, optional
        The faults to inject (default none).

    Notes
    -----
    ``drop`` and ``truncate`` act on the connection, so they need a werkzeug server (the
    ``werkzeug.socket`` environ key); `FinkEmulator` serves through one.
    """

    def __init__(self, app, faults: Faults | None = None):
        self.app = app
        self._run = _Run(Faults() if faults is None else faults)

    @property
    def faults(self) -> Faults:
        """The faults injected; setting it starts afresh (new arrival counts, empty log)."""
        return self._run.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        if faults is None:
            faults = Faults()
        if not isinstance(faults, Faults):
            raise TypeError(f"faults must be a Faults instance, not {type(faults).__name__}")
        self._run = _Run(faults)

    @property
    def log(self) -> Counter:
        """Faults injected since `faults` was set: kind (see `FAULT_KINDS`) -> count."""
        return self._run.log

    def __call__(self, environ, start_response):
        run = self._run  # one consistent setting for the whole request
        faults = run.faults
        path = environ.get("PATH_INFO", "")
        if not faults.active or not path.startswith("/api/v1/"):
            return self.app(environ, start_response)

        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        method, query = environ.get("REQUEST_METHOD", "GET"), environ.get("QUERY_STRING", "")
        n = run.arrival((method, path, query, body))
        if faults.latency or faults.latency_per_id:
            run.record("latency")
            per_id = faults.latency_per_id * len(_object_ids(query, body) - {""})
            time.sleep(faults.latency + per_id)

        cut = None
        if faults.fail_ids and faults.fail_ids & _object_ids(query, body):
            run.record("fail_ids")
            code, headers, payload = _message(500)
        else:
            kind, status, fraction = faults.decide(method, path, query, body, n)
            if kind == "drop":
                run.record("drop")
                _drop(environ)
            if kind == "error":
                code, headers, payload = _message(status)
            elif kind == "429":
                code, headers, payload = _message(429, [("Retry-After", str(faults.retry_after))])
            elif kind == "html":
                reason = HTTPStatus(status).phrase
                code, payload = status, _HTML_PAGE.format(code=status, reason=reason).encode()
                headers = [("Content-Type", "text/html")]
            else:
                code, headers, payload = _call(self.app, environ)
                if kind == "truncate" and code == 200 and payload:
                    cut = int(fraction * len(payload))
                else:
                    kind = None
            if kind is not None:
                run.record(kind)

        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{code} {HTTPStatus(code).phrase}", headers)
        if cut is not None:
            payload = payload[:cut]  # then the connection closes: fewer bytes than declared
        if faults.slow_body and payload:
            run.record("slow_body")
            return _dribble(payload, faults.slow_body)
        return [payload]


def _read_body(environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _call(app, environ) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the app and buffer its whole answer."""
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, list(headers)
        return lambda data: answer.setdefault("written", []).append(data)

    chunks = app(environ, start_response)
    try:
        payload = b"".join([*answer.get("written", []), *chunks])
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(answer["status"].split(None, 1)[0]), answer["headers"], payload


def _drop(environ) -> None:
    """Close the connection without answering (werkzeug treats it as dropped by the client)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        # Without this, the keep-alive handler would wait for a next request on the socket.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("fault injection: connection dropped")


def _dribble(payload: bytes, seconds: float) -> Iterator[bytes]:
    yield b""  # headers now, body over `seconds`
    step = -(-len(payload) // _SLOW_CHUNKS)
    pieces = [payload[i:i + step] for i in range(0, len(payload), step)]
    for piece in pieces:
        time.sleep(seconds / len(pieces))
        yield piece
