# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""What the figures of both surveys share: matplotlib imported only when a figure is drawn
(it is an optional dependency), numbers read from masked columns, and time axes that stay
readable around a single epoch."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from astropy import units as u
from astropy.table import Table
from astroquery.exceptions import InvalidQueryError

if TYPE_CHECKING:  # pragma: no cover - names for the type hints only
    from matplotlib.axes import Axes

__all__: list[str] = []


def pyplot():
    """``matplotlib.pyplot``, or an ImportError saying which extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "astroquery_fink plots need matplotlib: install the plotting extra, "
            "pip install 'astroquery_fink[plotting]'") from err
    return plt


def floats(col) -> np.ndarray:
    """A column as float64 with every missing (masked or non-finite) value set to NaN."""
    data = np.array(col, dtype=float)  # a MaskedColumn gives its data here; the mask follows
    data[np.ma.getmaskarray(col)] = np.nan
    data[~np.isfinite(data)] = np.nan
    return data


def widen_single_epoch(ax: Axes, x, half_width) -> None:
    """Show at least ``half_width`` on each side of points that (nearly) share one time.

    matplotlib widens a zero-width range by 5% of its value: for one alert at MJD 60924
    that is an axis of 6,000 days. ``x`` holds the drawn times (NaN for none), in the axis'
    units; ``half_width`` is one day in them (a float, or a timedelta for datetimes).
    """
    drawn = [v for v in np.ravel(np.asarray(x, dtype=object))
             if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if not drawn:
        return
    low, high = min(drawn), max(drawn)
    if high - low < half_width:
        middle = low + (high - low) / 2
        ax.set_xlim(middle - half_width, middle + half_width)


def as_table(table, function: str, source: str) -> Table:
    """An astropy Table (a pandas DataFrame is converted), else an InvalidQueryError naming what the
    figure takes (``source``: the query whose result it draws)."""
    if isinstance(table, Table):
        return table
    if hasattr(table, "columns") and hasattr(table, "to_numpy"):  # a pandas DataFrame
        return Table.from_pandas(table)
    raise InvalidQueryError(f"{function} needs an astropy Table (from {source}), not "
                            f"{type(table).__name__}")


def in_unit(col, unit: u.UnitBase, name: str, what: str) -> np.ndarray:
    """A column's numbers in ``unit`` (converted by the column's own unit; taken as they are
    when it has none), NaN where missing; an InvalidQueryError naming the column when its unit is
    not ``what`` (an angle, a time)."""
    values = floats(col)
    own = getattr(col, "unit", None)
    if own is None or own == u.dimensionless_unscaled:
        return values
    try:
        return (values * own).to_value(unit)
    except u.UnitConversionError:
        raise InvalidQueryError(f"{name} is in {own}, not {what}") from None
