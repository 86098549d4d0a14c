"""Build ``ztf_fink_classes.parquet``: Fink's own classification of alert fields, the oracle of
the emulator's ``v:classification`` (tests/emulator/test_search_latests.py).

The classes are computed by fink-filters' ``extract_fink_classification_``
(fink_filters/ztf/classification.py, Apache-2.0), not by this project, on:

- the bundled alerts (``kind="bundled"``), and
- 3,000 synthetic rows (``kind="synthetic"``, seed 2026) whose fields are drawn so that every
  rule fires: SN, early SN Ia, kilonova, microlensing, Solar System (roid 2, 3), tracklets,
  several flags at once (Ambiguous), SIMBAD labels that win or do not.

Not run by the test suite. To rebuild (needs the network for the two wheels)::

    pip download fink-filters==7.45 fink-utils==0.79.0 --no-deps -d /tmp/fink
    cd /tmp/fink && python -m zipfile -e fink_filters-7.45-py3-none-any.whl ff \
        && python -m zipfile -e fink_utils-0.79.0-py3-none-any.whl fu
    python tests/data/ztf_make_classes.py /tmp/fink
"""
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from astroquery_fink.testing import bundled_data_files

FIELDS = ["cdsxmatch", "roid", "mulens", "snn_snia_vs_nonia", "snn_sn_vs_all",
          "rf_snia_vs_nonia", "ndethist", "drb", "classtar", "jd", "jdstarthist",
          "rf_kn_vs_nonkn", "tracklet"]


def _fink_filters(root: Path):
    """fink-filters' classifier, imported without Spark or Telegram: its module-level
    imports of those are stubbed (the pandas functions used here need neither)."""
    sys.path[:0] = [str(root / "ff"), str(root / "fu")]

    def passthrough(*args, **kwargs):
        return lambda function: function

    class Placeholder:  # a Spark type or constant: any call or attribute is itself
        def __call__(self, *args, **kwargs):
            return self

        def __getattr__(self, name):
            return self

    class Anything(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return passthrough if name[0].islower() else Placeholder()

    for name in ("pyspark", "pyspark.sql", "pyspark.sql.functions", "pyspark.sql.types",
                 "pyspark.sql.column", "pyspark.sql.dataframe", "telegram", "telegram.ext"):
        sys.modules[name] = Anything(name)
    from fink_filters.ztf.classification import extract_fink_classification_
    return extract_fink_classification_


def _bundled() -> pd.DataFrame:
    rows = []
    for path in bundled_data_files():
        for alert in pq.read_table(path).to_pylist():
            c = alert["candidate"]
            rows.append({"candid": c["candid"],
                         **{f: alert.get(f) for f in FIELDS if f in alert},
                         **{f: c[f] for f in ("ndethist", "drb", "classtar", "jd",
                                              "jdstarthist")}})
    return pd.DataFrame(rows)


def _synthetic(n: int = 3000, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = ["Unknown", "Fail", "Fail 504", "Transient", "Galaxy", "GinCl", "Seyfert_1",
              "QSO", "SN", "Candidate_SN*", "Star", "RRLyr", "EB*", "Galaxy*", "Blue",
              "Radio"]  # Fink writes "Unknown", never null

    def prob():  # probabilities around every threshold, and nulls
        return np.where(rng.random(n) < 0.05, np.nan, rng.choice([0.0, 0.3, 0.5, 0.51, 0.9], n))

    jdstart = 2_459_000.5 + rng.integers(0, 1000, n).astype(float)
    pdf = pd.DataFrame({
        "candid": 9_000_000_000_000_000 + np.arange(n),
        "cdsxmatch": rng.choice(np.array(labels, dtype=object), n),
        "roid": rng.choice([0, 1, 2, 3], n, p=[0.7, 0.1, 0.1, 0.1]),
        "mulens": rng.choice([0.0, 0.0, 0.0, 0.7], n),
        "snn_snia_vs_nonia": prob(), "snn_sn_vs_all": prob(), "rf_snia_vs_nonia": prob(),
        "ndethist": rng.choice([1, 2, 5, 19, 20, 21, 100], n),
        "drb": prob(), "classtar": rng.choice([0.1, 0.4, 0.41, 0.9], n),
        "jd": jdstart + rng.choice([0.0, 1.0, 4.9, 5.0, 30.0, 90.0, 90.1, 400.0], n),
        "jdstarthist": jdstart,
        "rf_kn_vs_nonkn": prob(),
        "tracklet": rng.choice(np.array(["", "TRCK_20211120_031428_00"], dtype=object),
                               n, p=[0.8, 0.2]),
    })
    return pdf


def main(root: str) -> None:
    classify = _fink_filters(Path(root))
    parts = []
    for kind, pdf in (("bundled", _bundled()), ("synthetic", _synthetic())):
        pdf = pdf.reset_index(drop=True)
        pdf["fink_class"] = classify(*(pdf[f] for f in FIELDS)).to_numpy()
        pdf["kind"] = kind
        parts.append(pdf)
    out = pd.concat(parts, ignore_index=True)
    out["cdsxmatch"] = out["cdsxmatch"].astype(object)
    out["tracklet"] = out["tracklet"].astype(object)
    target = Path(__file__).with_name("ztf_fink_classes.parquet")
    out.to_parquet(target, index=False)
    print(target, len(out), out.groupby("kind")["fink_class"].value_counts().head(40))


if __name__ == "__main__":
    main(sys.argv[1])
