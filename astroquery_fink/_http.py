# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""One Fink request done carefully: astroquery's cache used deliberately, and retries.

Every Fink data route is a read, so a request is safe to repeat. Transient failures
(connection errors, time-outs, HTTP 429/502/503/504, and a 200 whose body cannot be parsed,
e.g. cut short) are retried with exponential back-off and full jitter, honouring
``Retry-After``, within a bounded total time. Only answers that parsed into a non-empty
result are written to the cache.
"""
import email.utils
import random
import time
from datetime import UTC, datetime

import requests
from astroquery.exceptions import RemoteServiceError, TableParseError
from astroquery.exceptions import TimeoutError as AstroTimeoutError
from astroquery.query import AstroQuery, to_cache

from . import conf
from ._errors import raise_for_fink_status

__all__: list[str] = []

RETRY_STATUS = frozenset({429, 502, 503, 504})


class _Transient(Exception):
    """A failure worth another try; ``wait`` is the server's Retry-After, if any."""

    def __init__(self, error: Exception, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)  # the HTTP-date form
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own back-off
    if when.tzinfo is None:  # '-0000' means UTC without saying so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential back-off: uniform in [0, base * 2**attempt], capped."""
    ceiling = min(float(conf.retry_max_delay), float(conf.retry_base_delay) * 2 ** attempt)
    return rng.uniform(0, ceiling)


def fetch(query, method: str, url: str, payload: dict | None, parse, *, what: str, cache: bool,
          timeout: float, is_empty=lambda result: False):
    """Send ``payload`` to ``url`` (a JSON body) and return ``parse(response)``.

    ``query`` is the `~astroquery.query.BaseQuery` instance whose ``_request`` sends it.
    Permanent failures raise at once; transient ones are retried (see module docstring).
    """
    payload = payload or None  # a GET without arguments sends no body
    key = AstroQuery(method, url, json=payload)  # same key as astroquery's own cache
    if cache:
        cached = key.from_cache(query.cache_location, float(conf.cache_timeout))
        if cached:
            return parse(cached)

    rng = random.Random()
    deadline = time.monotonic() + float(conf.retry_total_time)
    attempt = 0
    while True:
        try:
            response, result = _attempt(query, method, url, payload, parse, what, timeout)
            break
        except _Transient as transient:
            attempt += 1
            delay = transient.wait if transient.wait is not None else backoff_delay(attempt, rng)
            if attempt > int(conf.max_retries) or time.monotonic() + delay > deadline:
                err = transient.error
                raise type(err)(f"{err} (gave up after {attempt} attempts)") from err
            time.sleep(delay)

    if cache and not is_empty(result):
        to_cache(response, key.request_file(query.cache_location))
    return result


def _attempt(query, method, url, payload, parse, what, timeout):
    try:
        response = query._request(method, url, json=payload, timeout=timeout, cache=False)
    except requests.Timeout as err:
        raise _Transient(AstroTimeoutError(
            f"Fink did not answer the {what} query within {timeout} s; raise "
            "astroquery_fink.conf.timeout or ask for fewer objects at once")) from err
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError) as err:  # also bodies cut short
        raise _Transient(RemoteServiceError(
            f"Could not reach Fink at {url} for the {what} query: {err}")) from err
    if response.status_code in RETRY_STATUS:
        try:
            raise_for_fink_status(response, what)
        except RemoteServiceError as err:
            raise _Transient(err, _retry_after(response)) from err
    raise_for_fink_status(response, what)
    try:
        return response, parse(response)
    except (TableParseError, ValueError, OSError) as err:
        # A 200 that does not parse was most likely cut short on the way: try again.
        reason = str(err)
        reason = reason if len(reason) <= 300 else reason[:300] + " ..."
        raise _Transient(RemoteServiceError(
            f"Fink's answer to the {what} query could not be read: {reason}")) from err
