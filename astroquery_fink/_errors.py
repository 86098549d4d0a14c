# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fink server answers that are failures -> astroquery exceptions carrying the server's words.

Error bodies come in three shapes, all read here in time and memory linear in a bounded
prefix (the transport reads at most `ERROR_BODY_LIMIT` bytes of them), without evaluating
anything and without backtracking regular expressions:

* the Fink API's own 400 answers, ``Response(str(rep), 400)`` (fink-object-api
  apps/routes/v1/ztf/objects/api.py): a Python repr such as
  ``{'status': 'error', 'text': 'A value for `objectId` is required. ...\\n'}``
  (``check_args`` in apps/utils/utils.py), whose ``text`` may also be an exception repr,
  ``ValueError("Invalid character ...")`` (apps/routes/v1/ztf/conesearch/utils.py);
* flask-restx's JSON errors, ``{"message": "..."}``;
* HTML pages of proxies and servers (nginx 502/504 pages, Werkzeug's 404 page): their
  ``<title>`` (else their first ``<h1>``, else their text) is the message.

Messages keep the server's words and are at most `MESSAGE_LIMIT` characters.
"""
import ast
import functools
import html
import json
import os
import reprlib
import sys
import unicodedata
import warnings

import requests
from astropy import units as u
from astroquery.exceptions import InvalidQueryError, RemoteServiceError

__all__: list[str] = []

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """`warnings.warn` pointing at the caller's line: the first frame outside this package,
    however deep the call (an ``_async`` twin, a batch). Python 3.12's
    ``skip_file_prefixes`` does the same."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


#: Bytes of an error body that are read and looked at; the rest is never downloaded.
ERROR_BODY_LIMIT = 64 * 1024
#: Where a user sets the server address, for messages.
SERVER_SETTING = "astroquery_fink.conf.server or conf.server_lsst, or the client's server="
#: Longest message taken from a server's error body.
MESSAGE_LIMIT = 500
# A string literal handed to ast.literal_eval is at most this long (it is linear in it).
_LITERAL_LIMIT = 8 * 1024


def server_message(body: str | bytes) -> str:
    """The human part of a Fink error body, without evaluating it.

    Parameters
    ----------
    body : str or bytes
        The error body (only its first `ERROR_BODY_LIMIT` characters are looked at).

    Returns
    -------
    message : str
        At most `MESSAGE_LIMIT` characters: the ``text`` or ``message`` field of a Fink or
        flask-restx error, the title of an HTML page, or the start of the body.
    """
    words = _server_words(body)
    # an answer without words (blank, or markup only) still says what it was
    return words or "(the answer has no words: an empty or markup-only body)"


def _server_words(body: str | bytes) -> str:
    if isinstance(body, bytes):
        body = body[:ERROR_BODY_LIMIT].decode("utf-8", "replace")
    body = body[:ERROR_BODY_LIMIT].strip()
    if body.startswith("<"):
        return _clean(_html_message(body))
    if body.startswith(("{", "[")):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            # Fink's "text", flask-restx's "message", problem details' (RFC 9457) "detail"
            words = next((value[k] for k in ("message", "text", "detail", "title")
                          if isinstance(value.get(k), str)), None)
            if words is not None:
                return _clean(words)
        text = _repr_text_field(body)
        if text is not None:
            return _clean(text)
    return _clean(body)


def _repr_text_field(body: str) -> str | None:
    """The ``text`` value of a ``str(dict)`` body, found by a linear scan (no eval)."""
    for key in ("'text'", '"text"'):
        at = body.find(key)
        if at >= 0:
            break
    else:
        return None
    i = at + len(key)
    while i < len(body) and body[i] in " \t\r\n":
        i += 1
    if i >= len(body) or body[i] != ":":
        return None
    value = body[i + 1:].strip()
    if value.endswith("}"):
        value = value[:-1].rstrip()  # the dict's closing brace (text is its last field)
    literal = _string_literal(value)
    if literal is not None:
        return literal
    return _exception_message(value)


def _string_literal(text: str) -> str | None:
    """The value of the Python string literal that starts ``text``, or None.

    Trailing text after the literal (e.g. ``, 'other': 1``) is ignored.
    """
    if not text or text[0] not in "'\"":
        return None
    quote, i = text[0], 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            break
        i += 1
    else:
        return text[1:]  # no closing quote (a body cut at our read limit): its raw text
    literal = text[:i + 1]
    if len(literal) > _LITERAL_LIMIT:
        return literal[1:MESSAGE_LIMIT + 1]  # too long to be worth decoding: raw text
    try:
        value = ast.literal_eval(literal)  # one string literal only: linear, no code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return literal[1:-1]
    return value if isinstance(value, str) else None


def _exception_message(value: str) -> str:
    """``ValueError("msg")`` -> ``msg``; anything else is returned as it is."""
    name_end = 0
    while name_end < len(value) and (value[name_end].isalnum() or value[name_end] in "_."):
        name_end += 1
    if 0 < name_end < len(value) and value[name_end] == "(" and value.endswith(")"):
        inner = value[name_end + 1:-1].strip()
        literal = _string_literal(inner)
        if literal is not None and len(literal) > 0:
            return literal
    return value


def _html_message(page: str) -> str:
    """The ``<title>`` of an HTML page, else its first ``<h1>``, else its text (linear)."""
    lower = page.lower()
    for tag in ("title", "h1"):
        start = lower.find(f"<{tag}")
        if start < 0:
            continue
        start = lower.find(">", start)
        end = lower.find(f"</{tag}", start + 1) if start >= 0 else -1
        if start >= 0 and end > start:
            text = _strip_tags(page[start + 1:end])
            if text:
                return text
    return _strip_tags(page)


def _strip_tags(fragment: str) -> str:
    parts, i = [], 0
    while i < len(fragment):
        lt = fragment.find("<", i)
        if lt < 0:
            parts.append(fragment[i:])
            break
        parts.append(fragment[i:lt])
        gt = fragment.find(">", lt)
        if gt < 0:
            break
        i = gt + 1
    return " ".join(html.unescape(" ".join(parts)).split())


def _clean(text: str) -> str:
    # The server writes a literal backslash-n at the end of its messages.
    text = text.replace("\\n", "\n").strip()
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT - 4].rstrip() + " ..."
    return printable(text)


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxset = _SHOWN.maxdict = _SHOWN.maxarray = 5
_SHOWN.maxlevel = 2


def shown(value) -> str:
    """A user's value in a message: its repr on one line, at most 80 characters (a Table,
    a list of 10,000 IDs or a multi-line repr would drown the message)."""
    try:
        text = _SHOWN.repr(value)
    except ValueError:  # an integer beyond Python's 4300 digits of text
        text = f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    except Exception:  # noqa: BLE001 - a value whose repr fails is still named
        text = f"<{type(value).__name__}>"
    text = printable(" ".join(text.split()))
    return text if len(text) <= 80 else text[:77] + "..."


def shown_list(values, most: int = 5) -> str:
    """Values in a message, each `shown`: the first ``most``, and how many in all."""
    values = list(values)
    text = ", ".join(shown(v) for v in values[:most])
    return text if len(values) <= most else f"{text} ... ({len(values)} in all)"


def printable(text: str) -> str:
    """``text`` with control and format characters (terminal escapes, bells, bidirectional
    overrides, C1 codes) replaced by U+FFFD; line breaks and tabs kept. Server words go
    through it before they enter a message."""
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf")
                   else "\ufffd" for c in text)


def binary_summary(content: bytes, controls: bool = True) -> str | None:
    """``"N bytes of binary data, starting ..."`` for a body that is not UTF-8 text (its
    first 512 bytes), else None: binary bytes read as text would fill a message with
    replacement and control characters."""
    head = content[:512]
    bad = None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:  # cut inside a character at the end is still text
        text = head[:err.start].decode("utf-8") if err.start > len(head) - 4 else None
        bad = err.start
    if text is None and not any(c < 32 and c not in b"\t\n\r" for c in head):
        # text in another encoding (Latin-1 "Bo\xf6tes"), not binary data
        shown = " ".join(head.decode("utf-8", "replace").split())[:60]
        return (f"{len(content)} bytes of text that is not UTF-8 (byte {head[bad]:#04x} at "
                f"{bad}), starting {shown!r}")
    if text is None or controls and any(c < " " and c not in "\t\n\r" for c in text):
        return f"{len(content)} bytes of binary data, starting {content[:8].hex(' ')}"
    return None


def _named_charset(response: requests.Response) -> str | None:
    named = "charset=" in response.headers.get("Content-Type", "").lower()
    return requests.utils.get_encoding_from_headers(response.headers) if named else None


def body_text(response: requests.Response) -> str:
    """The first `ERROR_BODY_LIMIT` bytes of a response body as text (no charset guessing)."""
    content = response.content or b""
    # the charset the answer names; else UTF-8 (requests would say Latin-1 for text/*)
    encoding = _named_charset(response) or "utf-8"
    try:
        return content[:ERROR_BODY_LIMIT].decode(encoding, "replace")
    except LookupError:  # a charset Python does not know
        return content[:ERROR_BODY_LIMIT].decode("utf-8", "replace")


def raise_for_fink_status(response: requests.Response, what: str, url: str | None = None) -> None:
    """Raise the astroquery exception that matches a failed Fink answer; return if it is fine.

    Parameters
    ----------
    response : `requests.Response`
        The answer, whose ``content`` holds (at least the start of) its body.
    what : str
        The query's name for messages, e.g. ``"objects"``.
    url : str, optional
        The URL asked (default: ``response.url``).

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        HTTP 400, 413, 415 or 422: the server rejected the query.
    astroquery.exceptions.RemoteServiceError
        Any other status >= 400 (404 names the URL and the server setting).
    """
    status = response.status_code
    if status < 400:
        return
    url = url or response.url
    if status == 404:
        raise RemoteServiceError(
            f"Fink has no {what} endpoint at {url} (HTTP 404): check the server address "
            f"({SERVER_SETTING})")
    # a body whose charset is named is text in it (UTF-16 is not UTF-8)
    # (an error message's control characters are dropped from its words, see `_clean`)
    binary = None if _named_charset(response) else binary_summary(response.content or b"",
                                                                   controls=False)
    message = binary or server_message(body_text(response))
    if status in (400, 413, 415, 422):
        raise InvalidQueryError(f"Fink rejected the {what} query (HTTP {status}): {message}")
    # which server failed: the user's may be one of several (a proxy, a mirror, ZTF or Rubin)
    at = printable(url if len(url) <= 200 else url[:197] + "...")
    error = RemoteServiceError(f"Fink failed to answer the {what} query at {at} "
                               f"(HTTP {status}): {message}")
    error.status = status  # read by _query: a server failure may be one object's
    raise error


def refusing_bad_arguments(function):
    """Decorator for a public function that works on the user's values only (a figure of
    their Table, a conversion of their numbers): what numpy, astropy or matplotlib raise on
    values it cannot use (``ValueError``, ``TypeError``, ``KeyError``, ``IndexError``,
    ``AttributeError``, unit errors) becomes `~astroquery.exceptions.InvalidQueryError`
    naming the function: one family of bad input, as for the query methods."""
    @functools.wraps(function)
    def checked(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, u.UnitsError) as err:
            words = _clean(" ".join(str(err).split()))  # one line, bounded, printable
            raise InvalidQueryError(f"{function.__name__} cannot use its arguments "
                                    f"({type(err).__name__}: {words})") from err
    return checked
