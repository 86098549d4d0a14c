"""Benchmark 0: 10,000 alert rows served over loopback HTTP, end to end.

A tiny werkzeug server on 127.0.0.1 answers ``/api/v1/objects`` with fixed bytes written as
the server writes them (pandas ``to_json(orient="records")``, or parquet when asked), so that
every figure includes the transfer. Run through benchmarks/run.py.
"""
import io
import threading

import orjson
import pandas as pd
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from astroquery_fink import FinkClass, conf
from astroquery_fink._http import fetch
from astroquery_fink._tables import parse_table


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        pass


class _Bytes:
    """A WSGI app answering every POST with the bytes of its format and options."""

    def __init__(self, json_rows: bytes, mixed_rows: bytes, parquet: bytes):
        self.json_rows, self.mixed_rows, self.parquet = json_rows, mixed_rows, parquet

    def __call__(self, environ, start_response):
        body = orjson.loads(Request(environ).get_data() or b"{}")
        if body.get("output-format") == "parquet":
            answer = Response(self.parquet, mimetype="application/octet-stream")
        else:
            upper = str(body.get("withupperlim", "")).lower() in ("true", "1")
            answer = Response(self.mixed_rows if upper else self.json_rows,
                              mimetype="application/json")
        return answer(environ, start_response)


def bench_http(big: pd.DataFrame, mixed: pd.DataFrame, best_times, rounds: int) -> dict:
    """Figures 0a-0c; returns the ratios measured."""
    js = big.to_json(orient="records").encode()
    mjs = mixed.to_json(orient="records").encode()
    buf = io.BytesIO()
    big.to_parquet(buf)
    pq_bytes = buf.getvalue()
    server = make_server("127.0.0.1", 0, _Bytes(js, mjs, pq_bytes), threaded=True,
                         request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    ids = sorted(set(big["i:objectId"]) | set(mixed["i:objectId"]))
    fink = FinkClass(server=url)
    post = url + "/api/v1/objects"
    body = {"objectId": ",".join(ids), "output-format": "json"}
    mbody = {**body, "withupperlim": True}

    def fetched(payload, mixed_types=False):
        return fetch(fink, "POST", post, payload,
                     lambda r: parse_table(r.content, "json", mixed_types=mixed_types),
                     what="objects", cache=False, timeout=180)

    print(f"\n0. {len(big)} alert rows x {big.shape[1]} columns over loopback HTTP: JSON "
          f"{len(js) / 2**20:.1f} MiB, with upper limits ({len(mixed)} rows) "
          f"{len(mjs) / 2**20:.1f} MiB, parquet {len(pq_bytes) / 2**20:.1f} MiB")
    try:
        # one request, as the baselines make (with upper limits too, whose default is one
        # object per request)
        with conf.set_temp("batch_size", len(ids)), \
                conf.set_temp("batch_size_upperlim", len(ids)):
            best = best_times({
                "floor": lambda: orjson.loads(requests.post(post, json=body).content),
                "e2e": lambda: fink.query_object(ids, output_format="json", cache=False,
                                                 progress=False),
                "fetch": lambda: fetched(body),
                "mfloor": lambda: orjson.loads(requests.post(post, json=mbody).content),
                "me2e": lambda: fink.query_object(ids, output_format="json",
                                                  withupperlim=True, cache=False,
                                                  progress=False),
                "mfetch": lambda: fetched(mbody, mixed_types=True),
                "docs": lambda: pd.read_json(io.BytesIO(
                    requests.post(post, json=body).content)),
                "pq": lambda: fink.query_object(ids, cache=False, progress=False),
            }, rounds=rounds)
    finally:
        server.shutdown()
        thread.join()
    b = best
    ms = {k: v * 1000 for k, v in b.items()}
    out = {"json_e2e": b["e2e"] / b["floor"], "json_fetch": b["fetch"] / b["floor"],
           "mixed_e2e": b["me2e"] / b["mfloor"], "mixed_fetch": b["mfetch"] / b["mfloor"],
           "parquet": b["docs"] / b["pq"]}
    print(f"  requests.post + orjson.loads (floor)        {ms['floor']:8.1f} ms")
    print(f"  query_object(output_format='json')          {ms['e2e']:8.1f} ms  "
          f"{out['json_e2e']:5.2f} x floor   target <= 1.20  "
          f"{_verdict(out['json_e2e'] <= 1.2)}")
    print(f"  _http.fetch + parse_table                   {ms['fetch']:8.1f} ms  "
          f"{out['json_fetch']:5.2f} x floor   target <= 1.20  "
          f"{_verdict(out['json_fetch'] <= 1.2)}")
    print(f"  with upper limits: requests.post + orjson   {ms['mfloor']:8.1f} ms")
    print(f"  query_object(withupperlim, json)            {ms['me2e']:8.1f} ms  "
          f"{out['mixed_e2e']:5.2f} x floor   target <= 1.50  "
          f"{_verdict(out['mixed_e2e'] <= 1.5)}")
    print(f"  _http.fetch + parse_table(mixed_types)      {ms['mfetch']:8.1f} ms  "
          f"{out['mixed_fetch']:5.2f} x floor   target <= 1.50  "
          f"{_verdict(out['mixed_fetch'] <= 1.5)}")
    print(f"  requests.post + pd.read_json (Fink docs)    {ms['docs']:8.1f} ms")
    print(f"  query_object() default (parquet)            {ms['pq']:8.1f} ms  "
          f"{out['parquet']:5.1f} x faster than the docs' way   target >= 15  "
          f"{_verdict(out['parquet'] >= 15)}")
    return out


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"
