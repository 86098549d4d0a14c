# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``fink-query``: query Fink (ZTF or Rubin/LSST) from the command line.

Every query method of `~astroquery_fink.FinkClass` and `~astroquery_fink.FinkLSSTClass` is a
subcommand; its arguments are the method's keywords. When the first argument is not a
subcommand, the command is ``objects`` (the command line of earlier versions).

Examples::

    fink-query ZTF21aaxtctv -o ZTF21aaxtctv.ecsv --lightcurve lc.png --cutouts stamps.png
    fink-query ZTF21aaxtctv,ZTF19acmdpyr --columns i:jd,i:magpsf,i:fid -o lc.csv
    fink-query --emulator ZTF20abfcszi --lightcurve lc.png     # offline, bundled alerts
    fink-query region "05h34m31.9s +22d00m52s" 30arcsec --startdate 2021-01-01 -o cone.ecsv
    fink-query statistics 2021 -o stats.ecsv --plot stats.png
    fink-query objects 170028485706776685 --survey lsst --lightcurve lc.png

Exit status: 0 on success, 1 when Fink (or the emulator) fails or has no data, 2 for a usage
error (bad arguments, unknown output extension, invalid object name).
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib.util
import inspect
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
import requests
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astropy.utils.exceptions import AstropyWarning
from astroquery.exceptions import (
    InvalidQueryError,
    NoResultsWarning,
    RemoteServiceError,
    TableParseError,
)
from astroquery.exceptions import TimeoutError as AstroTimeoutError

from . import __version__
from ._cutouts import CUTOUT_KINDS
from ._table_files import TABLE_FORMATS, write_table
from ._validate import OUTPUT_FORMATS, output_path
from .exceptions import NoAlertsError, PartialResultError
from .lsst import FinkLSSTClass
from .ztf import FinkClass

__all__ = ["main"]

PROG = "fink-query"
SURVEYS = {"ztf": FinkClass, "lsst": FinkLSSTClass}

_FITS_SUFFIXES = (".fits", ".fit", ".fits.gz")
_LIGHTCURVE_COLUMNS = ("i:jd", "i:fid", "i:magpsf", "i:sigmapsf")
_LSST_LIGHTCURVE_COLUMNS = ("r:midpointMjdTai", "r:band", "r:psfFlux")
# Columns shown first when no output file is given (the ZTF ones first, as before).
_PREVIEW = ("i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim", "d:tag",
            "v:classification", "r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai",
            "r:band", "r:psfFlux", "r:psfFluxErr", "v:separation_degree")
_ID_COLUMNS = ("i:objectId", "r:diaObjectId")


class _UsageError(Exception):
    """Bad command-line input: exit status 2."""


class _Failure(Exception):
    """The query or an output failed: exit status 1."""


# ----------------------------------------------------------------------------- the commands

@dataclass(frozen=True)
class _Arg:
    """One command-line argument.

    ``flags`` are argparse's (a name without dashes is a positional, passed to the method
    positionally in order); ``dest`` is the method keyword an option sets (``method=False``:
    an argument of the command line only, e.g. a figure file). Options default to None, so
    that only what the user gives is passed on and the method keeps its own defaults.
    """

    flags: tuple[str, ...]
    options: dict = field(default_factory=dict)
    method: bool = True
    convert: Callable | None = None
    needs: str | None = None  # the option without which this one does nothing

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def dest(self) -> str:
        if "dest" in self.options:
            return self.options["dest"]
        if self.positional:
            return self.flags[0]
        long = [f for f in self.flags if f.startswith("--")] or self.flags
        return long[0].lstrip("-").replace("-", "_")

    @property
    def name(self) -> str:
        """How messages name it: the flag, or the positional's metavar."""
        return self.options.get("metavar", self.flags[0]) if self.positional else self.flags[0]

    def takes_value(self) -> bool:
        return self.options.get("action") not in ("store_true", "store_const")


@dataclass(frozen=True)
class _Output:
    """A file option that saves a figure (or stamps) made from the result."""

    arg: _Arg
    save: Callable  # (ctx, path) -> (written files, ok)
    fits_ok: bool = False
    implies: dict = field(default_factory=dict)  # survey -> keywords the figure needs
    check: Callable | None = None  # (args, survey) -> None, raises _UsageError


@dataclass(frozen=True)
class _Command:
    """A subcommand: the client method of each survey it runs, and its arguments."""

    name: str
    help: str
    methods: dict  # survey -> method name
    args: tuple = ()
    outputs: tuple = ()
    fixed: dict = field(default_factory=dict)  # keywords always passed (e.g. as_table)
    table_output: bool = True  # -o FILE writes the result


def _ids(values) -> list[str]:
    """IDs given separately or comma-separated ("ZTF1,ZTF2 ZTF3")."""
    values = [values] if isinstance(values, str) else values or []
    return [i.strip() for arg in values for i in arg.split(",") if i.strip()]


def _angle(text: str) -> u.Quantity:
    """An angle with its unit, e.g. ``30arcsec``, ``0.5deg``, ``2 arcmin``."""
    try:
        value = u.Quantity(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"not an angle: {text!r} (say 30arcsec or 0.5deg)") from None
    if value.unit.physical_type != "angle":
        hint = (" (a position is one quoted argument: \"23.5 30.7\"; then the radius with "
                "its unit, e.g. 30arcsec)" if value.unit == u.dimensionless_unscaled
                else " (say 30arcsec or 0.5deg)")
        raise argparse.ArgumentTypeError(f"not an angle: {text!r}{hint}")
    return value


def _duration(text: str) -> u.Quantity:
    """A duration with its unit, e.g. ``3d`` or ``12h``."""
    try:
        value = u.Quantity(text)
        if value.unit.physical_type == "time":
            return value
    except (TypeError, ValueError):
        pass
    raise argparse.ArgumentTypeError(f"not a duration: {text!r} (say 3d or 12h)")


def _date(text: str) -> str | Time:
    """A date option: ISO text as given (the method reads it), or ``jd<number>`` /
    ``mjd<number>`` (e.g. ``jd2459215.5``, ``mjd59215``) as an astropy Time."""
    match = re.fullmatch(r"\s*(jd|mjd)\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*", text, re.I)
    if match is None:
        from ._sky import time_arg

        try:
            with warnings.catch_warnings():  # erfa's "dubious year" (see _query)
                warnings.filterwarnings("ignore", message=r'.*"dubious year')
                time_arg(text, "DATE")
        except InvalidQueryError as err:
            if "must be a date" in str(err):  # said of Python types: say what to write
                raise argparse.ArgumentTypeError(
                    f"not a date: {text!r} (write an {_DATE_HELP})") from None
        return text
    return Time(float(match[2]), format=match[1].lower(), scale="utc")


def _parquet_path(text: str) -> str:
    """The file ``ssobulk`` writes: the server sends parquet, so a name saying another
    table format (FILE.csv) is refused; other names are the user's."""
    if _suffix(text) in TABLE_FORMATS and TABLE_FORMATS[_suffix(text)] != "parquet":
        raise _UsageError(f"FILE {text!r}: the bulk download is a parquet file: name it "
                          "FILE.parquet")
    return text


def _positions(text: str):
    """One position as text, or the positions of a file: one ``RA,Dec`` row per line.

    The file's values are anything a position text holds (degrees, or sexagesimal); a header
    line (starting ``ra``) and ``#`` comments are skipped.
    """
    path = Path(text)
    if not path.is_file():
        if path.suffix.lower() in (".csv", ".txt", ".dat") or os.sep in text:
            raise _UsageError(f"POSITION {text!r}: no such file" + (
                " (a folder)" if path.is_dir() else ""))
        _check_positions([(None, text)])
        return text
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _UsageError(f"POSITION: {text!r} is not a text file of RA,Dec rows in UTF-8 "
                          f"(byte {err.start}: {err.reason})") from None
    except OSError as err:
        raise _UsageError(f"POSITION: {text!r} cannot be read ({err.strerror})") from None
    numbered = []
    for number, line in enumerate(content.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line and not line.lower().startswith("ra"):
            numbered.append((number, " ".join(v.strip() for v in line.split(","))))
    if not numbered:
        raise _UsageError(f"POSITION: no RA,Dec rows in {text!r}")
    _check_positions(numbered, text)
    return [row for _, row in numbered]


def _beyond_pole(row: str) -> bool:
    """Whether a position is two numbers whose Dec is beyond a pole (astropy says only that
    it cannot parse it)."""
    try:
        _, dec = (float(v) for v in row.split())
    except ValueError:
        return False
    return abs(dec) > 90


_POSITION_HELP = ("write RA and Dec in degrees ('10.68 41.27') or sexagesimal "
                  "('00:42:44.3 +41:16:09', '00 42 44.3 +41 16 09')")


def _check_positions(numbered: list[tuple[int | None, str]], path: str | None = None) -> None:
    """Positions of the command line read as the query will read them, refused in the
    command line's words (the library's message speaks of SkyCoord and Quantities)."""
    from ._sky import positions

    try:
        positions([row for _, row in numbered])
        return
    except InvalidQueryError:
        pass
    for number, row in numbered:  # which one, said by its line (only when one is wrong)
        try:
            positions(row)
        except InvalidQueryError:
            where = f"line {number} of {path!r}, " if path else ""
            dec = " (Dec must be within -90 and +90 degrees)" if _beyond_pole(row) else ""
            raise _UsageError(f"POSITION {where}{row!r} is not a sky position{dec}: "
                              f"{_POSITION_HELP}") from None


def _arg(*flags: str, method: bool = True, convert=None, needs: str | None = None,
         **options) -> _Arg:
    if options.get("action") == "store_true":
        options.setdefault("default", None)  # None: not given, the method's default stays
    if options.get("type") in (int, float):
        options["type"] = _number_or_text(options["type"])
    return _Arg(flags, options, method, convert, needs)


def _number_or_text(kind: type) -> Callable[[str], int | float | str]:
    """A number option's value: the number, or the text as given, which the method then
    refuses in its words, named by the flag (argparse would say "invalid int value")."""
    def number(text: str):
        try:
            return kind(text)
        except ValueError:
            return text
    number.__name__ = kind.__name__
    return number


_COLUMNS = _arg("--columns", metavar="COLS",
                help="comma-separated columns, e.g. i:jd,i:magpsf (ZTF) or "
                     "r:midpointMjdTai,r:psfFlux (Rubin) (default: all)")
_WIRE = _arg("--output-format", choices=OUTPUT_FORMATS,
             help="wire format of the request (default: ZTF parquet when possible, else "
                  "json; Rubin csv); the table is the same")
_N = _arg("-n", type=int, metavar="N", help="the server's row limit")
_DATE_HELP = "ISO date or time (2021-01-01, '2021-01-01 03:00'), or jd2459215.5 or mjd59215"
_STARTDATE = _arg("--startdate", metavar="DATE", convert=_date, help=_DATE_HELP)
_STOPDATE = _arg("--stopdate", metavar="DATE", convert=_date, help=_DATE_HELP)
_START_DATE = _arg("--start-date", metavar="DATE", convert=_date, help=_DATE_HELP)
_STOP_DATE = _arg("--stop-date", metavar="DATE", convert=_date, help=_DATE_HELP)
_IDS = _arg("object_id", nargs="+", metavar="OBJECT_ID", convert=_ids,
            help="object ID(s): ZTF names (ZTF21aaxtctv) or Rubin diaObjectIds; several, or "
                 "comma-separated")
_CUTOUT_KIND = _arg("--cutout-kind", choices=CUTOUT_KINDS,
                    help="with --withcutouts, only this cutout")
_WITHCUTOUTS = _arg("--withcutouts", action="store_true",
                    help="add the cutouts as b:cutout*_stampData columns")
_PLOT = _arg("--plot", metavar="PNG", method=False, help="save a figure of the result")


# ----------------------------------------------------------------------------- figures

@dataclass
class _Context:
    """What the figure savers need: the client, the result and the arguments."""

    client: object
    survey: str
    result: object
    args: argparse.Namespace
    cache: bool | None
    say: Callable
    values: dict  # the converted arguments, by name
    words: Callable[[str], str] = str  # a library message in the command line's words


def _check_folder(path: str, option: str) -> None:
    """A file to write: its folder exists and it is no folder (checked before the query)."""
    try:
        output_path(path, option)
    except InvalidQueryError as err:
        raise _UsageError(str(err)) from None


def _check_image_path(path: str, option: str, fits_ok: bool = False) -> None:
    suffix = _suffix(path)
    if fits_ok and suffix in _FITS_SUFFIXES:
        return
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise _Failure(f"{option} needs matplotlib: install the plotting extra (pip install "
                       "'astroquery_fink[plotting]')") from None
    formats = Figure().canvas.get_supported_filetypes()
    if suffix.lstrip(".") not in formats:
        allowed = ([".fits"] if fits_ok else []) + [f".{f}" for f in ("png", "pdf", "svg")]
        raise _UsageError(f"{option} {path!r}: unknown extension; use {', '.join(allowed)}")


def _save_figure(fig, path) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def _figure(option: str, draw: Callable) -> Callable:
    """A saver that draws one figure (``draw(ctx)`` gives Axes or a Figure) into the file."""
    def save(ctx: _Context, path: str) -> tuple[list[str], bool]:
        try:
            drawn = draw(ctx)
        except InvalidQueryError as err:
            # the plotting functions' own words: not those of the command's method
            ctx.say(f"{PROG}: error: no figure for {option}: {err}", err=True)
            return [], False
        _save_figure(getattr(drawn, "figure", drawn), path)
        return [path], True
    return save


def _draw_lightcurve(ctx: _Context):
    from . import plotting

    if ctx.survey == "lsst":
        return plotting.plot_lsst_lightcurve(ctx.result)
    return plotting.plot_lightcurve(ctx.result)


def _check_lightcurve(args, survey: str) -> None:
    need = _LSST_LIGHTCURVE_COLUMNS if survey == "lsst" else _LIGHTCURVE_COLUMNS
    if args.columns:
        asked = {c.strip() for c in args.columns.split(",")}
        missing = [c for c in need if c not in asked]
        if missing and "*" not in asked:
            raise _UsageError(f"--lightcurve needs the columns {', '.join(missing)}: add "
                              "them to --columns")


def _save_regions(ctx: _Context, path: str) -> tuple[list[str], bool]:
    """One sky figure per searched position (its index added to PNG for several)."""
    from .plotting import plot_region

    centers = ctx.values["coordinates"]
    centers = [centers] if isinstance(centers, str) else centers
    table = ctx.result
    index = np.asarray(table["input_index"]) if "input_index" in table.colnames \
        else np.zeros(len(table), int)
    written, ok = [], True
    for k, center in enumerate(centers):
        target = _numbered_path(path, str(k), len(centers) > 1)
        try:
            ax = plot_region(table[index == k], center, ctx.args.radius)
        except InvalidQueryError as err:  # the plotting function's own words
            where = f" (position {k})" if len(centers) > 1 else ""
            ctx.say(f"{PROG}: error: no figure for --plot{where}: {err}", err=True)
            ok = False
            continue
        _save_figure(ax.figure, str(target))
        written.append(str(target))
    return written, ok


def _draw_statistics(ctx: _Context):
    from .plotting import plot_statistics

    return plot_statistics(ctx.result, _ids(ctx.args.plot_columns) or None)


def _draw_cutouts(ctx: _Context):
    from . import plotting

    draw = plotting.plot_lsst_cutouts if ctx.survey == "lsst" else plotting.plot_cutouts
    return draw(ctx.result)


def _numbered_path(path: str, label: str, several: bool) -> Path:
    """``path``, or for one of several figures ``path`` with ``_label`` before its suffix."""
    if not several:
        return Path(path)
    p, suffix = Path(path), _suffix(path)
    return p.with_name(f"{p.name[:len(p.name) - len(suffix)]}_{label}{suffix}")


def _latest_alerts(ctx: _Context, objects: list[str]) -> list:
    """What get_cutouts takes for each object's latest alert: its name (ZTF), or the row
    of its latest diaSource (Rubin)."""
    if ctx.survey == "ztf":
        return objects
    table = ctx.result
    for name in ("r:diaSourceId", "r:midpointMjdTai"):
        if name not in table.colnames:
            raise _Failure(f"--cutouts needs the column {name}: add it to --columns")
    ids = (np.asarray(table["r:diaObjectId"]).astype(str) if "r:diaObjectId" in table.colnames
           else np.full(len(table), objects[0]))
    times = np.asarray(table["r:midpointMjdTai"], dtype=float)
    return [table[np.flatnonzero(ids == oid)[np.argmax(times[ids == oid])]]
            for oid in objects]


def _save_cutouts(ctx: _Context, path: str) -> tuple[list[str], bool]:
    from . import plotting

    objects = _objects(ctx.result, ctx.values["object_id"])
    written, ok = [], True
    several = len(objects) > 1
    draw = plotting.plot_lsst_cutouts if ctx.survey == "lsst" else plotting.plot_cutouts
    for oid, alert in zip(objects, _latest_alerts(ctx, objects), strict=True):
        target = _numbered_path(path, oid, several)
        try:
            hdul = ctx.client.get_cutouts(alert, cache=ctx.cache)
        except (InvalidQueryError, RemoteServiceError, AstroTimeoutError,
                requests.RequestException) as err:
            ctx.say(f"{PROG}: error: no cutouts for {oid}: {ctx.words(str(err))}", err=True)
            ok = False
            continue
        if _suffix(path) in _FITS_SUFFIXES:
            hdul.writeto(target, overwrite=True)
        else:
            _save_figure(draw(hdul), target)
        written.append(str(target))
    return written, ok


_LIGHTCURVE = _Output(
    _arg("--lightcurve", metavar="PNG", method=False,
         help="save a light-curve plot (ZTF: implies --withupperlim)"),
    _figure("--lightcurve", _draw_lightcurve), implies={"ztf": {"withupperlim": True}},
    check=_check_lightcurve)
_CUTOUTS = _Output(
    _arg("--cutouts", metavar="PATH", method=False,
         help="save the cutouts of each object's latest alert: PATH.fits (HDUList) or "
              "PATH.png (figure); the object name is added to PATH for several objects"),
    _save_cutouts, fits_ok=True)


def _command_table() -> dict[str, _Command]:
    both = ("ztf", "lsst")  # a tuple: the help lists the methods in one order

    def on(*surveys, method):
        return {s: method for s in (surveys or both)}

    commands = [
        _Command("objects", "all the alerts of objects: their light curves (the default "
                 "command)", on(method="query_object"),
                 (_arg("object_id", nargs="*", metavar="OBJECT_ID", convert=_ids,
                       help="object ID(s): ZTF names (ZTF21aaxtctv) or Rubin diaObjectIds; "
                            "several, or comma-separated"),
                  _COLUMNS,
                  _arg("--withupperlim", action="store_true",
                       help="add upper limits and bad-quality rows (column d:tag)"),
                  _WITHCUTOUTS, _CUTOUT_KIND, _WIRE,
                  _arg("--prefix", action="store_true",
                       help="treat each OBJECT_ID as a name prefix (may return many objects)"),
                  _arg("--midpointMjdTai", type=float, metavar="MJD",
                       help="Rubin: only the source observed at this time (MJD TAI)")),
                 (_LIGHTCURVE, _CUTOUTS)),
        _Command("cutouts", "the cutouts of one alert (-o FILE.fits, --plot FILE.png)",
                 on(method="get_cutouts"),
                 (_arg("alert", metavar="ID",
                       help="ZTF object name (its latest alert, or --candid), or Rubin "
                            "diaSourceId"),
                  _arg("--kind", choices=("All", *CUTOUT_KINDS), help="which stamp(s)"),
                  _arg("--candid", type=int, help="ZTF: the alert (default: the latest)"),
                  _arg("--object-id", metavar="DIAOBJECTID",
                       help="Rubin: the alert's object, to write its time, position and "
                            "band in the headers")),
                 (_Output(_PLOT, _figure("--plot", _draw_cutouts)),)),
        _Command("schema", "the columns the server describes", on(method="get_schema"),
                 (_arg("endpoint", nargs="?", metavar="ENDPOINT",
                       help="Rubin: sources (default), objects, fp, conesearch, ..."),
                  _arg("--major-version", type=int, metavar="N", help="Rubin schema version"),
                  _arg("--minor-version", type=int, metavar="N", help="Rubin schema version"))),
        _Command("region", "cone search: objects near one or more positions",
                 on(method="query_region"),
                 (_arg("coordinates", metavar="POSITION", convert=_positions,
                       help="'RA Dec' (degrees, or '05h34m31.9s +22d00m52s'), or a file of "
                            "RA,Dec rows (one search each)"),
                  _arg("radius", metavar="RADIUS", type=_angle,
                       help="an angle with its unit: 30arcsec, 2arcmin, 0.5deg"),
                  _STARTDATE, _STOPDATE,
                  _arg("--window", type=_duration, metavar="DURATION",
                       help="instead of --stopdate: a duration after --startdate (3d)"),
                  _N, _arg("--kind", help="Rubin: the server's kind argument"),
                  _COLUMNS, _WIRE),
                 (_Output(_arg("--plot", metavar="PNG", method=False,
                               help="save a sky figure of the result; for several positions "
                                    "one each, the position's index added to PNG"),
                          _save_regions),)),
        _Command("class", "the latest alerts of a class", on("ztf", method="query_class"),
                 (_arg("class_name", metavar="CLASS", help="e.g. 'SN candidate' (see classes)"),
                  _N, _STARTDATE, _STOPDATE,
                  _arg("--trend", choices=("rising", "fading", "low_state", "new_low_state")),
                  _arg("--color", action="store_true", help="add the v: colour columns"),
                  _arg("--fetch-all", action="store_true",
                       help="split the date range until nothing is cut"),
                  _arg("--max-requests", type=int, metavar="N", help="with --fetch-all"),
                  _COLUMNS, _WIRE)),
        _Command("classes", "the class names of the class command",
                 on("ztf", method="get_classes"), fixed={"as_table": True}),
        _Command("anomaly", "the latest alerts flagged as anomalous",
                 on("ztf", method="query_anomaly"),
                 (_N, _START_DATE, _STOP_DATE, _COLUMNS, _WIRE)),
        _Command("sso", "alerts of Solar System objects", on(method="query_sso"),
                 (_arg("n_or_d", nargs="+", metavar="SSO", convert=_ids,
                       help="number, designation or name; several, or comma-separated"),
                  _arg("--withEphem", action="store_true", help="add ephemerides"),
                  _arg("--withResiduals", action="store_true",
                       help="add residuals to the sHG1G2 model (one object)"),
                  _WITHCUTOUTS, _CUTOUT_KIND, _COLUMNS, _WIRE)),
        _Command("ssocand", "Solar System candidates found by Fink",
                 on("ztf", method="query_ssocand"),
                 (_arg("kind", nargs="?", metavar="KIND", choices=("orbParams", "lightcurves"),
                       help="orbParams (default) or lightcurves"),
                  _arg("--ssoCandId", metavar="ID", help="one trajectory"),
                  _START_DATE, _STOP_DATE,
                  _arg("--maxnumber", type=int, metavar="N", help="most rows"), _WIRE)),
        _Command("ssoft", "the Solar System Fink Table of phase-curve parameters",
                 on("ztf", method="get_ssoft"),
                 (_arg("--sso-name", metavar="NAME"), _arg("--sso-number", type=int),
                  _arg("--flavor", choices=("SHG1G2", "HG1G2", "HG", "SOCCA")),
                  _arg("--table-version", dest="version", metavar="YYYY.MM",
                       help="a version of the table (default: the latest)"),
                  _arg("--schema", action="store_true",
                       help="the column descriptions instead"), _WIRE)),
        _Command("ssobulk", "download every SSO light curve to a parquet file",
                 on("ztf", method="download_ssobulk"),
                 (_arg("path", metavar="FILE", convert=_parquet_path,
                       help="the parquet file to write (FILE.parquet)"),),
                 table_output=False),
        _Command("tracklet", "alerts of fast-moving objects' tracklets",
                 on("ztf", method="query_tracklet"),
                 (_arg("id", nargs="?", metavar="TRACKLET", help="TRCK_YYYYMMDD_HHMMSS_NN"),
                  _arg("--date", help="instead: every tracklet of 2021-11-20 (or an hour...)"),
                  _COLUMNS, _WIRE)),
        _Command("resolve", "names to Fink IDs (or back, with --reverse)",
                 on(method="resolve"),
                 (_arg("name", metavar="NAME", help="e.g. M31, 'SN 2023vwy', or an object ID"),
                  _arg("--resolver", choices=("simbad", "ssodnet", "tns"), required=True),
                  _arg("--reverse", action="store_true", help="from an object ID to names"),
                  _arg("--nmax", type=int, metavar="N", help="most matches"), _WIRE)),
        _Command("skymap", "objects in a gravitational-wave sky map", on(method="query_skymap"),
                 (_arg("event_name", nargs="?", metavar="EVENT", help="a GraceDB event"),
                  _arg("--bayestar", metavar="FILE", help="instead: a local sky map file"),
                  _arg("--credible-level", type=float, required=True, metavar="P",
                       help="in (0, 1], e.g. 0.9"),
                  _arg("--n-day-before", type=float, metavar="DAYS"),
                  _arg("--n-day-after", type=float, metavar="DAYS"), _WIRE)),
        _Command("statistics", "nightly counters of the alert stream",
                 on(method="get_statistics"),
                 (_arg("date", nargs="?", metavar="DATE",
                       help="YYYYMMDD, YYYYMM or YYYY (default: every night)"),
                  _COLUMNS,
                  _arg("--schema", action="store_true", help="ZTF: the counter names instead"),
                  _arg("--plot-columns", metavar="COLS", method=False, needs="--plot",
                       help="the counters --plot draws (default basic:sci; Rubin f:alerts)"),
                  _WIRE),
                 (_Output(_PLOT, _figure("--plot", _draw_statistics)),)),
        _Command("summary", "the latest diaObject record of objects",
                 on("lsst", method="get_object_summary"), (_IDS, _COLUMNS, _WIRE)),
        _Command("forced", "forced photometry of objects",
                 on("lsst", method="query_forced_photometry"), (_IDS, _COLUMNS, _WIRE)),
        _Command("tags", "the latest alerts carrying a Fink tag",
                 on("lsst", method="query_tags"),
                 (_arg("tag", metavar="TAG", help="see tag-list"), _N, _STARTDATE, _STOPDATE,
                  _COLUMNS, _WIRE)),
        _Command("tag-list", "the Fink tags", on("lsst", method="get_tags")),
        _Command("blocks", "the building blocks of Fink's tag filters",
                 on("lsst", method="get_blocks")),
    ]
    return {c.name: c for c in commands}


COMMANDS = _command_table()

# Options every command takes.
_COMMON = (
    _arg("--survey", choices=tuple(SURVEYS), default="ztf", method=False,
         help="which Fink API: ztf (default) or lsst"),
    _arg("--server", metavar="URL", method=False,
         help="base URL of another Fink API deployment (default: astroquery_fink.conf.server, "
              "or conf.server_lsst)"),
    _arg("--emulator", action="store_true", method=False,
         help="query the bundled offline emulator of the survey (needs "
              "astroquery_fink[emulator])"),
    _arg("--emulator-data", nargs="+", metavar="FILE", method=False,
         help="run the emulator on these alert files instead of the bundled ones"),
    _arg("--timeout", type=float, metavar="SECONDS", method=False,
         help="time limit of one HTTP request"),
    _arg("--no-cache", action="store_true", method=False,
         help="do not use astroquery's cache of answers"),
    _arg("-q", "--quiet", action="store_true", method=False,
         help="print nothing but warnings and errors"),
)
_OUTPUT = _arg("-o", "--output", metavar="FILE", method=False,
               help="write the result; the format follows the extension: "
                    + ", ".join(TABLE_FORMATS) + " (cutouts: .fits)")


def _add(parser, arg: _Arg) -> None:
    options = dict(arg.options)
    if arg.positional:
        options.pop("dest", None)
        parser.add_argument(arg.dest, **options)
    else:
        options["dest"] = arg.dest
        parser.add_argument(*arg.flags, **options)


_NEGATIVE_VALUE = re.compile(r"-\.?\d")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the parser of each command (for its usage in errors)."""
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Query the Fink alert broker (ZTF, or Rubin/LSST with --survey lsst) from "
                    "the command line; save tables and figures. Without a command, the "
                    "arguments are those of the objects command.",
        epilog="Exit status: 0 ok, 1 query failed or no data, 2 usage error or refused input. "
               f"'{PROG} COMMAND --help' tells the arguments of a command.")
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    parsers = {}
    for cmd in COMMANDS.values():
        surveys = "" if len(cmd.methods) > 1 else f" (--survey {next(iter(cmd.methods))} only)"
        methods = ", ".join(f"{SURVEYS[s].__name__}.{m}" for s, m in cmd.methods.items())
        p = parsers[cmd.name] = sub.add_parser(
            cmd.name, help=cmd.help + surveys, description=f"{cmd.help} ({methods}).",
            epilog="Exit status: 0 ok, 1 query failed or no data, 2 usage error or refused "
                   "input.")
        # a value such as -1deg or -3d is a value (then refused in words), not an unknown
        # option: Python 3.13's argparse reads any '-' and digit so (its
        # _negative_number_matcher), 3.11's only plain numbers; none of our flags is one
        p._negative_number_matcher = _NEGATIVE_VALUE
        for arg in [a for a in cmd.args if a.positional]:
            _add(p, arg)
        q = p.add_argument_group("query (the method's keywords)")
        for arg in [a for a in cmd.args if not a.positional]:
            _add(q, arg)
        o = p.add_argument_group("outputs")
        if cmd.table_output:
            _add(o, _OUTPUT)
        for out in cmd.outputs:
            _add(o, out.arg)
        s = p.add_argument_group("server")
        for arg in _COMMON:
            _add(s, arg)
    return top, parsers


def _route(argv: list[str]) -> list[str]:
    """The command first: ``[--server URL] region ...`` -> ``region --server URL ...``, and
    ``ZTF21aaxtctv ...`` (no command) -> ``objects ZTF21aaxtctv ...``."""
    valued = {f: a.options.get("nargs") for a in (*_COMMON, _OUTPUT)
              for f in a.flags if a.takes_value()}
    valued.update({f: a.options.get("nargs") for c in COMMANDS.values()
                   for a in (*c.args, *(o.arg for o in c.outputs))
                   for f in a.flags if not a.positional and a.takes_value()})
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in COMMANDS:
            return [token, *argv[:i], *argv[i + 1:]]
        if not token.startswith("-") or token == "-":
            break
        i += 1
        if "=" not in token and token in valued:
            if valued[token] == "+":  # a list: up to the next option or command
                while i < len(argv) and not argv[i].startswith("-") and argv[i] not in COMMANDS:
                    i += 1
            else:
                i += 1
    if argv and set(argv) <= {"-h", "--help", "--version"}:
        return argv
    return ["objects", *argv]


# ----------------------------------------------------------------------------- writing

def _suffix(path: str) -> str:
    name = Path(path).name.lower()
    return ".fits.gz" if name.endswith(".fits.gz") else Path(name).suffix


def _table_format(path: str) -> str:
    """The astropy format name for an output file, from its extension (or `_UsageError`)."""
    fmt = TABLE_FORMATS.get(_suffix(path))
    if fmt is None:
        raise _UsageError(f"cannot tell the table format of {path!r} from its extension: use "
                          f"one of {', '.join(TABLE_FORMATS)}")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise _Failure(f"-o {path}: writing parquet needs pyarrow: install the parquet extra "
                       "(pip install 'astroquery_fink[parquet]')")
    return fmt


def _write_table(table: Table, path: str) -> list[str]:
    """Write a query's Table in the format its file extension names; overwrite; return the
    notes of what the format made change (`_table_files.write_table`)."""
    return write_table(table, path, _table_format(path))


# ----------------------------------------------------------------------------- running

# Keywords that are also English words: flags only where written as code (`columns`,
# columns=..., the subject opening a message: "window needs startdate", or next to a flag:
# "Give stopdate or window"), so that prose such as "has no family prefix" stays as it is.
_PROSE_KEYWORDS = frozenset({
    "alert", "candid", "color", "columns", "coordinates", "date", "endpoint", "flavor", "id",
    "kind", "name", "path", "prefix", "radius", "resolver", "reverse", "schema", "server",
    "tag", "timeout", "trend", "version", "window"})
# Settings of the client the command line gives by a flag.
_SETTINGS = {"server": "--server", "server_lsst": "--server", "timeout": "--timeout"}
_FLAG = r"(?:-{1,2}[A-Za-z][\w-]*|[A-Z][A-Z_]+)"  # a flag, or a positional's metavar
_LINKS = r" (?:or|and|needs|with) "  # words joining two arguments in a message
_END = r"(?![\w(-]|:\S)"  # a whole word: not a function, nor the family of i:jd
_QUOTED = r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\""
# A Python value after keyword=: quoted text, or up to the next space, comma or bracket
# (a final '.' or ':' ends the sentence, not the value).
_QUANTITY = r"(?P<number>\d[\d.]*(?:e[+-]?\d+)?) \* u\.(?P<unit>\w+)"  # 3 * u.day
_VALUE = (r"\d[\d.]*(?:e[+-]?\d+)? \* u\.\w+|'[^']*'|\"[^\"]*\""
          r"|[^\s,;()]*?(?=[.:]?(?:[\s,;)]|$))")


_REPR_QUANTITY = re.compile(r"<Quantity ([^<>]*)>")
_REPR_TIME = re.compile(r"<Time object: scale='\w+' format='(\w+)' value=([^<>]*)>")
_META_NOTE = re.compile(r" \([^()]*\bmeta\[[^()]*\]\)")  # "(all are in table.meta[...])"
# What a terminal must not be sent from a server's text: control characters (escape
# sequences, bells) but tab and newline, and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _alternation(names) -> str:
    names = sorted(names, key=len, reverse=True)  # longest first: query_class_async
    return "|".join(map(re.escape, names)) or "(?!)"


def _cli_words(keywords: dict[str, str], survey: str,
               jd_dates: bool = False) -> Callable[[str], str]:
    """A function putting a library message in the words of the command line.

    The message is kept but for what is written as Python: keywords (``output_format='json'``
    -> ``--output-format json``, ``withupperlim=True`` -> ``--withupperlim``, ``n=None`` ->
    ``without -n``, `` `columns` `` -> ``--columns``, a keyword standing alone), method names
    and calls (``get_cutouts`` -> ``fink-query cutouts``, ``query_object(...,
    withcutouts=True)`` -> ``fink-query objects ... --withcutouts``), ``conf.server`` ->
    ``--server``, ``3 * u.day`` -> ``3day``, and with ``jd_dates`` ``Time(x, format='jd')``
    -> ``jdx`` (what the date options take). Quoted values are left alone.

    Parameters
    ----------
    keywords : dict
        The method's keywords -> their flags (or a positional's metavar).
    survey : str
        The survey: methods are named by the commands of this survey.
    jd_dates : bool
        The command's date options take ``jd<number>`` and ``mjd<number>``.
    """
    keywords = {**_SETTINGS, **keywords}
    commands = {m: c for c in COMMANDS.values() for s, m in c.methods.items() if s == survey}
    code = [k for k in keywords if k not in _PROSE_KEYWORDS]
    prose = [k for k in keywords if k in _PROSE_KEYWORDS]
    suffix = " --survey lsst" if survey == "lsst" else ""
    methods = _alternation(commands)
    # like keywords: "resolve" is a method where called or opening the message only
    code_methods = _alternation(m for m in commands if "_" in m)
    prose_methods = _alternation(m for m in commands if "_" not in m)
    pattern = re.compile(
        r"(?P<setting>(?:astroquery_fink\.)?conf\.(?:" + _alternation(_SETTINGS) + r"))\b"
        r"|the client's (?P<client>\w+)="
        r"|(?<![\w.])(?:FinkLSST\.|Fink\.)?(?P<call>" + methods + r")\((?P<args>[^()]*)\)"
        r"|(?<![\w.])(?:FinkLSST\.|Fink\.)?(?P<method>" + code_methods + r")(?P<s>'s)?"
        r"(?![\w(])"
        r"|^(?P<method_subject>" + prose_methods + r")(?= )"
        r"|Time\((?P<time>[^,()]+), format='(?P<format>jd|mjd)'\)"
        r"|(?<![\w.])" + _QUANTITY +
        r"|(?<![\w.:-])(?P<kw>" + _alternation(keywords) + r")=(?P<value>" + _VALUE + r")"
        r"|`(?P<quoted_kw>" + _alternation(keywords) + r")`"
        r"|(?P<quoted>" + _QUOTED + r")"
        r"|(?<![\w:./-])(?P<bare>" + _alternation(code) + r")" + _END +
        r"|^(?P<subject>" + _alternation(prose) + r")(?= )")
    # "--fetch-all cannot be used with trend", "Give stopdate or window"
    linked = re.compile(
        r"(?P<before>" + _FLAG + r"(?:" + _LINKS + r"| [^.;:,'\"]*? with ))"
        r"(?P<kw>" + _alternation(prose) + r")" + _END
        + r"|(?<![\w:./'-])(?P<kw2>" + _alternation(prose) + r")(?P<after>" + _LINKS + _FLAG
        + r")")
    repeated = re.compile(r"(?P<flag>-{1,2}\w[\w-]*)(?:,? (?:or|and) (?P=flag)(?![\w-]))+")

    def option(name: str, value: str | None, flags: dict[str, str]) -> str:
        flag = flags.get(name, keywords.get(name, name))
        value = None if value is None else value.strip()
        if value in (None, "", "True"):
            return flag
        if value in ("False", "None"):
            return f"without {flag}"
        if value[:1] in "'\"" and len(value) > 2 and not re.search(r"\s", value):
            value = value[1:-1]  # --kind foo, but --kind '' (empty: said as quotes)
        value = re.sub(_QUANTITY, r"\g<number>\g<unit>", value)
        return f"{flag} {value}"

    def call(name: str, args: str) -> str | None:
        cmd = commands[name]
        flags = {a.dest: a.flags[0] for a in cmd.args if not a.positional and a.method}
        words = [f"{PROG} {cmd.name}"]
        for arg in (a.strip() for a in args.split(",")):
            kw, sep, value = arg.partition("=")
            if sep and kw.strip() in flags:
                words.append(option(kw.strip(), value, flags))
            elif sep or arg.isidentifier():  # Python the command line cannot say
                return None
            elif arg:
                words.append(arg)
        return " ".join(words) + suffix

    def word(match: re.Match) -> str:
        group = match.lastgroup
        if match["setting"] or match["client"]:
            name = (match["setting"] or "").rpartition(".")[2] or match["client"]
            return keywords.get(name, match[0])
        if match["call"]:
            return call(match["call"], match["args"]) or match[0]
        if match["method"] and match["s"]:  # query_object's r:diaSourceId
            return f"the {commands[match['method']].name} command's"
        if match["method"] or match["method_subject"]:
            name = match["method"] or match["method_subject"]
            return f"{PROG} {commands[name].name}{suffix}"
        if match["time"]:
            return f"{match['format']}{match['time'].strip(chr(39))}" if jd_dates else match[0]
        if match["unit"]:
            return f"{match['number']}{match['unit']}"
        if match["kw"]:
            return option(match["kw"], match["value"], keywords)
        if group in ("quoted_kw", "bare", "subject"):
            return keywords[match[group]]
        return match[0]  # a quoted value

    def link(match: re.Match) -> str:
        if match["kw"]:
            return match["before"] + keywords[match["kw"]]
        return keywords[match["kw2"]] + match["after"]

    def translate(message: str) -> str:
        # Python's reprs and the Table's meta are not the command line's words
        message = _REPR_QUANTITY.sub(r"\1", message)
        message = _REPR_TIME.sub(lambda m: f"{m[1]}{m[2]}" if jd_dates and m[1] in (
            "jd", "mjd") else m[2], message)
        message = _META_NOTE.sub("", message)
        text = pattern.sub(word, message)
        text = linked.sub(link, linked.sub(link, text))  # twice: "a or b or --c"
        return repeated.sub(lambda m: m["flag"], text)

    return translate


def _method(cmd: _Command, survey: str, client):
    name = cmd.methods.get(survey)
    if name is None:
        only = ", ".join(cmd.methods)
        raise _UsageError(f"{cmd.name} is not a command of --survey {survey} (only {only})")
    return getattr(client, name)


def _accepts(method, keyword: str) -> bool:
    params = inspect.signature(method).parameters
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _words(cmd: _Command, survey: str) -> Callable[[str], str]:
    """`_cli_words` for the command on the survey: its method's keywords named by the
    command's flags, and its positionals by their metavars."""
    keywords = {a.dest: a.flags[0] for a in cmd.args if a.method and not a.positional}
    name = cmd.methods.get(survey)
    if name is not None:
        params = inspect.signature(getattr(SURVEYS[survey], name)).parameters
        slots = iter(n for n, p in params.items()
                     if p.kind is p.POSITIONAL_OR_KEYWORD and n != "self")
        for arg in (a for a in cmd.args if a.positional):
            keywords[next(slots, arg.dest)] = arg.name
    jd_dates = any(a.convert is _date for a in cmd.args)
    return _cli_words(keywords, survey, jd_dates)


def _call_arguments(cmd: _Command, survey: str, method, args) -> tuple[list, dict, dict]:
    """(positional values, keywords, converted values by argument name) for the method,
    from the arguments.

    Arguments the survey's method does not take are usage errors, named by their flag.
    """
    params = inspect.signature(method).parameters
    slots = [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    any_keyword = any(p.kind is p.VAR_KEYWORD for p in params.values())
    positional, keywords, values = [], dict(cmd.fixed), {}
    for arg in cmd.args:
        value = getattr(args, arg.dest, None)
        if not arg.method or value is None or (isinstance(value, list) and not value):
            continue
        if arg.convert is not None:
            try:
                value = arg.convert(value)
            except argparse.ArgumentTypeError as err:  # as argparse says its own types'
                raise _UsageError(f"argument {arg.name}: {err}") from None
        values[arg.dest] = value
        if arg.positional:
            if len(positional) >= len(slots):
                raise _UsageError(f"{arg.name} is not an argument of {cmd.name} with "
                                  f"--survey {survey}")
            positional.append(value)
        elif arg.dest not in params and not any_keyword:
            raise _UsageError(f"{arg.flags[0]} is not an option of {cmd.name} with "
                              f"--survey {survey}")
        else:
            keywords[arg.dest] = value
    # an option naming what a positional argument already gives (ZTF's get_cutouts takes
    # the object as its first argument; Rubin's as object_id=)
    taken = set(slots[:len(positional)]) & set(keywords)
    for arg in cmd.args:
        if arg.dest in taken and not arg.positional:
            raise _UsageError(f"{arg.flags[0]} is not an option of {cmd.name} with "
                              f"--survey {survey}")
    for out in cmd.outputs:
        if getattr(args, out.arg.dest, None):
            keywords.update(out.implies.get(survey, {}))
    return positional, keywords, values


def _check_args(cmd: _Command, survey: str, args) -> None:
    """Every check that needs no server, so a typo fails at once (exit 2)."""
    for arg in cmd.args:
        needed = arg.needs and arg.needs.lstrip("-").replace("-", "_")
        if needed and getattr(args, arg.dest, None) is not None \
                and getattr(args, needed, None) is None:
            raise _UsageError(f"{arg.flags[0]} applies with {arg.needs} only")
    output = getattr(args, "output", None)
    if output is not None and not output.strip():
        raise _UsageError("-o needs a file name (FILE.ecsv, .fits, .vot, .parquet or .csv)")
    if output:
        _check_folder(output, "-o")
        if cmd.name == "cutouts":
            if _suffix(output) not in _FITS_SUFFIXES:
                raise _UsageError(f"-o {output!r}: cutouts are written as FITS (.fits); "
                                  "--plot FILE.png draws them")
        else:
            _table_format(output)
    for out in cmd.outputs:
        path = getattr(args, out.arg.dest, None)
        if path is not None and not path.strip():  # '' would write nothing, silently
            raise _UsageError(f"{out.arg.flags[0]} needs a file name")
        if path:
            _check_folder(path, out.arg.flags[0])
            _check_image_path(path, out.arg.flags[0], fits_ok=out.fits_ok)
            if out.check is not None:
                out.check(args, survey)
    if args.server and (args.emulator or args.emulator_data):
        flag = "--emulator" if args.emulator else "--emulator-data"
        raise _UsageError(f"--server and {flag} exclude each other")
    if args.emulator or args.emulator_data:
        from .testing import INSTALL_HINT, missing_modules  # the tiny package module only

        missing = missing_modules()
        if missing:
            flag = "--emulator" if args.emulator else "--emulator-data"
            raise _Failure(f"{flag} needs {', '.join(missing)}: {INSTALL_HINT}")
    for name in args.emulator_data or []:
        if not Path(name).exists():
            raise _UsageError(f"--emulator-data: no such file {name!r}")
    if args.timeout is not None and (isinstance(args.timeout, str) or not args.timeout > 0):
        raise _UsageError(f"--timeout must be a positive number of seconds, not {args.timeout!r}")


def _server(args, survey: str, stack: contextlib.ExitStack) -> str | None:
    if not (args.emulator or args.emulator_data):
        return args.server
    try:
        from .testing import AlertFileError, FinkEmulator
    except ImportError as err:
        raise _Failure(f"--emulator needs the emulator extra ({err}): pip install "
                       "'astroquery_fink[emulator]'") from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        emulator = FinkEmulator(data=args.emulator_data or None, survey=survey)
    except AlertFileError as err:
        raise _UsageError(f"--emulator-data: {err}") from None
    return stack.enter_context(emulator).url


# What a PartialResultError says of its attributes, which the command line has not.
_PARTIAL_TAIL = re.compile(
    r"; (their IDs are in \.failed_ids and )?the (\d+ rows|responses) that arrived .*$")


def _query(method, positional: list, keywords: dict, say, words: Callable[[str], str]):
    """Run the method; return (result, complete). Warnings are shown as one line each."""
    failed = False
    with warnings.catch_warnings(record=True) as caught:
        # astroquery's and astropy's warnings speak to the user; others keep their filters
        warnings.simplefilter("always", AstropyWarning)
        warnings.simplefilter("always", UserWarning)
        # erfa's note on dates beyond its leap-second table (2030-01-01 as a start date):
        # about UTC's future, not about the query
        warnings.filterwarnings("ignore", message=r'.*"dubious year')
        try:
            result = method(*positional, **keywords)
        except PartialResultError as err:
            # the command line has no .failed_ids or .table: it names the IDs and keeps the rows
            head = _PARTIAL_TAIL.sub("", str(err))
            failed_ids = ", ".join(map(str, err.failed_ids[:10])) + (
                " ..." if len(err.failed_ids) > 10 else "")
            say(f"{PROG}: error: {words(head)}"
                + (f"; failed: {failed_ids}" if err.failed_ids else "")
                + f"; the {len(err.table)} rows that arrived are kept", err=True)
            result, failed = err.table, True
    empty = isinstance(result, Table) and len(result) == 0
    for w in caught:
        # no data at all is a failure; some IDs without rows are a warning over the rows
        if issubclass(w.category, NoResultsWarning) and empty:
            raise _Failure(words(str(w.message)))
        say(f"{PROG}: warning: {words(str(w.message))}", err=True)
    return result, not failed


def _as_table(result):
    """Lists and dicts (names, descriptions) as a Table; Tables and HDULists as they are."""
    if isinstance(result, Table | fits.HDUList):
        return result
    if isinstance(result, dict):
        return Table({"name": list(result), "description": [str(v) for v in result.values()]})
    if isinstance(result, list | tuple):
        return Table({"name": [str(v) for v in result]})
    return result


def _objects(table: Table, ids: list[str] | None) -> list[str]:
    for column in _ID_COLUMNS:
        if column in table.colnames and len(table):
            names = table[column]
            return list(dict.fromkeys(str(n) for n in names[~np.ma.getmaskarray(names)]))
    return list(ids or [])


def _summary(table: Table, objects: list[str]) -> list[str]:
    lines = []
    if objects:
        shown = ", ".join(objects[:10]) + (f" and {len(objects) - 10} more"
                                           if len(objects) > 10 else "")
        lines.append(f"objects: {len(objects)} ({shown})")
    rows = f"rows:    {len(table)}"
    if "d:tag" in table.colnames:
        tags = table["d:tag"].filled("") if hasattr(table["d:tag"], "filled") else table["d:tag"]
        counts = {t: int(np.sum(np.asarray(tags) == t))
                  for t in ("valid", "upperlim", "badquality")}
        rows += " (" + ", ".join(f"{n} {t}" for t, n in counts.items()) + ")"
    lines.append(rows)
    lines.append(f"columns: {len(table.colnames)}")
    return lines


def _preview(table: Table) -> list[str]:
    cols = [c for c in _PREVIEW if c in table.colnames][:9]
    if len(cols) < 4:  # few known columns: the first ones of the table too
        cols += [c for c in table.colnames if c not in cols][:8 - len(cols)]
    return table[cols].pformat(max_lines=25, max_width=120)


def _hdul_summary(hdul: fits.HDUList) -> list[str]:
    stamps = [f"{h.name} {h.data.shape[1]}x{h.data.shape[0]}" for h in hdul
              if h.data is not None]
    return [f"stamps:  {', '.join(stamps)}"]


def _run(cmd: _Command, args, say, words: Callable[[str], str]) -> int:
    survey = args.survey
    _check_args(cmd, survey, args)
    cache = False if args.no_cache or args.emulator or args.emulator_data else None
    client = SURVEYS[survey](server=args.server, timeout=args.timeout)
    method = _method(cmd, survey, client)
    positional, keywords, values = _call_arguments(cmd, survey, method, args)
    if _accepts(method, "get_query_payload"):
        try:  # validates every argument without a request: a bad name is a usage error
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # shown once, by the real query below
                method(*positional, get_query_payload=True, **keywords)
        except InvalidQueryError as err:
            hint = ""
            ids = [a.dest for a in cmd.args if a.positional][:1] in (["object_id"], ["alert"])
            if survey == "ztf" and ids and positional and all(
                    str(i).isdigit() for i in np.atleast_1d(positional[0])):
                hint = " (these look like Rubin diaObjectIds: add --survey lsst)"
            raise _UsageError(words(str(err)) + hint) from None
    if _accepts(method, "cache"):
        # the emulator has a new port each run: cached answers would never be reused
        keywords["cache"] = cache
    with contextlib.ExitStack() as stack:
        client = SURVEYS[survey](server=_server(args, survey, stack), timeout=args.timeout)
        method = _method(cmd, survey, client)
        result, ok = _query(method, positional, keywords, say, words)
        result = _as_table(result)
        ctx = _Context(client, survey, result, args, cache, say, values, words)
        written = []
        output = getattr(args, "output", None)
        if output and isinstance(result, fits.HDUList):
            result.writeto(output, overwrite=True)
            written.append(output)
        elif output:
            for note in _write_table(result, output):
                say(f"{PROG}: note: {note}", err=True)
            written.append(output)
        for out in cmd.outputs:
            path = getattr(args, out.arg.dest, None)
            if path:
                files, saved = out.save(ctx, path)
                written += files
                ok &= saved
    if isinstance(result, Table):
        for line in _summary(result, _objects(result, getattr(args, "object_id", None))):
            say(line)
    elif isinstance(result, fits.HDUList):
        for line in _hdul_summary(result):
            say(line)
    else:  # a downloaded file
        written.append(str(result))
    if written:
        say("wrote:   " + ", ".join(written))
    elif isinstance(result, Table) and not args.quiet:
        say("")
        for line in _preview(result):
            say(line)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run ``fink-query``; return the exit status (0 ok, 1 failure or no data, 2 usage or an
    input the client or the server refused).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
    """
    top, parsers = _parser()
    argv = _route(list(sys.argv[1:] if argv is None else argv))
    try:
        args, extra = top.parse_known_args(argv)
        cmd = COMMANDS[args.command]
        parser = parsers[args.command]
        if extra:  # said with the usage of the command, not the top-level one
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if cmd.name == "objects":
            if args.emulator_data:
                # '--emulator-data FILE... ID' swallows the IDs: names that are no file and
                # look like object IDs are object IDs.
                ids = [a for a in args.emulator_data if not Path(a).exists()
                       and (a.startswith("ZTF") or a.isdigit())]
                args.emulator_data = [a for a in args.emulator_data if a not in ids]
                args.object_id += ids
                if not args.emulator_data:
                    parser.error("argument --emulator-data: expected at least one FILE")
            # "ZTF1,ZTF2 ZTF3": IDs may be given separately or comma-separated
            args.object_id = _ids(args.object_id)
            if not args.object_id:
                parser.error("the following arguments are required: OBJECT_ID")
            if (near := _command_meant(args.object_id[0])) is not None:
                top.error(f"{args.object_id[0]!r} is no command nor object ID: {near}")
    except SystemExit as exit_:  # argparse has printed its usage message
        return exit_.code if isinstance(exit_.code, int) else 2

    def say(line: str, err: bool = False) -> None:
        # one line of text: a server's control characters are shown, not obeyed
        line = _UNPRINTABLE.sub("\ufffd", line)
        if err:
            print(line, file=sys.stderr)
        elif not args.quiet:
            print(line)

    words = _words(cmd, args.survey)
    with _printable_streams():
        return _report(cmd, args, parser, say, words)


def _command_meant(word: str) -> str | None:
    """What a first word that is no object ID (ZTF name, Rubin digits) but close to a
    command's name was meant to be, said as advice; None for an object ID."""
    if word.upper().startswith("ZTF") or word.isdigit():
        return None
    if word.lower() in ("help", "-help"):
        return f"see {PROG} --help"
    near = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.75)
    return f"did you mean {PROG} {near[0]}?" if near else None


@contextlib.contextmanager
def _printable_streams():
    """Text the terminal's encoding cannot show (a Latin-1 or ASCII locale) printed with
    replacement characters, not a UnicodeEncodeError; the streams are restored after."""
    changed = []
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="replace")
                changed.append(stream)
    try:
        yield
    finally:
        for stream in changed:
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="strict")


def _report(cmd: _Command, args, parser, say, words) -> int:
    """Run the command; its failures as messages (through ``say``, which shows a server's
    control characters rather than sending them) and exit statuses."""
    def error(text: str) -> None:
        say(f"{PROG}: error: {text}", err=True)

    try:
        return _run(cmd, args, say, words)
    except _UsageError as err:
        parser.print_usage(sys.stderr)
        error(str(err))
        return 2
    except _Failure as err:
        error(str(err))
        return 1
    except NoAlertsError as err:  # nothing to return, as an answer without rows
        error(words(str(err)))
        return 1
    except InvalidQueryError as err:
        # the input was refused, by a check that needs the query (cutouts, schema) or by
        # the server: a usage error too
        error(words(str(err)))
        return 2
    except (RemoteServiceError, AstroTimeoutError, TableParseError) as err:
        # TableParseError: an answer that cannot be read (astroquery's, not a service error)
        error(words(str(err)))
        return 1
    except BrokenPipeError:
        # the reader stopped reading (`| head`): what it wanted was written; stay quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as err:  # a file that cannot be written or read: in the system's words
        where = f"{err.filename}: " if err.filename else ""
        error(f"{where}{err.strerror or err}")
        return 1
    except requests.RequestException as err:
        error(f"{type(err).__name__}: {err}")
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
