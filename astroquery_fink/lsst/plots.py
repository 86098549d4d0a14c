# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Quick-look figures of Rubin/LSST answers: light curves per band and the three cutouts.

matplotlib is optional (``pip install 'astroquery_fink[plotting]'``): it is imported only
when a figure is drawn. `astroquery_fink.plotting` re-exports these functions.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astropy.utils.exceptions import AstropyUserWarning
from astroquery.exceptions import InvalidQueryError

from .._errors import refusing_bad_arguments, shown, warn
from .._plotting import as_table, in_unit, pyplot, widen_single_epoch
from .schema import BANDS, flux_to_mag, njy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from astropy.visualization import BaseInterval, BaseStretch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_lsst_lightcurve", "plot_lsst_cutouts", "BAND_COLOURS"]

#: Band -> colour, bluest to reddest (the palette of Rubin's DP0/DP1 tutorial notebooks).
BAND_COLOURS = {"u": "#0c71ff", "g": "#49be61", "r": "#c61c00", "i": "#ffc200",
                "z": "#f341a2", "y": "#5d0000"}
_MARKERS = {"u": "o", "g": "^", "r": "v", "i": "s", "z": "*", "y": "p"}
_KINDS = ("Science", "Template", "Difference")


def _mjd_tai(col) -> np.ndarray:
    """Times as MJD (TAI) floats: a Time column (`~astroquery_fink.lsst.to_time`) in TAI, a
    column with a time unit converted to days, else the numbers as they are."""
    if isinstance(col, Time):
        return np.where(np.ma.getmaskarray(col), np.nan, col.tai.mjd)
    return in_unit(col, u.day, "r:midpointMjdTai", "a time (days)")


def _points(table: Table, flux_column: str, magnitude: bool):
    """(band, time, value, error) arrays of the rows with a time, a band and a value, and
    how many rows had a flux but no magnitude (a flux not positive)."""
    for name in ("r:midpointMjdTai", "r:band", flux_column):
        if name not in table.colnames:
            raise InvalidQueryError(f"The table has no {name} column (select it in columns)")
    time = _mjd_tai(table["r:midpointMjdTai"])
    band = np.ma.filled(np.ma.asarray(table["r:band"]).astype(str), "")
    err_column = flux_column + "Err"
    for name in (flux_column, err_column):
        unit = getattr(table[name], "unit", None) if name in table.colnames else None
        if unit is not None and not unit.is_equivalent(u.nJy):
            raise InvalidQueryError(f"{name} is in {unit}, not a flux density (nJy)")
    if magnitude:
        mag, err = flux_to_mag(table, flux_column=flux_column, err_column=err_column
                               if err_column in table.colnames else None)
        value, error = mag.value, err.value
    else:
        # in nJy, the axis' unit, whatever unit the column carries
        value = njy(table[flux_column])
        error = njy(table[err_column]) if err_column in table.colnames \
            else np.full(len(table), np.nan)
    good = np.isfinite(time) & np.isfinite(value)
    no_magnitude = int((np.isfinite(time) & ~good & np.isfinite(njy(table[flux_column]))).sum())
    return band[good], time[good], value[good], error[good], no_magnitude


@refusing_bad_arguments
def plot_lsst_lightcurve(table: Table, *, forced: Table | None = None,
                         magnitude: bool = False, flux_column: str = "r:psfFlux",
                         ax: Axes | None = None, title: str | None = None) -> Axes:
    """Plot a Rubin light curve (``FinkLSST.query_object``) per band, u g r i z y.

    Parameters
    ----------
    table : `~astropy.table.Table`
        diaSources with ``r:midpointMjdTai`` (MJD TAI; or a `~astropy.time.Time` column, as
        `~astroquery_fink.lsst.to_time` gives), ``r:band`` and ``flux_column`` (and its
        ``...Err`` column for error bars), fluxes in any flux-density unit.
    forced : `~astropy.table.Table`, optional
        Forced photometry of the same object(s) (``FinkLSST.query_forced_photometry``),
        drawn as open, lighter markers of the same band colours.
    magnitude : bool, optional
        Plot AB magnitudes (y axis inverted) instead of fluxes in nJy. Points whose flux is
        not positive (difference fluxes can be negative) have no magnitude and are left out.
    flux_column : str, optional
        ``r:psfFlux`` (difference image, default), ``r:scienceFlux`` (science image), ...
    ax : `matplotlib.axes.Axes`, optional
        Where to draw; default a new figure.
    title : str, optional
        Default: the object ID(s).

    Returns
    -------
    ax : `matplotlib.axes.Axes`
        x: MJD (TAI); y: flux (nJy) or AB magnitude; one legend entry per band present.

    Examples
    --------
    >>> from astroquery_fink import FinkLSSTClass, plotting
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator(survey="lsst") as emu:
    ...     fink = FinkLSSTClass(server=emu.url)
    ...     lc = fink.query_object(170028485706776685)
    ...     fp = fink.query_forced_photometry(170028485706776685)
    >>> ax = plotting.plot_lsst_lightcurve(lc, forced=fp)
    >>> sorted(t.get_text() for t in ax.get_legend().get_texts())[:2]
    ['g', 'g (forced)']
    """
    if not isinstance(magnitude, bool | np.bool_):
        raise InvalidQueryError(f"magnitude must be True or False, not {shown(magnitude)}")
    table = as_table(table, "plot_lsst_lightcurve", "FinkLSST.query_object")
    forced = None if forced is None else as_table(forced, "plot_lsst_lightcurve",
                                                  "FinkLSST.query_forced_photometry")
    points = {is_forced: _points(data, flux_column, magnitude)
              for data, is_forced in ((table, False), (forced, True))
              if data is not None and len(data)}
    no_magnitude = sum(p[4] for p in points.values())
    if magnitude and no_magnitude:
        warn(f"{no_magnitude} point(s) with a {flux_column} not positive have no magnitude and "
             "are not drawn (difference fluxes are often negative; r:scienceFlux is the "
             "source's own flux)", AstropyUserWarning)
    if not any(len(p[1]) for p in points.values()):
        raise InvalidQueryError(f"No row of the table has a time, a band and a {flux_column} "
                                + ("magnitude (a positive flux) " if magnitude else "")
                                + "to plot")
    plt = pyplot()
    new_figure = ax is None
    if new_figure:
        _, ax = plt.subplots(figsize=(8, 4.5))
    drawn, times = [], []
    for is_forced, (band, time, value, error, _) in points.items():
        times.append(time)
        for b in [*BANDS, *sorted(set(band) - set(BANDS))]:
            sel = band == b
            if not sel.any():
                continue
            colour = BAND_COLOURS.get(b, "0.4")
            err = np.where(np.isfinite(error[sel]), error[sel], 0.0)
            ax.errorbar(time[sel], value[sel], yerr=err, fmt=_MARKERS.get(b, "o"),
                        color=colour, mfc="none" if is_forced else colour,
                        alpha=0.45 if is_forced else 0.9, ms=4, lw=0.8,
                        label=f"{b} (forced)" if is_forced else b)
            drawn.append(b)
    ax.set_xlabel("MJD (TAI)")
    if magnitude:
        ax.set_ylabel(f"AB magnitude ({flux_column.split(':')[-1]})")
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
    else:
        ax.set_ylabel(f"{flux_column.split(':')[-1]} (nJy)")
        ax.axhline(0.0, color="0.7", lw=0.6, zorder=0)
    if title is None and "r:diaObjectId" in table.colnames and len(table):
        ids = sorted({int(i) for i in np.ma.compressed(np.ma.asarray(table["r:diaObjectId"]))})
        title = ", ".join(map(str, ids[:3])) + (" ..." if len(ids) > 3 else "")
    if title:
        ax.set_title(title)
    if drawn:
        ax.legend(ncols=2, fontsize="small")
    if new_figure and times:
        widen_single_epoch(ax, np.concatenate(times), 1.0)
    return ax


def _stamps(cutouts) -> tuple[dict, fits.Header | None]:
    if isinstance(cutouts, fits.HDUList):
        stamps = {k: cutouts[k.upper()].data for k in _KINDS
                  if k.upper() in [h.name for h in cutouts]}
        return stamps, cutouts[0].header
    if isinstance(cutouts, Mapping):
        stamps = {k: np.asarray(v) for k, v in cutouts.items() if k in _KINDS}
    elif isinstance(cutouts, np.ndarray):
        stamps = {"Science": cutouts}
    else:
        raise InvalidQueryError(
            "cutouts must be the HDUList or the arrays of FinkLSST.get_cutouts, "
            f"not {type(cutouts).__name__}")
    flat = [f"{k} {v.shape}" for k, v in stamps.items() if v.ndim != 2]
    if flat:
        raise InvalidQueryError(f"Not 2-D images: {', '.join(flat)}")
    return stamps, None


@refusing_bad_arguments
def plot_lsst_cutouts(cutouts, *, axes: Sequence[Axes] | None = None,
                      stretch: str | BaseStretch = "asinh",
                      interval: str | float | BaseInterval = "zscale", cmap: str = "gray",
                      title: str | None = None) -> Figure:
    """Show the science, template and difference stamps of a Rubin alert side by side.

    What the figure shows: each stamp's pixel grid in FITS order, drawn with
    ``origin="lower"`` (x = first FITS axis to the right, y = second axis up), the camera's
    orientation as the stamp holds it. It is not rotated to North up: the stamps' header
    WCS is known to be wrong (Fink documentation, data issues), so no sky orientation is
    claimed; the header's ``ROTPA`` gives the focal-plane position angle. Stamps of different
    sizes (templates are sometimes larger) keep their own size.

    Parameters
    ----------
    cutouts : `~astropy.io.fits.HDUList`, dict or array
        The output of ``FinkLSST.get_cutouts`` (HDUs SCIENCE, TEMPLATE, DIFFERENCE), or of
        ``get_cutouts(..., as_array=True)``.
    axes : sequence of `matplotlib.axes.Axes`, optional
        One per stamp, Science, Template, Difference order. Default: a new figure.
    stretch, interval, cmap
        As in `astroquery_fink.plotting.plot_cutouts` (astropy.visualization stretch and cut
        levels, matplotlib colour map). Pixel values are nJy.
    title : str, optional
        Default: the diaSourceId, diaObjectId and time when the HDUList names them.

    Returns
    -------
    fig : `matplotlib.figure.Figure`

    Examples
    --------
    >>> from astroquery_fink import FinkLSSTClass, plotting
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator(survey="lsst") as emu:
    ...     hdul = FinkLSSTClass(server=emu.url).get_cutouts(170094456272322680)
    >>> fig = plotting.plot_lsst_cutouts(hdul)
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['Science', 'Template', 'Difference']
    """
    from astropy import visualization as vis

    from .._cutouts import image_interval, image_stretch

    plt = pyplot()
    stamps, header = _stamps(cutouts)
    if not stamps:
        raise InvalidQueryError("No Science, Template or Difference stamp in the input")
    if axes is None:
        fig, axes = plt.subplots(1, len(stamps), figsize=(3.4 * len(stamps), 3.6))
        axes = np.atleast_1d(axes)
    elif len(axes) < len(stamps):
        raise InvalidQueryError(f"{len(stamps)} stamps to draw but only {len(axes)} axes given")
    fig = axes[0].figure
    cmap_obj = plt.get_cmap(cmap).with_extremes(bad="red")
    for ax, (kind, data) in zip(axes, stamps.items(), strict=False):
        data = np.asarray(data, dtype=float)
        finite = data[np.isfinite(data)]
        norm = vis.ImageNormalize(finite if finite.size else np.zeros(1),
                                  interval=image_interval(interval), stretch=image_stretch(stretch))
        image = ax.imshow(np.ma.masked_invalid(data), origin="lower", cmap=cmap_obj, norm=norm)
        ax.set_title(kind)
        ax.set_xlabel("x (pixel)")
        ax.set_ylabel("y (pixel)")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="nJy")
    if title is None and header is not None and "DIASRCID" in header:
        parts = [f"diaSourceId {header['DIASRCID']}"]
        if "DIAOBJID" in header:
            parts.append(f"diaObjectId {header['DIAOBJID']}")
        if "MJD-AVG" in header:
            parts.append(f"MJD {header['MJD-AVG']:.5f} TAI")
        title = " | ".join(parts)
    fig.suptitle((title + "\n" if title else "")
                 + "stamp pixel axes (origin lower), not rotated to North up", fontsize="small")
    fig.tight_layout()
    return fig
