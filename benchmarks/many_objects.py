"""Benchmark 4: many objects against a server whose work grows with the IDs asked for.

The answers are recorded once from the emulator, then replayed by a server in its own process
(benchmarks/_replay.py) that spends ``LATENCY`` seconds per request plus ``PER_ID`` seconds
per requested ID and nothing else, so that the figure measures the client rather than the
emulator's own CPU time (about 60 ms per 50-object parquet answer, which on 2 cores competes
with the client). The run with transient failures uses the emulator itself, in a subprocess,
with `Faults(latency=..., latency_per_id=..., error_rate=...)`. The *polite ceiling* of a query is
the server's total injected work for the requests it makes, divided by the requests run at
once (``min(conf.max_workers, requests)``): the time a client that adds nothing of its own
would take without asking more of the server at once. Run through benchmarks/run.py.
"""
import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from _replay import body_key, id_list

from astroquery_fink import FinkClass, conf
from astroquery_fink.testing import FinkEmulator, make_alert_file

N_OBJECTS = 1000
LATENCY = 0.02
PER_ID = 0.005
TARGET = 1.15


def _emulator(data: Path, *faults: str) -> list[str]:
    args = [sys.executable, "-m", "astroquery_fink.testing", "--data", str(data), "--port", "0",
            "--quiet"]
    for fault in faults:
        args += ["--fault", fault]
    return args


def _replayer(folder: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).with_name("_replay.py")), str(folder),
            str(LATENCY), str(PER_ID)]


def _record(url: str, payloads: list[dict], folder: Path, route: str = "objects") -> None:
    """Keep the answers to these request bodies for _replay.py."""
    with requests.Session() as session:
        for payload in payloads:
            answer = session.post(f"{url}/api/v1/{route}", json=payload)
            answer.raise_for_status()
            key = body_key(json.dumps(payload).encode())
            (folder / f"{key}.body").write_bytes(answer.content)
            (folder / f"{key}.type").write_text(answer.headers["Content-Type"])


class _Server:
    """A server started in a subprocess (``args``) that prints its URL once bound."""

    def __init__(self, args: list[str]):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        if found is None:
            self.proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = found.group(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


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


def ceiling(payloads: list[dict]) -> tuple[float, float, int]:
    """The server's injected work for these requests, the polite ceiling, the concurrency."""
    work = sum(LATENCY + PER_ID * len(id_list(p)) for p in payloads)
    at_once = max(1, min(int(conf.max_workers), len(payloads)))
    return work, work / at_once, at_once


def _measure(best_times, rounds: int, title: str, url: str, payloads: list[dict],
             ours) -> float:
    """Best time of ``ours()`` and of the same requests sent bare, against the ceiling."""
    work, polite, at_once = ceiling(payloads)
    session = requests.Session()

    def raw():
        # the same requests, bodies read, nothing parsed: the transport floor
        with ThreadPoolExecutor(at_once) as pool:
            list(pool.map(lambda p: session.post(url, json=p).content, payloads))

    ours()  # warm-up
    best = best_times({"raw": raw, "ours": ours}, rounds=rounds, budget=0)
    session.close()
    ratio = best["ours"] / polite
    print(f"  {title}: {len(payloads)} requests, server work {work:.2f} s, "
          f"polite ceiling {polite:.3f} s")
    print(f"    requests.post of the same bodies, {at_once} threads  {best['raw']:7.3f} s"
          f"  {best['raw'] / polite:5.2f} x ceiling")
    print(f"    astroquery_fink                              {best['ours']:7.3f} s"
          f"  {ratio:5.2f} x ceiling   target <= {TARGET}  "
          f"{'met' if ratio <= TARGET else 'NOT MET'}")
    return ratio


def bench_many(best_times, rounds: int = 3, sizes=(50,), loop: bool = True,
               cones: bool = True) -> dict:
    """Figures 4a-4d (4b, transient failures, when ``loop``); returns the ratios."""
    warnings.simplefilter("ignore")
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.parquet"
        ids = make_alert_file(path, n_objects=N_OBJECTS, seed=1)
        fink = FinkClass(server="http://127.0.0.1:1")  # payloads only
        plans = {}
        for size in sizes:
            with conf.set_temp("batch_size", size):
                plans[size] = fink.query_object(ids, get_query_payload=True)
        with conf.set_temp("batch_size", N_OBJECTS):
            every = [fink.query_object(ids, get_query_payload=True)]
        singles = [fink.query_object(i, get_query_payload=True) for i in ids[:100]]
        answers = Path(tmp) / "answers"
        answers.mkdir()
        with FinkEmulator(path) as emu:
            for payloads in [*plans.values(), every, singles]:
                _record(emu.url, payloads, answers)
        with _Server(_replayer(answers)) as server:
            fink = FinkClass(server=server.url)
            url = server.url + "/api/v1/objects"
            print(f"\n4a. {len(ids)} objects; the server spends {LATENCY * 1000:.0f} ms per "
                  f"request + {PER_ID * 1000:.0f} ms per ID; max_workers={conf.max_workers}, "
                  f"default batch_size={conf.batch_size}; best of {rounds}")
            for size in sizes:
                with conf.set_temp("batch_size", size):
                    out[size] = _measure(
                        best_times, rounds, f"batch_size={size}", url, plans[size],
                        lambda: fink.query_object(ids, cache=False, progress=False))
            if loop:
                ours_table = fink.query_object(ids, cache=False, progress=False)
                with conf.set_temp("batch_size", N_OBJECTS):
                    one = fink.query_object(ids, cache=False, progress=False)
                t0 = time.perf_counter()
                for i in ids[:100]:
                    fink.query_object(i, cache=False)
                t_loop = (time.perf_counter() - t0) * len(ids) / 100
                print(f"  one request per object (loop, timed over 100 objects, x10): "
                      f"{t_loop:.1f} s")
                differ = [c for c in one.colnames if not same(ours_table[[c]], one[[c]])]
                print(f"  batched == one request: {not differ}"
                      + (f" (columns that differ: {', '.join(differ)}; the server fills a "
                         "default into a column absent from a whole answer)" if differ else ""))
        if loop:
            with _Server(_emulator(path, f"latency={LATENCY}", f"latency_per_id={PER_ID}",
                                   "error_rate=0.2", "seed=7")) as server:
                fink = FinkClass(server=server.url)
                t0 = time.perf_counter()
                flaky = fink.query_object(ids, cache=False, progress=False)
                t_flaky = time.perf_counter() - t0
                print(f"\n4b. the same with 20% transient failures (502/503/504): "
                      f"{t_flaky:.2f} s (retries wait 0.5 s and more); identical to the "
                      f"fault-free Table: {same(flaky, ours_table)}")
    if cones:
        out["cones"] = bench_cones(best_times, rounds)
    out["rubin"] = bench_rubin(best_times, rounds)
    return out


def bench_cones(best_times, rounds: int, n: int = N_OBJECTS) -> float | None:
    """4c: ``n`` cone-search positions (one request each, as the server takes one)."""
    if not hasattr(FinkClass, "query_region"):
        print("\n4c. cone-search positions: not available (FinkClass has no query_region)")
        return None
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.parquet"
        ids = make_alert_file(path, n_objects=n, seed=1)
        answers = Path(tmp) / "answers"
        answers.mkdir()
        with FinkEmulator(path) as emu:
            last = FinkClass(server=emu.url).query_object(
                ids, columns=["i:objectId", "i:ra", "i:dec"], cache=False, progress=False)
            _, first = np.unique(np.asarray(last["i:objectId"]), return_index=True)
            where = SkyCoord(last["i:ra"][first], last["i:dec"][first], unit="deg")
            radius = 5 * u.arcsec
            payloads = FinkClass(server=emu.url).query_region(where, radius,
                                                              get_query_payload=True)
            payloads = payloads if isinstance(payloads, list) else [payloads]
            _record(emu.url, payloads, answers, "conesearch")
        with _Server(_replayer(answers)) as server:
            fink = FinkClass(server=server.url)
            print(f"\n4c. {len(where)} cone-search positions (radius 5 arcsec, one object "
                  f"each); the server spends {LATENCY * 1000:.0f} ms per request")
            return _measure(best_times, rounds, "query_region", server.url
                            + "/api/v1/conesearch", payloads,
                            lambda: fink.query_region(where, radius, cache=False,
                                                      progress=False))


def bench_rubin(best_times, rounds: int, n: int = N_OBJECTS) -> float | None:
    """4d: the light curves (``/api/v1/sources``) of ``n`` Rubin objects.

    The bundled Rubin sample holds 101 objects; the ``n`` objects are copies of them under
    other diaObjectIds (each answer row carries its copy's ID), so that the answers have the
    sample's real light curves (a few of 300+ sources, most of one) in the server's order.
    """
    try:
        from astroquery_fink.lsst import FinkLSSTClass
    except ImportError:
        FinkLSSTClass = None  # noqa: N806
    if FinkLSSTClass is None or not hasattr(FinkLSSTClass, "query_object"):
        print("\n4d. Rubin light curves: not available (FinkLSST has no query_object)")
        return None
    # the client's default wire format, in which the answers are written
    fmt = FinkLSSTClass(server="http://127.0.0.1:9").query_object(
        1, get_query_payload=True)["output-format"]
    with tempfile.TemporaryDirectory() as tmp:
        answers = Path(tmp)
        with FinkEmulator(survey="lsst") as emu, requests.Session() as session:
            real = [int(i) for i in emu.object_ids]
            got = {rid: session.post(f"{emu.url}/api/v1/sources",
                                     json={"diaObjectId": str(rid), "output-format": fmt})
                   for rid in real}
        rows_of = {rid: _rubin_rows(answer.content, fmt) for rid, answer in got.items()}
        ctype = got[real[0]].headers["Content-Type"]
        # copy k of object r: r + (k + 1) * 10**15, still a 64-bit ID of 18 digits
        copy_of = {r + (k // len(real) + 1) * 10**15: r
                   for k, r in ((k, real[k % len(real)]) for k in range(n))}
        ids = list(copy_of)
        payloads = FinkLSSTClass(server="http://127.0.0.1:9").query_object(
            ids, get_query_payload=True)
        payloads = payloads if isinstance(payloads, list) else [payloads]
        for payload in payloads:
            oids = [int(oid) for oid in payload["diaObjectId"].split(",")]
            key = body_key(json.dumps(payload).encode())
            body = _rubin_answer([(oid, rows_of[copy_of[oid]]) for oid in oids], fmt)
            (answers / f"{key}.body").write_bytes(body)
            (answers / f"{key}.type").write_text(ctype)
        n_rows = sum(len(rows_of[copy_of[i]]) for i in ids)
        with _Server(_replayer(answers)) as server:
            lsst = FinkLSSTClass(server=server.url)
            print(f"\n4d. Rubin light curves of {n} objects ({n_rows} sources; copies of the "
                  f"{len(real)} objects of the bundled sample; {fmt}), /api/v1/sources; "
                  f"{LATENCY * 1000:.0f} ms per request + {PER_ID * 1000:.0f} ms per ID")
            return _measure(best_times, rounds, "FinkLSST.query_object",
                            server.url + "/api/v1/sources", payloads,
                            lambda: lsst.query_object(ids, cache=False, progress=False))


def _rubin_rows(content: bytes, fmt: str):
    """One object's answer as rows to copy: JSON rows, or a csv table of its texts as
    written (read back as text, so that copies keep every digit)."""
    if fmt == "json":
        import orjson

        return orjson.loads(content)
    if fmt != "csv":
        raise ValueError(f"4d writes json or csv answers, not {fmt}")
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)


def _rubin_answer(objects: list, fmt: str) -> bytes:
    """The answer to one batch, as the server writes it (pandas to_json(orient="records")
    or to_csv(index=False), fink-object-api apps/utils/utils.py), rows sorted by
    r:midpointMjdTai descending."""
    if fmt == "json":
        import orjson

        rows = [dict(row, **{"r:diaObjectId": oid}) for oid, rows in objects for row in rows]
        rows.sort(key=lambda row: -row["r:midpointMjdTai"])  # the server's order
        return orjson.dumps(rows)
    import pandas as pd

    frame = pd.concat([rows.assign(**{"r:diaObjectId": str(oid)}) for oid, rows in objects],
                      ignore_index=True)
    order = np.argsort(-frame["r:midpointMjdTai"].astype(float).to_numpy(), kind="stable")
    return frame.iloc[order].to_csv(index=False).encode()
