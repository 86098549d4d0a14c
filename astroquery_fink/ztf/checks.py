# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""ZTF user input -> the values the Fink ZTF server expects, or `InvalidQueryError` before
any request (object names, columns, cutout kinds, SSO names, tracklet and statistics dates,
sky maps)."""
import datetime
import re

import numpy as np
from astropy.coordinates import SkyCoord
from astroquery.exceptions import InvalidQueryError

from .. import _sky, _validate
from .._errors import shown, shown_list
from .endpoints import TRACKLET_ID_SHAPE
from .schema import columns as known_columns

__all__: list[str] = []

# ZTF object names: "ZTF" + two-digit year + seven lower-case letters (e.g. ZTF21aaxtctv).
ZTF_ID = re.compile(r"ZTF[0-9]{2}[a-z]{7}")


# Any leading part of such a name, for the server's prefix matching
# (fink-object-api apps/routes/v1/ztf/objects/utils.py).
_ZTF_PREFIX = re.compile(r"Z(T(F([0-9]([0-9]([a-z]{0,7})?)?)?)?)?")


def object_ids(object_id, *, prefix: bool = False) -> list[str]:
    """Normalise one ID, a comma-separated string or an iterable of IDs to a list.

    Duplicates are dropped (the server would return their rows once anyway); order is kept.
    """
    pieces = object_id.split(",") if isinstance(object_id, str) else _validate.listed(object_id)
    if pieces is None:
        raise InvalidQueryError(
            f"object_id must be a ZTF object name or a list of them, not {type(object_id).__name__}"
        )
    ids, bad = [], []
    for piece in pieces:
        if not isinstance(piece, str):
            raise InvalidQueryError(
                f"object_id entries must be strings, got {type(piece).__name__}: {shown(piece)}"
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
        raise InvalidQueryError(f"Not {what}: {shown_list(bad)}{_case_hint(bad)}")
    if not ids:
        raise InvalidQueryError("object_id is empty: give at least one ZTF object name")
    return list(dict.fromkeys(ids))


def _case_hint(bad: list[str]) -> str:
    """The right spelling of names that differ only in case: the server's row keys are
    case-sensitive, so a guess would be silent; the user is told instead."""
    fixed = [f"ZTF{b.strip()[3:5]}{b.strip()[5:].lower()}" for b in bad
             if re.fullmatch(ZTF_ID.pattern, b.strip(), re.IGNORECASE)]
    return f" (names are case-sensitive: {shown_list(fixed)}?)" if fixed else ""


def column_list(columns) -> list[str] | None:
    """Check a `columns` selection; None means all columns (with the v: columns). Only i:
    and d: are selected: v: is computed only in all-columns mode, b: comes with
    ``withcutouts`` (fink-object-api apps/routes/v1/ztf/objects/utils.py)."""
    return _validate.columns(columns, example="i:magpsf", known=known_columns(),
                             selectable=("i", "d"), refusal=_refusal, schema="Fink")


def _refusal(name: str, family: str) -> str:
    if family == "v":
        return (f"{shown(name)} cannot be selected: the server computes v: columns only when all "
                "columns are requested. Omit `columns` and select them from the result.")
    if family == "b":
        return (f"{shown(name)} cannot be selected: ask for cutouts with withcutouts=True "
                "(and cutout_kind=...)")
    return f"Column {shown(name)}: unknown family {shown(family)} (use i: or d:)"


def candid(value) -> int:
    """An alert ID (``i:candid``): an integer, or text of one."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer | str):
        raise InvalidQueryError(f"candid must be an integer alert ID, not {shown(value)}")
    try:
        number = int(value)
    except ValueError:
        raise InvalidQueryError(f"candid must be an integer alert ID, not {shown(value)}") from None
    if not 0 < number < 2**63:
        raise InvalidQueryError(f"candid must be a positive 64-bit alert ID, not {shown(value)}")
    return number


def options_payload(*, columns, flags: dict, cutout_kind=None) -> dict:
    """The options of a request under the server's argument names (IDs and the format are
    added per batch): the ``columns`` selection, each flag that is on, and the cutout kind
    with ``withcutouts``."""
    payload = {}
    if columns is not None:
        payload["columns"] = ",".join(columns)
    # The server enables a flag only when str(value) == "True"
    # (fink-object-api apps/routes/v1/ztf/objects/utils.py): send JSON true.
    payload.update({name: True for name, on in flags.items() if on})
    if flags.get("withcutouts") and cutout_kind is not None:
        payload["cutout-kind"] = cutout_kind
    return payload


def one_position(coordinates) -> bool:
    """Whether the user gave one position (no ``input_index`` column) rather than a list."""
    if isinstance(coordinates, SkyCoord):
        return coordinates.isscalar
    if isinstance(coordinates, str):
        return True
    if isinstance(coordinates, tuple) and len(coordinates) == 2:
        return all(np.ndim(getattr(c, "value", c)) == 0 for c in coordinates)
    return False


def sso_names(n_or_d) -> list[str]:
    """SSO numbers, designations or names -> a list of non-empty strings (duplicates dropped)."""
    if isinstance(n_or_d, str):
        pieces = n_or_d.split(",")
    elif isinstance(n_or_d, int | np.integer) and not isinstance(n_or_d, bool):
        pieces = [str(n_or_d)]
    else:
        pieces = _validate.listed(n_or_d)
    if pieces is None:
        raise InvalidQueryError(
            f"n_or_d must be an SSO number, designation or name, or a list, not {shown(n_or_d)}")
    names = []
    for piece in pieces:
        if isinstance(piece, bool) or not isinstance(piece, str | int | np.integer):
            raise InvalidQueryError(f"Not an SSO number, designation or name: {shown(piece)}")
        # the server removes spaces ("2010 JO69" is "2010JO69")
        name = str(piece).replace(" ", "")
        if not name:
            raise InvalidQueryError(f"Empty SSO name in {shown(n_or_d)}")
        names.append(name)
    if not names:
        raise InvalidQueryError("n_or_d is empty")
    return list(dict.fromkeys(names))


def is_tracklet_id(text: str) -> bool:
    """A tracklet ID (TRCK_YYYYMMDD_HHMMSS_NN) or a leading part of one (the server matches
    prefixes) whose date and time can be real; at least "TRCK_" and one digit."""
    return len(text) >= 6 and _sky.date_prefix(text, TRACKLET_ID_SHAPE)


def tracklet_date(date) -> str:
    """A tracklet date prefix "YYYY-MM-DD hh:mm:ss" (or a leading part of it)."""
    if isinstance(date, str):
        text = date.strip().replace("T", " ")
        # the server matches it as a prefix of its keys: fields written in full, and a
        # date and time that can be real
        if len(text) < 4 or not _sky.date_prefix(text, "0000-00-00 00:00:00"):
            raise InvalidQueryError(
                f"date must be a leading part of a date 'YYYY-MM-DD hh:mm:ss', not {shown(date)}")
        return text
    if isinstance(date, datetime.date) and not isinstance(date, datetime.datetime):
        return date.isoformat()  # a day: every tracklet of that night
    t = _sky.time_arg(date, "date")
    return t.strftime("%Y-%m-%d %H:%M:%S")


def statistics_columns(columns) -> list[str]:
    """Statistics counters, e.g. ``basic:sci`` or ``class:SN candidate`` (inner spaces kept)."""
    names = _validate.names(columns, "columns", example="class:SN candidate")
    for name in names:
        if ":" not in name:
            raise InvalidQueryError(
                f"Statistics column {shown(name)} has no family: write it like 'basic:sci' or "
                "'class:SN candidate'")
    return names
