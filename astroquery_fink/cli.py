# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``fink-query``: query Fink for ZTF objects from the command line.

Examples::

    fink-query ZTF21aaxtctv -o ZTF21aaxtctv.ecsv --lightcurve lc.png --cutouts stamps.png
    fink-query ZTF21aaxtctv,ZTF19acmdpyr --columns i:jd,i:magpsf,i:fid -o lc.csv
    fink-query --emulator ZTF20abfcszi --lightcurve lc.png     # offline, bundled alerts

Exit status: 0 on success, 1 when Fink (or the emulator) fails or has no data, 2 for a usage
error (bad arguments, unknown output extension, invalid object name).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import re
import sys
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import requests
from astropy.table import MaskedColumn, Table
from astropy.utils.exceptions import AstropyWarning
from astroquery.exceptions import InvalidQueryError, NoResultsWarning, RemoteServiceError
from astroquery.exceptions import TimeoutError as AstroTimeoutError

from . import __version__
from ._cutouts import CUTOUT_KINDS
from ._validate import OUTPUT_FORMATS
from .exceptions import PartialResultError
from .ztf import FinkClass

__all__ = ["main"]

PROG = "fink-query"

# File extension -> astropy Table.write format.
_TABLE_FORMATS = {
    ".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".vot": "votable",
    ".xml": "votable", ".votable": "votable", ".parquet": "parquet", ".csv": "ascii.csv",
}
_FITS_SUFFIXES = (".fits", ".fit", ".fits.gz")
_LIGHTCURVE_COLUMNS = ("i:jd", "i:fid", "i:magpsf", "i:sigmapsf")
_PREVIEW = ("i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim", "d:tag",
            "v:classification")


class _UsageError(Exception):
    """Bad command-line input: exit status 2."""


class _Failure(Exception):
    """The query or an output failed: exit status 1."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Query the Fink alert broker (ZTF) for all the alerts of one or more "
                    "objects; save the table, a light curve and the cutouts.",
        epilog="Exit status: 0 ok, 1 query failed or no data, 2 usage error.")
    p.add_argument("object_id", nargs="*", metavar="OBJECT_ID",
                   help="ZTF object name(s), e.g. ZTF21aaxtctv; several, or comma-separated")
    q = p.add_argument_group("query (the arguments of Fink.query_object)")
    q.add_argument("--columns", metavar="COLS",
                   help="comma-separated columns, e.g. i:jd,i:magpsf (default: all)")
    q.add_argument("--withupperlim", action="store_true",
                   help="add upper limits and bad-quality rows (column d:tag)")
    q.add_argument("--withcutouts", action="store_true",
                   help="add the cutouts as 3-D b:cutout*_stampData columns")
    q.add_argument("--cutout-kind", choices=CUTOUT_KINDS,
                   help="with --withcutouts, only this cutout")
    q.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None,
                   help="wire format of the request (default: parquet when possible, else "
                        "json); the table is the same")
    q.add_argument("--prefix", action="store_true",
                   help="treat each OBJECT_ID as a name prefix (may return many objects)")
    o = p.add_argument_group("outputs")
    o.add_argument("-o", "--output", metavar="FILE",
                   help="write the table; the format follows the extension: "
                        + ", ".join(_TABLE_FORMATS))
    o.add_argument("--lightcurve", metavar="PNG",
                   help="save a light-curve plot (implies --withupperlim)")
    o.add_argument("--cutouts", metavar="PATH",
                   help="save the cutouts of each object's latest alert: PATH.fits (HDUList) or "
                        "PATH.png (figure); the object name is added to PATH for several objects")
    s = p.add_argument_group("server")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="URL",
                       help="base URL of another Fink API deployment (default: "
                            "astroquery_fink.conf.server)")
    where.add_argument("--emulator", action="store_true",
                       help="query the bundled offline emulator (needs astroquery_fink[emulator])")
    s.add_argument("--emulator-data", nargs="+", metavar="FILE",
                   help="run the emulator on these alert files instead of the bundled ones")
    s.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="time limit of one HTTP request")
    s.add_argument("--no-cache", action="store_true",
                   help="do not use astroquery's cache of answers")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


# ----------------------------------------------------------------------------- writing

def _suffix(path: str) -> str:
    name = Path(path).name.lower()
    return ".fits.gz" if name.endswith(".fits.gz") else Path(name).suffix


def _table_format(path: str) -> str:
    """The astropy format name for an output file, from its extension (or `_UsageError`)."""
    fmt = _TABLE_FORMATS.get(_suffix(path))
    if fmt is None:
        raise _UsageError(f"cannot tell the table format of {path!r} from its extension: use "
                          f"one of {', '.join(_TABLE_FORMATS)}")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise _Failure(f"-o {path}: writing parquet needs pyarrow: install the parquet extra "
                       "(pip install 'astroquery_fink[parquet]')")
    return fmt


def _plain_meta(meta) -> dict:
    """Table meta with nested values as JSON text (FITS headers hold only ASCII scalars)."""
    out = {}
    for key, value in meta.items():
        name = str(key).upper().replace("_", "")[:8]  # short keywords: no HIERARCH cards
        if isinstance(value, str):
            value = _ascii(value)
        out[name] = value if isinstance(value, str | int | float | bool) else json.dumps(value)
    return out


def _ascii(text: str) -> str:
    """Text FITS can hold (ASCII): accents dropped (Boötes -> Bootes), other signs as '?'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode(
        "ascii", "replace").decode("ascii")


def _for_fits(table: Table, notes: list[str]) -> Table:
    """A copy FITS can hold: masked booleans as integers with a null, meta as text."""
    out = table.copy(copy_data=False)
    out.meta = _plain_meta(table.meta)
    for name in out.colnames:
        col = out[name]
        if col.dtype.kind == "U" and col.ndim == 1:
            text = np.asarray(col)
            wide = np.char.str_len(np.char.encode(text, "utf-8")) != np.char.str_len(text)
            if wide.any():
                out[name] = type(col)(np.array([_ascii(v) for v in text.tolist()]),
                                      name=name, unit=col.unit, description=col.description,
                                      **({"mask": col.mask} if hasattr(col, "mask") else {}))
                notes.append(f"{name}: FITS text is ASCII, {int(wide.sum())} values written "
                             f"transliterated (e.g. {text[wide][0]} -> {_ascii(text[wide][0])}); "
                             "use .ecsv, .vot or .parquet to keep them as they are")
            continue
        if not isinstance(col, MaskedColumn) or not col.mask.any():
            continue
        if col.dtype.kind == "b":
            out[name] = MaskedColumn(col.data.astype(np.int16), mask=col.mask, fill_value=-1,
                                     unit=col.unit, description=col.description)
            notes.append(f"{name}: FITS has no missing booleans, written as 1/0 with null -1")
        elif col.dtype.kind in "iu":
            info = np.iinfo(col.dtype)
            col.fill_value = info.min if info.min not in col.data[~col.mask] else info.max
    return out


def _for_csv(table: Table, notes: list[str]) -> Table:
    multi = [n for n in table.colnames if table[n].ndim > 1]
    if not multi:
        return table
    notes.append(f"CSV cannot hold image columns: left out {', '.join(multi)} "
                 "(use .ecsv, .fits, .vot or .parquet to keep them)")
    out = table.copy(copy_data=False)
    out.remove_columns(multi)
    return out


def _write_table(table: Table, path: str) -> list[str]:
    """Write a query_object Table in the format its file extension names; overwrite.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The result of `~astroquery_fink.FinkClass.query_object`.
    path : str
        The output file: ``.ecsv``, ``.fits``/``.fit``, ``.vot``/``.xml``/``.votable``,
        ``.parquet`` or ``.csv``.

    Returns
    -------
    notes : list of str
        What had to change for the format (e.g. image columns left out of a CSV file).
    """
    fmt, notes = _table_format(path), []
    if fmt == "fits":
        table = _for_fits(table, notes)
    elif fmt == "ascii.csv":
        table = _for_csv(table, notes)
    with warnings.catch_warnings():
        if fmt == "votable":
            from astropy.io.votable.exceptions import W03
            # Names like 'i:jd' are kept as names; the IDs become 'i_jd' (as Fink's own
            # VOTables): read back with Table.read(..., use_names_over_ids=True).
            warnings.simplefilter("ignore", W03)
        table.write(path, format=fmt, overwrite=True)
    return notes


def _cutout_path(path: str, object_id: str, several: bool) -> Path:
    if not several:
        return Path(path)
    p, suffix = Path(path), _suffix(path)
    return p.with_name(f"{p.name[:len(p.name) - len(suffix)]}_{object_id}{suffix}")


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


# ----------------------------------------------------------------------------- running

# Python keywords of query_object -> the flags that set them, for messages on the command line.
_FLAGS = {"object_id": "OBJECT_ID", "output_format": "--output-format",
          "cutout_kind": "--cutout-kind", "withcutouts": "--withcutouts",
          "withupperlim": "--withupperlim", "columns": "--columns", "prefix": "--prefix",
          "timeout": "--timeout"}
_KEYWORD = re.compile(r"\b(" + "|".join(_FLAGS) + r")(=(True\b|'[^']*'|\S+))?")


def _cli_words(message: str) -> str:
    """A validation message in the words of the command line (--output-format json, not
    output_format='json'); the rest of the message is kept."""
    def flag(match: re.Match) -> str:
        name, value = _FLAGS[match.group(1)], match.group(3)
        if value is None or value == "True":
            return name
        if value == "None":
            return f"no {name}"
        return f"{name} {value.strip(chr(39))}"
    return _KEYWORD.sub(flag, message)


def _check_args(args) -> None:
    """Every check that needs no server, so a typo fails at once (exit 2)."""
    if args.output:
        _table_format(args.output)
    if args.lightcurve:
        _check_image_path(args.lightcurve, "--lightcurve")
        if args.columns:
            asked = {c.strip() for c in args.columns.split(",")}
            missing = [c for c in _LIGHTCURVE_COLUMNS if c not in asked]
            if missing and "*" not in asked:
                raise _UsageError(f"--lightcurve needs the columns {', '.join(missing)}: add "
                                  "them to --columns")
    if args.cutouts:
        _check_image_path(args.cutouts, "--cutouts", fits_ok=True)
    if args.server and args.emulator_data:
        raise _UsageError("--server and --emulator-data exclude each other")
    for name in args.emulator_data or []:
        if not Path(name).exists():
            raise _UsageError(f"--emulator-data: no such file {name!r}")
    if args.timeout is not None and not args.timeout > 0:
        raise _UsageError("--timeout must be a positive number of seconds")


def _query_options(args) -> dict:
    return dict(columns=args.columns, withupperlim=args.withupperlim or bool(args.lightcurve),
                withcutouts=args.withcutouts, cutout_kind=args.cutout_kind,
                output_format=args.output_format, prefix=args.prefix)


def _server(args, stack: contextlib.ExitStack) -> str | None:
    if not (args.emulator or args.emulator_data):
        return args.server
    try:
        from .testing import AlertFileError, FinkEmulator
    except ImportError as err:
        raise _Failure(f"--emulator needs the emulator extra ({err}): pip install "
                       "'astroquery_fink[emulator]'") from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        emulator = FinkEmulator(data=args.emulator_data or None)
    except AlertFileError as err:
        raise _UsageError(f"--emulator-data: {err}") from None
    return stack.enter_context(emulator).url


def _query(fink: FinkClass, ids: list[str], options: dict, cache, say) -> tuple[Table, bool]:
    """Run query_object; return (table, complete). Warnings are shown as one line each."""
    failed = False
    with warnings.catch_warnings(record=True) as caught:
        # astroquery's and astropy's warnings speak to the user; others keep their filters
        warnings.simplefilter("always", AstropyWarning)
        warnings.simplefilter("always", UserWarning)
        try:
            table = fink.query_object(ids, cache=cache, **options)
        except PartialResultError as err:
            say(f"{PROG}: error: {err}", err=True)
            table, failed = err.table, True
    for w in caught:
        if issubclass(w.category, NoResultsWarning):
            raise _Failure(str(w.message))
        say(f"{PROG}: warning: {w.message}", err=True)
    return table, not failed


def _objects(table: Table, ids: list[str]) -> list[str]:
    if "i:objectId" in table.colnames and len(table):
        names = table["i:objectId"]
        return list(dict.fromkeys(str(n) for n in names[~np.ma.getmaskarray(names)]))
    return ids


def _summary(table: Table, objects: list[str]) -> list[str]:
    shown = ", ".join(objects[:10]) + (f" and {len(objects) - 10} more" if len(objects) > 10
                                       else "")
    lines = [f"objects: {len(objects)} ({shown})"]
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
    cols = [c for c in _PREVIEW if c in table.colnames] or table.colnames[:8]
    return table[cols].pformat(max_lines=25, max_width=120)


def _save_cutouts(fink, path, objects, cache, say) -> tuple[list[str], bool]:
    written, ok = [], True
    several = len(objects) > 1
    for oid in objects:
        target = _cutout_path(path, oid, several)
        try:
            hdul = fink.get_cutouts(oid, cache=cache)
        except (InvalidQueryError, RemoteServiceError, AstroTimeoutError,
                requests.RequestException) as err:
            say(f"{PROG}: error: no cutouts for {oid}: {err}", err=True)
            ok = False
            continue
        if _suffix(path) in _FITS_SUFFIXES:
            hdul.writeto(target, overwrite=True)
        else:
            from .plotting import plot_cutouts
            _save_figure(plot_cutouts(hdul), target)
        written.append(str(target))
    return written, ok


def _run(args, say) -> int:
    _check_args(args)
    fink_options = _query_options(args)
    cache = False if args.no_cache else None
    with contextlib.ExitStack() as stack:
        server = _server(args, stack)
        if args.emulator or args.emulator_data:
            cache = False  # a new port each run: cached answers would never be reused
        fink = FinkClass(server=server, timeout=args.timeout)
        try:  # validates every argument without a request: a bad name is a usage error
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # shown once, by the real query below
                fink.query_object(args.object_id, get_query_payload=True, **fink_options)
        except InvalidQueryError as err:
            raise _UsageError(_cli_words(str(err))) from None
        table, ok = _query(fink, args.object_id, fink_options, cache, say)
        objects = _objects(table, args.object_id)
        written = []
        if args.output:
            for note in _write_table(table, args.output):
                say(f"{PROG}: note: {note}", err=True)
            written.append(args.output)
        if args.lightcurve:
            from .plotting import plot_lightcurve
            try:
                ax = plot_lightcurve(table)
            except ValueError as err:
                say(f"{PROG}: error: no light curve: {err}", err=True)
                ok = False
            else:
                _save_figure(ax.figure, args.lightcurve)
                written.append(args.lightcurve)
        if args.cutouts:
            files, cutouts_ok = _save_cutouts(fink, args.cutouts, objects, cache, say)
            written += files
            ok &= cutouts_ok
    for line in _summary(table, objects):
        say(line)
    if written:
        say("wrote:   " + ", ".join(written))
    elif not args.quiet:
        say("")
        for line in _preview(table):
            say(line)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run ``fink-query``; return the exit status (0 ok, 1 failure or no data, 2 usage).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.emulator_data:
            # '--emulator-data FILE... ID' swallows the IDs: names that are no file and look
            # like ZTF names are object IDs.
            ids = [a for a in args.emulator_data if a.startswith("ZTF") and not Path(a).exists()]
            args.emulator_data = [a for a in args.emulator_data if a not in ids]
            args.object_id += ids
            if not args.emulator_data:
                parser.error("argument --emulator-data: expected at least one FILE")
        # "ZTF1,ZTF2 ZTF3": IDs may be given separately or comma-separated, as the help says
        args.object_id = [i.strip() for arg in args.object_id for i in arg.split(",")
                          if i.strip()]
        if not args.object_id:
            parser.error("the following arguments are required: OBJECT_ID")
    except SystemExit as exit_:  # argparse has printed its usage message
        return exit_.code if isinstance(exit_.code, int) else 2

    def say(line: str, err: bool = False) -> None:
        if err:
            print(line, file=sys.stderr)
        elif not args.quiet:
            print(line)

    try:
        return _run(args, say)
    except _UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except (_Failure, InvalidQueryError, RemoteServiceError, AstroTimeoutError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except (requests.RequestException, OSError) as err:
        print(f"{PROG}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
