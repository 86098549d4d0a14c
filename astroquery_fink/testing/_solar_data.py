"""Tables behind the emulated solar-system, tracklet and resolver endpoints (no HTTP).

The real server reads HBase index tables that fink-broker fills from the night's alerts, and asks
outside services (SsODNet quaero/rocks, Miriade, CDS Sesame, TNS, WebHDFS files). Here:

* from alerts (the loaded store's, plus the bundled ``data/solar/*.parquet``): ``ztf.ssnamenr``
  (row key ``ssnamenr_jd``, alerts with ``d:roid == 3``), ``ztf.tracklet`` (row key
  ``tracklet_objectId``, alerts with a ``d:tracklet``), the main table's cells used by the
  reverse resolvers, ``ztf.sso_resolver`` (built as fink-broker ``bin/ztf/archive_sso_resolver.py``)
  and the SSO light-curve file of ``/ssobulk``;
* from bundled fixtures (``data/solar/*.json``, each with a ``_note``): names of SSOs, Miriade
  ephemerides, the SSOFT, fink-fat candidates, TNS and Sesame answers.

Index tables hold the columns of fink-broker ``fink_broker/ztf/hbase_utils.py::
load_ztf_index_cols``; missing Fink columns are filled with the defaults of ``load_fink_cols``
(``flatten_dataframe``), as fink-broker ``bin/ztf/archive_index.py`` does.
"""
from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ._hbase import FINK_DEFAULTS, INDEX_I, cast_column, java_str
from .store import Alert, read_alert_files

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["SolarTables", "solar_tables", "SOLAR_DIR", "fixture", "frame"]

#: Bundled tracklet/SSO alerts and offline fixtures (not loaded by the main store).
SOLAR_DIR = Path(__file__).parent / "data" / "solar"

#: Cells of the main table read by the reverse resolvers (fink-object-api resolver/utils.py).
_MAIN_CELLS = ("i:objectId", "d:cdsxmatch", "i:ra", "i:dec", "i:candid", "i:jd", "i:ssnamenr")


@cache
def fixture(name: str) -> dict:
    """A bundled JSON fixture of ``data/solar`` (parsed once).

    Parameters
    ----------
    name : str
        File name, e.g. ``"sso_names.json"``.

    Returns
    -------
    dict
    """
    with open(SOLAR_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def frame(rows: dict[str, dict], typed: bool = True) -> pd.DataFrame:
    """``pd.DataFrame.from_dict(rows, orient="index")`` of HBase cells, columns sorted.

    Parameters
    ----------
    rows : dict
        Row key -> cells, in scan (key) order.
    typed : bool
        Cast each column from its Python values (index tables); False keeps the cells as they
        are (the resolver serves the raw HBase strings).

    Returns
    -------
    pandas.DataFrame
        Indexed by the row keys.
    """
    if not rows:
        return pd.DataFrame({})
    if not typed:
        return pd.DataFrame.from_dict(rows, orient="index")
    names = sorted({k for cells in rows.values() for k in cells})
    keys = list(rows)
    data = {n: cast_column([rows[k].get(n) for k in keys]) for n in names}
    return pd.DataFrame(data, index=pd.Index(keys))


@dataclass
class SolarTables:
    """The tables and fixtures the solar-system and resolver routes read.

    Attributes
    ----------
    ssnamenr, tracklet : dict
        Row key -> typed cells of ``ztf.ssnamenr`` / ``ztf.tracklet`` (sorted keys).
    main : dict
        Row key ``objectId_jd`` -> the main table's cells read by the reverse resolvers, as
        HBase strings.
    sso_resolver : dict
        Row key (``name@n``, lower case) -> ``i:name``, ``i:number``, ``i:ssnamenr`` strings.
    tns : dict
        Row key (``fullname_internalname``, lower case) -> ``d:`` strings.
    stamps : dict
        ``(objectId, candid)`` -> gzipped FITS stamps by kind.
    sso_alerts : list of Alert
        The alerts of ``ztf.ssnamenr`` (``/ssobulk``).
    names : dict
        Lower-case name, designation or number -> ``(name, number)`` (offline rocks.identify).
    """

    ssnamenr: dict = field(default_factory=dict)
    tracklet: dict = field(default_factory=dict)
    main: dict = field(default_factory=dict)
    sso_resolver: dict = field(default_factory=dict)
    tns: dict = field(default_factory=dict)
    stamps: dict = field(default_factory=dict)
    sso_alerts: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    _sorted: dict = field(default_factory=dict, repr=False)

    def keys(self, table: str) -> list[str]:
        """Sorted row keys of one table (computed once; a benign race between threads)."""
        if table not in self._sorted:
            self._sorted[table] = sorted(getattr(self, table))
        return self._sorted[table]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def solar_tables(engine: Engine) -> SolarTables:
    """The solar tables of an engine's store plus the bundled solar alerts (built once).

    Parameters
    ----------
    engine : Engine
        Read only: its ``store.alerts``.

    Returns
    -------
    SolarTables
    """
    with _LOCK:
        tables = _CACHE.get(engine)
        if tables is None:
            tables = _CACHE[engine] = _build(engine)
        return tables


@cache
def _bundled_alerts() -> tuple[Alert, ...]:
    return tuple(read_alert_files(sorted(SOLAR_DIR.glob("*.parquet"))))


def _index_cells(alert: Alert) -> dict:
    cells = {f"i:{n}": alert.cells[f"i:{n}"] for n in INDEX_I if f"i:{n}" in alert.cells}
    for name, default in FINK_DEFAULTS.items():
        value = alert.cells.get(f"d:{name}")
        cells[f"d:{name}"] = default if value is None else value
    return cells


def _hbase_text(value) -> str:
    return value if isinstance(value, str) else java_str(value)


def _build(engine) -> SolarTables:
    store = engine.store
    alerts = [a for oid in store.object_ids for a in store.alerts[oid]]
    seen = {(a.object_id, a.jd) for a in alerts}
    # Bundled extras unless the loaded data already hold them (an HBase row per key).
    alerts += [a for a in _bundled_alerts() if (a.object_id, a.jd) not in seen]
    t = SolarTables()
    for a in alerts:
        # cells sorted as the HBase TreeMap gives them
        t.main[f"{a.object_id}_{java_str(a.jd)}"] = {
            k: _hbase_text(a.cells[k]) for k in sorted(_MAIN_CELLS) if k in a.cells}
        if a.stamps:
            t.stamps[(a.object_id, str(a.candid))] = a.stamps
        if a.cells.get("d:roid") == 3 and isinstance(a.cells.get("i:ssnamenr"), str):
            t.ssnamenr[f"{a.cells['i:ssnamenr']}_{java_str(a.jd)}"] = _index_cells(a)
            t.sso_alerts.append(a)
        trk = a.cells.get("d:tracklet")
        if isinstance(trk, str) and trk not in ("", "null"):
            t.tracklet[f"{trk}_{a.object_id}"] = _index_cells(a)
    t.ssnamenr = dict(sorted(t.ssnamenr.items()))
    t.tracklet = dict(sorted(t.tracklet.items()))
    t.main = dict(sorted(t.main.items()))
    _build_sso_resolver(t)
    _build_tns(t, alerts)
    return t


def _known_names() -> dict[str, tuple[str, int | None]]:
    """ssnamenr -> (name, number) from the names fixture."""
    out = {}
    for obj in fixture("sso_names.json")["objects"]:
        for ssnamenr in obj["ssnamenr"]:
            out[ssnamenr] = (obj["name"], obj.get("number"))
    return out


def _mark_duplicates(keys: list[str]) -> list[str]:
    """``name@n``: n-th repeat of the same key (bin/ztf/archive_sso_resolver.py)."""
    count: dict[str, int] = {}
    out = []
    for key in keys:
        n = count.get(key, 0)
        count[key] = n + 1
        out.append(f"{key}@{n}")
    return out


def _build_sso_resolver(t: SolarTables) -> None:
    known = _known_names()
    ssnamenrs = sorted({a.cells["i:ssnamenr"] for a in t.sso_alerts} | set(known))
    names, numbers = [], []
    for s in ssnamenrs:
        # Without an offline name, a numbered object is named by its number (inferred
        # stand-in for quaero); other ssnamenr keep their text, as has_no_name does.
        name, number = known.get(s, (s, int(s) if s.isdecimal() else None))
        names.append(name)
        numbers.append(number)
    valid = [i for i, n in enumerate(numbers) if n is not None]
    # (name, number, ssnamenr) vectors as the fink-broker job concatenates them.
    ssodnet = names + [str(numbers[i]) for i in valid] + ssnamenrs
    fink = ssnamenrs + [ssnamenrs[i] for i in valid] + ssnamenrs
    name_col = names + [names[i] for i in valid] + names
    number_col = numbers + [numbers[i] for i in valid] + numbers
    # sort_indices: decimal keys first by value, then the others in their order
    decimal = [i for i in range(len(ssodnet)) if ssodnet[i].isdecimal()]
    order = (sorted(decimal, key=lambda i: int(ssodnet[i]))
             + [i for i in range(len(ssodnet)) if not ssodnet[i].isdecimal()])
    keys = _mark_duplicates([ssodnet[i] for i in order])
    for key, i in zip(keys, order, strict=True):
        t.sso_resolver[key.lower()] = {
            "i:name": name_col[i],
            "i:number": "nan" if number_col[i] is None else str(number_col[i]),
            "i:ssnamenr": fink[i],
        }
    t.sso_resolver = dict(sorted(t.sso_resolver.items()))
    for name, number in zip(names, numbers, strict=True):
        entry = (name, number)
        t.names.setdefault(name.lower().replace(" ", ""), entry)
        if number is not None:
            t.names.setdefault(str(number), entry)
    for obj in fixture("sso_names.json")["objects"]:
        for alias in obj.get("aliases", []):
            t.names.setdefault(alias.lower().replace(" ", ""), (obj["name"], obj.get("number")))


def _build_tns(t: SolarTables, alerts: list[Alert]) -> None:
    latest: dict[str, Alert] = {}
    for a in alerts:
        if a.object_id not in latest or a.jd > latest[a.object_id].jd:
            latest[a.object_id] = a
    for row in fixture("tns_fixture.json")["rows"]:
        cells = {f"d:{k}": str(v) for k, v in row.items()}
        alert = latest.get(row["internalname"])
        if alert is not None:
            cells["d:ra"] = java_str(alert.cells["i:ra"])
            cells["d:declination"] = java_str(alert.cells["i:dec"])
            tns = alert.cells.get("d:tns")
            if isinstance(tns, str) and tns:
                cells["d:type"] = tns
        key = f"{row['fullname']}_{row['internalname']}".lower()
        t.tns[key] = dict(sorted(cells.items()))
    t.tns = dict(sorted(t.tns.items()))
