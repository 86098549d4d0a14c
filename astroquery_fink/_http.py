# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""One Fink request done carefully: deadlines, retries, bounded error bodies, redirects, cache.

`fetch` sends one request through astroquery's ``BaseQuery._request`` and returns the parsed
answer; `download` streams a large answer to a file. Both follow these rules.

Deadlines
    ``timeout`` bounds a whole attempt: connecting, the headers and the full body. The
    ``timeout`` of `requests` only bounds each socket operation ("the number of seconds
    Requests will wait for your client to establish a connection ... and ... between bytes
    sent from the server", requests docs, *Timeouts*), so a server that trickles its headers
    or body a byte at a time would hold it for ever. Here a watchdog thread shuts the
    attempt's socket down at the deadline, which wakes any blocked read; the attempt then
    ends in `astroquery.exceptions.TimeoutError`. To reach the socket, the query's
    `requests.Session` gets a `requests.adapters.HTTPAdapter` whose urllib3 connections
    report their sockets (only where the session still has requests' default adapter).
    ``conf.retry_total_time`` bounds a whole call of a public method (`one_call`): all its
    requests, retries and back-off included, counted from the call's start. Each attempt
    gets ``min(timeout, time left)``; a request that has no time left is not sent, and the
    requests of a query (its `Lanes`) stop trying at the call's end, so that a query of
    many requests ends on time also when the server answers some and never others. A
    `fetch` outside a public call has the budget to itself. The name lookup (DNS), which
    no socket timeout bounds and nothing interrupts, runs in a thread of its own, shared
    by the requests of that name, and is waited for until the deadline (`_looked_up`);
    urllib3 then connects to the addresses found, without looking the name up again. Not
    bounded: sessions whose adapters the user replaced.
Retries
    Every Fink data route is a read, so a request is safe to repeat. Transient failures
    (connection errors, time-outs, HTTP 429/502/503/504, answers cut short) are retried with
    exponential back-off and full jitter, honouring ``Retry-After``, at most
    ``conf.max_retries`` times. Any other failure is permanent and raised at once.
Answers cut short
    A body shorter than its ``Content-Length`` (urllib3 2 raises ``IncompleteRead`` for it,
    see urllib3's ``enforce_content_length``; it is checked here as well) or a chunked body
    that stops, and a ``parse`` that raises `~astroquery_fink.exceptions.TruncatedAnswerError`
    (a wire format's own end is missing) are retried and never cached. Any other exception
    of ``parse`` on a complete 200 answer is permanent: the same bytes would come again.
Error answers
    At most ``_errors.ERROR_BODY_LIMIT`` bytes of an error body are read, whatever its size;
    the connection is then dropped. ``_errors`` turns it into a short message.
Redirects
    `requests` turns a POST into a body-less GET on 301, 302 and 303 (requests
    ``Session.rebuild_method``), which Fink would answer with a description page. Redirects
    are therefore followed here: the same method and JSON body are sent to the new location
    (the semantics of 307/308, RFC 9110 section 15.4), up to ``MAX_REDIRECTS`` hops; a loop,
    more hops or a non-HTTP location fail at once naming the URLs.
Errors
    Every failure leaves `fetch` as an astroquery exception naming the URL:
    `~astroquery.exceptions.TimeoutError`, `~astroquery.exceptions.InvalidQueryError` (a
    malformed URL, or a query the server rejected) or
    `~astroquery.exceptions.RemoteServiceError` (and its subclass
    `~astroquery_fink.exceptions.TruncatedAnswerError`). ``KeyboardInterrupt`` is never caught.
Speed
    Requests are sent with ``stream=True`` and the body is read here in large chunks:
    astroquery's response hook then logs "Streaming Data" instead of decoding and indenting
    the whole body for a debug message that astroquery's default log level drops.
Cache
    astroquery's cache (``query.cache_location``, key = method, URL and JSON body), used only
    when asked, for parsed non-empty answers, each living ``conf.cache_timeout`` seconds.
    Answers of a server on this machine or a local network (``localhost``, and every
    address that is not global: loopback, private, link-local, reserved, in any spelling
    such as ``127.1``, or a name the system resolves to one, e.g. through ``/etc/hosts``)
    are never cached: such a server is a local emulator or tunnel whose
    data may differ from one start to the next on the same URL, and it answers fast anyway.
    Neither is an answer whose ``Cache-Control`` says ``no-store`` (the emulator's do).
"""
import concurrent.futures
import contextlib
import contextvars
import email.utils
import heapq
import http.client
import ipaddress
import itertools
import os
import random
import secrets
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from astroquery import log
from astroquery.exceptions import (
    EmptyResponseError,
    InvalidQueryError,
    LoginError,
    RemoteServiceError,
    ResolverError,
    TableParseError,
)
from astroquery.exceptions import TimeoutError as AstroTimeoutError
from astroquery.query import AstroQuery, BaseQuery, to_cache

from . import conf
from ._errors import ERROR_BODY_LIMIT, SERVER_SETTING, printable, raise_for_fink_status
from ._validate import count_setting
from .exceptions import TruncatedAnswerError

__all__: list[str] = []

T = TypeVar("T")

RETRY_STATUS = frozenset({429, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
#: Most redirects followed for one request (requests' own limit is 30).
MAX_REDIRECTS = 5
_CHUNK = 1 << 18  # bytes read at a time: large enough to be fast, small for deadline checks
# A read returns when its chunk is full: downloads read less at a time, so that a slow but
# steady body shows its progress before each _DOWNLOAD_MIN_BYTES deadline.
_DOWNLOAD_CHUNK = 1 << 14
# A download must bring at least this many bytes per `timeout` seconds to keep going.
_DOWNLOAD_MIN_BYTES = 1 << 16
# Exceptions parse may raise that are already the astroquery family: passed on as they are.
_ASTROQUERY = (RemoteServiceError, InvalidQueryError, TableParseError, AstroTimeoutError,
               EmptyResponseError, LoginError, ResolverError)


# ---------------------------------------------------------------------------- public helpers

def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential back-off: uniform in [0, base * 2**attempt], capped.

    Parameters
    ----------
    attempt : int
        Number of attempts made so far (1 after the first failure).
    rng : random.Random
        Source of the jitter.

    Returns
    -------
    delay : float
        Seconds to wait before the next attempt.
    """
    # the exponent is capped: 2.0**1024 overflows a float (max_retries may be that large)
    ceiling = min(_setting("retry_max_delay"),
                  _setting("retry_base_delay") * 2.0 ** min(attempt, 64))
    return rng.uniform(0, ceiling)


def _setting(name: str) -> float:
    """A time setting of `conf`, a number of seconds not below 0 (else InvalidQueryError:
    ``time.sleep`` would fail with NaN or a negative wait)."""
    value = float(getattr(conf, name))
    if not value >= 0:
        raise InvalidQueryError(f"astroquery_fink.conf.{name} must be seconds (>= 0), "
                                f"not {value}")
    return value


def fetch(query: BaseQuery, method: str, url: str, payload: dict | None,
          parse: Callable[[requests.Response], T], *, what: str, cache: bool, timeout: float,
          is_empty: Callable[[T], bool] = lambda result: False,
          lanes: "Lanes | None" = None) -> T:
    """Send ``payload`` to ``url`` (a JSON body) and return ``parse(response)``.

    Parameters
    ----------
    query : `~astroquery.query.BaseQuery`
        The instance whose ``_request`` sends the request (and whose cache is used).
    method : str
        ``"POST"`` or ``"GET"``.
    url : str
        The full URL.
    payload : dict or None
        The JSON body; None or ``{}`` sends no body.
    parse : callable
        Called with the `requests.Response` (its ``content`` holds the whole body); its
        result is returned. It raises `~astroquery_fink.exceptions.TruncatedAnswerError` for
        an answer cut on the way (retried), other astroquery exceptions for answers that are
        wrong (raised at once).
    what : str
        The query's name in messages, e.g. ``"objects"``.
    cache : bool
        Use astroquery's cache (see the module docstring for what is cached).
    timeout : float
        Seconds for one whole attempt (name lookup, connection, headers, body).
    is_empty : callable, optional
        True for a result that must not be cached (e.g. an empty table).
    lanes : Lanes, optional
        The lanes of the query this request belongs to: one is held while the request is
        on the wire (sent, answered, its body read) and released for ``parse``; a cancelled
        query's requests stop at once.

    Returns
    -------
    result
        ``parse(response)``.

    Raises
    ------
    astroquery.exceptions.TimeoutError, astroquery.exceptions.InvalidQueryError, astroquery.exceptions.RemoteServiceError
        See the module docstring.
    """  # noqa: E501
    payload = payload or None  # a GET without arguments sends no body
    key = (AstroQuery(method, url, json=payload)
           if cache and _cacheable(url, _cache_lookup_seconds(timeout)) else None)
    if key is not None:
        hit = _from_cache(query, key, parse)
        if hit is not _MISS:
            return hit

    def attempt(budget: Callable[[], float]):
        if lanes is None:
            response = _fetch_once(query, method, url, payload, what, budget(), timeout)
        else:
            # The lane is taken as the request goes out (`_WatchedPool.urlopen`), once
            # requests has prepared it: that work overlaps the other requests' waits. The
            # attempt's time (`budget`) is read then, not while it waits for its lane.
            with lanes.on_the_wire(budget):
                response = _fetch_once(query, method, url, payload, what, None, timeout)
        return response, _parsed(parse, response, what, url)

    response, result = _retrying(attempt, timeout, lanes)
    if key is not None and not _no_store(response) and not _safe_is_empty(is_empty, result):
        _store(query, key, response)
    return result


def download(query: BaseQuery, method: str, url: str, payload: dict | None,
             path: str | os.PathLike, *, what: str, timeout: float, progress: bool,
             check: Callable[[Path], None] | None = None) -> Path:
    """Stream an answer into the file ``path``, which appears only once complete.

    The body goes to a temporary file next to ``path``, renamed to ``path`` when it has all
    its bytes; a cut or failed download leaves neither. Retries and error mapping are those
    of `fetch`. ``timeout`` bounds the connection and the headers; then the body may take as
    long as it needs while it keeps flowing (at least 64 KiB every ``timeout`` seconds), so
    that a large file over a slow link is not cut, while a stalled one ends in
    `~astroquery.exceptions.TimeoutError`. ``conf.retry_total_time`` bounds the attempts and
    waits before the body flows, not a body that is arriving.

    Parameters
    ----------
    query, method, url, payload, what
        As in `fetch`.
    path : path-like
        Where to write the answer (replaced if it exists).
    timeout : float
        Seconds for the headers, and for each 64 KiB of the body.
    progress : bool
        Show a progress bar on stderr (tqdm if installed, else astropy's, which needs a
        ``Content-Length``).
    check : callable, optional
        ``check(file)`` on the whole body before it becomes ``path``: it raises
        `~astroquery_fink.exceptions.TruncatedAnswerError` for a body cut short (tried
        again) or another astroquery exception for a body that is not what the endpoint
        returns (at once); nothing is left at ``path`` then.

    Returns
    -------
    path : `pathlib.Path`
        The file written.
    """
    path = Path(path)
    payload = payload or None

    def attempt(budget: Callable[[], float]) -> Path:
        return _download_once(query, method, url, payload, path, what, budget(), timeout,
                              progress, check)

    return _retrying(attempt, timeout)


# ---------------------------------------------------------------------------- lanes

# When the public call under way must end (`time.monotonic`), or None outside one.
_CALL_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar("call_ends",
                                                                          default=None)


@contextlib.contextmanager
def one_call():
    """The block is one public call: ``conf.retry_total_time`` bounds all its requests and
    their retries, counted from here. A call made inside another keeps the outer bound."""
    if _CALL_ENDS.get() is not None:
        yield
        return
    total = _setting("retry_total_time")
    token = _CALL_ENDS.set(time.monotonic() + total if total > 0 else float("inf"))
    try:
        yield
    finally:
        _CALL_ENDS.reset(token)


class _Cancelled(RemoteServiceError):
    """A request of a cancelled query (its caller has gone: nobody reads this)."""


class _Claim:
    """A request's claim on one of its query's lanes (`Lanes.on_the_wire`)."""

    def __init__(self, lanes: "Lanes", budget: Callable[[], float]):
        self.lanes, self.budget, self.held = lanes, budget, False

    def take(self) -> float:
        """Wait for a lane; return the seconds the attempt has from now on (raises
        `_Cancelled`, or `_OutOfTime` from the budget)."""
        self.lanes._free.acquire()
        self.held = True
        if self.lanes._stop.is_set():
            raise _Cancelled("the query was cancelled")
        return self.budget()


class Lanes:
    """The requests of one query: at most ``n`` on the wire at once, all stopped by `cancel`.

    A request holds a lane while it is on the wire: from when urllib3 is handed it (its
    connection taken from the pool, or opened) until its body is read (`fetch` releases it
    to parse the answer). After `cancel` (the caller's Ctrl-C), the sockets of the requests
    under way are shut down, and no request starts or retries: the worker threads end at
    once, and with them the interpreter, which waits for a pool's threads at exit.
    """

    def __init__(self, n: int):
        self._free = threading.BoundedSemaphore(n)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._watches: set = set()
        # the end of the public call the query belongs to, for its worker threads
        self.ends = _CALL_ENDS.get()

    @contextlib.contextmanager
    def on_the_wire(self, budget: Callable[[], float]):
        """The calling thread's request of this block takes a lane when it goes on the wire
        (`_WatchedPool.urlopen`; ``budget()`` then gives its seconds) and gives it back at
        the end of the block."""
        if self._stop.is_set():
            raise _Cancelled("the query was cancelled")
        claim = _Claim(self, budget)
        _local.lanes, _local.claim = self, claim
        try:
            yield
        finally:
            _local.lanes = _local.claim = None
            if claim.held:
                self._free.release()

    def cancel(self) -> None:
        """Stop every request of the query (from any thread)."""
        self._stop.set()
        with self._lock:
            watches = list(self._watches)
        for watch in watches:
            watch.fire()

    def cancelled(self, wait: float = 0.0) -> bool:
        """Whether `cancel` was called, waiting up to ``wait`` seconds for it."""
        return self._stop.wait(wait) if wait > 0 else self._stop.is_set()

    def _watch(self, watch, on: bool) -> None:
        with self._lock:
            (self._watches.add if on else self._watches.discard)(watch)
        if on and self._stop.is_set():
            watch.fire()


# ---------------------------------------------------------------------------- retries

class _Transient(Exception):
    """A failure worth another try; ``wait`` is the server's Retry-After, if any."""

    def __init__(self, error: Exception, wait: float | None = None):
        super().__init__(_text(error))
        self.error = error
        self.wait = wait


class _OutOfTime(Exception):
    """No time is left for another try (raised by `_retrying`'s ``budget``)."""


def _retrying(attempt: Callable[[Callable[[], float]], T], timeout: float, lanes=None) -> T:
    """Call ``attempt(budget)`` until it returns or fails for good (see module docstring);
    ``budget()``, called when the try starts, gives its seconds or raises `_OutOfTime`."""
    rng = None  # made at the first failure: seeding one from os.urandom costs ~10 us
    total = _setting("retry_total_time")
    # every retry setting checked before the first try, not at the first failure
    retries = count_setting("max_retries", minimum=0)
    for name in ("retry_base_delay", "retry_max_delay"):
        _setting(name)
    start = None  # when the first try starts (a request may wait for its lane before)
    # the end of the public call this request belongs to (module docstring)
    ends = lanes.ends if lanes is not None else _CALL_ENDS.get()

    def deadline() -> float:
        nonlocal start
        if not total > 0:
            return float("inf")
        # a try that never reached the pools (a stand-in for the transport) took no lane
        start = time.monotonic() if start is None else start
        return start + total if ends is None else min(start + total, ends)

    tries, err = 0, None

    def budget() -> float:
        nonlocal start
        start = time.monotonic() if start is None else start
        left = deadline() - time.monotonic()
        if left < 0.01 and (err is not None or ends is not None):  # no time for a try
            raise _OutOfTime
        return max(min(float(timeout), left), 0.001)

    while True:
        try:
            result = attempt(budget)
        except _OutOfTime:
            if err is None:
                raise _silent(total) from None
            raise _gave_up(err, tries) from err
        except _Transient as transient:
            tries += 1
            err = transient.error
            if transient.wait is not None:
                delay = transient.wait
            else:
                rng = rng or random.Random()
                delay = backoff_delay(tries, rng)
            if tries > retries:
                raise _gave_up(err, tries) from err
            if time.monotonic() + delay >= deadline():
                asked = (f"; the server asked to wait {transient.wait:g} s (Retry-After), beyond "
                         "what is left of astroquery_fink.conf.retry_total_time "
                         f"({total:g} s)") if transient.wait is not None else ""
                raise _gave_up(err, tries, asked) from err
            if _backoff_wait(delay, lanes):
                raise _Cancelled("the query was cancelled") from err
        else:
            return result


def _silent(total: float) -> AstroTimeoutError:
    return AstroTimeoutError(
        f"not sent: the call has run for {total:g} s, its time budget "
        "astroquery_fink.conf.retry_total_time: raise it, or ask for less at once")


def _backoff_wait(delay: float, lanes) -> bool:
    """Wait ``delay`` seconds before the next try; True if the query was cancelled."""
    if lanes is None:
        time.sleep(delay)
        return False
    return lanes.cancelled(wait=delay)


def _gave_up(err: Exception, tries: int, why: str = "") -> Exception:
    message = f"{_text(err)} (gave up after {tries} attempt{'s' if tries > 1 else ''}{why})"
    try:
        return type(err)(message)
    except TypeError:  # an exception class with other arguments
        return RemoteServiceError(message)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:  # a negative or NaN wait is invalid (RFC 9110): our back-off
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)  # the HTTP-date form
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # unreadable: fall back to our own back-off
    if when.tzinfo is None:  # '-0000' means UTC without saying so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# ---------------------------------------------------------------------------- one attempt

def _fetch_once(query, method, url, payload, what, budget, timeout) -> requests.Response:
    """One attempt: the response with its whole body in ``content``, status checked.
    ``budget`` is its seconds, or None for a request that waits for a lane (`_Claim`): its
    clock starts when it gets one."""
    response = None
    complete = False
    with _Watch(budget, provisional=timeout) as watch:
        try:
            with _in_our_family(url, what, watch, timeout):
                response, final = _send(query, method, url, payload, what, watch)
                _check_status(response, what, final, watch)
                _read_body(response, watch)
                _check_length(response, what, final)
                complete = True
        finally:
            _release(response, complete)
    return response


@contextlib.contextmanager
def _in_our_family(url, what, watch, timeout):
    """Every failure of an attempt as an astroquery exception (`_transport_error`); ours,
    and a local file error of a download, pass as they are."""
    try:
        yield
    except (_Transient, _LocalError, _OutOfTime, *_ASTROQUERY):
        raise
    except Exception as err:  # noqa: BLE001 - every transport failure gets our family
        raise _transport_error(err, url, what, watch, timeout) from err


def _download_once(query, method, url, payload, path, what, budget, timeout, progress,
                   check):
    response = None
    complete = False
    # The user's file system fails as itself (before any request), not as the server.
    fd, tmp = _part_file(path)
    with os.fdopen(fd, "wb") as out, _Watch(budget) as watch:
        try:
            with _in_our_family(url, what, watch, timeout):
                response, final = _send(query, method, url, payload, what, watch)
                _check_status(response, what, final, watch)
                total = _content_length(response)
                with _progress_bar(total, progress, path.name) as bar:
                    if response._content is not False:  # already read (a ready-made response)
                        chunks = [response.content]
                    else:
                        chunks = response.iter_content(_DOWNLOAD_CHUNK)
                    done = 0
                    for chunk in chunks:
                        _write(out, chunk)
                        done += len(chunk)
                        bar.add(len(chunk))
                        watch.progress(done, float(timeout))
                    watch.check()
                _check_length(response, what, final)
                if check is not None:
                    out.flush()
                    _parsed(lambda _: check(Path(tmp)), response, what, final)
                complete = True
        except _LocalError as err:
            raise _about(err.error, path) from None
        finally:
            _release(response, complete)
            if not complete:
                out.close()
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    try:
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _about(err, path) from None
    return path


def _part_file(path: Path) -> tuple[int, str]:
    """A new file next to ``path`` for its download (``.<name>.<random>.part``), open for
    writing, with the permissions of any new file (``tempfile.mkstemp`` would give 0600)."""
    while True:
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(
                os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise _about(err, path) from None


def _about(err: OSError, path: Path) -> OSError:
    """A file error of a download, about the file the user named (not its ``.part``)."""
    return OSError(err.errno, err.strerror, os.fspath(path)) if err.errno else err


class _LocalError(Exception):
    """Writing the downloaded file failed: raised as the OSError it is."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


def _write(out, chunk: bytes) -> None:
    try:
        out.write(chunk)
    except OSError as err:
        raise _LocalError(err) from err


def _send(query, method, url, payload, what, watch):
    """Send the request, following redirects with the same method and body."""
    session = getattr(query, "_session", None)
    _watch_session(session)
    if not _through_watched_pools(query, session, url):
        _take_lane()  # now: no pool of ours will
    seen = [url]
    current = url
    while True:
        watch.check()
        watch.answer = None
        try:
            response = query._request(method, current, json=payload, timeout=watch.left(),
                                      cache=False, stream=True, allow_redirects=False)
        except Exception as err:
            # requests works out a redirect's next URL even when not following it
            # (Session.send, get_redirect_target), and fails there on a Location it cannot
            # read: that is the server's redirect, not a transport failure
            answer = watch.answer
            if answer is None or answer.status_code not in REDIRECT_STATUS:
                raise
            _release(answer, False)
            location = _location(answer) or ""
            raise RemoteServiceError(
                f"Fink at {_shown(current)} redirected the {what} query to "
                f"{_shown(location)!r}, which is not a valid URL ({_text(err)[:200]})"
            ) from None
        if response.status_code not in REDIRECT_STATUS:
            return response, current
        location = _location(response)
        _release(response, False)
        status = response.status_code
        if not location:
            raise RemoteServiceError(
                f"Fink at {current} answered the {what} query with HTTP {status} (a redirect) "
                "without saying where to")
        try:
            target = urljoin(current, location)
            urlsplit(target).port  # noqa: B018 - reading it checks the host and port
        except ValueError as err:
            raise RemoteServiceError(
                f"Fink at {_shown(current)} redirected the {what} query to "
                f"{_shown(location)!r}, which is not a valid URL ({err})") from None
        if urlsplit(target).scheme not in ("http", "https"):
            raise RemoteServiceError(
                f"Fink at {_shown(current)} redirected the {what} query to {_shown(target)}, "
                f"which is not an HTTP URL; check the server address ({SERVER_SETTING})")
        if target in seen:
            raise RemoteServiceError(
                f"Fink redirected the {what} query in a loop: {_hops([*seen, target])}")
        if len(seen) > MAX_REDIRECTS:
            raise RemoteServiceError(
                f"Fink redirected the {what} query more than {MAX_REDIRECTS} times: "
                f"{_hops([*seen, target])}; set the server address ({SERVER_SETTING}) to "
                "the final one")
        log.debug(f"Fink moved {current} to {target} (HTTP {status}): sending the same "
                  f"{method} there")
        seen.append(target)
        current = target
        watch.redirected = (url, current)  # a failure there names where it was sent


def _location(response) -> str | None:
    """A redirect's Location, its bytes read as UTF-8 as requests reads them (http.client
    hands header values over as Latin-1)."""
    location = response.headers.get("Location")
    if location:
        with contextlib.suppress(UnicodeError):
            location = location.encode("latin-1").decode("utf-8")
    return location


def _shown(url: str, limit: int = 200) -> str:
    """A URL for a message: printable, and at most ``limit`` characters."""
    url = printable(url)
    return url if len(url) <= limit else url[:limit] + " ..."


def _hops(urls: list[str]) -> str:
    """A redirect chain for a message, bounded whatever the URLs' lengths."""
    return " -> ".join(_shown(u, 120) for u in urls)


def _check_status(response, what, url, watch) -> None:
    """Raise for an error status, having read at most ERROR_BODY_LIMIT bytes of its body,
    and for a status that brings no answer (1xx, 204, 206, 304, ...)."""
    status = response.status_code
    if status in (200, 203):  # 203: the answer, through a transforming proxy
        return
    if status < 400:
        # http.client takes any status but 100 for the final one: a 103 Early Hints before
        # the 200 is read as the answer (a server or proxy Fink does not run)
        reason = printable(str(response.reason or ""))[:60]
        raise RemoteServiceError(
            f"Fink answered the {what} query at {_shown(url)} with HTTP {status} {reason}, "
            "not the 200 answer with data that the query expects")
    _read_error_body(response, watch)
    try:
        raise_for_fink_status(response, what, url)
    except RemoteServiceError as err:
        if response.status_code in RETRY_STATUS:
            raise _Transient(err, _retry_after(response)) from None
        raise


def _read_error_body(response, watch) -> None:
    """Read at most ERROR_BODY_LIMIT bytes of an error body, keeping what arrived if cut.

    urllib3's ``read1`` (urllib3 >= 2.3) returns what has arrived, so the start of a cut
    body is kept; ``read(amt)`` would drop the bytes it gathered when the cut ends it.
    """
    if response._content is not False:  # already read: a ready-made response
        return
    read1 = getattr(response.raw, "read1", None)
    chunks, size = [], 0
    try:
        if read1 is None:
            _read_body(response, watch, limit=ERROR_BODY_LIMIT)
            return
        while size < ERROR_BODY_LIMIT:
            chunk = read1(min(_CHUNK, ERROR_BODY_LIMIT - size), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            watch.check()
    except Exception:  # noqa: BLE001, S110 - the status says it all; its body is a bonus
        pass
    finally:
        if response._content is False:
            response._content = b"".join(chunks)
            response._content_consumed = True


def _read_body(response, watch, limit: int | None = None) -> None:
    """Read the body (at most ``limit`` bytes) into ``response._content``."""
    if response._content is not False:  # already read: a ready-made or cached response
        return
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(_CHUNK if limit is None else min(_CHUNK, limit)):
            chunks.append(chunk)
            size += len(chunk)
            watch.check()
            if limit is not None and size >= limit:
                break
    finally:
        response._content = b"".join(chunks)  # what arrived, also when cut
        response._content_consumed = True
    watch.check()  # a body that ended because the watchdog shut the socket


def _content_length(response) -> int | None:
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


def body_delimited(response: requests.Response) -> bool:
    """Whether the server said where the body ends (a Content-Length, or chunks): a body
    that ends where the connection did may be a cut one that no other check can tell."""
    return (_content_length(response) is not None
            or "chunked" in response.headers.get("Transfer-Encoding", "").lower())


def _check_length(response, what, url) -> None:
    """A body shorter than its Content-Length was cut on the way."""
    expected = _content_length(response)
    if expected is None or "chunked" in response.headers.get("Transfer-Encoding", "").lower():
        return  # a chunked body's length is its chunks' (RFC 9112 section 6.3)
    raw = response.raw
    if raw is not None and hasattr(raw, "tell"):
        arrived = raw.tell()  # bytes on the wire, before any content decoding
    elif not response.headers.get("Content-Encoding") and response._content is not False:
        arrived = len(response._content)
    else:
        return
    if arrived < expected:
        raise _Transient(TruncatedAnswerError(
            f"Fink's answer to the {what} query at {url} was cut: {arrived} of its "
            f"{expected} bytes arrived"))


def _release(response, complete: bool) -> None:
    """Give a fully read connection back to the pool; close any other one."""
    raw = getattr(response, "raw", None)
    if raw is None:
        return
    with contextlib.suppress(Exception):
        if complete:
            raw.release_conn()
        else:
            raw.close()


def _parsed(parse, response, what, url):
    """``parse(response)``, with its failures sorted into transient and permanent."""
    try:
        return parse(response)
    except TruncatedAnswerError as err:
        if body_delimited(response):
            # the server said where its answer ends, and all of it came (else
            # `_check_length` or urllib3 would have said so): not cut on the way, but
            # malformed as the server wrote it; the same bytes would come again
            raise RemoteServiceError(
                f"{err}, yet all of it came (the server said where it ends, by its length "
                f"or its chunks): the {what} answer at {url} is malformed as written, not "
                "cut") from None
        raise _Transient(err) from err
    except _ASTROQUERY:
        raise
    except Exception as err:  # noqa: BLE001 - a wrong answer, said in our family
        reason = f"{type(err).__name__}: {_text(err)}"
        reason = reason if len(reason) <= 300 else reason[:300] + " ..."
        raise RemoteServiceError(
            f"Fink's answer to the {what} query at {url} could not be read: {reason}") from err


# ---------------------------------------------------------------------------- error mapping

def unreachable(err: BaseException) -> bool:
    """Whether a request failed for want of a connection (refused, no route, no name), not
    for what the server said or how long it took (a slow request may be a heavy one)."""
    return not isinstance(err, AstroTimeoutError) and any(
        isinstance(e, urllib3.exceptions.NewConnectionError
                   | urllib3.exceptions.NameResolutionError | ConnectionRefusedError
                   | socket.gaierror) for e in _chain(err))


def _chain(err: BaseException):
    """``err`` and the exceptions it wraps (causes, contexts, exception arguments)."""
    todo, seen = [err], set()
    while todo and len(seen) < 50:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__, *current.args)
                    if isinstance(e, BaseException))


def _text(err: BaseException) -> str:
    """``str(err)``, even for an exception whose ``__str__`` fails."""
    try:
        return str(err)
    except Exception:  # noqa: BLE001 - e.g. built with arguments its __str__ cannot format
        return type(err).__name__


def _cut_reason(chain: list) -> str:
    """How much of a cut body arrived, from the IncompleteRead behind it (else its text)."""
    for e in chain:
        if isinstance(e, (urllib3.exceptions.IncompleteRead, http.client.IncompleteRead)):
            partial = e.partial if isinstance(e.partial, int) else len(e.partial or b"")
            expected = e.expected
            if isinstance(expected, int):
                return f"{partial} bytes arrived, {expected} more were expected"
        if isinstance(e, urllib3.exceptions.InvalidChunkLength):
            line = e.length.decode("latin-1") if isinstance(e.length, bytes) else str(e.length)
            return f"a chunk size that is not a number ({printable(line.strip())[:40]!r})"
    return printable(_text(chain[0]))[:300]


def _is_timeout(err: BaseException) -> bool:
    # urllib3's NewConnectionError (e.g. connection refused) subclasses its
    # ConnectTimeoutError for backward compatibility: not a time-out.
    return (isinstance(err, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
            and not isinstance(err, urllib3.exceptions.NewConnectionError))


def _transport_error(err, url, what, watch, timeout) -> Exception:
    """The astroquery exception for a failure of the transport (wrapped in _Transient if
    it is worth another try)."""
    chain = list(_chain(err))
    redirected = getattr(watch, "redirected", None)
    if redirected is not None:  # the failure is the redirect target's, not conf.server's
        url = f"{redirected[1]} (where {redirected[0]} redirected it)"
    if watch.fired or any(_is_timeout(e) for e in chain):
        if watch.seconds < float(timeout) - 1e-3:  # cut short by the budget of all tries
            limit = ("what was left of astroquery_fink.conf.retry_total_time "
                     f"(now {float(conf.retry_total_time):g} s)")
        else:  # the call's timeout=, else the client's, else conf.timeout
            limit = f"the time allowed per request (timeout={float(timeout):g})"
        if any(isinstance(e, _SlowLookup) for e in chain):
            return _Transient(AstroTimeoutError(
                f"Could not reach Fink at {url} for the {what} query: looking up the name "
                f"{urlsplit(url).hostname!r} took more than {watch.seconds:.3g} s, {limit} "
                "(a slow or unreachable name server?)"))
        return _Transient(AstroTimeoutError(
            f"Fink did not answer the {what} query at {url} within {watch.seconds:.3g} s, "
            f"{limit}: raise it, or ask for less at once"))
    invalid_url = (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                   requests.exceptions.InvalidURL, requests.exceptions.URLRequired,
                   urllib3.exceptions.LocationValueError)
    if redirected is not None and any(isinstance(e, invalid_url) for e in chain):
        return RemoteServiceError(  # the server's redirect: trying again would not mend it
            f"Fink at {_shown(redirected[0])} redirected the {what} query to "
            f"{_shown(redirected[1])}, which is not a valid URL ({_text(err)[:200]})")
    if redirected is None and isinstance(err, invalid_url):
        return InvalidQueryError(
            f"The URL {url} of the Fink {what} query is not valid ({_text(err)}); check the "
            f"server address ({SERVER_SETTING}), which needs a scheme, e.g. "
            "https://api.ztf.fink-portal.org")
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return RemoteServiceError(
            f"Could not reach Fink at {url} for the {what} query: its TLS certificate was "
            f"refused ({_text(err)})")
    if any(isinstance(e, urllib3.exceptions.DecodeError) for e in chain) and not any(
            isinstance(e, urllib3.exceptions.IncompleteRead | http.client.IncompleteRead)
            for e in chain):
        # a whole body that its Content-Encoding cannot decode: the same bytes would come
        # again (a body cut short fails its length check instead)
        reason = next((e for e in reversed(chain) if not isinstance(
            e, urllib3.exceptions.HTTPError | requests.RequestException)), chain[-1])
        return RemoteServiceError(
            f"Fink's answer to the {what} query at {url} could not be decompressed: "
            f"{printable(_text(reason))[:200]}")
    if isinstance(err, (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError,
                        urllib3.exceptions.ProtocolError, http.client.IncompleteRead)):
        return _Transient(TruncatedAnswerError(
            f"Fink's answer to the {what} query at {url} was cut on the way: "
            f"{_cut_reason(chain)}"))
    if any(isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror)
           for e in chain):
        # no name lookup: most often no network at all, which retrying does not mend
        return RemoteServiceError(
            f"Could not reach Fink at {url} for the {what} query: the name "
            f"{urlsplit(url).hostname!r} cannot be looked up (no network?). Offline, use the "
            "bundled emulator: astroquery_fink.testing.FinkEmulator, or fink-query --emulator")
    if isinstance(err, (requests.ConnectionError, urllib3.exceptions.HTTPError,
                        http.client.HTTPException, OSError)):
        return _Transient(RemoteServiceError(
            f"Could not reach Fink at {url} for the {what} query: {_socket_reason(chain, err)}"))
    if isinstance(err, requests.RequestException):
        return RemoteServiceError(f"The Fink {what} query at {url} failed: {_text(err)}")
    return RemoteServiceError(
        f"The Fink {what} query at {url} failed: {type(err).__name__}: {_text(err)}")


def _socket_reason(chain: list, err: BaseException) -> str:
    """The system's words for a connection failure ("Connection refused"), or plain words
    for an answer that is not HTTP, rather than urllib3's text, which names its pool and
    connection objects, or a tuple of reprs."""
    for e in reversed(chain):
        if isinstance(e, OSError) and e.strerror:
            return e.strerror
    for e in chain:
        if isinstance(e, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(e, http.client.BadStatusLine):
            line = e.line if isinstance(e.line, str) else repr(e.line)
            return (f"the server answered something that is not HTTP "
                    f"({printable(line.strip())[:80]!r})")
        if isinstance(e, http.client.HTTPException):
            return f"the server's answer is not valid HTTP ({printable(_text(e))[:200]})"
    return printable(_text(err))[:300]


# ---------------------------------------------------------------------------- deadlines

_local = threading.local()


class _SlowLookup(Exception):
    """The system did not look up a host name in the time given."""


# The lookups under way, by host name: requests asking a name already being looked up
# wait for that lookup rather than start another (a name server that never answers would
# otherwise leave a thread per request behind).
_lookups: dict[str, concurrent.futures.Future] = {}
_lookups_lock = threading.Lock()


def _looked_up(host: str, seconds: float, stop: Callable[[], bool] = lambda: False):
    """``socket.getaddrinfo(host, None)`` in ``seconds`` at most, or `_SlowLookup`.

    The system's lookup has no time limit of its own (its name servers' may add up to
    minutes) and cannot be interrupted, even by Ctrl-C: it runs in a thread of its own,
    left to finish alone when it is late or when ``stop()`` becomes true.
    """
    with _lookups_lock:
        future = _lookups.get(host)
        if future is None or future.done():  # a lookup ended is not an answer for later
            future = _lookups[host] = concurrent.futures.Future()
            threading.Thread(target=_lookup, args=(host, future), daemon=True,
                             name="astroquery_fink-lookup").start()
    ends = time.monotonic() + seconds
    while True:  # in short waits: Ctrl-C and a cancelled query are seen at once
        try:
            return future.result(timeout=min(0.2, max(ends - time.monotonic(), 0.0)))
        except concurrent.futures.TimeoutError:
            if stop() or time.monotonic() >= ends:
                raise _SlowLookup(host) from None


def _lookup(host: str, future: concurrent.futures.Future) -> None:
    try:
        future.set_result(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError) as err:
        future.set_exception(err)
    finally:
        with _lookups_lock:
            if _lookups.get(host) is future:
                del _lookups[host]


class _DeadlinePassed(Exception):
    """The attempt's deadline passed (between two reads)."""


class _Watch:
    """A deadline for one attempt: at it, the attempt's sockets are shut down.

    With ``seconds`` None, the clock starts at `start` (when the request gets its lane);
    until then `left` says ``provisional``.
    """

    def __init__(self, seconds: float | None, provisional: float = 0.0):
        self.started = seconds is not None
        self.seconds = seconds if self.started else float(provisional)
        self.deadline = time.monotonic() + self.seconds
        self.fired = False
        self.done = False
        self._sockets: list = []
        self._lock = threading.Lock()
        self._mark = 0
        self.redirected: tuple[str, str] | None = None  # (asked, sent to) after a redirect
        self.answer = None  # the last response the adapter built (see _send)

    def __enter__(self) -> "_Watch":
        self._outer = getattr(_local, "watch", None)
        _local.watch = self
        if self.started:
            _watchdog().add(self)
        self._lanes = getattr(_local, "lanes", None)
        if self._lanes is not None:  # fired also when its query is cancelled
            self._lanes._watch(self, True)
        return self

    def __exit__(self, *exc) -> None:
        _local.watch = self._outer
        with self._lock:
            self.done = True
        if self._lanes is not None:
            self._lanes._watch(self, False)
        if self.started:
            _watchdog().finished()

    def start(self, seconds: float) -> None:
        """The clock of a watch made with ``seconds`` None starts: ``seconds`` from now."""
        self.seconds, self.deadline = seconds, time.monotonic() + seconds
        self.started = True
        _watchdog().add(self)

    def fire(self) -> None:
        """The deadline passed: shut the attempt's sockets down (called by the watchdog)."""
        with self._lock:
            if self.done:
                return
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def add(self, sock) -> None:
        if sock is None:
            return
        with self._lock:
            if not any(s is sock for s in self._sockets):
                self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shutdown(sock)

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def check(self) -> None:
        if self.fired or time.monotonic() >= self.deadline:
            self.fired = True
            raise _DeadlinePassed  # mapped to a TimeoutError by _transport_error

    def progress(self, done: int, seconds: float) -> None:
        """A download that brought another _DOWNLOAD_MIN_BYTES gets ``seconds`` more."""
        if done - self._mark >= _DOWNLOAD_MIN_BYTES and not self.fired:
            self._mark = done
            # the watchdog finds the later deadline when the earlier one comes
            self.deadline = max(self.deadline, time.monotonic() + seconds)


class _Watchdog:
    """One thread keeping every attempt's deadline (`_Watch.fire` at it).

    A thread per attempt cost more than the rest of a small request (starting a thread waits
    for it to run, which under the interpreter lock of a busy pool takes a while): the
    deadlines wait in a heap instead, and the thread sleeps until the earliest.
    """

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._heap: list = []  # (deadline, sequence number, watch)
        self._count = itertools.count()
        self._live = 0
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._cond:
            earliest = not self._heap or watch.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watch.deadline, next(self._count), watch))
            self._live += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="astroquery_fink-deadline")
                self._thread.start()
            elif earliest:
                self._cond.notify()

    def finished(self) -> None:
        """One watch is done: it leaves the heap when its deadline comes, or here, when
        finished watches are most of the heap (many short attempts, long deadlines)."""
        with self._cond:
            self._live -= 1
            if len(self._heap) > 2 * self._live + 64:
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)

    def _due(self) -> list:
        """The watches whose deadline has passed (taken off the heap); waits for one."""
        with self._cond:
            while True:
                now, due = time.monotonic(), []
                while self._heap and self._heap[0][0] <= now:
                    _, _, watch = heapq.heappop(self._heap)
                    if watch.done:
                        continue
                    if watch.deadline > now:  # a download moved it later
                        heapq.heappush(self._heap, (watch.deadline, next(self._count), watch))
                    else:
                        due.append(watch)
                if due:
                    return due
                self._cond.wait(self._heap[0][0] - now if self._heap else None)

    def _run(self) -> None:
        while True:
            for watch in self._due():
                watch.fire()


_watchdogs: list = []  # the one _Watchdog, made at the first attempt
_watchdog_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    if not _watchdogs:
        with _watchdog_lock:
            if not _watchdogs:
                _watchdogs.append(_Watchdog())
    return _watchdogs[0]


def _forget_threads() -> None:
    # a forked child has no watchdog thread nor lookup threads (and maybe a lock another
    # thread held): their lookups would never end there
    global _watchdog_lock, _lookups_lock
    _watchdog_lock = threading.Lock()
    _watchdogs.clear()
    _lookups_lock = threading.Lock()
    _lookups.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def _shutdown(sock) -> None:
    # socket.socket.shutdown also for TLS sockets: SSLSocket.shutdown would drop its SSL
    # object under the reading thread's feet.
    with contextlib.suppress(OSError, ValueError, TypeError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watched(sock) -> None:
    watch = getattr(_local, "watch", None)
    if watch is not None:
        watch.add(sock)


class _Watched:
    """Mixin for urllib3's connections: report the socket to the calling thread's deadline.

    The socket is reported once connected (`_new_conn`), before a proxy's tunnel and the
    TLS handshake, which `connect` runs on it. The connection itself is bounded by the
    socket's own timeout (the time left): a socket call cannot interrupt a ``connect``.
    """

    def _new_conn(self):
        watch = getattr(_local, "watch", None)
        host = getattr(self, "_dns_host", self.host)
        if watch is None or _ip_address(host) is not None:
            sock = super()._new_conn()
        else:
            sock = self._connect_by_name(host, watch)
        _watched(sock)
        return sock

    def _connect_by_name(self, host: str, watch: "_Watch"):
        """urllib3's connection to a host name, its lookup under the deadline too (the
        socket's timeout does not bound it): the name is looked up once, in
        `_looked_up`, and urllib3 connects to its addresses in their order, as it would."""
        try:
            infos = _looked_up(host, watch.left(), lambda: watch.fired)
        except _SlowLookup as err:
            raise urllib3.exceptions.ConnectTimeoutError(
                self, f"looking up the name {host!r} took too long") from err
        except socket.gaierror as err:  # said as urllib3 says it (not looked up again)
            raise urllib3.exceptions.NameResolutionError(host, self, err) from err
        except (OSError, UnicodeError) as err:
            raise urllib3.exceptions.NewConnectionError(
                self, f"Failed to look up the name {host!r}: {err}") from err
        failure = None
        try:
            for address in dict.fromkeys(str(info[4][0]) for info in infos):
                self._dns_host = address  # an address: urllib3 looks nothing up
                self.timeout = watch.left()  # the lookup took some of the time
                try:
                    return super()._new_conn()
                except urllib3.exceptions.ConnectTimeoutError as err:  # refused too
                    failure = err
                    if watch.fired:
                        break
        finally:
            self._dns_host = host
        raise failure or urllib3.exceptions.NewConnectionError(
            self, f"the name {host!r} has no address")

    def connect(self) -> None:
        super().connect()
        _watched(self.sock)

    def request(self, *args, **kwargs):  # noqa: D102
        _watched(self.sock)
        return super().request(*args, **kwargs)

    def getresponse(self, *args, **kwargs):  # noqa: D102
        _watched(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    """urllib3's connection, under the calling thread's deadline."""


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    """urllib3's TLS connection, under the calling thread's deadline."""


class _WatchedPool:
    """Mixin for urllib3's pools: a request that waits for a lane (`Lanes.on_the_wire`)
    takes it here, before its connection is taken from the pool (so a connection the last
    request gave back is reused) or opened; its deadline, and its socket's time-outs, start
    then."""

    def urlopen(self, *args, **kwargs):  # noqa: D102
        seconds = _take_lane()
        if seconds is not None:
            kwargs["timeout"] = urllib3.Timeout(connect=seconds, read=seconds)
        return super().urlopen(*args, **kwargs)


def _take_lane() -> float | None:
    """Take the lane the calling thread's request waits for, if any (`_Claim`), and start
    its deadline; return its seconds."""
    claim = getattr(_local, "claim", None)
    if claim is None or claim.held:
        return None
    seconds = claim.take()
    watch = getattr(_local, "watch", None)
    if watch is not None:
        watch.start(seconds)
    return seconds


def _through_watched_pools(query, session, url: str) -> bool:
    """Whether a request to ``url`` goes through `_WatchedPool`: sent by astroquery's own
    ``_request`` (not one a user or a test replaced) with a session adapter of ours."""
    if getattr(getattr(query, "_request", None), "__func__", None) is not BaseQuery._request:
        return False
    try:
        return isinstance(session.get_adapter(url), _WatchedAdapter)
    except Exception:  # noqa: BLE001 - no adapter for it: requests will say so
        return False


class _WatchedHTTPPool(_WatchedPool, urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_WatchedPool, urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with pools of `_WatchedHTTPConnection`."""

    def init_poolmanager(self, *args, **kwargs) -> None:  # noqa: D102
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def build_response(self, req, resp):  # noqa: D102
        response = super().build_response(req, resp)
        watch = getattr(_local, "watch", None)
        if watch is not None:  # for _send, should requests fail after this
            watch.answer = response
        return response

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # noqa: D102
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme == urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = dict(_POOLS)  # not for SOCKS proxies
        return manager


_install_lock = threading.Lock()


def _watch_session(session) -> None:
    """Give ``session`` watched adapters where it has requests' default ones."""
    if not isinstance(session, requests.Session):
        return
    with _install_lock:
        for prefix in ("https://", "http://"):
            adapter = session.adapters.get(prefix)
            if type(adapter) is requests.adapters.HTTPAdapter:
                session.mount(prefix, _WatchedAdapter(
                    pool_connections=getattr(adapter, "_pool_connections", 10),
                    pool_maxsize=getattr(adapter, "_pool_maxsize", 10),
                    max_retries=adapter.max_retries,
                    pool_block=getattr(adapter, "_pool_block", False)))
                adapter.close()


# ---------------------------------------------------------------------------- cache

_MISS = object()


# How long the name of a server may take to look up to decide whether its answers may be
# cached; a slower name is taken as not cacheable (its request then has its own deadline).
_CACHE_LOOKUP_SECONDS = 2.0


def _cache_lookup_seconds(timeout: float) -> float:
    """The wait for a server's name before the cache is asked: at most 2 s, ``timeout``,
    and what is left of the call's ``conf.retry_total_time``."""
    ends = _CALL_ENDS.get()
    left = float("inf") if ends is None else max(ends - time.monotonic(), 0.0)
    return min(float(timeout), _CACHE_LOOKUP_SECONDS, left)


def _cacheable(url: str, seconds: float = _CACHE_LOOKUP_SECONDS) -> bool:
    """Answers of servers on this machine or a local network are never cached (see the
    module docstring); a name is looked up in ``seconds`` at most."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    # "localhost." is localhost; urllib3 connects to a percent-encoded host decoded
    host = unquote(host or "").rstrip(".")
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return False
    address = _ip_address(host)
    if address is None:
        try:
            return _global_name(host, seconds)
        except _SlowLookup:  # not remembered: the next call looks it up again
            return False
    return _is_global(address)


def _is_global(address) -> bool:
    return (getattr(address, "ipv4_mapped", None) or address).is_global


# Whether a host name stands for global addresses only, for the names looked up so far.
_name_is_global: dict[str, bool] = {}


def _global_name(host: str, seconds: float) -> bool:
    """Whether a host name stands for global addresses only: a name the system resolves to
    this machine or a local network (``/etc/hosts``, a LAN's DNS) is not; a name it cannot
    resolve is taken as named (its request fails, and nothing failed is cached).
    `_SlowLookup` if the lookup takes more than ``seconds`` (not remembered)."""
    verdict = _name_is_global.get(host)
    if verdict is not None:
        return verdict
    try:
        infos = _looked_up(host, seconds)
    except (OSError, UnicodeError):
        return True  # not remembered: the name may resolve, to a local address, later
    addresses = set()
    for info in infos:
        with contextlib.suppress(ValueError):
            addresses.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    verdict = all(_is_global(a) for a in addresses)
    if len(_name_is_global) >= 256:
        _name_is_global.clear()
    _name_is_global[host] = verdict
    return verdict


def _ip_address(host: str):
    """The address a host written as an IP stands for, in any spelling the system resolver
    accepts (``127.1``, ``2130706433``, ``0x7f000001``, ``0``), else None (a name)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not all(c in "0123456789abcdefxABCDEFX." for c in host):
        return None
    try:
        return ipaddress.ip_address(socket.inet_aton(host))
    except OSError:
        return None


def _no_store(response) -> bool:
    """The server asked that its answer not be stored (RFC 9111 ``Cache-Control``)."""
    directives = response.headers.get("Cache-Control", "").lower()
    return "no-store" in {d.strip().split("=")[0] for d in directives.split(",")}


def _from_cache(query, key, parse):
    # checked before the entry is read: a NaN or infinite lifetime made astroquery's
    # timedelta fail, which read as a miss, and the cache was silently never used
    lifetime = _setting("cache_timeout")
    try:
        cached = key.from_cache(query.cache_location,
                                None if lifetime == float("inf") else lifetime)
    except Exception as err:  # noqa: BLE001 - an unreadable entry is a miss
        log.debug(f"Unreadable astroquery_fink cache entry ({err}): asking the server")
        return _MISS
    if cached is None:
        return _MISS
    try:
        return parse(cached)
    except Exception as err:  # noqa: BLE001 - e.g. written by another version: ask again
        log.debug(f"Cached Fink answer could not be read ({err}): asking the server")
        with contextlib.suppress(OSError):
            key.request_file(query.cache_location).unlink()
        return _MISS


def _safe_is_empty(is_empty, result) -> bool:
    try:
        return bool(is_empty(result))
    except Exception:  # noqa: BLE001 - when in doubt, do not cache
        return True


def _store(query, key, response) -> None:
    """Write the answer to astroquery's cache atomically (readers never see half a file)."""
    clean = requests.Response()
    clean.__setstate__(response.__getstate__())  # the body, headers, url; no socket
    if clean.request is not None:
        # Without hooks: the session's hook holds the query object, which to_cache would
        # deep-copy.
        clean.request = clean.request.copy()
        clean.request.hooks = {"response": []}
    try:
        target = key.request_file(query.cache_location)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            to_cache(clean, tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except Exception as err:  # noqa: BLE001 - a cache that cannot be written is no failure
        log.warning(f"Could not write the Fink answer to astroquery's cache: {err}")


# ---------------------------------------------------------------------------- progress bars

class _NoBar:
    def add(self, n: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class _TqdmBar(_NoBar):
    def __init__(self, bar):
        self._bar = bar

    def add(self, n: int) -> None:
        self._bar.update(n)

    def __exit__(self, *exc) -> None:
        self._bar.close()


class _AstropyBar(_NoBar):
    def __init__(self, bar):
        self._bar = bar
        self._done = 0

    def add(self, n: int) -> None:
        self._done += n
        self._bar.update(self._done)

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(None, None, None)


def _progress_bar(total: int | None, progress: bool, name: str) -> _NoBar:
    if not progress:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if total is None:
            return _NoBar()  # astropy's bar needs to know the end
        from astropy.utils.console import ProgressBar
        return _AstropyBar(ProgressBar(total, ipython_widget=False, file=sys.stderr))
    return _TqdmBar(tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                         file=sys.stderr))
