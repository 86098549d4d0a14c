# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The clients' `requests.Session`: the environment's settings read once per query.

For every request, `requests` reads the proxy variables (``HTTPS_PROXY``, ``NO_PROXY`` ...)
and the CA-bundle ones (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) from ``os.environ``
(``Session.merge_environment_settings``, which walks the whole environment twice): 0.2 to
0.5 ms, as much as a small answer's transport. Inside `environment_once` the first reading
for a URL's origin is kept for the other requests; outside it, each request reads them as
`requests` does. A change to the environment therefore takes effect at the next query.
"""
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests

_lock = threading.Lock()


class Session(requests.Session):
    """`requests.Session` whose environment settings `environment_once` can keep."""

    _scopes = 0  # open environment_once blocks; class defaults survive unpickling

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # noqa: D102
        kept = getattr(self, "_kept", None)
        if not self._scopes or kept is None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        try:
            parts = urlsplit(url)
            # the settings depend on the scheme and host only (requests' should_bypass_proxies)
            key = (parts.scheme, parts.netloc, stream, verify, cert,
                   tuple(sorted((proxies or {}).items())))
            hash(key)
        except (ValueError, TypeError):  # an odd argument: requests' own reading
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings = kept.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            kept[key] = settings
        # a copy: requests and adapters may change the proxies they are given
        return {**settings, "proxies": dict(settings["proxies"])}


@contextlib.contextmanager
def environment_once(session) -> Iterator[None]:
    """Within this block, ``session`` (a `Session`) reads the environment once per origin;
    blocks of several threads may overlap. Any other session is left as it is."""
    if not isinstance(session, Session):
        yield
        return
    with _lock:
        if not session._scopes:
            session._kept = {}
        session._scopes += 1
    try:
        yield
    finally:
        with _lock:
            session._scopes -= 1
            if not session._scopes:
                session._kept = None
