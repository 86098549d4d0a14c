"""Benchmarks of astroquery_fink (not part of the test run).

    python benchmarks/run.py            # all of them, about 6 minutes on 2 cores
    python benchmarks/run.py quick      # 0 and 4 only, fewer rounds: about 2 minutes
    python benchmarks/run.py http       # only 0 (10,000 rows over loopback HTTP)
    python benchmarks/run.py parse      # only 1-3 and 5 (parsing in memory)
    python benchmarks/run.py many       # only 4 (many objects, a server with latency)

Every figure is measured in the same run as its baseline, on the same bytes, and printed as a
ratio next to its target. Times (wall clock) are the best of several runs, taken in turns
with the baseline's runs so that a slow spell of a shared machine falls on both; peak memory
is tracemalloc's peak of Python allocations during one run.
"""
import gc
import io
import sys
import time
import tracemalloc
import warnings

import numpy as np
import orjson
import pandas as pd
from astropy.table import Table

from astroquery_fink._tables import parse_table
from astroquery_fink.testing import FinkEmulator


def best_times(fns, rounds=5, budget=0.5):
    """Best times of several functions measured in turns, round after round, so that a slow
    spell of a shared machine falls on all of them rather than on one. In each round a
    function runs at least once and as often as fits in ``budget`` seconds."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            spent = 0.0
            while spent == 0.0 or spent < budget:
                seconds = _timed(fn)
                spent += seconds
                best[name] = min(best[name], seconds)
    return best


def _timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_mib(fn):
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def report(title, rows, baseline):
    print(f"\n{title}")
    base = dict(rows)[baseline]
    for name, seconds in rows:
        print(f"  {name:<42s} {seconds * 1000:9.1f} ms   {seconds / base:6.2f} x {baseline}")


def server_rows(emu, exact=False, **options):
    """All alerts of the bundled sample as the server writes them, in a pandas DataFrame;
    ``exact``: object columns, so that 64-bit IDs in columns with nulls stay integers (not
    floats printed with 10 digits) when written again."""
    import requests
    ids = ",".join(emu.object_ids)
    body = {"objectId": ids, "output-format": "json", **options}
    answer = requests.post(emu.url + "/api/v1/objects", json=body, timeout=120)
    answer.raise_for_status()
    if exact:
        return pd.DataFrame(orjson.loads(answer.content), dtype=object)
    return pd.read_json(io.BytesIO(answer.content), dtype=False)


def grow(df, n):
    """n rows made of the sample's rows, as the server would write them (pandas)."""
    copies = pd.concat([df] * (n // len(df) + 1), ignore_index=True).iloc[:n].copy()
    copies["i:jd"] = copies["i:jd"] - np.arange(n) * 1e-3  # distinct
    # in the server's order, as it writes every answer (i:jd descending)
    return copies.sort_values("i:jd", ascending=False, kind="stable", ignore_index=True)


def pandas_way(content):
    """The Fink docs' way: pd.read_json, then an astropy Table."""
    return Table.from_pandas(pd.read_json(io.BytesIO(content)))


def bench_parse(emu):
    df = server_rows(emu)
    big = grow(df, 10_000)
    js = big.to_json(orient="records").encode()
    buf = io.BytesIO()
    big.to_parquet(buf)
    pq_bytes = buf.getvalue()
    print(f"\n1-2. {len(big)} alert rows x {big.shape[1]} columns: JSON {len(js) / 2**20:.1f} MiB, "
          f"parquet {len(pq_bytes) / 2**20:.1f} MiB")
    best = best_times({"floor": lambda: orjson.loads(js),
                       "ours": lambda: parse_table(js, "json"),
                       "pandas": lambda: pandas_way(js),
                       "ours_pq": lambda: parse_table(pq_bytes, "parquet")})
    floor, ours, pandas, ours_pq = best["floor"], best["ours"], best["pandas"], best["ours_pq"]
    report("1. JSON -> Table", [("orjson.loads alone (floor)", floor),
                                ("astroquery_fink", ours),
                                ("Table.from_pandas(pd.read_json) (Fink docs)", pandas)],
           "orjson.loads alone (floor)")
    print(f"  target: ours <= 1.5 x floor -> {ours / floor:.2f};"
          f" pandas >= 2.5 x ours -> {pandas / ours:.2f}")
    report("2. parquet -> Table", [("astroquery_fink parquet", ours_pq),
                                   ("Table.from_pandas(pd.read_json) (Fink docs)", pandas)],
           "astroquery_fink parquet")
    print(f"  target: pandas JSON way >= 20 x ours -> {pandas / ours_pq:.1f}")

    cut = server_rows(emu, withcutouts=True)
    cut1000 = grow(cut, 1000)
    cjs = cut1000.to_json(orient="records").encode()
    print(f"\n3. 1000 alert rows with 3 cutouts: JSON {len(cjs) / 2**20:.1f} MiB")

    def pandas_cutouts():
        t = Table.from_pandas(pd.read_json(io.BytesIO(cjs)).drop(
            columns=[c for c in cut1000.columns if c.startswith("b:")]))
        frame = pd.read_json(io.BytesIO(cjs))
        for c in ("b:cutoutScience_stampData", "b:cutoutTemplate_stampData",
                  "b:cutoutDifference_stampData"):
            cube = np.full((len(frame), 63, 63), np.nan)  # edge-of-CCD stamps are smaller
            for k, cell in enumerate(frame[c]):
                stamp = np.array(cell, dtype=float)
                cube[k, :stamp.shape[0], :stamp.shape[1]] = stamp
            t[c] = cube
        return t

    best = best_times({"ours": lambda: parse_table(cjs, "json"), "pandas": pandas_cutouts},
                      rounds=2)
    ours_c, pandas_c = best["ours"], best["pandas"]
    report("3. cutouts JSON -> Table with 3-D columns",
           [("astroquery_fink", ours_c), ("pandas + np.array per cell", pandas_c)],
           "astroquery_fink")

    print("\n5. Peak memory (tracemalloc, MiB)")
    for name, fn in [("orjson.loads, 10k rows", lambda: orjson.loads(js)),
                     ("astroquery_fink JSON, 10k rows", lambda: parse_table(js, "json")),
                     ("pandas way JSON, 10k rows", lambda: pandas_way(js)),
                     ("astroquery_fink parquet, 10k rows",
                      lambda: parse_table(pq_bytes, "parquet")),
                     ("astroquery_fink cutouts, 1k rows", lambda: parse_table(cjs, "json")),
                     ("pandas cutouts, 1k rows", pandas_cutouts)]:
        print(f"  {name:<42s} {peak_mib(fn):8.1f}")


def main(argv):
    which = argv[1] if len(argv) > 1 else "all"
    if which not in ("all", "quick", "http", "parse", "many"):
        raise SystemExit("usage: python benchmarks/run.py [all|quick|http|parse|many]")
    quick = which == "quick"
    warnings.simplefilter("ignore")
    with FinkEmulator() as emu:
        if which in ("all", "quick", "http"):
            from loopback import bench_http
            big = grow(server_rows(emu), 10_000)
            mixed = grow(server_rows(emu, exact=True, withupperlim=True), 10_000)
            bench_http(big, mixed, best_times, rounds=2 if quick else 5)
        if which in ("all", "parse"):
            bench_parse(emu)
    if which in ("all", "quick", "many"):
        from many_objects import bench_many
        bench_many(best_times, rounds=2 if quick else 3,
                   sizes=(50,) if quick else (50, 25, 100, 250), loop=not quick)


if __name__ == "__main__":
    main(sys.argv)
