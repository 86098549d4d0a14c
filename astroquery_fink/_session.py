# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The clients' `requests.Session`: the environment's settings read once per query, and
astroquery's response hook run only when its log would show what it writes.

For every request, `requests` reads the proxy variables (``HTTPS_PROXY``, ``NO_PROXY`` ...)
and the CA-bundle ones (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) from ``os.environ``
(``Session.merge_environment_settings``, which walks the whole environment twice): 0.2 to
0.5 ms, as much as a small answer's transport. The requests of one query, each sent inside
its `EnvironmentOnce.applied` block, share one reading per URL origin and session setting;
any other request (another query's, or one outside a query) reads them as `requests` does.
A change to the environment therefore takes effect at the next query.
"""
import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from astroquery import log

# The EnvironmentOnce of the query whose request this thread is sending, if any.
_current = threading.local()


class Session(requests.Session):
    """`requests.Session` whose environment settings a query's `EnvironmentOnce` keeps, and
    which never reads a redirect's body when not following it."""

    def resolve_redirects(self, resp, req, *args, yield_requests: bool = False, **kwargs):
        """requests' redirects, except when not following them (``allow_redirects=False``,
        as ``_http`` sends every request, following redirects itself): requests then still
        works out the next request for ``Response.next``, reading the whole redirect body
        first, in memory and whatever its size (requests/sessions.py). Nothing here uses
        ``Response.next``, and a redirect's body is a short note at best."""
        if yield_requests:
            return iter(())
        return super().resolve_redirects(resp, req, *args, **kwargs)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # noqa: D102
        once = getattr(_current, "once", None)
        if once is None or once.session is not self:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        try:
            parts = urlsplit(url)
            # what the settings depend on: the scheme and host (requests'
            # should_bypass_proxies), the arguments, and the session's own settings
            key = (parts.scheme, parts.netloc, stream, verify, cert, self.trust_env,
                   self.verify, self.cert, tuple(sorted((proxies or {}).items())),
                   tuple(sorted(self.proxies.items())))
            hash(key)
        except (ValueError, TypeError, AttributeError):  # an odd value: requests' reading
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings = once.kept.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            once.kept[key] = settings
        # a copy: requests and adapters may change the proxies they are given
        return {**settings, "proxies": dict(settings["proxies"])}


class EnvironmentOnce:
    """The environment settings of one query's requests to ``session``, read once."""

    def __init__(self, session):
        self.session = session
        self.kept: dict = {}

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Send the requests made in this block (in this thread) with the query's reading;
        a session that is not a `Session` is left as it is."""
        if not isinstance(self.session, Session):
            yield
            return
        outer = getattr(_current, "once", None)
        _current.once = self
        try:
            yield
        finally:
            _current.once = outer


def when_logged(hook):
    """astroquery's response hook (``BaseQuery._response_hook``), run only when astroquery's
    log is enabled for what it writes.

    The hook formats every request and answer (headers, body, indented) for messages at
    DEBUG and at level 5, and does so whenever the log level is *at or above* them
    (astroquery/query.py), so also at the default INFO level, which then drops them: about
    0.1 ms per request, on the wire. Run here only when the log takes DEBUG messages (as
    it does when it takes level-5 ones), it writes the same messages.
    """
    @functools.wraps(hook)
    def hook_when_logged(response, *args, **kwargs):
        if log.isEnabledFor(logging.DEBUG):
            return hook(response, *args, **kwargs)
        return None  # requests keeps the response as it is

    return hook_when_logged
