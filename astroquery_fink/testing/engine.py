"""Query semantics of the Fink ZTF service, on top of `AlertStore` (no HTTP).

Every method returns what the real server holds just before serialisation: a pandas DataFrame
for ``/api/v1/objects``, pixel arrays or FITS bytes for ``/api/v1/cutouts``. Comments
name files of fink-object-api (``apps/utils/``, ``apps/routes/v1/ztf/``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._hbase import NLIMIT, cast_column
from .store import CUTOUT_KINDS, Alert, AlertStore, decode_stamp, row_key
from .wire import ServerFailure, server_fails, text

__all__ = ["Engine", "NLIMIT", "EG_HOST", "classify", "rate_and_color", "V_COLUMNS"]


#: v: columns in the order the server adds them (send_tabular_data / decoding.py).
V_COLUMNS = (
    "v:classification", "v:rate", "v:sigma(rate)", "v:g-r", "v:sigma(g-r)", "v:rate(g-r)",
    "v:sigma(rate(g-r))", "v:lastdate", "v:firstdate", "v:lapse", "v:constellation",
)
_RATE_COLUMNS = V_COLUMNS[1:7]
_COLOR_COLUMNS = V_COLUMNS[3:7]

#: Defaults added in all-columns mode when the column is absent (decoding.py::format_hbase_output).
_DEFAULTS = {
    "d:tracklet": "",
    "d:tns": "",
    **{f"d:blazar_stats_{k}": -1.0 for k in (
        "m0", "m1", "m2", "instantness_low", "robustness_low", "instantness_high",
        "robustness_high")},
}

#: SIMBAD labels compatible with an extragalactic host (fink-utils ``return_list_of_eg_host``).
EG_HOST = frozenset({
    "Unknown", "Candidate_SN*", "SN", "Transient", "Fail", "Fail 504", "SN*_Candidate",
    "galaxy", "Galaxy", "EmG", "Seyfert", "Seyfert_1", "Seyfert_2", "BlueCompG", "StarburstG",
    "LSB_G", "HII_G", "High_z_G", "GinPair", "GinGroup", "BClG", "GinCl", "PartofG",
    "Compact_Gr_G", "IG", "PairG", "GroupG", "ClG", "SuperClG", "Void", "LINER", "Possible_ClG",
    "Possible_SClG", "GravLens_Candidate",
})
_NOT_REAL_SIMBAD = frozenset({"Unknown", "Transient", "Fail", "Fail 504"})


class QueryError(ServerFailure):
    """A request the real server answers with an uncaught exception (HTTP 500)."""


# ---------------------------------------------------------------------------------------------
# v: columns (fink-object-api apps/utils/decoding.py)
# ---------------------------------------------------------------------------------------------
def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    try:
        return df[col].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64",
                                                                na_value=np.nan)


def _text(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), None, dtype=object)
    return np.array([v if isinstance(v, str) else None for v in df[col]], dtype=object)


def classify(df: pd.DataFrame) -> np.ndarray:
    """``v:classification`` per row (rules of fink-filters ``extract_fink_classification_``).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with ``d:cdsxmatch, d:roid, d:mulens, d:snn_*, d:rf_*, d:tracklet, i:ndethist,
        i:drb, i:classtar, i:jd, i:jdstarthist``. A missing input counts as null, and a
        comparison with null is false (Spark/pandas semantics).

    Returns
    -------
    numpy.ndarray of str
    """
    with np.errstate(invalid="ignore"):
        cds = _text(df, "d:cdsxmatch")
        roid = _num(df, "d:roid")
        jd, jdstart = _num(df, "i:jd"), _num(df, "i:jdstarthist")
        ndethist = _num(df, "i:ndethist")
        snn = (_num(df, "d:snn_snia_vs_nonia") > 0.5) | (_num(df, "d:snn_sn_vs_all") > 0.5)
        eg_host = np.array([c in EG_HOST for c in cds], dtype=bool)
        quality = (_num(df, "i:drb") > 0.5) & (_num(df, "i:classtar") > 0.4)
        not_mpc = ~(roid == 3)
        mulens = _num(df, "d:mulens") > 0
        sn = snn & eg_host & (jd - jdstart <= 90) & quality & (ndethist > 1) & not_mpc
        early = snn & eg_host & quality & (ndethist <= 20) & (_num(df, "d:rf_snia_vs_nonia") > 0.5)
        kn = ((_num(df, "d:rf_kn_vs_nonkn") > 0.5) & quality & (jd - jdstart < 5)
              & (ndethist < 20) & not_mpc & eg_host)
        sso_cand, sso_mpc = roid == 2, roid == 3
        tracklet = np.array([isinstance(t, str) and t.startswith("TRCK_")
                             for t in _text(df, "d:tracklet")], dtype=bool)
    out = np.full(len(df), "Unknown", dtype=object)
    # Masks in order, later ones overwrite (decoding.py).
    for mask, label in ((mulens, "Microlensing candidate"), (sn, "SN candidate"),
                        (early, "Early SN Ia candidate"), (kn, "Kilonova candidate"),
                        (sso_cand, "Solar System candidate"), (tracklet, "Tracklet"),
                        (sso_mpc, "Solar System MPC")):
        out[mask] = label
    n_true = mulens.astype(int) + sn + sso_cand + sso_mpc
    out[n_true > 1] = "Ambiguous"
    # A "real" SIMBAD match wins (fink-filters classification, last rule).
    real = np.array([isinstance(c, str) and c not in _NOT_REAL_SIMBAD
                     and not c.startswith("Fail") and not c.startswith("Galaxy") for c in cds],
                    dtype=bool)
    out[real] = cds[real]
    return out


def rate_and_color(sub: pd.DataFrame, tolerance: float = 0.3) -> pd.DataFrame:
    """Per-object ``v:rate``, ``v:g-r`` and their errors (decoding.py).

    Parameters
    ----------
    sub : pandas.DataFrame
        The rows of ONE object sorted by ``i:jd`` ascending.
    tolerance : float
        Pairing window in days between g and r points.

    Returns
    -------
    pandas.DataFrame
        The six rate/colour columns, aligned on ``sub`` rows (same order, positional).
    """
    out = _rates(_num(sub, "i:jd"), _num(sub, "i:fid"), _num(sub, "i:magpsf"),
                 _num(sub, "i:sigmapsf"), tolerance)
    return pd.DataFrame(out, index=sub.index)


def _rates(jd, fid, mag, err, tolerance: float = 0.3) -> dict[str, np.ndarray]:
    n = len(jd)
    out = {c: np.full(n, np.nan) for c in _RATE_COLUMNS}
    with np.errstate(invalid="ignore", divide="ignore"):
        for band in (1, 2):  # fid 3 rows keep NaN
            idx = np.flatnonzero(fid == band)
            if len(idx) > 1:
                djd = np.diff(jd[idx])
                out["v:rate"][idx[1:]] = np.diff(mag[idx]) / djd
                out["v:sigma(rate)"][idx[1:]] = np.hypot(err[idx[1:]], err[idx[:-1]]) / djd
        g, r = fid == 1, fid == 2
        if g.any() and r.any():
            cols = ["i:jd", "i:magpsf", "i:sigmapsf"]
            frame = pd.DataFrame({"i:jd": jd, "i:magpsf": mag, "i:sigmapsf": err})
            gr = pd.merge_asof(frame[g][cols], frame[r][cols], on="i:jd", suffixes=("_g", "_r"),
                               direction="nearest", tolerance=tolerance)
            gr = gr.loc[~gr["i:magpsf_r"].isna()].copy()
            gr["v:g-r"] = gr["i:magpsf_g"] - gr["i:magpsf_r"]
            gr["v:sigma(g-r)"] = np.hypot(gr["i:sigmapsf_g"], gr["i:sigmapsf_r"])
            djd = gr["i:jd"].diff()
            gr["v:rate(g-r)"] = gr["v:g-r"].diff() / djd
            gr["v:sigma(rate(g-r))"] = (np.hypot(gr["v:sigma(g-r)"], gr["v:sigma(g-r)"].shift())
                                        / djd)
            # Assign to every row (g, r or i) nearest to a paired g epoch within tolerance.
            merged = pd.merge_asof(frame[["i:jd"]], gr[["i:jd", *_COLOR_COLUMNS]], on="i:jd",
                                   direction="nearest", tolerance=tolerance)
            for c in _COLOR_COLUMNS:
                out[c] = merged[c].to_numpy(dtype=float, na_value=np.nan)
    return out


def _iso(jd: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """ISO dates of JDs; where astropy cannot convert one (ERFA's "unacceptable date"),
    ``failed`` is set: the server's ``convert_jd`` raises there (HTTP 500)."""
    from astropy.time import Time

    out = np.full(len(jd), None, dtype=object)
    ok = np.isfinite(jd)
    if ok.any():
        try:
            out[ok] = Time(jd[ok], format="jd").iso
        except Exception:  # noqa: BLE001 - one bad value: find it, cell by cell
            for k in np.flatnonzero(ok):
                try:
                    out[k] = Time(jd[k], format="jd").iso
                except Exception:  # noqa: BLE001 - as the server's Time call fails
                    failed[k] = True
    return out


def _constellations(ra: np.ndarray, dec: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Constellations of positions; a declination beyond +-90 deg sets ``failed`` (the
    server's SkyCoord raises there: HTTP 500)."""
    from astropy.coordinates import SkyCoord, get_constellation

    out = np.full(len(ra), None, dtype=object)
    ok = np.isfinite(ra) & np.isfinite(dec)
    outside = ok & (np.abs(np.where(ok, dec, 0)) > 90)
    failed |= outside
    ok &= ~outside
    if ok.any():
        out[ok] = get_constellation(SkyCoord(ra[ok], dec[ok], unit="deg"))
    return out


# ---------------------------------------------------------------------------------------------
# Building typed columns from cells
# ---------------------------------------------------------------------------------------------
class Engine:
    """The Fink ``/objects`` and ``/cutouts`` semantics over an `AlertStore`.

    Parameters
    ----------
    store : AlertStore
        The stored rows.
    nlimit : int, optional
        Rows per scan, per ID and per table (default 10 000 as the server's ``NLIMIT``).
    """

    def __init__(self, store: AlertStore, nlimit: int = NLIMIT):
        self.store = store
        self.nlimit = int(nlimit)
        self._build()

    # ----------------------------------------------------------------- load-time precomputation
    def _build(self) -> None:
        store = self.store
        alerts: list[Alert] = [a for oid in store.object_ids for a in store.alerts[oid]]
        names = sorted({k for a in alerts for k in a.cells})
        data = {n: cast_column([a.cells.get(n) for a in alerts]) for n in names}
        base = pd.DataFrame(data, index=pd.RangeIndex(len(alerts)))
        #: stored column names, sorted (b:, d:, i: order as the HBase TreeMap)
        self.stored_columns = names
        # Per-row v: values are independent of the other rows: compute them once, vectorised.
        vals = {"v:classification": classify(base)}
        jd, jdstart = _num(base, "i:jd"), _num(base, "i:jdstarthist")
        #: rows whose v: values the server cannot compute: a query that returns one fails
        self.unconvertible = np.zeros(len(base), dtype=bool)
        vals["v:lastdate"] = _iso(jd, self.unconvertible)
        vals["v:firstdate"] = _iso(jdstart, self.unconvertible)
        vals["v:lapse"] = jd - jdstart
        vals["v:constellation"] = _constellations(_num(base, "i:ra"), _num(base, "i:dec"),
                                                  self.unconvertible)
        self._row_v = pd.DataFrame(vals, index=base.index)
        self._row_v_arrays = {c: self._row_v[c].to_numpy() for c in self._row_v.columns}
        # Rates and colours need an object's rows together: computed on first use (`_rates_of`).
        self._rate_inputs = (jd, _num(base, "i:fid"), _num(base, "i:magpsf"),
                             _num(base, "i:sigmapsf"))
        self._rates: dict[str, dict[str, np.ndarray]] = {}
        self._base_all = base
        #: objectId -> (first row, number of rows) in the frames above (row-key order)
        self._slices: dict[str, tuple[int, int]] = {}
        self._keys: dict[str, list[str]] = {}
        self._present: dict[str, set[str]] = {}
        self._final: dict[str, pd.DataFrame] = {}
        start = 0
        for oid in store.object_ids:
            rows = store.alerts[oid]
            self._slices[oid] = (start, len(rows))
            start += len(rows)
            self._keys[oid] = [row_key(a.object_id, a.jd) for a in rows]
            # the loader stores no cell for a null value, so presence comes from the cells
            self._present[oid] = {k for a in rows for k in a.cells}

    def _rows(self, oid: str, positions=None) -> np.ndarray:
        """Rows of ``oid`` in the all-alerts frames (all, or the given positions)."""
        start, n = self._slices[oid]
        return start + (np.arange(n) if positions is None else np.asarray(positions, dtype=int))

    def _rates_of(self, oid: str) -> dict[str, np.ndarray]:
        """The six rate/colour columns of one whole object (cached; a benign race)."""
        rates = self._rates.get(oid)
        if rates is None:
            start, n = self._slices[oid]
            if n > 1:  # one row has no rate nor colour
                sl = slice(start, start + n)
                rates = _rates(*(a[sl] for a in self._rate_inputs))
            else:
                rates = {c: np.full(n, np.nan) for c in _RATE_COLUMNS}
            self._rates[oid] = rates
        return rates

    def _full_rows(self, oids: list[str]) -> pd.DataFrame:
        """Stored columns + v: columns of whole objects, each indexed 0..n-1, in this order.

        The server computes the rates per object with ``merge_asof``, which resets each
        object's index to 0..n-1; parquet writes it as ``__index_level_0__``
        (decoding.py, utils.py::send_tabular_data).
        """
        rows = np.concatenate([self._rows(o) for o in oids])
        self.check_convertible(rows)
        index = np.concatenate([np.arange(self._slices[o][1], dtype="int64") for o in oids])
        rates = [self._rates_of(o) for o in oids]
        v = {}
        for c in V_COLUMNS:
            if c in self._row_v_arrays:
                v[c] = self._row_v_arrays[c][rows]
            else:
                v[c] = np.concatenate([r[c] for r in rates])
        frame = pd.concat([self._base_all.iloc[rows].reset_index(drop=True), pd.DataFrame(v)],
                          axis=1)
        frame.index = pd.Index(index)
        return frame

    def check_convertible(self, rows) -> None:
        """Fail as the server does on a returned row whose dates or position it cannot
        convert (apps/utils/decoding.py: ``convert_jd``, ``SkyCoord``: HTTP 500)."""
        bad = self.unconvertible[rows]
        if bad.any():
            k = np.asarray(rows)[bad][0]
            row = self._base_all.iloc[k]
            raise ServerFailure(
                f"alert {row.get('i:objectId')} (i:candid {row.get('i:candid')}): its dates "
                f"or position cannot be converted (i:jd {row.get('i:jd')}, i:jdstarthist "
                f"{row.get('i:jdstarthist')}, i:dec {row.get('i:dec')})")

    def _with_v(self, part: pd.DataFrame, row_v: pd.DataFrame) -> pd.DataFrame:
        """Stored columns + the 11 v: columns for the rows of one object (jd ascending)."""
        rates = rate_and_color(part)
        v = pd.concat([row_v.reset_index(drop=True), rates.reset_index(drop=True)], axis=1)
        frame = pd.concat([part.reset_index(drop=True), v[list(V_COLUMNS)]], axis=1)
        # merge_asof in the server's extract_rate_and_color resets each object's index to
        # 0..n-1, which parquet writes as __index_level_0__ (send_tabular_data / decoding.py).
        frame.index = pd.Index(np.arange(len(frame), dtype="int64"))
        return frame

    # ----------------------------------------------------------------------------- scanning
    def _scan(self, ids: list[str], table: str) -> dict[str, list[int]]:
        """Positions of rows returned by one prefix scan per ID, capped per ID."""
        store = self.store
        result: dict[str, set[int]] = {}
        for ident in ids:
            if not isinstance(ident, str):
                raise QueryError(f"objectId {ident!r}: the row-key scan needs text")
            if ident == "":
                # ``key:key:`` makes Lomikel raise (empty element) -> 500.
                raise QueryError("empty objectId element")
            taken = 0
            for oid in store.prefix_objects(ident):
                if table == "main":
                    nrows = len(store.alerts[oid])
                else:
                    nrows = len(getattr(store, table).get(oid, ()))
                take = min(nrows, self.nlimit - taken)
                if take > 0:
                    result.setdefault(oid, set()).update(range(take))
                taken += take
                if taken >= self.nlimit:
                    break
        return {oid: sorted(pos) for oid, pos in sorted(result.items())}

    # ------------------------------------------------------------------------------ objects
    def objects(self, object_id, columns=None, withupperlim=False, withcutouts=False,
                cutout_kind="All") -> pd.DataFrame:
        """The DataFrame ``/api/v1/objects`` serialises (objects/utils.py).

        Parameters
        ----------
        object_id : str
            One ID or a comma-separated list (prefix matching).
        columns : str or None
            Raw ``columns`` argument; None or ``"*"`` means all columns.
        withupperlim, withcutouts : bool
            Already decided with the exact-"True" rule.
        cutout_kind : str
            ``cutout-kind`` argument (default ``All``).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        QueryError, KeyError, TypeError
            Whenever the real server raises (HTTP 500).
        """
        # A single ID is not stripped (objects/utils.py).
        object_id = text(object_id, "objectId")
        ids = [i.strip() for i in object_id.split(",")] if "," in object_id else [object_id]
        cols = "*" if columns is None else text(columns, "columns").replace(" ", "")
        truncated = cols != "*"
        selected = self._scan(ids, "main")
        pdf = self._truncated(selected, cols) if truncated else self._all_columns(selected)

        if withcutouts and not pdf.empty:
            # Missing i:objectId / i:candid raises KeyError -> 500 (utils.py::download_cutout).
            with server_fails(KeyError):
                keys = pdf[["i:objectId", "i:candid"]]
            pairs = list(zip(keys["i:objectId"].tolist(), keys["i:candid"].tolist(), strict=True))
            if cutout_kind == "All":
                names = [f"b:cutout{k}_stampData" for k in CUTOUT_KINDS]
                cells = [self._download(o, c, "All") for o, c in pairs]
                for i, name in enumerate(names):
                    pdf[name] = pd.Series([None if not x else x[i] for x in cells],
                                          index=pdf.index, dtype=object)
            else:
                name = f"b:cutout{cutout_kind}_stampData"
                pdf[name] = pd.Series([self._download(o, c, cutout_kind) for o, c in pairs],
                                      index=pdf.index, dtype=object)

        if withupperlim:
            pdf = self._add_upperlim(pdf, ids)
        return pdf

    def _all_columns(self, selected: dict[str, list[int]]) -> pd.DataFrame:
        if not selected:
            return pd.DataFrame({})
        whole = [oid for oid, pos in selected.items() if len(pos) == self._slices[oid][1]]
        if len(selected) == 1 and whole:
            (oid,) = whole
            # Common case, cached on first use (a benign race between threads).
            final = self._final.get(oid)
            if final is None:
                final = self._final[oid] = self._finalise(self._full_rows([oid]),
                                                          self._present[oid])
            # quicksort like the server's sort_values (ties unordered)
            return final.sort_values("i:jd", ascending=False)
        present = set().union(*(self._present[oid] for oid in whole))
        if len(whole) == len(selected):  # no capped scan: all rows in one take
            pdf = self._full_rows(whole)
        else:
            parts = []
            for oid, pos in selected.items():
                if len(pos) == self._slices[oid][1]:
                    parts.append(self._full_rows([oid]))
                else:  # capped scan: the rates see only the returned rows
                    rows = self._rows(oid, pos)
                    self.check_convertible(rows)
                    part = self._with_v(self._base_all.iloc[rows], self._row_v.iloc[rows])
                    parts.append(part)
                    present |= {c for c in self.stored_columns if part[c].notna().any()}
            pdf = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        return self._finalise(pdf, present).sort_values("i:jd", ascending=False)

    def _finalise(self, pdf: pd.DataFrame, present: set[str]) -> pd.DataFrame:
        """Keep stored columns with a cell, add the defaults, then the v: columns."""
        stored = [c for c in self.stored_columns if c in present]
        defaults = {k: v for k, v in _DEFAULTS.items() if k not in present}
        out = {c: pdf[c] for c in stored}
        for k, v in defaults.items():
            out[k] = pd.Series(pd.array([v] * len(pdf),
                                        dtype="str" if isinstance(v, str) else "float64"),
                               index=pdf.index)
        out.update({c: pdf[c] for c in V_COLUMNS})
        return pd.DataFrame(out, index=pdf.index)

    def _truncated(self, selected: dict[str, list[int]], cols: str) -> pd.DataFrame:
        names = [c for c in dict.fromkeys(cols.split(",")) if ":" in c]  # no ':' -> skipped
        if any(c.startswith("v:") for c in names):
            # The v: family does not exist in HBase: the scan fails inside the client and the
            # result is empty (inferred). Other unknown names are ignored.
            return pd.DataFrame({})
        if not selected:
            return pd.DataFrame({})
        # columns="" (inferred): no column filter, but truncated mode.
        wanted = [c for c in self.stored_columns if not names or c in names]
        rows = np.concatenate([self._rows(oid, pos) for oid, pos in selected.items()])
        keys = [self._keys[oid][p] for oid, pos in selected.items() for p in pos]
        pdf = self._base_all.iloc[rows][wanted]
        pdf.index = pd.Index(keys)  # row keys (parquet index)
        pdf = pdf[[c for c in wanted if pdf[c].notna().any()]]
        if "i:jd" in pdf.columns:
            pdf = pdf.sort_values("i:jd", ascending=False)
        return pdf

    def _add_upperlim(self, pdf: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
        """Merge ztf.upper and ztf.uppervalid rows (objects/utils.py); fields stay strings."""
        frames = []
        for table, tag in (("upper", "upperlim"), ("bad", "badquality")):
            selected = self._scan(ids, table)
            rows = {}
            for oid, pos in selected.items():
                stored = getattr(self.store, table)[oid]
                rows.update(stored[p] for p in pos)
            extra = pd.DataFrame.from_dict(rows, orient="index")
            extra = extra[sorted(extra.columns)] if len(extra.columns) else extra
            extra = extra.astype(object)
            extra["d:tag"] = tag
            frames.append(extra)
        pdf_u, pdf_up = frames
        pdf = pdf.copy()
        pdf["d:tag"] = "valid"
        if "i:jd" in pdf_up.columns:
            # workaround of fink-science-portal#216: pdf["i:jd"] raises if absent (-> 500)
            valid_jd = pdf["i:jd"].to_numpy()
            pdf_up = pdf_up[np.array([float(j) not in valid_jd for j in pdf_up["i:jd"]],
                                     dtype=bool)]
        pdf_u["i:candid"] = -1
        pdf_up["i:candid"] = -1
        parts = [p for p in (pdf, pdf_u, pdf_up) if len(p.columns)]
        out = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        if "i:jd" in out.columns:
            out["i:jd"] = out["i:jd"].astype(float)
            out = out.sort_values("i:jd", ascending=False)
        return out

    # ------------------------------------------------------------------------------ cutouts
    def _download(self, object_id, candid, kind):
        """In-process equivalent of the server's own /cutouts call (``download_cutout``)."""
        # A failed inner call (bad kind: an assert; no alert; no stamps) leaves [] in the cell.
        if kind not in (*CUTOUT_KINDS, "All"):
            return []
        try:
            stamps = self.find_cutout(str(object_id), str(candid)).stamps
        except ServerFailure:
            return []
        kinds = CUTOUT_KINDS if kind == "All" else (kind,)
        if any(k not in stamps for k in kinds):
            return []
        arrays = [decode_stamp(stamps[k]) for k in kinds]
        return arrays if kind == "All" else arrays[0]

    def find_cutout(self, object_id: str, candid: str | None = None) -> Alert:
        """The alert whose stamps ``/api/v1/cutouts`` serves (cutouts/utils.py).

        Parameters
        ----------
        object_id : str
            Prefix-scanned, like ``/objects``.
        candid : str or None
            Matched as ``str(i:candid) == str(candid)``; None selects the latest alert.

        Raises
        ------
        QueryError
            Unknown object or candid (the server fails indexing an empty result: 500).
        """
        found: list[Alert] = []
        for oid, pos in self._scan([object_id], "main").items():
            found.extend(self.store.alerts[oid][p] for p in pos)
        found.sort(key=lambda a: a.jd, reverse=True)
        if candid is not None:
            found = [a for a in found if str(a.candid) == str(candid)]
        if not found:
            raise QueryError(f"no cutout for objectId={object_id!r} candid={candid!r}")
        return found[0]
