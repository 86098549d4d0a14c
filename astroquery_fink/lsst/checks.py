# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Rubin user input -> the values the Fink Rubin server expects, or `InvalidQueryError`
before any request (64-bit IDs, columns, MJD TAI times, Solar System names)."""
import math
import numbers

import numpy as np
from astropy.time import Time
from astroquery.exceptions import InputWarning, InvalidQueryError

from .. import _validate
from .._errors import shown, warn
from .endpoints import SELECTABLE
from .schema import columns as known_columns
from .schema import statistics_columns as known_statistics

__all__: list[str] = []


def dia_ids(value, name: str = "diaObjectId") -> list[int]:
    """Rubin IDs given by the user -> exact Python ints, duplicates dropped, order kept.

    Accepts an int, a numpy integer, a text of digits, a comma-separated text, or a list,
    array or column of those. Floats are refused (above 2**53 a float has lost the last
    digits: 313761043604045880 becomes 313761043604045888), and so are 0 ("no ID") and
    negative or over-64-bit numbers.
    """
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, np.ma.MaskedArray) and np.ma.getmaskarray(value).any():
        raise InvalidQueryError(f"{name}: some of the IDs given are masked (missing)")
    elif isinstance(value, np.ndarray) and value.ndim:
        items = value.tolist()
    else:
        items = _validate.listed(value)
        items = [value] if items is None else items
    if not items:
        raise InvalidQueryError(f"No {name} given")
    out = []
    for item in items:
        out.append(one_id(item, name))
    return list(dict.fromkeys(out))


def one_id(item, name: str) -> int:
    if isinstance(item, str):
        item = item.strip()  # as in comma-separated text, and as ZTF names are read
    if isinstance(item, bool | np.bool_):
        raise InvalidQueryError(f"{name} must be an integer ID, not {shown(item)}")
    digits = isinstance(item, str) and item.isascii() and item.isdigit()
    if digits and len(item.lstrip("0")) > 19 or isinstance(item, numbers.Integral) and not (
            -(2**63) < int(item) < 2**63):
        raise InvalidQueryError(f"{name} {shown(item)} is not a 64-bit Rubin ID")
    if digits or isinstance(item, numbers.Integral):
        number = int(item)
    elif isinstance(item, float | np.floating):
        raise InvalidQueryError(
            f"{name} {shown(item)} is a float: Rubin IDs are above 2**53, where a float has lost "
            "the last digits (313761043604045880 becomes 313761043604045888); give it as an "
            "int or as text")
    else:
        raise InvalidQueryError(
            f"{name} must be an integer ID such as 313897383979122767 (int or digits), "
            f"not {shown(item)}")
    if number == 0:
        raise InvalidQueryError(
            f"{name} 0 is not an ID: Rubin writes 0 for 'none' (e.g. the diaObjectId of a "
            "Solar System alert; use query_sso for those)")
    if not 0 < number < 2**63:
        raise InvalidQueryError(f"{name} {number} is not a 64-bit Rubin ID")
    return number


def column_list(columns) -> list[str] | None:
    """A ``columns`` selection of ``r:``/``f:`` names; None (or ``"*"``) for all columns."""
    return _validate.columns(
        columns, example="r:psfFlux", known=known_columns(), selectable=SELECTABLE,
        schema="Rubin/Fink",
        refusal=lambda name, _: (f"{shown(name)} cannot be selected: the server selects r: and "
                                 "f: columns only (v: columns are computed, b: cutouts come "
                                 "from get_cutouts)"))


def output_format(fmt) -> str:
    # csv by default, the one lossless format the server can always write (fink-object-api
    # apps/utils/utils.py send_tabular_data): its JSON (pandas to_json) rounds floats to 10
    # decimals (a covariance of -1.4e-11 becomes -0.0, a midpointMjdTai moves by microseconds
    # and no longer finds its source), and its parquet writer fails (HTTP 500) when a flag
    # column holds the text "nan" for missing cells next to booleans (apps/utils/decoding.py).
    # csv writes full-precision floats and exact 64-bit integers, and is the smallest but for
    # parquet.
    return "csv" if fmt is None else _validate.output_format(fmt)


def mjd_tai(value, name: str) -> str:
    """A time as the server keys it: the full-precision text of its TAI MJD."""
    if isinstance(value, Time):
        if not value.isscalar:
            raise InvalidQueryError(f"{name} must be one time, not {value.size}")
        if np.any(value.mask):
            raise InvalidQueryError(f"{name} is a masked (missing) time")
        try:
            value = float(value.tai.mjd)
        except (ValueError, ArithmeticError) as err:  # erfa's errors are ValueErrors
            raise InvalidQueryError(f"{name}: {err}") from None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise InvalidQueryError(
            f"{name} must be an MJD (TAI) number or an astropy Time, not {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidQueryError(f"{name} must be a finite MJD, not {shown(value)}")
    return repr(number)


def single(ids: list[int], name: str) -> list[int]:
    if len(ids) != 1:
        raise InvalidQueryError(f"Give one {name}, not {len(ids)}")
    return ids


def sso_names(name) -> list[str]:
    if isinstance(name, str):
        items = [v.strip() for v in name.split(",")]
    else:
        items = _validate.listed(name)
        items = [name] if items is None else items
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | numbers.Integral):
            raise InvalidQueryError(f"Solar System names are text or numbers, not {shown(item)}")
        text = str(item).strip()
        if not text:
            raise InvalidQueryError("An empty Solar System object name was given")
        out.append(text)
    if not out:
        raise InvalidQueryError("No Solar System object name given")
    return list(dict.fromkeys(out))


def statistics_columns(columns) -> list[str]:
    """Check a ``get_statistics`` selection: ``f:`` names, no ``*`` (the server then asks
    every column: Lomikel's filter); names the bundled schema lacks are warned about."""
    cols = _validate.names(columns, "columns", example="f:alerts")
    if any("*" in c for c in cols):
        raise InvalidQueryError("columns: '*' means all columns: leave columns out")
    if not all(c.startswith("f:") for c in cols):
        raise InvalidQueryError(f"statistics columns are f: names, not {shown(columns)}")
    known = known_statistics()
    for name in cols:
        if name not in known and name != "f:night":
            warn(f"{shown(name)} is not a Rubin statistics column known to this client; the "
                 "server ignores unknown names", InputWarning)
    return cols
