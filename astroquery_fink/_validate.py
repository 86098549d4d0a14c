# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""User input -> the payload the Fink server expects, or `InvalidQueryError` before any request."""
import math
import re
import warnings
from collections.abc import Iterable
from urllib.parse import urlsplit

import numpy as np
from astroquery.exceptions import InputWarning, InvalidQueryError

from . import _schema
from ._cutouts import CUTOUT_KINDS

__all__: list[str] = []

# ZTF object names: "ZTF" + two-digit year + seven lower-case letters (e.g. ZTF21aaxtctv).
ZTF_ID = re.compile(r"ZTF\d{2}[a-z]{7}")
# Any leading part of such a name, for the server's prefix matching
# (fink-object-api apps/routes/v1/ztf/objects/utils.py).
_ZTF_PREFIX = re.compile(r"Z(T(F(\d(\d([a-z]{0,7})?)?)?)?)?")

OUTPUT_FORMATS = ("json", "csv", "votable", "parquet")
# Families a user may select with `columns` (v: is computed only in all-columns mode and b:
# comes with `withcutouts`; fink-object-api apps/routes/v1/ztf/objects/utils.py).
_SELECTABLE_FAMILIES = ("i", "d")


def object_ids(object_id, *, prefix: bool = False) -> list[str]:
    """Normalise one ID, a comma-separated string or an iterable of IDs to a list.

    Duplicates are dropped (the server would return their rows once anyway); order is kept.
    """
    if isinstance(object_id, str):
        pieces = object_id.split(",") if "," in object_id else [object_id]
    elif isinstance(object_id, Iterable) and not isinstance(object_id, bytes | dict):
        pieces = list(object_id)
    else:
        raise InvalidQueryError(
            f"object_id must be a ZTF object name or a list of them, not {type(object_id).__name__}"
        )
    ids, bad = [], []
    for piece in pieces:
        if not isinstance(piece, str):
            raise InvalidQueryError(
                f"object_id entries must be strings, got {type(piece).__name__}: {piece!r}"
            )
        name = piece.strip()
        pattern = _ZTF_PREFIX if prefix else ZTF_ID
        if not name or not pattern.fullmatch(name):
            bad.append(piece)
        else:
            ids.append(name)
    if bad:
        what = "ZTF name prefixes (like 'ZTF21aax')" if prefix else (
            "ZTF object names (like 'ZTF21aaxtctv'; use prefix=True for partial names)")
        raise InvalidQueryError(f"Not {what}: {', '.join(map(repr, bad))}")
    if not ids:
        raise InvalidQueryError("object_id is empty: give at least one ZTF object name")
    return list(dict.fromkeys(ids))


def column_list(columns) -> list[str] | None:
    """Check a `columns` selection; None means all columns (with the v: columns)."""
    if columns is None:
        return None
    if isinstance(columns, str):
        names = [c for c in columns.replace(" ", "").split(",")]
    elif isinstance(columns, Iterable) and not isinstance(columns, bytes | dict):
        names = list(columns)
    else:
        raise InvalidQueryError(
            f"columns must be a list of names like 'i:magpsf', not {type(columns).__name__}"
        )
    if names == ["*"]:
        return None
    known = _schema.columns()
    out = []
    for name in names:
        if not isinstance(name, str) or ":" not in name:
            raise InvalidQueryError(
                f"Column {name!r} has no family prefix: write it as 'i:{name}' or 'd:{name}'"
            )
        family = name.split(":", 1)[0]
        if family == "v":
            raise InvalidQueryError(
                f"{name!r} cannot be selected: the server computes v: columns only when all "
                "columns are requested. Omit `columns` and select them from the result."
            )
        if family == "b":
            raise InvalidQueryError(
                f"{name!r} cannot be selected: ask for cutouts with withcutouts=True "
                "(and cutout_kind=...)"
            )
        if family not in _SELECTABLE_FAMILIES:
            raise InvalidQueryError(f"Column {name!r}: unknown family {family!r} (use i: or d:)")
        if name not in known:
            warnings.warn(
                f"{name!r} is not in the Fink schema known to this client; the server ignores "
                "unknown names", InputWarning, stacklevel=4)
        out.append(name)
    if not out:
        raise InvalidQueryError("columns is empty: omit it to get all columns")
    return list(dict.fromkeys(out))


def flag(value, name: str) -> bool:
    """A bool (or numpy bool), else `InvalidQueryError`."""
    if not isinstance(value, bool | np.bool_):
        raise InvalidQueryError(f"{name} must be True or False, not {value!r}")
    return bool(value)


def timeout_seconds(value) -> float:
    """A finite number of seconds above 0, else `InvalidQueryError`."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer
                                                             | np.floating):
        raise InvalidQueryError(f"timeout must be a number of seconds, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InvalidQueryError(f"timeout must be a finite number of seconds above 0, not {value}")
    return value


def server_url(value) -> str:
    """An http(s) base URL, else `InvalidQueryError` (before any request)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidQueryError("server must be an http(s) URL such as "
                                f"'https://api.ztf.fink-portal.org', not {value!r}")
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidQueryError(
            f"server {value!r} is not an http(s) URL: write it with its scheme, e.g. "
            f"'https://{value.split('://')[-1]}'")
    return value


def candid(value) -> int:
    """An alert ID (``i:candid``): an integer, or text of one."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer | str):
        raise InvalidQueryError(f"candid must be an integer alert ID, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise InvalidQueryError(f"candid must be an integer alert ID, not {value!r}") from None


def cutout_kind(kind, *, allow_all: bool = True) -> str | None:
    """'Science', 'Template', 'Difference' (any case) or None/'All' for the three."""
    if kind is None:
        return None
    if isinstance(kind, str):
        for known in CUTOUT_KINDS + (("All",) if allow_all else ()):
            if kind.lower() == known.lower():
                return None if known == "All" else known
    choices = ", ".join(CUTOUT_KINDS) + (" or All" if allow_all else "")
    raise InvalidQueryError(f"Unknown cutout kind {kind!r}: choose among {choices}")


def _have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def output_format(fmt, *, withupperlim: bool = False) -> str:
    """The wire format to ask for; None picks the fastest lossless one for this query.

    That is parquet (exact doubles, typed columns, several times faster to read) when
    pyarrow is installed and the server can write it (it fails for withupperlim), else json.
    """
    if fmt is None:
        return "parquet" if _have_pyarrow() and not withupperlim else "json"
    if isinstance(fmt, str) and fmt.lower() in OUTPUT_FORMATS:
        fmt = fmt.lower()
        if fmt == "parquet" and not _have_pyarrow():
            raise InvalidQueryError(
                "output_format='parquet' needs pyarrow: pip install 'astroquery_fink[parquet]'")
        return fmt
    raise InvalidQueryError(
        f"Unknown output_format {fmt!r}: choose among {', '.join(OUTPUT_FORMATS)}")


def objects_payload(*, columns, withupperlim, withcutouts, cutout_kind,
                    output_format) -> dict:
    """The options of an ``/api/v1/objects`` request under the server's argument names
    (the IDs are added per batch)."""
    payload = {"output-format": output_format}
    if columns is not None:
        payload["columns"] = ",".join(columns)
    # The server enables a flag only when str(value) == "True"
    # (fink-object-api apps/routes/v1/ztf/objects/utils.py): send JSON true.
    if withupperlim:
        payload["withupperlim"] = True
    if withcutouts:
        payload["withcutouts"] = True
        if cutout_kind is not None:
            payload["cutout-kind"] = cutout_kind
    return payload
