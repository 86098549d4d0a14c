# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Quick-look figures: light curves with upper limits, and cutout stamps.

matplotlib is optional (``pip install 'astroquery_fink[plotting]'``): it is imported only when a
function here is called.
"""
from __future__ import annotations

import contextlib
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Row, Table
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError

from ._cutouts import EXTNAMES, image_interval, image_stretch
from ._errors import refusing_bad_arguments, shown
from ._plotting import as_table, floats, pyplot, widen_single_epoch
from ._search_plots import plot_region, plot_statistics
from ._validate import flag
from .lsst.plots import plot_lsst_cutouts, plot_lsst_lightcurve

if TYPE_CHECKING:  # pragma: no cover - names for the type hints only
    from collections.abc import Sequence

    from astropy.visualization import BaseInterval, BaseStretch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_lightcurve", "plot_cutouts", "plot_region", "plot_statistics",
           "plot_lsst_lightcurve", "plot_lsst_cutouts"]

# ZTF filter id -> (band name, colour). Green, orange-red and a dark indigo, as in Fink's plots.
BANDS = {1: ("g", "#2ca02c"), 2: ("r", "#e8590c"), 3: ("i", "#2d1e4f")}
# ZTF times are UTC (``jd``: the start of the exposure, ZTF alert schema)
TIME_FORMATS = {"mjd": "MJD (UTC)", "jd": "JD (UTC)", "decimalyear": "Year (UTC)",
                "datetime": "Date (UTC)"}
_LC_COLUMNS = ("i:jd", "i:fid", "i:magpsf", "i:sigmapsf")
_KIND_ORDER = ("Science", "Template", "Difference")
# One day in each time axis' units.
_DAY = {"mjd": 1.0, "jd": 1.0, "decimalyear": 1 / 365.25,
        "datetime": datetime.timedelta(days=1)}


def _strings(col) -> np.ndarray:
    """A string column with masked cells as ''."""
    values = col.filled("") if hasattr(col, "filled") else col
    return np.char.strip(np.asarray(values, dtype=str))


def _times(jd: np.ndarray, time_format: str):
    if time_format == "jd":
        return jd
    t = Time(jd, format="jd", scale="utc")
    return t.to_datetime() if time_format == "datetime" else getattr(t, time_format)


def _title(object_ids: list[str]) -> str:
    if len(object_ids) <= 4:
        return ", ".join(object_ids)
    return f"{', '.join(object_ids[:3])} and {len(object_ids) - 3} more objects"


@refusing_bad_arguments
def plot_lightcurve(table: Table, *, ax: Axes | None = None, time_format: str = "mjd",
                    show_upperlim: bool = True, show_badquality: bool = True,
                    object_id: str | list[str] | None = None) -> Axes:
    """Plot the light curve of one or more objects, with upper limits and bad-quality points.

    The figure of the Fink documentation's ``withupperlim`` example, drawn from a
    `~astroquery_fink.FinkClass.query_object` Table: per ZTF band (``i:fid`` 1 = g, 2 = r,
    3 = i), the valid detections as ``i:magpsf`` with ``i:sigmapsf`` error bars, the upper
    limits as open downward triangles at ``i:diffmaglim``, and the bad-quality detections as
    faded hollow circles with their error bars. Rows are told apart by ``d:tag``; a Table
    without ``d:tag`` (queried without ``withupperlim``) holds valid detections only. Missing
    (masked) values are never drawn.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows of ``Fink.query_object(..., withupperlim=True)``, or any Table with the columns
        ``i:jd``, ``i:fid``, ``i:magpsf`` and ``i:sigmapsf`` (plus ``i:diffmaglim`` when it has
        upper limits to draw). A `pandas.DataFrame` with these columns is accepted too.
    ax : `matplotlib.axes.Axes`, optional
        Where to draw. Default: a new figure.
    time_format : {'mjd', 'jd', 'decimalyear', 'datetime'}, optional
        The x axis: Modified Julian Date (default), Julian Date, decimal year or UTC dates.
    show_upperlim : bool, optional
        Draw the upper limits (``d:tag == "upperlim"``).
    show_badquality : bool, optional
        Draw the bad-quality detections (``d:tag == "badquality"``).
    object_id : str or list of str, optional
        Plot only the rows of these objects (``i:objectId``). Default: every row; one colour per
        band whatever the number of objects.

    Returns
    -------
    ax : `matplotlib.axes.Axes`
        With the y axis (magnitude) inverted, a legend naming band and kind, and the object
        names as title.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        A column needed for the plot is missing (the message names it), ``time_format`` is
        unknown, or no row is left to plot.

    Examples
    --------
    On the bundled emulator (with the live service: ``Fink.query_object(...)``):

    >>> from astroquery_fink import FinkClass
    >>> from astroquery_fink.plotting import plot_lightcurve
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator() as emu:
    ...     lc = FinkClass(server=emu.url).query_object("ZTF25aauurnj", withupperlim=True)
    >>> ax = plot_lightcurve(lc)
    >>> ax.get_title(), ax.get_xlabel(), bool(ax.yaxis_inverted())
    ('ZTF25aauurnj', 'MJD (UTC)', True)
    >>> ax.figure.savefig("ZTF25aauurnj.png")
    """
    if not isinstance(time_format, str) or time_format not in TIME_FORMATS:
        raise InvalidQueryError(f"time_format={shown(time_format)} is unknown: choose among "
                                f"{', '.join(TIME_FORMATS)}")
    show_upperlim = flag(show_upperlim, "show_upperlim")
    show_badquality = flag(show_badquality, "show_badquality")
    table = as_table(table, "plot_lightcurve", "Fink.query_object")
    missing = [c for c in _LC_COLUMNS if c not in table.colnames]
    if missing:
        raise InvalidQueryError(
            f"plot_lightcurve needs the column(s) {', '.join(missing)}, missing from the table "
            f"(it has {', '.join(table.colnames[:8])}{' ...' if len(table.colnames) > 8 else ''})")

    keep = np.ones(len(table), bool)
    names = _strings(table["i:objectId"]) if "i:objectId" in table.colnames else None
    if object_id is not None:
        if names is None:
            raise InvalidQueryError(
                "object_id= needs the column i:objectId, missing from the table")
        wanted = [object_id] if isinstance(object_id, str) else list(object_id)
        keep &= np.isin(names, wanted)
        if not keep.any():
            raise InvalidQueryError(f"No rows of {', '.join(wanted)} in the table; it holds "
                                    f"{', '.join(dict.fromkeys(names[:50]))}")

    jd, fid = floats(table["i:jd"]), floats(table["i:fid"])
    tags = _strings(table["d:tag"]) if "d:tag" in table.colnames else np.full(len(table), "")
    valid = (tags == "valid") | (tags == "")
    placeless = keep & valid & np.isfinite(floats(table["i:magpsf"])) & ~(
        np.isfinite(jd) & np.isfinite(fid))
    if placeless.any():
        # e.g. withupperlim with a columns selection without i:fid: the upper-limit rows
        # bring every column, the detections only those selected
        raise InvalidQueryError(
            f"{placeless.sum()} detection(s) of the table have no time (i:jd) or band (i:fid) "
            "and could not be drawn: select i:jd and i:fid in the query's columns")
    keep &= np.isfinite(jd) & np.isfinite(fid)
    upper = tags == "upperlim"
    bad = tags == "badquality"
    if show_upperlim and (upper & keep).any() and "i:diffmaglim" not in table.colnames:
        raise InvalidQueryError("plot_lightcurve needs the column i:diffmaglim to draw the upper "
                                "limits (or pass show_upperlim=False)")
    for name in ("i:magpsf", "i:sigmapsf", "i:diffmaglim"):
        unit = getattr(table[name], "unit", None) if name in table.colnames else None
        if unit is not None and unit not in (u.mag, u.dimensionless_unscaled) and \
                not isinstance(unit, u.MagUnit):
            raise InvalidQueryError(f"{name} is in {unit}, not magnitudes")
    mag, err = floats(table["i:magpsf"]), floats(table["i:sigmapsf"])
    lim = floats(table["i:diffmaglim"]) if "i:diffmaglim" in table.colnames else mag * np.nan
    drawn_rows = keep & ((valid & np.isfinite(mag))
                         | (show_upperlim & upper & np.isfinite(lim))
                         | (show_badquality & bad & np.isfinite(mag)))
    if not drawn_rows.any():
        raise InvalidQueryError("No row of the table has a magnitude or an upper limit to plot")

    plt = pyplot()
    new_figure = ax is None
    if new_figure:
        _, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    x = np.full(len(table), np.nan, dtype=object if time_format == "datetime" else float)
    x[drawn_rows] = _times(jd[drawn_rows], time_format)

    drawn = []  # legend entries, band by band: detections, upper limits, bad quality
    for k, band in enumerate(sorted({int(f) for f in fid[drawn_rows]})):
        name, colour = BANDS.get(band, (f"fid {band}", f"C{k}"))
        in_band = drawn_rows & (fid == band)
        rows = in_band & valid & np.isfinite(mag)
        if rows.any():
            drawn.append(ax.errorbar(
                x[rows], mag[rows], yerr=np.nan_to_num(err[rows]), ls="", marker="o", ms=5,
                color=colour, ecolor=colour, elinewidth=1, capsize=0, zorder=3,
                label=f"{name} detections", gid=f"valid:{band}"))
        rows = in_band & upper & np.isfinite(lim)
        if show_upperlim and rows.any():
            drawn += ax.plot(x[rows], lim[rows], ls="", marker="v", ms=6, mfc="none", mec=colour,
                             alpha=0.6, label=f"{name} upper limits", gid=f"upperlim:{band}")
        rows = in_band & bad & np.isfinite(mag)
        if show_badquality and rows.any():
            drawn.append(ax.errorbar(
                x[rows], mag[rows], yerr=np.nan_to_num(err[rows]), ls="", marker="o", ms=5,
                mfc="none", mec=colour, color=colour, ecolor=colour, alpha=0.4, elinewidth=1,
                capsize=0, label=f"{name} bad quality", gid=f"badquality:{band}"))

    if not ax.yaxis_inverted():
        ax.invert_yaxis()  # bright up
    ax.set_xlabel(TIME_FORMATS[time_format])
    # magpsf and diffmaglim are magnitudes of the difference image, not of the whole source
    ax.set_ylabel("Difference magnitude (mag)")
    if names is not None:
        ax.set_title(_title(list(dict.fromkeys(names[drawn_rows]))))
    others = [h for h in ax.get_legend_handles_labels()[0] if h not in drawn]
    ax.legend(handles=others + drawn, fontsize="small", ncols=1 + (len(drawn) > 6))
    ax.grid(alpha=0.3)
    if new_figure:
        widen_single_epoch(ax, x[drawn_rows], _DAY[time_format])
    return ax


# ----------------------------------------------------------------------------- cutouts

def _kind_of(name: str) -> str:
    """'SCIENCE', 'Science' or 'b:cutoutScience_stampData' -> 'Science' (else unchanged)."""
    for kind, extname in EXTNAMES.items():
        if name in (kind, extname, kind.lower(), f"b:cutout{kind}_stampData"):
            return kind
    return name


def _ordered(stamps: dict) -> dict:
    order = {k: i for i, k in enumerate(_KIND_ORDER)}
    return dict(sorted(stamps.items(), key=lambda item: order.get(item[0], len(order))))


def _from_hdus(hdus) -> tuple[dict, dict]:
    stamps, info = {}, {}
    for k, hdu in enumerate(hdus):
        for key in ("OBJECTID", "CANDID", "JD"):
            if key in hdu.header and key not in info:
                info[key] = hdu.header[key]
        if hdu.data is None or np.ndim(hdu.data) != 2:
            continue
        name = hdu.header.get("CUTOUT") or hdu.name or f"HDU {k}"
        if name == "PRIMARY" and len(hdus) == 1:
            name = "Cutout"
        stamps[_kind_of(str(name))] = hdu.data
    return stamps, info


def _from_row(row) -> tuple[dict, dict]:
    stamps = {}
    for name in row.colnames:
        if name.startswith("b:cutout") and name.endswith("_stampData"):
            value = row[name]
            if np.ma.getmaskarray(value).all():
                stamps[_kind_of(name)] = None  # the server could not fetch this stamp
            else:
                stamps[_kind_of(name)] = np.ma.filled(np.ma.asarray(value, dtype=float), np.nan)
    info = {key: row[col] for key, col in (("OBJECTID", "i:objectId"), ("CANDID", "i:candid"),
                                            ("JD", "i:jd"))
            if col in row.colnames and not np.ma.is_masked(row[col])}
    return stamps, info


def _collect(cutouts) -> tuple[dict, dict]:
    """Any accepted input -> ({kind: 2-D array or None}, {OBJECTID, CANDID, JD known})."""
    if isinstance(cutouts, fits.HDUList):
        stamps, info = _from_hdus(cutouts)
    elif isinstance(cutouts, fits.PrimaryHDU | fits.ImageHDU):
        stamps, info = _from_hdus([cutouts])
    elif isinstance(cutouts, Table):
        if len(cutouts) != 1:
            raise InvalidQueryError(
                f"plot_cutouts takes one row of a table, not {len(cutouts)} rows: "
                "pass e.g. table[0]")
        stamps, info = _from_row(cutouts[0])
    elif isinstance(cutouts, Row):
        stamps, info = _from_row(cutouts)
    elif isinstance(cutouts, Mapping):
        stamps = {_kind_of(str(k)): v for k, v in cutouts.items()}
        info = {}
    elif isinstance(cutouts, np.ndarray) and cutouts.ndim == 2:
        stamps, info = {"Cutout": cutouts}, {}
    else:
        raise InvalidQueryError(
            "plot_cutouts takes an HDUList (Fink.get_cutouts), a dict of 2-D arrays "
            "(Fink.get_cutouts(..., as_array=True)) or a table row with b:cutout*_stampData "
            f"columns, not {type(cutouts).__name__}")
    if not stamps:
        raise InvalidQueryError("No 2-D cutout found in the input")
    for kind, data in stamps.items():
        if data is not None and np.ndim(data) != 2:
            raise InvalidQueryError(
                f"The {kind} cutout is not a 2-D image (shape {np.shape(data)})")
    return _ordered(stamps), info


def _suptitle(info: dict) -> str | None:
    parts = []
    if "OBJECTID" in info:
        parts.append(str(info["OBJECTID"]))
    if "CANDID" in info:
        parts.append(f"candid {info['CANDID']}")
    if "JD" in info:
        with contextlib.suppress(TypeError, ValueError):
            when = Time(float(info["JD"]), format="jd", scale="utc", precision=0)
            parts.append(f"{when.iso} UTC")
    return "  ".join(parts) or None


@refusing_bad_arguments
def plot_cutouts(cutouts: fits.HDUList | Mapping | Row | Table | np.ndarray, *,
                 axes: Sequence[Axes] | None = None, stretch: str | BaseStretch = "asinh",
                 interval: str | float | BaseInterval = "zscale", cmap: str = "gray",
                 title: str | None = None) -> Figure:
    """Show the science, template and difference stamps of an alert side by side.

    Pixels are drawn with ``origin="lower"``: the orientation convention of
    `astroquery_fink.cutouts` (FITS pixel order, sky orientation as Fink shows it). Each stamp
    is normalised on its own with `astropy.visualization.ImageNormalize`; NaN pixels (off the
    CCD) are left out of the normalisation and drawn in the colour map's "bad" colour (red).

    Parameters
    ----------
    cutouts : `~astropy.io.fits.HDUList`, dict, or table row
        The output of ``Fink.get_cutouts`` (image HDUs named SCIENCE, TEMPLATE, DIFFERENCE),
        of ``Fink.get_cutouts(..., as_array=True)`` (``{"Science": array, ...}``, or one array),
        or a row of ``Fink.query_object(..., withcutouts=True)`` (its ``b:cutout*_stampData``
        cells).
    axes : sequence of `matplotlib.axes.Axes`, optional
        One per stamp, in the order Science, Template, Difference. Default: a new figure.
    stretch : {'asinh', 'linear', 'sqrt', 'log', 'sinh', 'squared'} or stretch, optional
        The `astropy.visualization` stretch (or an instance of one).
    interval : {'zscale', 'minmax'}, float or interval, optional
        The cut levels: z-scale (default), the full range, a percentile such as ``99.5``, or an
        `astropy.visualization` interval instance.
    cmap : str, optional
        matplotlib colour map.
    title : str, optional
        The figure title. Default: the object, alert and date, when the input names them
        (``OBJECTID``, ``CANDID``, ``JD`` header keywords, or the row's columns).

    Returns
    -------
    fig : `matplotlib.figure.Figure`
        Its axes carry the titles "Science", "Template", "Difference".

    Examples
    --------
    >>> from astroquery_fink import FinkClass
    >>> from astroquery_fink.plotting import plot_cutouts
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator() as emu:
    ...     hdul = FinkClass(server=emu.url).get_cutouts("ZTF20abfcszi")
    >>> fig = plot_cutouts(hdul)
    >>> [ax.get_title() for ax in fig.axes]
    ['Science', 'Template', 'Difference']
    >>> fig.savefig("ZTF20abfcszi_cutouts.png")
    """
    from astropy.visualization import ImageNormalize

    stamps, info = _collect(cutouts)
    norm_stretch, norm_interval = image_stretch(stretch), image_interval(interval)
    plt = pyplot()
    if axes is None:
        fig, axes = plt.subplots(1, len(stamps), figsize=(3.2 * len(stamps), 3.7),
                                 squeeze=False, layout="constrained")
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes).ravel()
        if len(axes) < len(stamps):
            raise InvalidQueryError(f"{len(stamps)} stamps to draw but only {len(axes)} axes given")
        fig = axes[0].figure
    colours = plt.get_cmap(cmap).with_extremes(bad="#c0392b")

    for ax, (kind, data) in zip(axes, stamps.items(), strict=False):
        ax.set_title(kind)
        ax.set_xticks([])
        ax.set_yticks([])
        if data is None:
            ax.text(0.5, 0.5, "not available", ha="center", va="center",
                    transform=ax.transAxes)
            continue
        data = np.asarray(data, dtype=float)
        finite = data[np.isfinite(data)]
        if finite.size:
            vmin, vmax = norm_interval.get_limits(finite)
            if not vmax > vmin:
                vmin, vmax = vmin - 0.5, vmax + 0.5
        else:
            vmin, vmax = 0.0, 1.0
        norm = ImageNormalize(vmin=vmin, vmax=vmax, stretch=norm_stretch, clip=False)
        ax.imshow(data, origin="lower", cmap=colours, norm=norm, interpolation="nearest")
    suptitle = title if title is not None else _suptitle(info)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
