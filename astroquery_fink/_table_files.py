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
    ".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".vot": "votable",
    ".xml": "votable", ".votable": "votable", ".parquet": "parquet", ".csv": "ascii.csv",
}
_SUFFIXES = {"ascii.ecsv": ".ecsv", "fits": ".fits", "votable": ".vot", "parquet": ".parquet",
             "ascii.csv": ".csv"}
# Control characters (but tab and newline) and Unicode line/paragraph separators: XML 1.0
# cannot hold most of them (https://www.w3.org/TR/xml/#charsets), and astropy's text readers
# split lines at the others (str.splitlines), so a row would be read as several.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_TEXT_FORMATS = ("ascii.ecsv", "ascii.csv", "votable")


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
    notes += _text_not_kept(table, fmt)
    _write(table, path, fmt)
    return notes


def _prepared(table: Table, fmt: str, changes: list[tuple[str, list[str]]]) -> Table:
    """A copy the format can hold; ``changes`` gets a note for each change, with the text
    values changed (none for other changes)."""
    if fmt == "fits":
        table = _for_fits(table, changes)
    elif fmt == "ascii.csv":
        table = _for_csv(table, changes)
    elif fmt == "votable":
        table = _for_votable(table, changes)
    if fmt in _TEXT_FORMATS:
        table = _without_controls(table, changes)
    return table


def _write(table: Table, path, fmt: str) -> None:
    with warnings.catch_warnings():
        if fmt == "votable":
            from astropy.io.votable.exceptions import W03
            # Names like 'i:jd' are kept as names; the IDs become 'i_jd' (as Fink's own
            # VOTables): read back with Table.read(..., use_names_over_ids=True).
            warnings.simplefilter("ignore", W03)
        table.write(path, format=fmt, overwrite=True)


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


def _without_controls(table: Table, changes: list) -> Table:
    """Control characters and line separators as U+FFFD, so that the file stays readable."""
    out = None
    for name in _text_columns(table):
        col = table[name]
        if not any(_CONTROL.search(v) for v in _values(col).tolist()):
            continue
        text = np.asarray(col).tolist()
        fixed = [_CONTROL.sub("\ufffd", v) for v in text]
        out = table.copy(copy_data=False) if out is None else out
        out[name] = _replace(col, fixed)
        count = sum(a != b for a, b in zip(text, fixed, strict=True))
        held = [v for v in text if _CONTROL.search(v)]
        changes.append((f"{name}: {count} values hold control characters or line "
                        f"separators, written as U+FFFD (e.g. {held[0]!r})", held))
    return table if out is None else out


def _round_trip(values: list[str], fmt: str, prepare: bool = False) -> list[str] | None:
    """The values as ``fmt`` gives them back (None when it cannot be read back as written),
    as they are or (``prepare``) after the changes made for the format.

    A number column comes first so that the text is not a line's first field, as in a
    query's Table (whose first columns are IDs and numbers)."""
    probe = Table({"n": np.arange(len(values)), "v": np.array(values, dtype=str)})
    if prepare:
        probe = _prepared(probe, fmt, [])
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"probe{_SUFFIXES[fmt]}"
            _write(probe, path, fmt)
            back = Table.read(path, format=fmt)
    except Exception:  # noqa: BLE001 (any failure to read back means the text is not kept)
        return None
    if len(back) != len(values) or "v" not in back.colnames:
        return None
    col = back["v"]
    mask = np.asarray(getattr(col, "mask", np.zeros(len(col), bool)), dtype=bool)
    return ["" if m else str(v) for v, m in zip(col.tolist(), mask, strict=True)]


def _changed(values: list[str], fmt: str) -> dict[str, str | None]:
    """The values ``fmt`` does not give back as written, with what it gives (None: the file
    could not be read back); halves are tried when a whole probe cannot be read."""
    back = _round_trip(values, fmt)
    if back is not None:
        return {v: b for v, b in zip(values, back, strict=True) if b != v}
    if len(values) == 1:
        return {values[0]: None}
    half = len(values) // 2
    return _changed(values[:half], fmt) | _changed(values[half:], fmt)


def _text_not_kept(table: Table, fmt: str) -> list[str]:
    """A note per text column with values the format does not give back as written (an
    empty text read back as missing is not counted: the text formats write both alike)."""
    columns = {n: _values(table[n]).tolist() for n in _text_columns(table)}
    values = sorted({v for vals in columns.values() for v in vals})
    changed = _changed(values, fmt) if values else {}
    notes = []
    for name, vals in columns.items():
        lost = [v for v in vals if v in changed]
        if not lost:
            continue
        given = changed[lost[0]]
        example = (f"{lost[0]!r} as {given!r}" if given is not None
                   else f"{lost[0]!r} makes the file unreadable")
        notes.append(f"{name}: {len(lost)} distinct values are not read back from "
                     f"{_SUFFIXES[fmt]} as written (e.g. {example}){_kept_by(lost, fmt)}")
    return notes


def _kept_by(values: list[str], fmt: str) -> str:
    """Which other formats would give ``values`` back as they are, for a note."""
    values = sorted(set(values))
    if not values:
        return ""
    others = [suffix for f, suffix in _SUFFIXES.items()
              if f != fmt and _round_trip(values, f, prepare=True) == values]
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
            wide = np.char.str_len(np.char.encode(text, "utf-8")) != np.char.str_len(text)
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
        out[name] = Column(np.asarray(col.value), name=name,
                           description=getattr(col.info, "description", None))
        changes.append((f"{name}: VOTable holds no Time column, written as its values "
                        f"({col.format}, {col.scale.upper()})", []))
    return out


def _for_csv(table: Table, changes: list) -> Table:
    multi = [n for n in table.colnames if table[n].ndim > 1]
    if not multi:
        return table
    changes.append((f"CSV cannot hold image columns: left out {', '.join(multi)} "
                    "(use .ecsv, .fits, .vot or .parquet to keep them)", []))
    out = table.copy(copy_data=False)
    out.remove_columns(multi)
    return out

