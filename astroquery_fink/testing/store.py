"""Alert files -> the rows the Fink ZTF service stores (no HTTP, no query semantics).

The store mirrors the three HBase tables behind ``/api/v1/objects`` (fink-broker
``bin/ztf/archive_science.py`` and ``bin/ztf/archive_index.py``):

* ``ztf``: one row per alert, keyed ``objectId_jd``, ``i:`` candidate fields and ``d:`` Fink fields;
* ``ztf.upper`` / ``ztf.uppervalid``: upper limits and bad-quality detections taken from the alerts'
  ``prv_candidates`` with the ingestion filter of fink-broker ``archive_index.py``, stored as
  *strings*;
* ``ztf.cutouts``: the three gzipped FITS stamps of each alert, decoded on demand.
"""
from __future__ import annotations

import functools
import gzip
import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._hbase import java_str, prefix_scan

_log = logging.getLogger("astroquery_fink.testing")

__all__ = ["AlertFileError", "AlertStore", "bundled_data_files"]

_DATA_DIR = Path(__file__).parent / "data"

#: Top-level fields that are neither ``i:`` nor ``d:`` API columns (Spark/Kafka bookkeeping and
#: classes computed by other services).
_BOOKKEEPING = frozenset(
    {
        "timestamp", "brokerIngestTimestamp", "brokerStartProcessTimestamp",
        "brokerEndProcessTimestamp", "year", "month", "day", "hour", "finkclass",
        "tnsclass", "topic",
    }
)
#: Root fields of the ZTF packet served as ``i:`` (the five root fields of fink-object-api
#: ``schema/api.py``).
_ROOT_I_FIELDS = ("objectId", "publisher", "schemavsn", "fink_broker_version",
                  "fink_science_version")
_NOT_D = frozenset(
    {"candid", "candidate", "prv_candidates", "cutoutScience", "cutoutTemplate",
     "cutoutDifference", *_ROOT_I_FIELDS}
)
#: Fields kept in ``ztf.upper`` / ``ztf.uppervalid`` (fink-broker ``archive_index.py``).
UPPER_FIELDS = ("objectId", "jd", "fid", "diffmaglim")
BADQUALITY_FIELDS = ("objectId", "jd", "fid", "magpsf", "sigmapsf", "diffmaglim", "magnr",
                     "sigmagnr", "isdiffpos", "distnr")
CUTOUT_KINDS = ("Science", "Template", "Difference")


class AlertFileError(ValueError):
    """A file given to the emulator is not a ZTF/Fink alert file.

    The message names the file and what is missing.
    """


# Shown where users meet it: the public package, not this private module.
AlertFileError.__module__ = "astroquery_fink.testing"


def bundled_data_files() -> list[Path]:
    """Return the alert files bundled with the emulator (its default data).

    Returns
    -------
    list of pathlib.Path
        The ``*.parquet`` and ``*.avro`` files of ``astroquery_fink/testing/data``, sorted.
    """
    return sorted(p for p in _DATA_DIR.iterdir() if p.suffix in (".parquet", ".avro"))


def _short_float(value: float) -> float:
    """float32 value -> float64 of its shortest text, as the server parses the HBase string."""
    return float(np.format_float_positional(np.float32(value), unique=True))


@dataclass
class Alert:
    """One alert, already flattened to API column names (``i:``/``d:``)."""

    object_id: str
    jd: float
    candid: int
    cells: dict
    upper: list = field(default_factory=list)  # rows of ztf.upper (string cells)
    bad: list = field(default_factory=list)  # rows of ztf.uppervalid (string cells)
    stamps: dict = field(default_factory=dict)  # kind -> gzipped FITS bytes


def row_key(object_id: str, jd: float) -> str:
    """HBase row key ``objectId_jd`` (e.g. ``ZTF21aaxtctv_2459537.0520833``)."""
    return f"{object_id}_{jd!r}"


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------
def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named, and the ``.parquet``/``.avro`` files under directories (both surveys)."""
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            # any case of the suffix (FILE.PARQUET); Spark's _SUCCESS and .crc files are left
            found = sorted(f for f in path.rglob("*")
                           if f.is_file() and f.suffix.lower() in (".parquet", ".avro"))
            if not found:
                raise AlertFileError(f"{path}: directory holds no .parquet or .avro alert file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise AlertFileError(f"{path}: no such file or directory")
    return files


def file_format(path: Path) -> str:
    """``"avro"`` or ``"parquet"``, from the file's first bytes (whatever its name).

    Raises
    ------
    AlertFileError
        If the file is neither.
    """
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise AlertFileError(f"{path}: cannot be read ({exc})") from exc
    if magic == b"Obj\x01":
        return "avro"
    if magic == b"PAR1":
        return "parquet"
    raise AlertFileError(f"{path}: not an alert file (neither Avro nor Parquet)")


def _float32_names(fields) -> set[str]:
    """Names of avro record fields typed float (or [null, float])."""
    out = set()
    for f in fields:
        t = f["type"]
        types = t if isinstance(t, list) else [t]
        if "float" in types:
            out.add(f["name"])
    return out


def _avro_record_fields(schema, name: str):
    for f in schema.get("fields", []):
        if f["name"] == name:
            t = f["type"]
            for cand in t if isinstance(t, list) else [t]:
                if isinstance(cand, dict) and cand.get("type") == "record":
                    return cand["fields"]
                if isinstance(cand, dict) and cand.get("type") == "array":
                    items = cand["items"]
                    if isinstance(items, dict) and items.get("type") == "record":
                        return items["fields"]
    return []


def _read_avro(path: Path):
    import fastavro

    try:
        with open(path, "rb") as fh:
            reader = fastavro.reader(fh)
            schema = reader.writer_schema
            records = list(reader)
    except Exception as exc:  # not avro at all
        raise AlertFileError(f"{path}: not a readable Avro alert file ({exc})") from exc
    f32 = {
        "": _float32_names(schema.get("fields", [])),
        "candidate": _float32_names(_avro_record_fields(schema, "candidate")),
        "prv_candidates": _float32_names(_avro_record_fields(schema, "prv_candidates")),
    }
    return records, f32, [f["name"] for f in schema.get("fields", [])]


def _arrow_float32(arrow_type, prefix=""):
    import pyarrow as pa

    out = set()
    for f in arrow_type:
        if pa.types.is_float32(f.type):
            out.add(prefix + f.name)
    return out


def _read_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # use_threads=False: threaded reads with this pyarrow build sometimes abort the
        # interpreter at exit.
        table = pq.read_table(path, use_threads=False)
    except Exception as exc:
        raise AlertFileError(f"{path}: not a readable Parquet alert file ({exc})") from exc
    schema = table.schema
    f32 = {"": _arrow_float32(schema)}
    for name in ("candidate", "prv_candidates"):
        if name in schema.names:
            t = schema.field(name).type
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                t = t.value_type
            if pa.types.is_struct(t):
                f32[name] = _arrow_float32(t)
    return table.to_pylist(), f32, schema.names


def _check_columns(path: Path, names: Sequence[str]) -> None:
    missing = [n for n in ("objectId", "candidate") if n not in names]
    if missing:
        raise AlertFileError(
            f"{path}: not an alert file, missing top-level field(s) {', '.join(missing)} "
            "(expected a ZTF alert packet: objectId, candidate, prv_candidates, cutouts)"
        )


def _flatten_d(name: str, value, float32: bool) -> dict:
    """Top-level Fink field -> ``d:`` cells (fink-broker ``hbase_utils.py``)."""
    if value is None:
        return {}
    if name in ("lc_features_g", "lc_features_r"):
        # Stored as the string of an array (fink-broker ``cast_features``).
        vals = list(value.values()) if isinstance(value, dict) else list(value)
        text = "[" + ", ".join("null" if v is None else java_str(v) for v in vals) + "]"
        return {f"d:{name}": text}
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        value = dict(value)  # pyarrow map -> list of (key, value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            f32 = isinstance(v, float) and name == "blazar_stats"  # map<string, float>
            out.update(_flatten_d(f"{name}_{k}", v, f32))
        return out
    if isinstance(value, (list, bytes)):
        return {}  # legacy history arrays (cjd, cmagpsf, ...) are not API columns
    if hasattr(value, "isoformat"):
        return {}
    if isinstance(value, float) and float32:
        value = _short_float(value)
    return {f"d:{name}": value}


def _is_upper(entry) -> bool:
    return entry.get("magpsf") is None


def _is_bad(entry) -> bool:
    # Spark null semantics: a null rb or nbad neither passes nor fails (fink-broker
    # archive_index.py).
    rb, nbad = entry.get("rb"), entry.get("nbad")
    if entry.get("magpsf") is None or rb is None or nbad is None:
        return False
    return not (rb >= 0.55 and nbad == 0)


def _extra_row(object_id: str, entry: dict, names: Sequence[str], f32: set) -> dict:
    row = {}
    for name in names:
        value = object_id if name == "objectId" else entry.get(name)
        if value is None:
            continue  # HBase stores no cell for a null
        row[f"i:{name}"] = value if isinstance(value, str) else java_str(value, name in f32)
    return row


def _alert_from_record(rec: dict, f32: dict, path: Path) -> Alert:
    cand = rec.get("candidate")
    object_id = rec.get("objectId")
    if not isinstance(cand, dict) or not isinstance(object_id, str) or cand.get("jd") is None:
        raise AlertFileError(f"{path}: record without objectId/candidate.jd, not an alert")
    cf32 = f32.get("candidate", set())
    cells: dict = {}
    for k, v in cand.items():
        if v is None:
            continue
        if isinstance(v, float) and k in cf32:
            v = _short_float(v)
        cells[f"i:{k}"] = v
    for k in _ROOT_I_FIELDS:
        if rec.get(k) is not None:
            cells[f"i:{k}"] = rec[k]
    tf32 = f32.get("", set())
    for k, v in rec.items():
        if k in _NOT_D or k in _BOOKKEEPING:
            continue
        cells.update(_flatten_d(k, v, k in tf32))
    # d:t2_* and d:spicy_name are always dropped by the API (fink-object-api ``decoding.py``).
    cells = {k: v for k, v in cells.items() if not k.startswith("d:t2_") and k != "d:spicy_name"}

    alert = Alert(object_id=object_id, jd=float(cand["jd"]), candid=int(cand["candid"]),
                  cells=cells)
    # Ingestion filter on the LAST history entry (fink-broker ``archive_index.py``).
    prv = rec.get("prv_candidates") or []
    pf32 = f32.get("prv_candidates", set())
    if prv:
        last = prv[-1]
        if _is_upper(last):
            alert.upper = [_extra_row(object_id, e, UPPER_FIELDS, pf32)
                           for e in prv if _is_upper(e) and e.get("jd") is not None]
        elif _is_bad(last):
            alert.bad = [_extra_row(object_id, e, BADQUALITY_FIELDS, pf32)
                         for e in prv if _is_bad(e) and e.get("jd") is not None]
    for kind in CUTOUT_KINDS:
        stamp = rec.get(f"cutout{kind}")
        if isinstance(stamp, dict) and stamp.get("stampData"):
            alert.stamps[kind] = bytes(stamp["stampData"])
    return alert


def read_alert_files(paths: Iterable[str | os.PathLike]) -> list[Alert]:
    """Read alert files (Fink parquet, raw ZTF avro, legacy Fink avro) or directories.

    Parameters
    ----------
    paths : iterable of path-like
        Files or directories (searched recursively for ``*.parquet`` / ``*.avro``).

    Returns
    -------
    list of Alert

    Raises
    ------
    AlertFileError
        If a path does not exist or a file is not an alert file.
    """
    alerts: list[Alert] = []
    for path in expand_paths(paths):
        read = _read_avro if file_format(path) == "avro" else _read_parquet
        records, f32, names = read(path)
        _check_columns(path, names)
        if not records:
            _log.warning("%s holds no alert", path)
        alerts.extend(_alert_from_record(rec, f32, path) for rec in records)
    return alerts


# ---------------------------------------------------------------------------------------------
# Cutouts
# ---------------------------------------------------------------------------------------------
def _fits_bytes(stamp: bytes) -> bytes:
    return gzip.decompress(stamp) if stamp[:2] == b"\x1f\x8b" else stamp


@functools.lru_cache(maxsize=4096)
def decode_stamp(stamp: bytes) -> list:
    """Pixel array of a stamp as nested lists (CAPI ``hdul[0].data.tolist()``, fink-cutout-api)."""
    from astropy.io import fits

    with fits.open(io.BytesIO(_fits_bytes(stamp)), ignore_missing_simple=True) as hdul:
        return hdul[0].data.tolist()


def stamp_fits(stamp: bytes) -> bytes:
    """The stamp HDU list re-written by astropy (FITS output of ``cutouts/utils.py``)."""
    from astropy.io import fits

    out = io.BytesIO()
    with fits.open(io.BytesIO(_fits_bytes(stamp)), ignore_missing_simple=True) as hdul:
        hdul.writeto(out)
    return out.getvalue()


class AlertStore:
    """The stored tables: alert rows per object, extra rows, stamps.

    Parameters
    ----------
    alerts : list of Alert
        Alerts as returned by `read_alert_files`. Two alerts with the same row key
        ``objectId_jd`` collapse to one row (the later one wins, as an HBase put).
    """

    def __init__(self, alerts: list[Alert]):
        by_key: dict[str, Alert] = {}
        merged = []
        for a in alerts:
            key = row_key(a.object_id, a.jd)
            if key in by_key:
                merged.append(key)
                # An HBase put only overwrites the cells it carries: merge them.
                old = by_key[key]
                a = Alert(a.object_id, a.jd, a.candid, {**old.cells, **a.cells},
                          a.upper or old.upper, a.bad or old.bad, {**old.stamps, **a.stamps})
            by_key[key] = a
        if merged:  # said, as the alerts served are fewer than those read
            _log.warning("%d alerts share their row key (objectId_jd, e.g. %s) with an alert "
                         "read before: each is merged into that row, as the server's HBase "
                         "table does", len(merged), merged[0])
        #: objectId -> alerts sorted by row key (HBase scan order)
        self.alerts: dict[str, list[Alert]] = {}
        for key in sorted(by_key):
            a = by_key[key]
            self.alerts.setdefault(a.object_id, []).append(a)
        self.object_ids: list[str] = sorted(self.alerts)
        self.upper: dict[str, list[tuple[str, dict]]] = {}
        self.bad: dict[str, list[tuple[str, dict]]] = {}
        for name, attr in (("upper", "upper"), ("bad", "bad")):
            table: dict[str, dict[str, dict]] = {}
            for a in alerts:
                for row in getattr(a, attr):
                    key = row_key(a.object_id, float(row["i:jd"]))
                    table.setdefault(a.object_id, {})[key] = row
            getattr(self, name).update(
                {oid: sorted(rows.items()) for oid, rows in table.items()}
            )

    @property
    def n_alerts(self) -> int:
        """Number of stored alert rows."""
        return sum(len(v) for v in self.alerts.values())

    def prefix_objects(self, prefix: str) -> list[str]:
        """Object ids starting with ``prefix`` (case-sensitive), in row-key order."""
        return prefix_scan(self.object_ids, prefix)
