"""What the emulated HBase tables share: capped prefix scans, scan limits, raw cells.

The Fink servers read HBase through a Java client (fink-object-api ``apps/utils/client.py``):
a scan is a prefix on sorted row keys, capped by ``setLimit`` (the server's ``NLIMIT`` unless a
route sets another), and ``hbase_to_dict`` gives every cell as Java text
(``apps/utils/decoding.py``). Both surveys' emulators use these helpers.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .wire import ServerFailure

__all__ = ["FINK_DEFAULTS", "INDEX_I", "NLIMIT", "cast_column", "java_str", "prefix_scan",
           "raw_frame", "set_limit"]

#: Rows per HBase scan, per ID and per table (fink-object-api config.yml, ``NLIMIT``); the
#: same for both surveys' servers.
NLIMIT = 10_000

#: ``i:`` columns of the index tables (fink-broker ``load_ztf_index_cols``).
INDEX_I = (
    "objectId", "candid", "publisher", "rcid", "chipsf", "distnr", "ra", "dec", "jd", "fid",
    "nid", "field", "xpos", "ypos", "rb", "ssdistnr", "ssmagnr", "ssnamenr", "jdstarthist",
    "jdendhist", "tooflag", "sgscore1", "distpsnr1", "neargaia", "maggaia", "nmtchps",
    "diffmaglim", "magpsf", "sigmapsf", "magnr", "sigmagnr", "magzpsci", "isdiffpos",
    "classtar", "drb", "ndethist",
)
#: ``d:`` columns of the index tables with the fill value of fink-broker ``load_fink_cols``.
FINK_DEFAULTS = {
    "DR3Name": "Unknown", "Plx": 0.0, "anomaly_score": 0.0, "cdsxmatch": "Unknown",
    "e_Plx": 0.0, "gcvs": "Unknown", "mulens": 0.0, "nalerthist": 0, "rf_kn_vs_nonkn": 0.0,
    "rf_snia_vs_nonia": 0.0, "roid": 0, "snn_sn_vs_all": 0.0, "snn_snia_vs_nonia": 0.0,
    "tracklet": "", "vsx": "Unknown", "x3hsp": "Unknown", "x4lac": "Unknown",
    "lc_features_g": "[]", "lc_features_r": "[]", "jd_first_real_det": 0.0,
    "jdstarthist_dt": 0.0, "mag_rate": 0.0, "sigma_rate": 0.0, "lower_rate": 0.0,
    "upper_rate": 0.0, "delta_time": 0.0, "from_upper": False, "spicy_id": -1,
    "spicy_class": "Unknown", "tns": "", "gaiaVarFlag": 0, "gaiaClass": "Unknown",
    "is_transient": False, "slsn_score": -1.0,
    "mangrove_HyperLEDA_name": "None", "mangrove_2MASS_name": "None",
    "mangrove_lum_dist": "None", "mangrove_ang_dist": "None",
    "blazar_stats_m0": 0.0, "blazar_stats_m1": 0.0, "blazar_stats_m2": 0.0,
}


def java_str(value, float32: bool = False) -> str:
    """Text form of a value as HBase/Java returns it (``Float/Double.toString``).

    Extra rows of ``withupperlim`` are served as these strings (fink-broker
    ``archive_index.py``) and
    ``d:lc_features_*`` are strings of arrays (fink-broker ``cast_features``).
    """
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = np.float32(value) if float32 else np.float64(value)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        if x == 0:
            return "-0.0" if math.copysign(1.0, float(x)) < 0 else "0.0"
        if 1e-3 <= abs(float(x)) < 1e7:
            text = np.format_float_positional(x, unique=True, trim="0")
            return text if "." in text and not text.endswith(".") else text.rstrip(".") + ".0"
        mant, exp = np.format_float_scientific(x, unique=True, trim="0").split("e")
        mant = mant if not mant.endswith(".") else mant + "0"
        mant = mant if "." in mant else mant + ".0"
        return f"{mant}E{int(exp)}"
    return str(value)


def prefix_scan(keys: Sequence[str], prefix: str, limit: int | None = None) -> list[str]:
    """Sorted ``keys`` starting with ``prefix`` (an HBase prefix scan), at most ``limit``.

    Parameters
    ----------
    keys : sequence of str
        Row keys, sorted.
    prefix : str
        Key prefix.
    limit : int or None
        Scan limit (``setLimit``); None for no cap.

    Returns
    -------
    list of str
    """
    start = bisect.bisect_left(keys, prefix)
    out: list[str] = []
    for key in keys[start:]:
        if not key.startswith(prefix) or (limit is not None and len(out) >= limit):
            break
        out.append(key)
    return out


def set_limit(nmax) -> int:
    """``client.setLimit(nmax)``: py4j takes a Java int only; anything else is the server's 500.

    Parameters
    ----------
    nmax : object
        The ``nmax`` argument as sent (text from a query string, a JSON value from a body).

    Returns
    -------
    int
    """
    if not isinstance(nmax, int) or isinstance(nmax, bool):
        raise ServerFailure(f"setLimit({nmax!r}): not an int")
    return nmax


def raw_frame(rows: Iterable[tuple[str, Mapping]], columns: Iterable[str] | None = None,
              ) -> pd.DataFrame:
    """``pd.DataFrame.from_dict(hbase_to_dict(results), orient="index")``: no cast.

    Parameters
    ----------
    rows : iterable of (str, mapping)
        ``(row key, cells)`` in scan order; a cell is a Python value or already text.
    columns : iterable of str, optional
        The scan's column filter; rows left without any cell are not returned (HBase).

    Returns
    -------
    pandas.DataFrame
        Indexed by row key; each cell the Java text of its value (``true``/``false``,
        ``Double.toString``), columns in the order HBase gives them (sorted per row).
    """
    wanted = None if columns is None else set(columns)
    data = {}
    for key, cells in rows:
        kept = {c: v if isinstance(v, str) else java_str(v) for c, v in sorted(cells.items())
                if v is not None and (wanted is None or c in wanted)}
        if kept:
            data[key] = kept
    if not data:
        return pd.DataFrame()
    return pd.DataFrame.from_dict(data, orient="index")


def cast_column(values: list) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """One ZTF column cast from its Python values, as ``format_hbase_output`` casts it from
    the HBase schema type (decoding.py): ints Int64, numbers float64, text str, booleans kept.

    A column without any value is float NaN (typed, so that every output format writes it).
    Values of one column that no single type holds (a user's column typed differently in two
    files, integers beyond 64 bits) are text: every output format can write them.
    """
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return np.full(len(values), np.nan)
    if kinds <= {bool}:
        return np.array(values, dtype=object)
    if kinds <= {int} and all(-(2**63) <= v < 2**63 for v in values if v is not None):
        return pd.array(values, dtype="Int64")
    if kinds <= {int, float} and float in kinds:
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kinds <= {str}:
        return pd.array(values, dtype="str")
    if kinds <= {str, int, float, bool}:
        return pd.array([None if v is None else str(v) for v in values], dtype="str")
    return np.array(values, dtype=object)
