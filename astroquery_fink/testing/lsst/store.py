"""Rubin alert files -> the HBase tables behind the Fink/LSST API (no HTTP, no query logic).

The tables and row keys follow fink-broker ``fink_broker/rubin/hbase_utils.py``
(``ingest_source_data``, ``ingest_object_data``, ``ingest_section``, ``format_fp_for_hbase``,
``format_cutouts_for_hbase``) as read by fink-object-api ``apps/routes/v1/lsst/*/utils.py``:

* ``sources`` (``rubin.diaSource_static``): one row per diaSource of a static object, key
  ``<salt>_<diaObjectId>_<midpointMjdTai>``;
* ``objects`` (``rubin.diaObject``): the latest diaObject of each object, key
  ``<salt>_<diaObjectId>``;
* ``fp`` (``rubin.fp``): forced photometry, key ``<salt>_<diaObjectId>_<midpointMjdTai>``;
* ``sso`` (``rubin.diaSource_sso``): alerts of known Solar System objects, key
  ``<packed[1:3]>_<packed>_<midpointMjdTai>``;
* ``pixel`` (``rubin.pixel1024``): the alerts of static objects, for the cone search;
* the cutouts by diaSourceId, the tag tables, the nightly statistics and the resolver tables.

The salt is the last three digits of the ID, left-padded with ``0``. Cells hold Python values;
a missing cell is absent from the row, as in HBase. ``float`` Avro fields are stored as the
shortest text of their float32 value (what HBase/Java returns), so ``1.2300000190734863``
comes back as ``1.23``.
"""
from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._hbase import prefix_scan
from ..store import AlertFileError, expand_paths, file_format

_log = logging.getLogger("astroquery_fink.testing")

__all__ = ["LsstStore", "Table", "bundled_lsst_files", "load_store", "read_rubin_files"]

_DATA_DIR = Path(__file__).parent / "data"

#: Root fields of the alert served as ``r:`` (fink-broker ``load_rubin_root_level``).
ROOT_FIELDS = ("observation_reason", "target_name")
#: Root Fink fields served as ``f:`` with the source-level columns.
VERSION_FIELDS = ("fink_broker_version", "fink_science_version", "lsst_schema_version")
#: The Fink science sections and how their fields are named (fink-broker ``load_fink_cols``):
#: ``xm``/``clf`` keep a prefix, ``pred``/``misc`` lose it.
SOURCE_SECTIONS = (("xm", "xm_"), ("clf", "clf_"))
OBJECT_SECTIONS = (("pred", ""), ("misc", ""))
#: Fink columns written to HBase whatever the file holds (kinds as in the Fink data).
FINK_SOURCE_KINDS = {
    **{f"f:xm_{n}": "str" for n in (
        "simbad_otype", "gaiadr3_DR3Name", "tns_fullname", "tns_type", "gcvs_type",
        "x3hsp_type", "x4lac_type", "vsx_Type", "spicy_class", "mangrove_HyperLEDA_name",
        "mangrove_2MASS_name")},
    **{f"f:xm_{n}": "float32" for n in (
        "gaiadr3_Plx", "gaiadr3_e_Plx", "legacydr8_zphot", "legacydr8_e_zphot",
        "legacydr8_pstar", "tns_redshift", "mangrove_lum_dist", "mangrove_ang_dist")},
    "f:xm_gaiadr3_VarFlag": "int", "f:xm_legacydr8_fqual": "int",
    "f:clf_earlySNIa_score": "float", "f:clf_snnSnVsOthers_score": "float32",
    "f:clf_cats_class": "int", "f:clf_cats_score": "float32",
    "f:clf_elephant_kstest_science": "float32", "f:clf_elephant_kstest_template": "float32",
    **{f"f:{n}": "str" for n in VERSION_FIELDS},
}
FINK_OBJECT_KINDS = {
    "f:is_sso": "bool", "f:is_first": "bool", "f:is_cataloged": "bool",
    "f:main_label_crossmatch": "str", "f:main_label_classifier": "int",
    "f:firstDiaSourceMjdTaiFink": "float",
}
CUTOUT_KINDS = ("Science", "Template", "Difference")
_PRIMITIVE_KINDS = {"long": "int", "int": "int", "double": "float", "float": "float32",
                    "string": "str", "boolean": "bool"}


def bundled_lsst_files() -> list[Path]:
    """Return the Rubin alert files bundled with the emulator (its default LSST data).

    Returns
    -------
    list of pathlib.Path
        The ``*.avro`` and ``*.parquet`` files of ``astroquery_fink/testing/lsst/data``.
    """
    return sorted(p for p in _DATA_DIR.iterdir() if p.suffix in (".avro", ".parquet"))


def salt(identifier) -> str:
    """Static-table salt: the last three digits of the ID, left-padded with 0."""
    return str(identifier)[-3:].zfill(3)


def short_float32(value: float) -> float:
    """float32 value -> the float64 of its shortest text (as HBase returns a Java float)."""
    return float(str(np.float32(value)))


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
@dataclass
class Table:
    """One emulated HBase table: typed columns and rows by row key.

    Parameters
    ----------
    name : str
        Table name as on the server (e.g. ``rubin.diaSource_static``).
    columns : dict
        Column -> kind (``int``, ``float``, ``str``, ``bool``), in schema order.
    rows : dict
        Row key -> {column: value}; missing cells are absent.
    """

    name: str
    columns: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    _keys: list | None = field(default=None, repr=False)
    _radec: tuple | None = field(default=None, repr=False)

    def add_columns(self, kinds: dict) -> None:
        """Add columns (first kind seen wins)."""
        for col, kind in kinds.items():
            self.columns.setdefault(col, "float" if kind == "float32" else kind)

    def put(self, key: str, cells: dict, *, overwrite: bool = True) -> None:
        """Store one row (None cells dropped); an existing row is replaced if ``overwrite``."""
        if key in self.rows and not overwrite:
            return
        self.rows[key] = {k: v for k, v in cells.items() if v is not None}
        self._keys = None

    def keys(self) -> list[str]:
        """Row keys, sorted (the HBase order)."""
        if self._keys is None:
            self._keys = sorted(self.rows)
        return self._keys

    def positions(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Sorted row keys with their ``r:ra`` and ``r:dec`` in degrees (NaN if absent)."""
        keys = self.keys()
        if self._radec is None or self._radec[0] is not keys:
            ra = np.array([self.rows[k].get("r:ra", np.nan) for k in keys], dtype=float)
            dec = np.array([self.rows[k].get("r:dec", np.nan) for k in keys], dtype=float)
            self._radec = (keys, ra, dec)
        return self._radec

    def scan(self, prefix: str, limit: int | None = None) -> list[tuple[str, dict]]:
        """Prefix scan, at most ``limit`` rows in key order."""
        return [(k, self.rows[k]) for k in prefix_scan(self.keys(), prefix, limit)]


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def _avro_kinds(avro_type) -> dict | str | None:
    """Avro type -> kind, or {field: kind} for a record / an array of records."""
    types = avro_type if isinstance(avro_type, list) else [avro_type]
    for t in types:
        if t == "null":
            continue
        if isinstance(t, str):
            return _PRIMITIVE_KINDS.get(t)
        if isinstance(t, dict):
            if t.get("type") == "record":
                return {f["name"]: _avro_kinds(f["type"]) for f in t["fields"]}
            if t.get("type") == "array":
                return _avro_kinds(t["items"])
            if isinstance(t.get("type"), str) and t["type"] in _PRIMITIVE_KINDS:
                return _PRIMITIVE_KINDS[t["type"]]
    return None


def _arrow_kinds(arrow_type) -> dict | str | None:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        return {f.name: _arrow_kinds(f.type) for f in arrow_type}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _arrow_kinds(arrow_type.value_type)
    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_float32(arrow_type):
        return "float32"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "str"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    return None


def _read_file(path: Path) -> tuple[list[dict], dict]:
    """Records and {top-level field: kind or {field: kind}} of one file."""
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            # use_threads=False: threaded reads sometimes abort the interpreter at exit here.
            table = pq.read_table(path, use_threads=False)
        except Exception as exc:
            raise AlertFileError(f"{path}: not a readable Parquet alert file ({exc})") from exc
        kinds = {f.name: _arrow_kinds(f.type) for f in table.schema}
        return table.to_pylist(), kinds
    import fastavro

    try:
        with open(path, "rb") as fh:
            reader = fastavro.reader(fh)
            schema = reader.writer_schema
            records = list(reader)
    except Exception as exc:
        raise AlertFileError(f"{path}: not a readable Avro alert file ({exc})") from exc
    kinds = {f["name"]: _avro_kinds(f["type"]) for f in schema.get("fields", [])}
    return records, kinds


def _check(path: Path, kinds: dict) -> None:
    ds = kinds.get("diaSource")
    missing = [n for n in ("diaObjectId", "diaSourceId", "midpointMjdTai")
               if not isinstance(ds, dict) or n not in ds]
    if missing:
        raise AlertFileError(
            f"{path}: not a Rubin alert file (expected an lsst alert packet with a diaSource "
            f"record holding diaSourceId, diaObjectId and midpointMjdTai; missing "
            f"{'diaSource' if not isinstance(ds, dict) else ', '.join(missing)})")
    # the row keys are built from these: Rubin's Avro types (lsst.v*_*.diaSource.avsc)
    expected = (("diaObjectId", _INTEGER), ("diaSourceId", _INTEGER),
                ("midpointMjdTai", _NUMBER))
    wrong = [f"{n} is {ds[n] or 'of no simple type'}" for n, ok in expected if ds[n] not in ok]
    if wrong:
        raise AlertFileError(f"{path}: not a Rubin alert file ({'; '.join(wrong)}: Rubin IDs "
                             "are integers (long) and midpointMjdTai a number (double))")


# kinds as _PRIMITIVE_KINDS names them
_INTEGER = ("int",)
_NUMBER = ("int", "float", "float32")


def read_rubin_files(paths: Sequence[str | os.PathLike]) -> list[tuple[dict, dict]]:
    """Read Rubin alert files: Fink-processed or raw Avro, or Parquet.

    Parameters
    ----------
    paths : sequence of path-like
        Files or directories (searched recursively for ``.avro`` and ``.parquet``).

    Returns
    -------
    list of (dict, dict)
        ``(alert record, kinds)`` per alert, ``kinds`` mapping each top-level field to its kind
        or, for records, to ``{field: kind}``.

    Raises
    ------
    AlertFileError
        If a path is missing or is not a Rubin alert file.
    """
    out = []
    for path in expand_paths(paths):
        records, kinds = _read_file(path)
        _check(path, kinds)
        if not records:
            _log.warning("%s holds no alert", path)
        out.extend((rec, kinds) for rec in records)
    return out


# ---------------------------------------------------------------------------------------------
# Alerts -> tables
# ---------------------------------------------------------------------------------------------
def _cells(section: dict | None, kinds, prefix: str, skip: Iterable[str] = ()) -> dict:
    """Section record -> {prefix+name: value}, float32 fields as their shortest text."""
    if not section or not isinstance(kinds, dict):
        return {}
    out = {}
    for name, kind in kinds.items():
        if name in skip or isinstance(kind, dict) or kind is None:
            continue
        value = section.get(name)
        if value is not None and kind == "float32":
            value = short_float32(value)
        out[prefix + name] = value
    return out


def _col_kinds(kinds, prefix: str, skip: Iterable[str] = ()) -> dict:
    if not isinstance(kinds, dict):
        return {}
    return {prefix + n: k for n, k in kinds.items()
            if n not in skip and k is not None and not isinstance(k, dict)}


def _root_kinds(kinds: dict, names: Iterable[str], prefix: str) -> dict:
    return {prefix + n: kinds[n] for n in names if isinstance(kinds.get(n), str)}


def _fink_source_cells(rec: dict, kinds: dict) -> dict:
    out = {}
    for section, pre in SOURCE_SECTIONS:
        out.update(_cells(rec.get(section), kinds.get(section), "f:" + pre))
    for name in VERSION_FIELDS:
        out[f"f:{name}"] = rec.get(name)
    return out


def _fink_object_cells(rec: dict, kinds: dict) -> dict:
    out = {}
    for section, pre in OBJECT_SECTIONS:
        out.update(_cells(rec.get(section), kinds.get(section), "f:" + pre))
    ds = rec["diaSource"]
    static = bool(ds.get("diaObjectId"))
    if "pred" not in kinds:
        # Raw alert (not processed by Fink): the two flags Fink derives from the packet alone.
        out["f:is_sso"] = not static
        out["f:is_first"] = static and not rec.get("prvDiaSources")
    if "misc" not in kinds and static:
        # Fink's stand-in for the empty diaObject.firstDiaSourceMjdTai: first detection seen.
        mjds = [p["midpointMjdTai"] for p in rec.get("prvDiaSources") or ()]
        out["f:firstDiaSourceMjdTaiFink"] = min([ds["midpointMjdTai"], *mjds])
    return out


def _mjd_key(value: float) -> str:
    return repr(float(value))


def _new_forced_sources(rec: dict) -> list:
    """The forced sources of an alert that go to ``rubin.fp``: only for objects with more
    than one diaSource (fink-broker fink_broker/rubin/hbase_utils.py, format_fp_for_hbase).

    The broker writes only those not written from the object's earlier alerts; over the
    stream that is all of them, which a sample of alerts (the latest of an object) gives by
    writing all of each alert's (rows of one key are the same).
    """
    n_sources = (rec.get("diaObject") or {}).get("nDiaSources")
    if rec.get("prvDiaSources") is None or n_sources is None or not n_sources > 1:
        return []
    return list(rec.get("prvDiaForcedSources") or ())


def _night(rec: dict, mjd: float) -> str:
    """YYYYMMDD of the alert: the Fink partition date if present, else the UTC date."""
    if all(rec.get(k) for k in ("year", "month", "day")):
        return f"{rec['year']:04d}{rec['month']:02d}{rec['day']:02d}"
    day = datetime.datetime(1858, 11, 17) + datetime.timedelta(days=float(mjd))
    return day.strftime("%Y%m%d")


@dataclass
class LsstStore:
    """The Fink/LSST tables built from Rubin alerts.

    Attributes
    ----------
    sources, objects, fp, sso, pixel : Table
        ``rubin.diaSource_static``, ``rubin.diaObject``, ``rubin.fp``, ``rubin.diaSource_sso``
        and ``rubin.pixel1024``.
    cutouts : Table
        ``rubin.cutouts``, key ``<salt>_<diaSourceId>``; the cell ``stamps`` maps
        ``Science``/``Template``/``Difference`` to the FITS bytes of the alert.
    tags : dict
        Tag -> Table of its alerts (key ``<midpointMjdTai>_<diaObjectId>``).
    statistics : dict
        Night ``YYYYMMDD`` -> {column: value as text}.
    sso_names : dict
        Lower-case name or designation -> (name, packed designation).
    sso_resolver : Table
        ``rubin.sso_resolver``, key ``<ssObjectId[-3:]>_<ssObjectId>``.
    tns : Table
        ``rubin.tns_resolver``.
    object_ids : list of str
        Sorted diaObjectIds of the static objects.
    n_alerts : int
        Number of alerts read.
    """

    sources: Table = field(default_factory=lambda: Table("rubin.diaSource_static"))
    objects: Table = field(default_factory=lambda: Table("rubin.diaObject"))
    fp: Table = field(default_factory=lambda: Table("rubin.fp"))
    sso: Table = field(default_factory=lambda: Table("rubin.diaSource_sso"))
    pixel: Table = field(default_factory=lambda: Table("rubin.pixel1024"))
    tns: Table = field(default_factory=lambda: Table("rubin.tns_resolver"))
    cutouts: Table = field(default_factory=lambda: Table("rubin.cutouts"))
    tags: dict = field(default_factory=dict)
    statistics: dict = field(default_factory=dict)
    sso_names: dict = field(default_factory=dict)
    sso_resolver: Table = field(default_factory=lambda: Table("rubin.sso_resolver"))
    object_ids: list = field(default_factory=list)
    n_alerts: int = 0
    _nights: dict = field(default_factory=dict, repr=False)
    _latest: dict = field(default_factory=dict, repr=False)
    _alert_keys: set = field(default_factory=set, repr=False)
    _pixel_rows: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.tns.add_columns({f"f:{n}": k for n, k in (
            ("declination", "float"), ("discoverydate", "str"), ("fullname", "str"),
            ("internalname", "str"), ("ra", "float"), ("redshift", "float"),
            ("salt", "str"), ("type", "str"))})

    # -- building ----------------------------------------------------------------------------
    def add_alert(self, rec: dict, kinds: dict) -> None:
        """Store one alert record in every table it belongs to."""
        self.n_alerts += 1
        ds_kinds = kinds["diaSource"]
        ds = rec["diaSource"]
        src_id, obj_id = ds.get("diaSourceId"), ds.get("diaObjectId")
        mjd = ds["midpointMjdTai"]
        root = _cells(rec, {n: kinds.get(n) for n in ROOT_FIELDS}, "r:")
        fink_src = _fink_source_cells(rec, kinds)
        fink_obj = _fink_object_cells(rec, kinds)
        source_cols = {**_col_kinds(ds_kinds, "r:"), **_root_kinds(kinds, ROOT_FIELDS, "r:")}
        current = _cells(ds, ds_kinds, "r:")
        stamps = {k: rec.get(f"cutout{k}") for k in CUTOUT_KINDS}
        if all(stamps.values()):
            self.cutouts.put(f"{salt(src_id)}_{src_id}", {
                "r:diaSourceId": src_id, "r:diaObjectId": obj_id, "r:midpointMjdTai": mjd,
                "stamps": stamps})
        self._count(rec, ds, mjd, obj_id, fink_obj)

        # static tables keep alerts with a diaObject section (fink-broker
        # fink_broker/rubin/hbase_utils.py, format_for_hbase and format_pixels_for_hbase:
        # ``df.filter(df["diaObject"].isNotNull())``); SSO alerts have none
        if obj_id and rec.get("diaObject") is not None:
            s = salt(obj_id)
            self.sources.add_columns({**source_cols, "r:salt": "str", **FINK_SOURCE_KINDS})
            for prv in rec.get("prvDiaSources") or ():
                # History rows: Rubin fields only (their Fink values are not in this alert).
                cells = {**_cells(prv, ds_kinds, "r:"), "r:salt": s}
                key = f"{s}_{obj_id}_{_mjd_key(prv['midpointMjdTai'])}"
                # Same key, later write wins (HBase), except over a row of a current alert.
                self.sources.put(key, cells, overwrite=key not in self._alert_keys)
            row = {**current, **root, "r:salt": s, **fink_src}
            key = f"{s}_{obj_id}_{_mjd_key(mjd)}"
            self._alert_keys.add(key)
            self.sources.put(key, row)

            fp_kinds = kinds.get("prvDiaForcedSources")
            self.fp.add_columns({**_col_kinds(fp_kinds, "r:"), "r:salt": "str"})
            for fsrc in _new_forced_sources(rec):
                cells = {**_cells(fsrc, fp_kinds, "r:"), "r:salt": s}
                self.fp.put(f"{s}_{obj_id}_{_mjd_key(fsrc['midpointMjdTai'])}", cells)

            obj_kinds = kinds.get("diaObject")
            if self._latest.get(obj_id, -np.inf) <= mjd:
                self._latest[obj_id] = mjd
                self.objects.add_columns({"r:diaObjectId": "int",
                                          **_col_kinds(obj_kinds, "r:"),
                                          **_root_kinds(kinds, ROOT_FIELDS, "r:"),
                                          "r:salt": "str", **FINK_OBJECT_KINDS})
                obj = {**_cells(rec.get("diaObject"), obj_kinds, "r:"), **root, "r:salt": s,
                       **fink_obj}
                # the key's ID, also where the diaObject section is absent or all nulls (how
                # Spark writes a missing section)
                obj["r:diaObjectId"] = obj_id
                self.objects.put(f"{s}_{obj_id}", obj)

            # pixel1024: root + diaSource + the diaObject fields not in diaSource + Fink.
            dup = set(ds_kinds)
            self.pixel.add_columns({**source_cols, **_col_kinds(obj_kinds, "r:", dup),
                                    **FINK_OBJECT_KINDS, **FINK_SOURCE_KINDS})
            self._pixel_rows.append({**current, **root, **_cells(rec.get("diaObject"), obj_kinds,
                                                                 "r:", dup),
                                     **fink_obj, **fink_src})
            tns_name = (rec.get("xm") or {}).get("tns_fullname")
            if tns_name:
                self._add_tns(rec, ds, obj_id, mjd, tns_name, row)
        self._add_sso(rec, kinds, ds, ds_kinds, mjd, root)

    def _add_tns(self, rec, ds, obj_id, mjd, name: str, row: dict) -> None:
        tag = self.tags.setdefault("in_tns", Table("rubin.tag_in_tns"))
        tag.add_columns(self.sources.columns)
        tag.put(f"{_mjd_key(mjd)}_{obj_id}", row)
        xm = rec["xm"]
        cells = {"f:fullname": name, "f:internalname": None, "f:ra": ds.get("ra"),
                 "f:declination": ds.get("dec"), "f:type": xm.get("tns_type"),
                 "f:redshift": xm.get("tns_redshift"), "f:salt": name[-1].lower(),
                 "f:discoverydate": None}
        self.tns.put(f"{name[-1]}_{name}".lower(), cells)

    def _add_sso(self, rec, kinds, ds, ds_kinds, mjd, root) -> None:
        orbit = rec.get("mpc_orbits") or {}
        packed = orbit.get("packed_primary_provisional_designation")
        if not packed:
            return
        ss_kinds = kinds.get("ssSource")
        self.sso.add_columns({**_col_kinds(ds_kinds, "r:"),
                              **_col_kinds(ss_kinds, "r:", set(ds_kinds)),
                              **_root_kinds(kinds, ROOT_FIELDS, "r:"), "r:salt": "str",
                              "r:packed_primary_provisional_designation": "str"})
        cells = {**_cells(ds, ds_kinds, "r:"),
                 **_cells(rec.get("ssSource"), ss_kinds, "r:", set(ds_kinds)), **root,
                 "r:salt": packed[1:3], "r:packed_primary_provisional_designation": packed}
        self.sso.put(f"{packed[1:3]}_{packed}_{_mjd_key(mjd)}", cells)
        name = orbit.get("unpacked_primary_provisional_designation") or packed
        for alias in (name, packed, orbit.get("designation")):
            if alias:
                self.sso_names[str(alias).lower()] = (name, packed)
        unpacked = orbit.get("unpacked_primary_provisional_designation")
        sid = str(ds.get("ssObjectId"))
        self.sso_resolver.put(f"{salt(sid)}_{sid}", {
            "r:packed_primary_provisional_designation": packed,
            "r:unpacked_primary_provisional_designation": unpacked,
            "r:ssObjectId": ds.get("ssObjectId"), "r:diaSourceId": ds.get("diaSourceId")})

    def _count(self, rec, ds, mjd, obj_id, fink_obj) -> None:
        """Accumulate the nightly counters of fink-broker ``bin/rubin/archive_statistics.py``."""
        night = _night(rec, mjd)
        acc = self._nights.setdefault(night, {"alerts": 0, "bands": {}, "objects": set(),
                                              "visits": set(), "flags": {}, "is_sso": 0,
                                              "is_first": 0, "is_cataloged": 0, "in_tns": 0,
                                              "versions": {}})
        acc["alerts"] += 1
        band = ds.get("band")
        acc["bands"][band] = acc["bands"].get(band, 0) + 1
        acc["objects"].add(obj_id)
        acc["visits"].add(ds.get("visit"))
        for flag in ("glint_trail", "isDipole", "pixelFlags_cr", "pixelFlags_saturated",
                     "pixelFlags_streak"):
            # The server counts non-null values, not True ones.
            acc["flags"][flag] = acc["flags"].get(flag, 0) + (ds.get(flag) is not None)
        acc["is_sso"] += bool(fink_obj.get("f:is_sso"))
        acc["is_first"] += bool(fink_obj.get("f:is_first"))
        acc["is_cataloged"] += bool(fink_obj.get("f:is_cataloged"))
        acc["in_tns"] += bool((rec.get("xm") or {}).get("tns_fullname"))
        for name in VERSION_FIELDS:
            if rec.get(name):
                acc["versions"][name] = rec[name]

    def _index_pixels(self) -> None:
        """Key ``<pixel1024>_<firstDiaSourceMjdTaiFink>_<diaObjectId>``: per object and pixel
        the row of its latest alert (the key has no alert time: later writes replace it).

        Without astropy-healpix the pixel part is left out (one row per object).
        """
        from astropy import units as u

        rows = sorted(self._pixel_rows, key=lambda r: r["r:midpointMjdTai"])
        grid = healpix1024()
        if grid is not None and rows:
            ra = np.array([r.get("r:ra", np.nan) for r in rows], dtype=float)
            dec = np.array([r.get("r:dec", np.nan) for r in rows], dtype=float)
            with np.errstate(invalid="ignore"):  # an alert without position: pixel -1
                pix = grid.lonlat_to_healpix(ra * u.deg, dec * u.deg)
            self.pixel.add_columns({"f:pixel1024": "int"})
        for i, row in enumerate(rows):
            first = row.get("f:firstDiaSourceMjdTaiFink")
            key = f"{first!r}_{row['r:diaObjectId']}"
            if grid is not None:
                row["f:pixel1024"] = int(pix[i])
                key = f"{pix[i]}_{key}"
            self.pixel.put(key, row)
        self._pixel_rows = []

    def finish(self) -> LsstStore:
        """Derive the statistics rows and the object list once every alert is stored."""
        for night, acc in self._nights.items():
            row = {"f:night": night, "f:alerts": acc["alerts"]}
            for band in "ugrizy":
                row[f"f:alerts_{band}"] = acc["bands"].get(band, 0)
            # Distinct diaObjectIds minus one: the server's count includes the SSO id 0.
            row["f:objects"] = len(acc["objects"]) - 1
            for name in ("is_sso", "is_first", "is_cataloged", "in_tns"):
                row[f"f:{name}"] = acc[name]
            for flag, count in acc["flags"].items():
                row[f"f:{flag}"] = count
            row["f:visits"] = len(acc["visits"])
            for name in VERSION_FIELDS:
                row[f"f:{name}"] = acc["versions"].get(name, "")
            # Values come back from HBase as text, uncast.
            self.statistics[night] = {k: str(v) for k, v in row.items()}
        self._index_pixels()
        self.object_ids = sorted({str(r["r:diaObjectId"]) for r in self.objects.rows.values()})
        return self


def healpix1024():
    """The nside-1024 RING HEALPix grid of ``rubin.pixel1024`` (None without astropy-healpix)."""
    try:
        from astropy_healpix import HEALPix
    except ImportError:
        return None
    return HEALPix(nside=1024, order="ring")


def load_store(data: Sequence[str | os.PathLike] | str | os.PathLike | None = None) -> LsstStore:
    """Build the Fink/LSST tables from Rubin alert files.

    Parameters
    ----------
    data : path-like, list of path-like, or None
        Files or directories of Rubin alerts: Fink-processed Avro, raw LSST Avro, or Parquet
        of alert packets. None loads the bundled sample (`bundled_lsst_files`).

    Returns
    -------
    LsstStore
        The tables, with ``object_ids`` (sorted diaObjectIds as str) and ``n_alerts``.

    Raises
    ------
    AlertFileError
        If a path is missing or is not a Rubin alert file.
    """
    if data is None:
        data = bundled_lsst_files()
    elif isinstance(data, (str, os.PathLike)):
        data = [data]
    store = LsstStore()
    for rec, kinds in read_rubin_files(list(data)):
        store.add_alert(rec, kinds)
    return store.finish()
