# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Quick-look figures of search results of both surveys: a cone search on the sky,
statistics over time.

matplotlib is optional (``pip install 'astroquery_fink[plotting]'``): it is imported only when
a function here is called. `astroquery_fink.plotting` re-exports these functions.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from astropy import units as u
from astropy.table import Column, Table
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError

from ._errors import refusing_bad_arguments
from ._plotting import as_table, in_unit, pyplot
from ._validate import flag

if TYPE_CHECKING:  # pragma: no cover - names for the type hints only
    from matplotlib.axes import Axes

__all__ = ["plot_region", "plot_statistics"]


def _axes(ax):
    if ax is not None:
        return ax
    return pyplot().subplots()[1]


# (RA, Dec, object name) columns of a cone search: ZTF's, then Rubin's
_POSITIONS = (("i:ra", "i:dec", "i:objectId"), ("r:ra", "r:dec", "r:diaObjectId"))


@refusing_bad_arguments
def plot_region(table: Table, center, radius, *, ax: Axes | None = None,
                labels: bool | None = None) -> Axes:
    """A cone-search result on the sky: each object and the searched circle.

    Positions are drawn as offsets from the center on the tangent plane (east to the left,
    as on the sky), so that the circle is round whatever the declination.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A `~astroquery_fink.FinkClass.query_region` result (``i:ra``, ``i:dec``; optional
        ``i:objectId``, ``input_index``), or a
        `~astroquery_fink.FinkLSSTClass.query_region` one (``r:ra``, ``r:dec``,
        ``r:diaObjectId``). The rows of one searched position: a result of
        several (``input_index``) must be cut to one first, as the offsets are drawn from
        ``center``.
    center : `~astropy.coordinates.SkyCoord` or anything ``query_region`` takes
        The searched position (one).
    radius : `~astropy.units.Quantity`
        The searched radius (an angle).
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.
    labels : bool, optional
        Write each object's name next to it; default when there are at most 20 objects.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
        Offsets in arcmin (arcsec below 2 arcmin, degrees above 2 degrees).
    """
    from ._sky import positions, radius_arcsec

    labels = None if labels is None else flag(labels, "labels")
    center = positions(center)
    if len(center) != 1:
        raise InvalidQueryError("plot_region draws one position: give the center of the rows drawn")
    center = center[0]
    arcsec = radius_arcsec(radius)
    table = as_table(table, "plot_region", "query_region")
    # ZTF names, or Rubin's (FinkLSST.query_region)
    ra, dec, name = next(((r, d, n) for r, d, n in _POSITIONS
                          if r in table.colnames and d in table.colnames), _POSITIONS[0])
    for column in (ra, dec):
        if column not in table.colnames:
            raise InvalidQueryError(
                f"plot_region needs the column {column} (a query_region result)")
    unit = u.arcsec if arcsec < 120 else u.deg if arcsec > 7200 else u.arcmin
    rows = table
    if "input_index" in table.colnames and len(set(np.asarray(table["input_index"]))) > 1:
        # the table does not say where each position is: another's rows would be drawn as
        # offsets from this center
        raise InvalidQueryError(
            "plot_region draws the rows of one searched position; this table holds "
            f"{len(set(np.asarray(table['input_index'])))}: select one first, e.g. "
            "table[table['input_index'] == 0], and give its center")
    from astropy.coordinates import SkyCoord

    lon, lat = (in_unit(rows[c], u.deg, c, "an angle") for c in (ra, dec))
    drawable = np.isfinite(lon) & np.isfinite(lat)  # rows without a position are not drawn
    rows, lon, lat = rows[drawable], lon[drawable], lat[drawable]
    coords = SkyCoord(lon * u.deg, lat * u.deg)
    dlon, dlat = center.spherical_offsets_to(coords)
    x, y = dlon.to_value(unit), dlat.to_value(unit)
    r = (arcsec * u.arcsec).to_value(unit)
    plt = pyplot()
    ax = _axes(ax)
    ax.add_patch(plt.Circle((0, 0), r, fill=False, color="0.4", linestyle="--",
                            label=f"radius {r:g} {unit}"))
    ax.plot([0], [0], marker="+", color="k", markersize=12, linestyle="none",
            label=center.to_string("decimal", precision=5))
    ax.scatter(x, y, s=18, color="#1f77b4", zorder=3, label=f"{len(rows)} objects")
    if labels is None:
        labels = len(rows) <= 20
    if labels and name in rows.colnames:
        for xi, yi, label in zip(x, y, rows[name], strict=True):
            ax.annotate(str(label), (xi, yi), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xlim(1.1 * r, -1.1 * r)  # east to the left
    ax.set_ylim(-1.1 * r, 1.1 * r)
    ax.set_aspect("equal")
    ax.set_xlabel(f"East offset ({unit.to_string()})")
    ax.set_ylabel(f"North offset ({unit.to_string()})")
    ax.legend(loc="upper right", fontsize=8)
    return ax


@refusing_bad_arguments
def plot_statistics(table: Table, columns: str | Sequence[str] | None = None, *,
                    ax: Axes | None = None, cumulative: bool = False) -> Axes:
    """Counters of ``get_statistics`` (ZTF or Rubin) over time, one line each.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A `~astroquery_fink.FinkClass.get_statistics` or
        `~astroquery_fink.FinkLSSTClass.get_statistics` result (its ``time`` column).
    columns : str or list of str, optional
        The counters to draw; default the alerts processed each night (ZTF ``basic:sci``,
        Rubin ``f:alerts``).
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.
    cumulative : bool, optional
        Draw running totals instead of nightly counts.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
    """
    table = as_table(table, "plot_statistics", "get_statistics")
    cumulative = flag(cumulative, "cumulative")
    if columns is None:
        columns = "f:alerts" if "f:night" in table.colnames else "basic:sci"
    columns = [columns] if isinstance(columns, str) else list(columns)
    if "time" not in table.colnames or not isinstance(table["time"], Time):
        raise InvalidQueryError("plot_statistics needs a get_statistics result (its time column)")
    # rows without a night are not drawn
    table = table[~np.broadcast_to(np.asarray(table["time"].mask, bool), (len(table),))]
    missing = [c for c in columns if c not in table.colnames]
    if missing:
        shown = ", ".join(c for c in table.colnames if c != "time")[:200]
        raise InvalidQueryError(f"No column {', '.join(missing)} in the table; it has {shown}")
    # counters only: numbers, one per night
    text = [c for c in columns if c == "time" or not isinstance(table[c], Column)
            or table[c].dtype.kind not in "iufb" or table[c].ndim != 1]
    if text:
        raise InvalidQueryError(f"Not counters (numbers per night): {', '.join(text)}")
    order = np.argsort(table["time"].jd)
    when = table["time"][order].unmasked.datetime  # the missing nights are left out above
    ax = _axes(ax)
    for name in columns:
        values = np.ma.filled(np.ma.asarray(table[name], dtype=float), np.nan)[order]
        if cumulative:
            values = np.nancumsum(values)
        ax.plot(when, values, marker="o", markersize=3, label=name)
    ax.set_xlabel("Night (UTC)")
    ax.set_ylabel("Running total" if cumulative else "Count per night")
    ax.legend(fontsize=8)
    ax.figure.autofmt_xdate()
    return ax
