# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fink server answers that are failures -> astroquery exceptions carrying the server's words."""
import ast
import json
import re

from astroquery.exceptions import InvalidQueryError, RemoteServiceError

__all__: list[str] = []

_TEXT_FIELD = re.compile(r"""['"]text['"]\s*:\s*(.*?)\s*\}\s*$""", re.S)


def server_message(body: str) -> str:
    """The human part of a Fink error body, without evaluating it.

    400 bodies are ``str(dict)`` (a Python repr, e.g. ``{'status': 'error', 'text': '...'}``;
    FINK_API.md section 6); restx errors are JSON ``{"message": ...}``. ``ast.literal_eval``
    only reads literals, and a body it cannot read (one holding an exception repr) falls back
    to the raw text of its ``text`` field.
    """
    body = body.strip()
    for reader in (json.loads, ast.literal_eval):
        try:
            value = reader(body)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            text = value.get("text", value.get("message"))
            if text is not None:
                return _clean(str(text))
        break
    match = _TEXT_FIELD.search(body)
    if match:
        return _clean(match.group(1).strip("'\""))
    return _clean(body[:500])


def _clean(text: str) -> str:
    # The server writes a literal backslash-n at the end of its messages.
    return text.replace("\\n", "\n").strip()


def raise_for_fink_status(response, what: str) -> None:
    """Raise the astroquery exception that matches a failed Fink answer; return if it is fine."""
    status = response.status_code
    if status < 400:
        return
    message = server_message(response.text)
    if status in (400, 413, 415, 422):
        raise InvalidQueryError(f"Fink rejected the {what} query (HTTP {status}): {message}")
    if status == 404:
        raise RemoteServiceError(
            f"Fink has no {what} endpoint at {response.url} (HTTP 404): check "
            "astroquery_fink.conf.server")
    raise RemoteServiceError(f"Fink failed to answer the {what} query (HTTP {status}): {message}")
