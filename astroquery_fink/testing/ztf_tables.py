"""The ZTF index tables behind the search endpoints, derived from the loaded alerts (no HTTP).

The real service answers the search endpoints from HBase tables that fink-broker fills each
night next to the main ``ztf`` table (fink-broker ``bin/ztf/archive_index.py``,
``bin/ztf/archive_anomaly.py``, ``bin/ztf/archive_statistics.py``). This module rebuilds them
from the alerts an `Engine` holds, with their row keys, and scans them as Lomikel does:

* ``ztf.pixel128`` (``/conesearch``, ``/skymap``): row key ``<pix>_<jdstarthist>_<objectId>``
  (HEALPix nside 128, RING, as fink-broker's ``ang2pix``), the 13 cross-match columns
  (``load_ztf_crossmatch_cols``) and ``d:classification``. Alerts of one object with the same
  key overwrite each other: the row holds the latest alert.
* ``ztf.class`` (``/latests``): row key ``<class>_<jd>_<objectId>``, class as
  ``extract_fink_classification`` (the SIMBAD label when there is a real match), the 77
  index columns (``load_ztf_index_cols``).
* ``ztf.tns`` (``/latests`` with ``(TNS) X``): row key ``<d:tns>_<jd>_<objectId>`` for alerts
  with a non-empty ``d:tns``, the same columns.
* ``ztf.anomaly`` (``/anomaly``): row key ``<jd>_<objectId>``, full alert rows; per night the
  alerts picked by fink-filters ``anomaly_notification_(threshold=10)``: non-null
  ``d:anomaly_score``, ascending, first alert per object, first 10 objects.
* ``statistics_class`` (``/statistics``): one row per night, key ``ztf_<YYYYMMDD>``.

Nights are the UTC dates of ``i:jd`` (fink-broker partitions its archive by the alert time).
Row keys hold jd as Java writes a double (``Double.toString``), and range scans compare keys
as strings (start inclusive, stop exclusive), as HBase does.

The cone search keeps the server's result: every object whose last alert in the scanned pixel
rows lies within the radius (exact ``SkyCoord.separation``, as the server filters after its
inclusive ``query_disc``). The pixels scanned are those astropy-healpix's
``cone_search_lonlat`` finds overlapping the cone; they matter for the per-pixel row cap ``n``
(``client.setLimit(n)`` applies to each pixel scan) and for objects whose alerts fall in two
pixels (the latest scanned alert is kept, then filtered by the radius).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ._hbase import FINK_DEFAULTS, INDEX_I, java_str
from .engine import EG_HOST, V_COLUMNS, Engine, _num, _text, rate_and_color

__all__ = ["SearchTables", "search_tables", "PIXEL128_COLUMNS", "INDEX_COLUMNS"]

#: ``ztf.pixel128`` columns (fink-broker ``load_ztf_crossmatch_cols`` + classification).
PIXEL128_COLUMNS = (
    "i:objectId", "i:candid", "i:magpsf", "i:sigmapsf", "i:jd", "i:jdstarthist",
    "d:cdsxmatch", "i:drb", "i:ra", "i:dec", "i:fid", "i:distnr", "d:nalerthist",
    "d:classification",
)
#: Columns of the ``ztf.class`` / ``ztf.tns`` index tables (fink-broker ``load_ztf_index_cols``;
#: the nested ``mangrove`` and ``blazar_stats`` fields are matched by prefix).
INDEX_COLUMNS = frozenset({f"i:{c}" for c in INDEX_I} | {f"d:{c}" for c in FINK_DEFAULTS})
_INDEX_PREFIXES = ("d:mangrove_", "d:blazar_stats_")

#: Per-night anomaly notifications kept in ``ztf.anomaly`` (``threshold`` of fink-broker).
ANOMALY_THRESHOLD = 10
_ANOMALY_BUFFER = 10  # ``trick_par`` of anomaly_notification_
_NOT_SIMBAD = ("Unknown", "Transient", "Fail", "Fail 504")
_ROW_V = ("v:classification", "v:lastdate", "v:firstdate", "v:lapse", "v:constellation")
_RATE_V = tuple(c for c in V_COLUMNS if c not in _ROW_V)


def _key_scan(keys: np.ndarray, start: str | None, stop: str | None) -> np.ndarray:
    """Mask of ``start <= key < stop`` in string order (a Lomikel range scan)."""
    mask = np.ones(len(keys), dtype=bool)
    if start is not None:
        mask &= keys >= start
    if stop is not None:
        mask &= keys < stop
    return mask


def _healpix():
    """HEALPix nside 128, RING (astropy-healpix, the emulator's HEALPix dependency)."""
    from astropy_healpix import HEALPix

    return HEALPix(nside=128, order="ring")


def parse_columns(cols: str) -> list[str]:
    """``family:name`` names of a ``columns`` argument, as Lomikel reads them.

    Spaces must already be removed; names without ``:`` are skipped.
    """
    return [c for c in dict.fromkeys(cols.split(",")) if ":" in c]


class SearchTables:
    """The index tables of one `Engine`, and the search semantics over them.

    Parameters
    ----------
    engine : Engine
        The engine whose alerts fill the tables.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        base = engine._base_all
        self._base = base
        self._row_v = engine._row_v
        self.jd = _num(base, "i:jd")
        self.jdstart = _num(base, "i:jdstarthist")
        self.ra = _num(base, "i:ra")
        self.dec = _num(base, "i:dec")
        self.oid = _text(base, "i:objectId").astype(str)
        self.classification = self._row_v["v:classification"].to_numpy().astype(str)
        self.jd_text = np.array([java_str(j) for j in self.jd], dtype=object)
        from astropy.time import Time

        ok = np.isfinite(self.jd)
        self.night = np.full(len(base), "", dtype=object)
        if ok.any():
            self.night[ok] = [d.replace("-", "")[:8] for d in Time(self.jd[ok], format="jd").iso]
        self._lock = threading.Lock()
        self._pixel128: tuple | None = None
        self._anomaly: np.ndarray | None = None
        self._statistics: dict[str, dict[str, str]] | None = None
        self.index_columns = [c for c in engine.stored_columns
                              if c in INDEX_COLUMNS or c.startswith(_INDEX_PREFIXES)]

    # ---------------------------------------------------------------------------- formatting
    def format_rows(self, rows: np.ndarray, keys: Sequence[str], table_columns: Sequence[str],
                    cols: str, *, truncated: bool, group_alerts: bool,
                    extract_color: bool = False, extra: dict | None = None) -> pd.DataFrame:
        """What ``format_hbase_output`` makes of scanned rows (fink-object-api decoding.py).

        Parameters
        ----------
        rows : numpy.ndarray of int
            Positions of the scanned rows in the engine's alert frame.
        keys : sequence of str
            Their row keys (the DataFrame index, written by parquet).
        table_columns : sequence of str
            The columns the table stores.
        cols : str
            ``*`` (every column of the table) or the comma list of the scan.
        truncated : bool
            False: defaults for absent columns and the ``v:`` columns are added.
        group_alerts : bool
            Keep the last alert (largest ``i:jd``) of each object.
        extract_color : bool
            Add the rate and colour ``v:`` columns (all-columns mode only).
        extra : dict, optional
            Cells of columns computed at ingestion (``d:classification`` of pixel128), each an
            array aligned on the engine's alert frame.

        Returns
        -------
        pandas.DataFrame
        """
        rows = np.asarray(rows, dtype=int)
        if len(rows) == 0:
            return pd.DataFrame({})
        columns = sorted(table_columns)  # HBase returns cells in TreeMap order
        if cols != "*":
            names = parse_columns(cols)
            if any(c.startswith("v:") for c in names):
                # The v: family does not exist in HBase: the scan fails in the client and
                # the result is empty (as for /objects).
                return pd.DataFrame({})
            if names:
                columns = [c for c in columns if c in names]
        data = {}
        for c in columns:
            if extra and c in extra:
                values = pd.array(np.asarray(extra[c], dtype=object)[rows], dtype="str")
            else:
                values = self._base[c].array[rows]
            data[c] = values
        pdf = pd.DataFrame(data, index=pd.Index(list(keys)))
        # No cell is stored for a null value: a column with no cell is absent.
        pdf = pdf[[c for c in pdf.columns if pdf[c].notna().any()]].copy()
        if not truncated:  # the v: columns: dates and constellations converted here
            self.engine.check_convertible(rows)
            pdf = self._all_columns(pdf, rows, extract_color)
        if group_alerts and "i:jd" in pdf.columns and "i:objectId" in pdf.columns:
            pdf["i:jd"] = pdf["i:jd"].astype(float)
            pdf = pdf.loc[pdf.groupby("i:objectId")["i:jd"].idxmax()]
        if "i:jd" in pdf.columns:
            pdf = pdf.sort_values("i:jd", ascending=False)
        return pdf

    def _all_columns(self, pdf: pd.DataFrame, rows: np.ndarray,
                     extract_color: bool) -> pd.DataFrame:
        """Defaults for absent columns, then the ``v:`` columns (all-columns mode)."""
        n = len(pdf)
        out = {c: pdf[c] for c in pdf.columns}
        if "d:tracklet" not in out:
            out["d:tracklet"] = pd.Series(pd.array([""] * n, dtype="str"), index=pdf.index)
        if "d:tns" not in out:
            out["d:tns"] = pd.Series(pd.array([""] * n, dtype="str"), index=pdf.index)
        for group in (("m0", "m1", "m2"), ("instantness_low", "robustness_low"),
                      ("instantness_high", "robustness_high")):
            if f"d:blazar_stats_{group[0]}" not in out:
                for k in group:
                    out[f"d:blazar_stats_{k}"] = pd.Series(np.full(n, -1.0), index=pdf.index)
        v = {c: self._row_v[c].to_numpy()[rows] for c in _ROW_V}
        out["v:classification"] = pd.Series(v["v:classification"], index=pdf.index)
        frame = pd.DataFrame(out, index=pdf.index).assign(_pos=np.arange(n))
        if extract_color:  # rows regrouped by object: _pos follows each row
            frame = self._with_rates(frame)
        positions = frame["_pos"].to_numpy()
        for c in _ROW_V[1:]:
            frame[c] = v[c][positions]
        return frame.drop(columns="_pos")

    def _with_rates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``extract_rate_and_color``: per object, jd ascending, each index reset to 0..n-1."""
        frame = frame.sort_values("i:jd")
        parts = []
        for _, sub in frame.groupby("i:objectId", sort=True):
            rates = rate_and_color(sub)
            part = pd.concat([sub, rates], axis=1)
            part.index = pd.Index(np.arange(len(part), dtype="int64"))
            parts.append(part)
        out = pd.concat(parts, axis=0)
        head = [c for c in out.columns if c not in _RATE_V and c != "_pos"]
        return out[[*head, *_RATE_V, "_pos"]]

    # ---------------------------------------------------------------------------- pixel128
    def _pixel_table(self) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """Rows of ``ztf.pixel128``: alert positions, row keys (sorted), and for each pixel
        the indices of its rows in key order."""
        with self._lock:
            if self._pixel128 is None:
                import astropy.units as u

                hp = _healpix()
                ok = np.isfinite(self.ra) & np.isfinite(self.dec) & np.isfinite(self.jdstart)
                idx = np.flatnonzero(ok)
                pix = np.full(len(self.ra), -1, dtype=np.int64)
                pix[idx] = hp.lonlat_to_healpix(self.ra[idx] * u.deg, self.dec[idx] * u.deg)
                latest: dict[str, int] = {}
                for i in idx[np.argsort(self.jd[idx], kind="stable")]:
                    # a later alert overwrites the row of the same key
                    latest[f"{pix[i]}_{java_str(self.jdstart[i])}_{self.oid[i]}"] = int(i)
                keys = np.array(sorted(latest), dtype=object)
                rows = np.array([latest[k] for k in keys], dtype=int)
                by_pix: dict[int, list[int]] = {}
                for j, p in enumerate(pix[rows]):
                    by_pix.setdefault(int(p), []).append(j)  # key order within a pixel
                self._pixel128 = (rows, keys, {p: np.array(v) for p, v in by_pix.items()})
            return self._pixel128

    def _holding(self, rows: np.ndarray, cols: str, table_columns: Sequence[str]) -> np.ndarray:
        """Which ``rows`` hold a cell of a selected column of the table (all, for ``*``): a
        scan with columns returns no other row (Lomikel's ``Scan.addColumn``), and its
        limit counts only the rows it returns."""
        if "*" in cols:
            return np.ones(len(rows), dtype=bool)
        held = np.zeros(len(rows), dtype=bool)
        for name in set(parse_columns(cols)) & set(table_columns):
            held |= np.asarray(pd.notna(self._base[name].array[rows]), dtype=bool)
        return held

    def _pixel_scan(self, pixels: Iterable[int], jd_start: float | None,
                    jd_stop: float | None, limit: int | None) -> tuple[np.ndarray, list[str]]:
        """Scan ``ztf.pixel128`` pixel by pixel: prefix ``<pix>_`` or range on jdstarthist."""
        rows, keys, by_pix = self._pixel_table()
        out_rows: list[int] = []
        out_keys: list[str] = []
        for p in sorted({int(x) for x in pixels} & by_pix.keys()):
            sel = by_pix[p]
            if jd_start is not None:
                sel = sel[_key_scan(keys[sel], f"{p}_{jd_start}", f"{p}_{jd_stop}")]
            if limit is not None:
                sel = sel[:max(limit, 0)]  # rows in key order, capped per scan
            out_rows.extend(rows[sel])
            out_keys.extend(keys[sel])
        return np.array(out_rows, dtype=int), out_keys

    def conesearch(self, ra: float, dec: float, radius_deg: float, n: int,
                   jd_start: float | None, jd_stop: float | None, cols: str) -> pd.DataFrame:
        """``run_conesearch`` (fink-object-api ``apps/routes/v1/ztf/conesearch/utils.py``).

        Parameters
        ----------
        ra, dec : float
            Centre, degrees.
        radius_deg : float
            Radius, degrees.
        n : int
            Row cap of each pixel scan.
        jd_start, jd_stop : float or None
            Range on the first detection (``startdate`` given), else None (prefix scans).
        cols : str
            ``*`` or the comma list (``i:ra``, ``i:dec`` already added).

        Returns
        -------
        pandas.DataFrame
            Last alert per object within the radius, ``v:separation_degree`` ascending.
        """
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        centre = SkyCoord(ra, dec, unit="deg")
        # Pixels overlapping the cone, as healpy's query_disc(inclusive=True) on the server.
        pixels = _healpix().cone_search_lonlat(ra * u.deg, dec * u.deg, radius_deg * u.deg)
        rows, keys = self._pixel_scan(pixels, jd_start, jd_stop, n)
        pdf = self.format_rows(rows, keys, self._pixel_columns(), cols, truncated=True,
                               group_alerts=True,
                               extra={"d:classification": self.classification})
        if len(pdf) > 0:
            sep = centre.separation(SkyCoord(pdf["i:ra"], pdf["i:dec"], unit="deg")).deg
            pdf["v:separation_degree"] = sep
            pdf = pdf.sort_values("v:separation_degree", ascending=True)
            pdf = pdf[~(pdf["v:separation_degree"] > radius_deg)]
        return pdf

    def _pixel_columns(self) -> list[str]:
        stored = set(self.engine.stored_columns)
        return [c for c in PIXEL128_COLUMNS if c in stored or c == "d:classification"]


    def skymap(self, pixels: Iterable[int], jd_start: float, jd_stop: float) -> pd.DataFrame:
        """Pixel128 rows of ``pixels`` whose first detection is in ``[jd_start, jd_stop)``,
        last alert per object (fink-object-api ``apps/routes/v1/ztf/skymap/utils.py``).

        Parameters
        ----------
        pixels : iterable of int
            HEALPix nside 128 RING pixels.
        jd_start, jd_stop : float
            Range on ``i:jdstarthist`` (row-key range of each pixel scan).

        Returns
        -------
        pandas.DataFrame
        """
        rows, keys = self._pixel_scan(pixels, jd_start, jd_stop, self.engine.nlimit)
        return self.format_rows(rows, keys, self._pixel_columns(), "*", truncated=True,
                                group_alerts=True,
                                extra={"d:classification": self.classification})

    # ------------------------------------------------------------------------------- latests
    def latests(self, table: str, label: str, jd_start: float, jd_stop: float, n: int,
                cols: str, color: bool) -> pd.DataFrame:
        """Reversed range scan of ``ztf.class`` or ``ztf.tns``, last ``n`` rows (latests).

        Parameters
        ----------
        table : {"class", "tns"}
            The index table.
        label : str
            Class (Fink class or SIMBAD label) or TNS type: the row-key prefix.
        jd_start, jd_stop : float
            Range on the alert's ``i:jd`` (start inclusive, stop exclusive).
        n : int
            Row cap of the scan (the newest rows are kept).
        cols : str
            ``*`` or the comma list of columns.
        color : bool
            Add the rate and colour ``v:`` columns (all-columns mode only).

        Returns
        -------
        pandas.DataFrame
        """
        if table == "tns":
            tns = _text(self._base, "d:tns")
            has = np.array([isinstance(t, str) and t != "" for t in tns], dtype=bool)
            labels = np.where(has, tns, None)
        else:
            labels = self.classification
        idx = np.flatnonzero(labels == label)
        keys = np.array([f"{label}_{self.jd_text[i]}_{self.oid[i]}" for i in idx], dtype=object)
        mask = _key_scan(keys, f"{label}_{jd_start}", f"{label}_{jd_stop}")
        idx, keys = idx[mask], keys[mask]
        held = self._holding(idx, cols, self.index_columns)
        idx, keys = idx[held], keys[held]
        order = np.argsort(keys, kind="stable")[::-1][:max(n, 0)]  # reversed scan, capped
        return self.format_rows(idx[order], list(keys[order]), self.index_columns, cols,
                                truncated=cols != "*", group_alerts=False,
                                extract_color=color)

    # ------------------------------------------------------------------------------- anomaly
    def anomaly_rows(self) -> np.ndarray:
        """Alert positions stored in ``ztf.anomaly`` (per night, fink-filters
        ``anomaly_notification_``: the lowest non-null scores, one alert per object).
        """
        with self._lock:
            if self._anomaly is None:
                self._anomaly = self._pick_anomalies()
            return self._anomaly

    def _pick_anomalies(self) -> np.ndarray:
        score = _num(self._base, "d:anomaly_score")
        picked: list[int] = []
        for night in sorted(set(self.night[np.isfinite(score)])):
            idx = np.flatnonzero((self.night == night) & np.isfinite(score))
            idx = idx[np.argsort(score[idx], kind="stable")][:_ANOMALY_BUFFER * ANOMALY_THRESHOLD]
            seen: set[str] = set()
            for i in idx:
                if self.oid[i] not in seen and len(seen) < ANOMALY_THRESHOLD:
                    seen.add(self.oid[i])
                    picked.append(int(i))
        return np.array(sorted(picked), dtype=int)

    def anomaly(self, jd_start: float, jd_stop: float, n: int, cols: str) -> pd.DataFrame:
        """Reversed range scan of ``ztf.anomaly`` (``get_anomalous_alerts``).

        Parameters
        ----------
        jd_start, jd_stop : float
            Range on the alert's ``i:jd`` (start inclusive, stop exclusive).
        n : int
            Row cap (the newest rows are kept).
        cols : str
            ``*`` or the comma list of columns.

        Returns
        -------
        pandas.DataFrame
        """
        idx = self.anomaly_rows()
        keys = np.array([f"{self.jd_text[i]}_{self.oid[i]}" for i in idx], dtype=object)
        mask = _key_scan(keys, f"{jd_start}", f"{jd_stop}")
        idx, keys = idx[mask], keys[mask]
        held = self._holding(idx, cols, self.engine.stored_columns)
        idx, keys = idx[held], keys[held]
        order = np.argsort(keys, kind="stable")[::-1][:max(n, 0)]
        return self.format_rows(idx[order], list(keys[order]), self.engine.stored_columns,
                                cols, truncated=cols != "*", group_alerts=False)

    # ---------------------------------------------------------------------------- statistics
    def statistics_rows(self) -> dict[str, dict[str, str]]:
        """``statistics_class``: row key ``ztf_<night>`` -> cells (strings, as Lomikel
        returns them), as fink-broker ``bin/ztf/archive_statistics.py`` counts a night.

        The emulator holds processed alerts only: ``basic:raw`` counts them too (on the real
        service it counts the raw alerts received, before the quality cuts).
        """
        with self._lock:
            if self._statistics is None:
                self._statistics = self._count_nights()
            return self._statistics

    def _count_nights(self) -> dict[str, dict[str, str]]:
        import astropy.units as u
        from astropy.time import Time

        cds = _text(self._base, "d:cdsxmatch")
        fid = _num(self._base, "i:fid")
        field = _num(self._base, "i:field")
        out: dict[str, dict[str, str]] = {}
        for night in sorted(set(self.night) - {""}):
            idx = np.flatnonzero(self.night == night)
            c = cds[idx]
            cells = {
                "basic:raw": len(idx), "basic:sci": len(idx),
                "basic:night": f"ztf_{night}",
                "basic:n_g": int(np.sum(fid[idx] == 1)), "basic:n_r": int(np.sum(fid[idx] == 2)),
                "basic:exposures": len(np.unique(self.jd[idx])),
                "basic:fields": len(np.unique(field[idx][np.isfinite(field[idx])])),
                # fink-filters simbad_candidates_: a real SIMBAD match, not a galaxy
                "class:simbad_tot": sum(isinstance(x, str) and x not in _NOT_SIMBAD
                                        and not x.startswith(("Fail", "Galaxy")) for x in c),
                "class:simbad_gal": sum(x in EG_HOST for x in c),
            }
            labels, counts = np.unique(self.classification[idx], return_counts=True)
            cells.update({f"class:{k}": int(v) for k, v in zip(labels, counts, strict=True)})
            # key:time: the cell timestamp (ms); the emulator dates the push to the next noon.
            pushed = Time(f"{night[:4]}-{night[4:6]}-{night[6:]}T12:00:00", scale="utc") + 1 * u.day
            cells["key:key"] = f"ztf_{night}"
            cells["key:time"] = int(round(pushed.unix * 1000))
            out[f"ztf_{night}"] = {k: str(cells[k]) for k in sorted(cells)}
        return out

    def statistics(self, date: str, cols: str) -> pd.DataFrame:
        """Prefix scan ``ztf_<date>`` of ``statistics_class`` (``get_statistics``).

        Parameters
        ----------
        date : str
            ``YYYYMMDD``, ``YYYYMM``, ``YYYY`` or ``""`` (a row-key prefix).
        cols : str
            ``*`` or a comma list of ``family:name`` columns (``key:key`` and ``key:time``
            come back with every row; a night holding none of them is not scanned).

        Returns
        -------
        pandas.DataFrame
            One row per night, indexed by row key; cells are strings.
        """
        rows = {k: v for k, v in self.statistics_rows().items()
                if k.startswith(f"ztf_{date}")}
        if "*" not in cols:
            names = set(parse_columns(cols))
            rows = {k: {c: x for c, x in v.items() if c in names | {"key:key", "key:time"}}
                    for k, v in rows.items() if names & set(v)}
        # from_dict(orient="index"): columns in order of first appearance
        return pd.DataFrame.from_dict(rows, orient="index")

    def statistics_schema(self) -> pd.DataFrame:
        """``schema=True``: the table's column names (the catalog of the latest night)."""
        rows = self.statistics_rows()
        names = [] if not rows else [c for c in rows[max(rows)] if not c.startswith("key:")]
        return pd.DataFrame({"schema": names})


_TABLES_LOCK = threading.Lock()


def search_tables(engine: Engine) -> SearchTables:
    """The `SearchTables` of ``engine``, built on first use and kept on it."""
    with _TABLES_LOCK:
        tables = getattr(engine, "_search_tables", None)
        if tables is None:
            tables = SearchTables(engine)
            engine._search_tables = tables
        return tables
