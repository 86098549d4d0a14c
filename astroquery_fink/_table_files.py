# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Writing a query's Table to a file (ECSV, FITS, VOTable, parquet, CSV) without losing
anything silently: what a format cannot hold is changed visibly and said in a note."""
from __future__ import annotations

import json
import re
import tempfile
import unicodedata
import warnings
from pathlib import Path

import numpy as np
from astropy.table import Column, MaskedColumn, Table
from astropy.time import Time

__all__: list[str] = []

#: File extension -> astropy ``Table.write`` format.
TABLE_FORMATS = {
    ".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".fits.gz": "fits", ".vot": "votable",
    ".xml": "votable", ".votable": "votable", ".parquet": "parquet", ".csv": "ascii.csv",
}
_SUFFIXES = {"ascii.ecsv": ".ecsv", "fits": ".fits", "votable": ".vot", "parquet": ".parquet",
             "ascii.csv": ".csv"}
# Lone surrogates (valid in JSON text, not in any encoded file): no format holds them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters (but tab and newline), Unicode line/paragraph separators and the
# non-characters U+FFFE/U+FFFF: XML 1.0 cannot hold most of them
# (https://www.w3.org/TR/xml/#charsets), and astropy's text readers split lines at the
# others (str.splitlines), so a row would be read as several.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
_TEXT_FORMATS = ("ascii.ecsv", "ascii.csv", "votable")
# In a column name, every control character (tab and newline too) and lone surrogate.
_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")


def write_table(table: Table, path: str | Path, fmt: str) -> list[str]:
    """Write ``table`` to ``path`` in astropy format ``fmt``; overwrite.

    Returns
    -------
    notes : list of str
        What the format made change: image columns left out of CSV, text transliterated to
        ASCII for FITS, control characters replaced, and any text value that the format's
        reader would not give back as written (found by writing the table's distinct text
        values in that format and reading them back, not from a list of known cases).
    """
    changes: list[tuple[str, list[str]]] = []
    table = _prepared(table, fmt, changes)
    # each change made for the format says which formats would have kept those values
    notes = [note + _kept_by(values, fmt) for note, values in changes]
    notes += _text_not_kept(table, fmt) + _shapes_not_kept(table, fmt)
    _write(table, path, fmt)
    return notes


def _prepared(table: Table, fmt: str, changes: list[tuple[str, list[str]]]) -> Table:
    """A copy the format can hold; ``changes`` gets a note for each change, with the text
    values changed (none for other changes)."""
    table = _safe_names(table, fmt, changes)
    table = _without(_CONTROL if fmt in _TEXT_FORMATS else _SURROGATE, table, changes)
    if fmt == "fits":
        table = _for_fits(table, changes)
    elif fmt == "ascii.csv":
        table = _for_csv(table, changes)
    elif fmt == "votable":
        table = _for_votable(table, changes)
        odd = [n for n in table.colnames if not re.fullmatch(r"[A-Za-z_][\w.-]*", n)]
        if odd:
            changes.append((f"VOTable: names such as {odd[0]!r} are kept as the FIELD names; "
                            f"their IDs are {re.sub(r'[^A-Za-z0-9_]', '_', odd[0])!r}: read the "
                            "file with Table.read(..., use_names_over_ids=True) to get the "
                            "names back", []))
    return table


def _safe_names(table: Table, fmt: str, changes: list) -> Table:
    """Column names the format can hold: no control character (a text header would break)
    nor lone surrogate, and ASCII for FITS; each renamed column said."""
    renames = {}
    for name in table.colnames:
        new = _NAME_CONTROL.sub("\ufffd", name)
        new = _ascii(new) if fmt == "fits" else new
        if new != name:
            while new in table.colnames or new in renames.values():
                new += "_"
            renames[name] = new
    if not renames:
        return table
    out = table.copy(copy_data=False)
    out.rename_columns(list(renames), list(renames.values()))
    for old, new in renames.items():
        changes.append((f"column {old!r} written as {new!r}: a name "
                        f"{_SUFFIXES[fmt]} cannot hold", []))
    return out


def _write(table: Table, path, fmt: str) -> None:
    with warnings.catch_warnings():
        if fmt == "votable":
            from astropy.io.votable.exceptions import W03
            # Names like 'i:jd' are kept as names; the IDs become 'i_jd' (as Fink's own
            # VOTables): read back with Table.read(..., use_names_over_ids=True).
            warnings.simplefilter("ignore", W03)
        table.write(path, format=fmt, overwrite=True)


def _read(path, fmt: str) -> Table:
    """A file read back as a user would, by its column names (VOTable: FIELD names, not the
    IDs made from them)."""
    options = {"use_names_over_ids": True} if fmt == "votable" else {}
    return Table.read(path, format=fmt, **options)


def _text_columns(table: Table) -> list[str]:
    # mixin columns (Time, SkyCoord) are written by astropy's own representation
    return [n for n in table.colnames if isinstance(table[n], Column)
            and table[n].dtype.kind == "U" and table[n].ndim == 1]


def _values(col) -> np.ndarray:
    """The distinct values of a text column that are not missing."""
    data = np.asarray(col)
    if getattr(col, "mask", None) is not None:
        data = data[~np.asarray(col.mask, dtype=bool)]
    return np.unique(data)


def _replace(col, values: list[str]):
    kind = MaskedColumn if isinstance(col, MaskedColumn) else Column
    extra = {"mask": col.mask} if isinstance(col, MaskedColumn) else {}
    return kind(np.array(values, dtype=str), name=col.name, unit=col.unit,
                description=col.description, **extra)


def _without(pattern: re.Pattern, table: Table, changes: list) -> Table:
    """Characters the file cannot hold (``pattern``: control characters and separators in
    text formats, lone surrogates in every format) as U+FFFD, so that it stays readable."""
    out = None
    for name in _text_columns(table):
        col = table[name]
        if not any(pattern.search(v) for v in _values(col).tolist()):
            continue
        text = np.asarray(col).tolist()
        fixed = [pattern.sub("\ufffd", v) for v in text]
        out = table.copy(copy_data=False) if out is None else out
        out[name] = _replace(col, fixed)
        count = sum(a != b for a, b in zip(text, fixed, strict=True))
        held = [v for v in text if pattern.search(v)]
        what = ("control characters or line separators" if pattern is _CONTROL
                else "lone surrogates")
        changes.append((f"{name}: {count} values hold {what}, written as U+FFFD "
                        f"(e.g. {held[0]!r})", held))
    return table if out is None else out


def _round_trip(columns: dict[str, list[str]], fmt: str, prepare: bool = False
                ) -> dict[str, list[str]] | None:
    """Each column's values as ``fmt`` gives them back (None when the probe cannot be read
    back as written), as they are or (``prepare``) after the changes made for the format.

    One probe column per text column (readers guess a type per column: csv reads '04' as
    4 only where every value is a number), padded to a common length by repeating its last
    value; a number column comes first, as a query's Table has IDs and numbers first."""
    length = max(len(v) for v in columns.values())
    probe = Table({"n": np.arange(length)})
    for k, values in enumerate(columns.values()):
        probe[f"v{k}"] = np.array(values + values[-1:] * (length - len(values)), dtype=str)
    if prepare:
        probe = _prepared(probe, fmt, [])
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"probe{_SUFFIXES[fmt]}"
            _write(probe, path, fmt)
            back = _read(path, fmt)
    except Exception:  # noqa: BLE001 (any failure to read back means the text is not kept)
        return None
    if len(back) != length or back.colnames != probe.colnames:
        return None
    out = {}
    for k, (name, values) in enumerate(columns.items()):
        col = back[f"v{k}"]
        mask = np.asarray(getattr(col, "mask", np.zeros(len(col), bool)), dtype=bool)
        out[name] = ["" if m else str(v) for v, m in zip(col.tolist()[:len(values)],
                                                         mask[:len(values)], strict=True)]
    return out


def _changed(columns: dict[str, list[str]], fmt: str) -> dict[str, dict[str, str | None]]:
    """Per column, the values ``fmt`` does not give back as written, with what it gives
    (None: the file could not be read back); columns, then halves of a column, are tried
    alone when a whole probe cannot be read."""
    back = _round_trip(columns, fmt)
    if back is not None:
        return {name: {v: b for v, b in zip(values, back[name], strict=True) if b != v}
                for name, values in columns.items()}
    if len(columns) > 1:
        return {name: _changed({name: values}, fmt)[name]
                for name, values in columns.items()}
    (name, values), = columns.items()
    if len(values) == 1:
        return {name: {values[0]: None}}
    half = len(values) // 2
    return {name: _changed({name: values[:half]}, fmt)[name]
            | _changed({name: values[half:]}, fmt)[name]}


def _text_not_kept(table: Table, fmt: str) -> list[str]:
    """A note per text column with values the format does not give back as written (an
    empty text read back as missing is not counted: the text formats write both alike)."""
    columns = {n: _values(table[n]).tolist() for n in _text_columns(table)}
    columns = {n: v for n, v in columns.items() if v}
    changed = _changed(columns, fmt) if columns else {}
    notes = []
    for name, lost in changed.items():
        if not lost:
            continue
        first, given = next(iter(lost.items()))
        example = (f"{first!r} as {given!r}" if given is not None
                   else f"{first!r} makes the file unreadable")
        notes.append(f"{name}: {len(lost)} distinct values are not read back from "
                     f"{_SUFFIXES[fmt]} as written (e.g. {example})"
                     f"{_kept_by(list(lost), fmt)}")
    return notes


def _shapes_not_kept(table: Table, fmt: str) -> list[str]:
    """A note per column of arrays (cutout stamps) whose shape the format's reader does not
    give back (parquet: flat lists; VOTable: the axes of a non-square image reversed), found
    by writing one row; each note names the formats that keep it."""
    multi = [n for n in table.colnames if isinstance(table[n], Column) and table[n].ndim > 1]
    if not multi or not len(table):
        return []
    sample = table[multi][:1]
    sample.meta.clear()  # the probe writes only the arrays (FITS would warn about the meta)
    lost = {name: got for name, got in _shapes_read_back(sample, fmt).items()
            if got != table[name].shape[1:]}
    if not lost:
        return []
    keep = [suffix for f, suffix in _SUFFIXES.items() if f not in (fmt, "ascii.csv") and all(
        got == table[n].shape[1:] for n, got in _shapes_read_back(sample[list(lost)], f).items())]
    where = f" (reshape it, or use {', '.join(keep)}, which keep it)" if keep else ""
    return [f"{name}: each row's {'x'.join(map(str, table[name].shape[1:]))} array is read "
            f"back from {_SUFFIXES[fmt]} with shape {got}{where}" for name, got in lost.items()]


def _shapes_read_back(sample: Table, fmt: str) -> dict[str, tuple | None]:
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"probe{_SUFFIXES[fmt]}"
            _write(sample, path, fmt)
            back = _read(path, fmt)
    except Exception:  # noqa: BLE001 - said as a shape not kept
        back = Table()
    return {n: back[n].shape[1:] if n in back.colnames else None for n in sample.colnames}


def _kept_by(values: list[str], fmt: str) -> str:
    """Which other formats would give ``values`` back as they are, for a note."""
    values = sorted(set(values))
    if not values:
        return ""
    others = [suffix for f, suffix in _SUFFIXES.items()
              if f != fmt and _round_trip({"": values}, f, prepare=True) == {"": values}]
    return f"; {', '.join(others)} would keep them" if others else ""


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


def _for_fits(table: Table, changes: list) -> Table:
    """A copy FITS can hold: masked booleans as integers with a null, meta as text."""
    out = table.copy(copy_data=False)
    out.meta = _plain_meta(table.meta)
    for name in out.colnames:
        col = out[name]
        if isinstance(col, Column) and col.dtype.kind == "U" and col.ndim == 1:
            text = np.asarray(col)
            wide = np.array([not v.isascii() for v in text.tolist()], dtype=bool)
            if wide.any():
                out[name] = _replace(col, [_ascii(v) for v in text.tolist()])
                changes.append((f"{name}: FITS text is ASCII, {int(wide.sum())} values "
                                f"written transliterated (e.g. {str(text[wide][0])!r} -> "
                                f"{_ascii(text[wide][0])!r})", text[wide].tolist()))
            continue
        if not isinstance(col, MaskedColumn) or not col.mask.any():
            continue
        if col.dtype.kind == "b":
            out[name] = MaskedColumn(col.data.astype(np.int16), mask=col.mask, fill_value=-1,
                                     unit=col.unit, description=col.description)
            changes.append((f"{name}: FITS has no missing booleans, written as 1/0 with "
                            "null -1", []))
        elif col.dtype.kind in "iu":
            info = np.iinfo(col.dtype)
            col.fill_value = info.min if info.min not in col.data[~col.mask] else info.max
    return out


def _for_votable(table: Table, changes: list) -> Table:
    """Times as text or numbers in their format: astropy writes no mixin column to VOTable."""
    times = [n for n in table.colnames if isinstance(table[n], Time)]
    if not times:
        return table
    out = table.copy(copy_data=False)
    for name in times:
        col = table[name]
        out[name] = MaskedColumn(np.asarray(col.value), name=name,
                                 mask=np.asarray(col.mask, bool) if col.masked
                                 else np.zeros(len(col), bool),
                                 description=getattr(col.info, "description", None))
        changes.append((f"{name}: VOTable holds no Time column, written as its values "
                        f"({col.format}, {col.scale.upper()})", []))
    return out


def _for_csv(table: Table, changes: list) -> Table:
    multi = [n for n in table.colnames if table[n].ndim > 1]
    if not multi:
        return table
    changes.append((f"CSV cannot hold image columns: left out {', '.join(multi)} "
                    "(use .fits, .ecsv or .vot to keep them)", []))
    out = table.copy(copy_data=False)
    out.remove_columns(multi)
    return out

