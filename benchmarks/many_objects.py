"""Benchmark 4: 1,000 objects from the emulator with 50 ms latency per request.

Our batched, concurrent client against a one-request-per-object loop and one comma-joined
request; then the same with 20% transient failures injected. Run through benchmarks/run.py.
"""
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from astroquery_fink import FinkClass, conf
from astroquery_fink.testing import Faults, FinkEmulator, make_alert_file

N_OBJECTS = 1000
LATENCY = 0.05


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def peak_mib(fn) -> float:
    """Peak Python allocations during fn (a separate run: tracing slows the timing)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def same(a, b) -> bool:
    """Same columns, types, masks and values (NaN equal to NaN)."""
    def values(col):
        data = np.ma.filled(col, 0) if col.dtype.kind != "U" else np.ma.filled(col, "")
        return data, np.ma.getmaskarray(col)

    if a.colnames != b.colnames or len(a) != len(b):
        return False
    for c in a.colnames:
        (da, ma), (db, mb) = values(a[c]), values(b[c])
        if a[c].dtype != b[c].dtype or not np.array_equal(ma, mb) or not np.array_equal(
                da, db, equal_nan=da.dtype.kind == "f"):
            return False
    return True


def bench_many():
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.parquet"
        ids = make_alert_file(path, n_objects=N_OBJECTS, seed=1)
        with FinkEmulator(path, faults=Faults(latency=LATENCY)) as emu:
            fink = FinkClass(server=emu.url)
            print(f"\n4. {len(ids)} objects, {LATENCY * 1000:.0f} ms latency per request; "
                  f"batch_size={conf.batch_size}, max_workers={conf.max_workers}")

            def loop(some=ids):
                return [fink.query_object(i, cache=False) for i in some]

            def single():
                with conf.set_temp("batch_size", N_OBJECTS):
                    return fink.query_object(ids, cache=False)

            fink.query_object(ids, cache=False)  # warm-up: the emulator caches per object
            ours, t_ours = timed(lambda: fink.query_object(ids, cache=False))
            one, t_one = timed(single)
            _, t_loop = timed(loop)
            rows = [("astroquery_fink (batched, concurrent)", t_ours,
                     peak_mib(lambda: fink.query_object(ids, cache=False))),
                    ("one request per object (loop)", t_loop,
                     peak_mib(lambda: loop(ids[:100]))),
                    ("one comma-joined request", t_one, peak_mib(single))]
            for name, sec, mib in rows:
                print(f"  {name:<40s} {sec:8.2f} s  {t_loop / sec:6.1f} x faster than loop"
                      f"   peak {mib:7.1f} MiB")
            print("  (the loop's peak memory is measured over its first 100 objects)")
            print(f"  target: >= 6 x faster than the loop -> {t_loop / t_ours:.1f}")
            differ = [c for c in one.colnames if not same(ours[[c]], one[[c]])]
            print(f"  batched == one request: {not differ}"
                  + (f" (columns that differ: {', '.join(differ)}; the server fills a default"
                     " into a column absent from a whole answer, so those depend on which"
                     " objects share a request)" if differ else ""))

            emu.faults = Faults(latency=LATENCY, error_rate=0.2, seed=7)
            flaky, t_flaky = timed(lambda: fink.query_object(ids, cache=False))
            print(f"\n4b. the same with 20% transient failures (502/503/504): "
                  f"{t_flaky:.2f} s; injected: {dict(emu.fault_log)}")
            print(f"  identical to the fault-free Table: {same(flaky, ours)}")
            _, t_loop_f = timed(loop)
            print(f"  one request per object (loop) with failures: {t_loop_f:.2f} s "
                  f"({t_loop_f / t_flaky:.1f} x ours)")
