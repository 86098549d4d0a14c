# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""User input checks shared by both surveys -> values, or `InvalidQueryError` before any
request. Each survey's own checks (IDs, the column families it selects) live in its package
(``ztf/checks.py``, ``lsst/checks.py``)."""
import contextlib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from astroquery.exceptions import InputWarning, InvalidQueryError

from ._errors import shown, warn

__all__: list[str] = []

OUTPUT_FORMATS = ("json", "csv", "votable", "parquet")


def flag(value, name: str) -> bool:
    """A bool (or numpy bool), else `InvalidQueryError`."""
    if not isinstance(value, bool | np.bool_):
        raise InvalidQueryError(f"{name} must be True or False, not {shown(value)}")
    return bool(value)


def timeout_seconds(value, name: str = "timeout") -> float:
    """A finite number of seconds above 0, else `InvalidQueryError` naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer
                                                             | np.floating):
        raise InvalidQueryError(f"{name} must be a number of seconds, not {shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        value = math.inf
    if not math.isfinite(value) or value <= 0:
        raise InvalidQueryError(
            f"{name} must be a finite number of seconds above 0, not {shown(value)}")
    return value


def server_url(value, example: str = "https://api.ztf.fink-portal.org") -> str:
    """An http(s) base URL, else `InvalidQueryError` (before any request); ``example`` is
    the address a message suggests (the client's own survey's)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidQueryError(f"server must be an http(s) URL such as {shown(example)}, "
                                f"not {shown(value)}")
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks the host and port
    except ValueError as err:
        raise InvalidQueryError(f"server {shown(value)} is not a valid URL ({err})") from None
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise InvalidQueryError(
            f"server {shown(value)} must be a base URL, without a query (?) or fragment (#): "
            "the client adds /api/v1/<endpoint> to it")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        bare = value.split("://")[-1]
        host = urlsplit(f"http://{bare}").hostname or ""
        # a server on this machine (the emulator) speaks plain http
        scheme = "http" if host in ("localhost", "::1") or host.startswith("127.") else "https"
        raise InvalidQueryError(
            f"server {shown(value)} is not an http(s) URL: write it with its scheme, e.g. "
            f"{shown(f'{scheme}://{bare}')}")
    # an address copied from a request (".../api/v1/objects"): the client adds that path
    api = re.search(r"/api(/v\d+)?(/[^/]*)?/*$", parts.path)
    if api is not None:
        base = urlunsplit(parts._replace(path=parts.path[:api.start()]))
        raise InvalidQueryError(
            f"server {shown(value)} must be the base URL, without {shown(api.group(0))}: "
            f"the client adds /api/v1/<endpoint> to it; give {shown(base)}")
    return value


def _have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def output_format(fmt, *, withupperlim: bool = False) -> str:
    """The wire format to ask for; None picks the fastest lossless one for this query.

    That is parquet (exact doubles, typed columns, several times faster to read) when
    pyarrow is installed and the server can write it; with withupperlim, which it cannot
    write as parquet, csv (every digit: JSON rounds floats to 10 decimals); else json.
    """
    if fmt is None:
        if withupperlim:
            return "csv"
        return "parquet" if _have_pyarrow() else "json"
    if isinstance(fmt, str) and fmt.lower() in OUTPUT_FORMATS:
        fmt = fmt.lower()
        if fmt == "parquet" and not _have_pyarrow():
            raise InvalidQueryError(
                "output_format='parquet' needs pyarrow: pip install 'astroquery_fink[parquet]'")
        return fmt
    raise InvalidQueryError(
        f"output_format={shown(fmt)} is unknown: choose among {', '.join(OUTPUT_FORMATS)}")


def count(value, name: str) -> int:
    """A whole number above 0 (``n``, ``nmax``, ...), else `InvalidQueryError`."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise InvalidQueryError(f"{name} must be a whole number above 0, not {shown(value)}")
    if not 0 < value < 2**31:  # the servers read these as 32-bit Java/Python ints at most
        raise InvalidQueryError(f"{name} must be a whole number from 1 to {2**31 - 1}, "
                                f"not {shown(value)}")
    return int(value)


def count_setting(name: str, minimum: int = 1) -> int:
    """A whole-number setting of ``astroquery_fink.conf`` (``batch_size``, ``max_workers``,
    ``max_retries``: astropy checks their type only), else `InvalidQueryError`."""
    from . import conf

    value = getattr(conf, name)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) \
            or value < minimum:
        raise InvalidQueryError(f"astroquery_fink.conf.{name} must be a whole number of at "
                                f"least {minimum}, not {shown(value)}")
    return int(value)


def output_path(value, name: str = "path") -> Path:
    """A file to write, checked before a long download: text or path-like, in a folder that
    exists, not a folder, device, FIFO or socket itself; a link is followed (its target is
    returned, to be written as ``open`` writes through it)."""
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike) \
            or not os.fspath(value).strip() or "\0" in os.fspath(value):
        raise InvalidQueryError(f"{name} must be a file path (text or pathlib.Path), "
                                f"not {shown(value)}")
    path = Path(value).expanduser()
    if os.fspath(value).endswith(("/", os.sep)):  # Path() drops the slash that says folder
        raise InvalidQueryError(f"{name} {shown(os.fspath(value))} names a folder: name the file "
                                "to write")
    try:
        # written through a link, as open() writes (not the link replaced by a file)
        if path.is_symlink():
            path = Path(os.path.realpath(path))
            if path.is_symlink():  # realpath stops at a loop of links
                raise InvalidQueryError(f"{name} {shown(os.fspath(value))} is a loop of "
                                        "symbolic links: name a file to write")
        is_folder, folder_exists = path.is_dir(), path.parent.is_dir()
    except OSError as err:  # a name too long for the file system, ...
        raise InvalidQueryError(
            f"{name} {shown(str(path))} cannot be a file: {err.strerror}") from None
    if is_folder:
        raise InvalidQueryError(f"{name} {shown(os.fspath(value))} is a folder: name the file "
                                "to write")
    with contextlib.suppress(OSError):
        if path.exists() and not path.is_file():  # a device, FIFO or socket is not replaced
            raise InvalidQueryError(f"{name} {shown(os.fspath(value))} is not a regular file "
                                    "(a device, FIFO or socket): name a file to write")
    if not folder_exists:
        raise InvalidQueryError(f"{name} {shown(os.fspath(value))}: the folder "
                                f"{shown(str(path.parent))} does not exist")
    return path


def choice(value, name: str, choices: Sequence[str]) -> str:
    """One of the server's words for an argument (``trend``, ``flavor``, ``resolver``, ...),
    else `InvalidQueryError` listing them; only text is compared (an array is refused, not
    tested for truth)."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidQueryError(
            f"{name}={shown(value)} is unknown: choose among {', '.join(map(repr, choices))}")
    return value


def listed(value) -> list | None:
    """The items of a list, tuple, array, column or other collection the user gave; None for
    one value: text, bytes, a mapping, or a scalar that claims to be iterable but is not (a
    scalar `~astropy.units.Quantity`, a 0-d array)."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        return None
    try:
        return list(value)
    except TypeError:
        return None


def names(value, what: str, *, example: str) -> list[str]:
    """Names given as one comma-separated text or a list of texts -> the names, each stripped
    of surrounding spaces (names may hold inner spaces: 'class:SN candidate'), empty ones
    dropped, duplicates dropped; `InvalidQueryError` for anything else or none at all."""
    items = value.split(",") if isinstance(value, str) else listed(value)
    if items is None:
        raise InvalidQueryError(f"{what} must be names like {shown(example)} (a list, or text "
                                f"with commas), not {shown(value)}")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidQueryError(f"{what}: {shown(item)} is not a name like {shown(example)}")
        if item.strip():
            out.append(item.strip())
    if not out:
        raise InvalidQueryError(f"{what} is empty: omit it to get all of them")
    return list(dict.fromkeys(out))


def columns(value, *, example: str, known, selectable: tuple[str, ...],
            refusal: Callable[[str, str], str], schema: str) -> list[str] | None:
    """A ``columns`` selection of ``family:name`` texts, checked before any request; None
    (or ``"*"``) for all columns.

    A name without a family prefix, or of a family the server does not select (the text
    ``refusal(name, family)`` says why), raises `InvalidQueryError`; a name the bundled
    schema (``known``) lacks is warned about, as the server ignores it.
    """
    if value is None:
        return None
    selection = names(value, "columns", example=example)
    if selection == ["*"]:
        return None
    for name in selection:
        family, colon, field = name.partition(":")
        if "*" in name:
            # the server asks every column when its filter holds a '*' (Lomikel)
            raise InvalidQueryError("columns: '*' means all columns: give it alone")
        if colon and not field.strip():
            raise InvalidQueryError(f"Column {shown(name)} has no name after its family prefix")
        if not colon:
            hint = " or ".join(shown(f"{f}:{name}") for f in selectable)
            raise InvalidQueryError(
                f"Column {shown(name)} has no family prefix: write it as {hint}")
        if family not in selectable:
            raise InvalidQueryError(refusal(name, family))
        if name not in known:
            warn(f"{shown(name)} is not in the {schema} schema known to this client; the server "
                 "ignores unknown names", InputWarning)
    return selection
