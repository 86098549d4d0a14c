"""Many objects: batches, merge order, and failures that never pass silently."""
import io
import json
import threading

import numpy as np
import pandas as pd
import pytest
import requests
from _helpers import make_response, recorded_bytes
from astroquery.exceptions import MaxResultsWarning, RemoteServiceError

from astroquery_fink import conf
from astroquery_fink.exceptions import PartialResultError

IDS = [f"ZTF20aaaaaa{c}" for c in "abcdefgh"]
ROWS = [{"i:objectId": oid, "i:jd": 2459000.5 + 0.37 * k + 0.011 * n, "i:magpsf": 18 + n / 10,
         "i:candid": 10**18 + 100 * k + n}
        for k, oid in enumerate(IDS) for n in range(3)]


def fake_server(poisoned=()):
    """Answers like /objects on ROWS; a request holding a poisoned ID fails for good."""
    def answer(url, body):
        ids = body["objectId"].split(",")
        if set(ids) & set(poisoned):
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        rows = sorted((r for r in ROWS if r["i:objectId"] in ids), key=lambda r: -r["i:jd"])
        if body["output-format"] == "parquet":
            buf = io.BytesIO()
            pd.DataFrame(rows).to_parquet(buf)
            return make_response(buf.getvalue(), content_type="parquet")
        return make_response(json.dumps(rows))
    return answer


def test_batched_query_equals_one_request(recorded):
    with conf.set_temp("batch_size", 100):
        fink, rec = recorded(fake_server())
        single = fink.query_object(IDS)
    assert len(rec.calls) == 1
    with conf.set_temp("batch_size", 3), conf.set_temp("max_workers", 3):
        fink, rec = recorded(fake_server())
        batched = fink.query_object(IDS)
    assert sorted(len(c[2]["json"]["objectId"].split(",")) for c in rec.calls) == [2, 3, 3]
    assert batched.colnames == single.colnames
    for name in single.colnames:
        assert batched[name].dtype == single[name].dtype
        assert list(batched[name]) == list(single[name])
    assert len(batched["i:candid"]) == len(ROWS)


def test_payload_of_many_batches_is_a_list(recorded):
    fink, _ = recorded([])
    with conf.set_temp("batch_size", 3), conf.set_temp("max_workers", 4):
        payloads = fink.query_object(IDS, get_query_payload=True)
    # 3 batches of at most 3 IDs, rounded up to one per worker: 4 equal batches
    assert [p["objectId"] for p in payloads] == [
        ",".join(IDS[0:2]), ",".join(IDS[2:4]), ",".join(IDS[4:6]), ",".join(IDS[6:8])]


@pytest.mark.parametrize(("batch_size", "bad", "requests"), [
    (2, "ZTF20aaaaaad", 4 + 2),  # 4 batches, then (c, d) in halves
    (50, "ZTF20aaaaaaf", 1 + 2 + 2 + 2),  # one request, then halves of 4, 2 and 1
])
def test_a_failed_batch_is_halved_until_only_the_failing_object_is_lost(recorded, batch_size,
                                                                         bad, requests):
    # the server fails (HTTP 500) on any request holding object `bad`
    with conf.set_temp("batch_size", batch_size), conf.set_temp("max_retries", 0):
        fink, rec = recorded(fake_server(poisoned=[bad]))
        with pytest.raises(PartialResultError) as info:
            fink.query_object(IDS)
        asked = fink.query_object(IDS, get_query_payload=True)
    err = info.value
    assert err.failed_ids == [bad]
    assert set(err.errors) == {bad} and "HTTP 500" in str(err.errors[bad])
    assert "1 of 8 objects" in str(err)
    assert set(err.table["i:objectId"]) == set(IDS) - {bad}
    assert len(err.table) == 3 * 7 and len(rec.calls) == requests
    assert np.all(np.diff(err.table["i:jd"]) <= 0)
    assert err.table.meta["payload"] == asked  # what was asked, not the halves


def test_a_server_failing_every_request_is_not_sent_halves(recorded):
    with conf.set_temp("batch_size", 2), conf.set_temp("max_retries", 0):
        fink, rec = recorded(fake_server(poisoned=IDS))
        with pytest.raises(PartialResultError) as info:
            fink.query_object(IDS)
    assert info.value.failed_ids == IDS and len(rec.calls) == 4
    with conf.set_temp("batch_size", 50), conf.set_temp("max_retries", 0):
        fink, rec = recorded(fake_server(poisoned=IDS))
        with pytest.raises(RemoteServiceError, match="HTTP 500") as info:
            fink.query_object(IDS)
    # one request, its two halves, their four halves, none answered: no further halves,
    # and the request's own failure
    assert not isinstance(info.value, PartialResultError) and len(rec.calls) == 1 + 2 + 4


def test_two_failing_objects_in_both_halves_are_isolated(recorded):
    # a reviewer's case: the halves both fail, their halves do not all
    bad = [IDS[1], IDS[5]]
    with conf.set_temp("batch_size", 50), conf.set_temp("max_retries", 0):
        fink, rec = recorded(fake_server(poisoned=bad))
        with pytest.raises(PartialResultError) as info:
            fink.query_object(IDS)
    err = info.value
    assert err.failed_ids == bad  # in the order asked
    assert set(err.table["i:objectId"]) == set(IDS) - set(bad)
    assert len(rec.calls) == 1 + 2 + 4 + 4


def test_halves_are_bounded_when_most_objects_fail(recorded):
    ids = [f"ZTF20aaaaa{a}{b}" for a in "abcd" for b in "abcdefghijklmnop"]  # 64
    bad = [i for k, i in enumerate(ids) if k % 4 and k >= 8]  # 42 of 64, not the first 8
    with conf.set_temp("batch_size", 8), conf.set_temp("max_workers", 8), \
            conf.set_temp("max_retries", 0):
        fink, rec = recorded(fake_server(poisoned=bad))
        with pytest.raises(PartialResultError) as info:
            fink.query_object(ids)
    # 8 requests, then at most 16 + 2 x 8 halves; what was not isolated is named
    assert 8 < len(rec.calls) <= 8 + 16 + 2 * 8
    assert set(bad) <= set(info.value.failed_ids)
    assert set(info.value.failed_ids) | set(info.value.table["i:objectId"]) == set(ids)


def test_async_twins_answer_one_response_per_request_shown(recorded):
    from _helpers import make_response as respond

    calls = []

    def flaky(url, body):  # the first request fails once (HTTP 500)
        calls.append(body)
        if len(calls) == 1:
            return respond(b'{"message": "Internal Server Error"}', status=500)
        return fake_server()(url, body)

    with conf.set_temp("batch_size", 50), conf.set_temp("max_retries", 0):
        fink, rec = recorded(flaky)
        with pytest.raises(RemoteServiceError, match="HTTP 500"):
            fink.query_object_async(IDS)
    assert len(calls) == 1  # no halves: the raw answers are those of the payloads shown


def test_cutout_queries_use_smaller_batches(recorded):
    fink, _ = recorded([])
    with conf.set_temp("batch_size_cutouts", 1):
        payloads = fink.query_object(IDS[:3], withcutouts=True, get_query_payload=True)
    assert [p["objectId"] for p in payloads] == IDS[:3]


def test_progress_bar_only_when_asked_or_interactive(recorded, capsys):
    with conf.set_temp("batch_size", 3), conf.set_temp("max_workers", 3):
        fink, _ = recorded(fake_server())
        fink.query_object(IDS)  # not a terminal: quiet by default
        assert capsys.readouterr().err == ""
        fink.query_object(IDS, progress=True)
        err = capsys.readouterr().err
    assert "3/3" in err


def test_duplicates_and_comma_strings_in_bulk_give_each_object_once(recorded):
    with conf.set_temp("batch_size", 3):
        fink, rec = recorded(fake_server())
        table = fink.query_object(IDS + IDS[:4] + [",".join(IDS[2:5])][0].split(","))
    sent = [i for c in rec.calls for i in c[2]["json"]["objectId"].split(",")]
    assert sorted(sent) == sorted(IDS)
    assert len(table) == len(ROWS)


def test_default_wire_format_is_parquet_unless_upper_limits(recorded):
    fink, _ = recorded([])
    assert fink.query_object(IDS[0], get_query_payload=True)["output-format"] == "parquet"
    with_ul = fink.query_object(IDS[0], withupperlim=True, get_query_payload=True)
    assert with_ul["output-format"] == "csv"  # lossless: JSON rounds floats


def test_parquet_and_json_batches_give_the_same_table(recorded):
    with conf.set_temp("batch_size", 3):
        fink, _ = recorded(fake_server())
        a = fink.query_object(IDS, output_format="json")
        b = fink.query_object(IDS)
    for name in a.colnames:
        assert a[name].dtype == b[name].dtype and list(a[name]) == list(b[name])


def test_objects_at_the_server_row_cap_are_warned_about(recorded):
    rows = [{"i:objectId": "ZTF20aaaaaaa", "i:jd": 2459000.5 + k * 1e-3, "i:candid": k}
            for k in range(10_000)]
    fink, _ = recorded([make_response(json.dumps(rows[::-1]))])
    with pytest.warns(MaxResultsWarning, match="ZTF20aaaaaaa reached the server's limit"):
        t = fink.query_object("ZTF20aaaaaaa", output_format="json")
    assert len(t) == 10_000


def test_empty_async_answer_is_not_cached(recorded, tmp_path):
    answers = {"ZTF99zzzzzzz": b"[]", "ZTF20abfcszi": recorded_bytes(
        "objects_ZTF20abfcszi_columns.json")}
    fink, rec = recorded(lambda url, body: make_response(answers[body["objectId"]]))
    fink.cache_location = tmp_path
    for _ in range(2):
        assert fink.query_object_async("ZTF99zzzzzzz", output_format="json",
                                       cache=True).content == b"[]"
    assert len(rec.calls) == 2 and not list(tmp_path.glob("*.pickle"))
    for _ in range(2):
        fink.query_object_async("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 3


@pytest.mark.parametrize("connection, own_adapter", [("keep-alive", False), ("close", False),
                                                     ("keep-alive", True)])
def test_at_most_max_workers_requests_on_the_wire(connection, own_adapter):
    # Parsing runs outside the request slots, with twice as many threads as slots, and a
    # request takes its slot only as urllib3 sends it (before it, with a user's own
    # adapter): what the server sees must still never exceed conf.max_workers requests at
    # once (nor connections open, when they are kept alive). Each request waits for a
    # partner, then gives a third request 50 ms to show up (it would, were the slots not
    # kept: the spare threads are idle).
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from astroquery_fink import Fink

    state = {"now": 0, "peak": 0, "requests": 0}
    change = threading.Condition()
    answer = fake_server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with change:
                state["now"] += 1
                state["requests"] += 1
                state["peak"] = max(state["peak"], state["now"])
                change.notify_all()
                change.wait_for(lambda: state["now"] >= 2, timeout=1)
                change.wait_for(lambda: state["now"] > 2, timeout=0.05)
                state["now"] -= 1
            content = answer(self.path, body).content
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", connection)
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        connections = []
        server.verify_request = lambda *args: connections.append(1) or True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            fink = Fink(server=f"http://127.0.0.1:{server.server_port}")
            if own_adapter:
                fink._session.mount("http://", type("Own", (requests.adapters.HTTPAdapter,),
                                                    {})())
            with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 2):
                table = fink.query_object(IDS, cache=False)
        finally:
            server.shutdown()
    assert state["requests"] == len(IDS) and state["peak"] == 2
    assert len(connections) == (2 if connection == "keep-alive" else len(IDS))
    assert sorted(set(table["i:objectId"])) == IDS


def test_server_fills_do_not_depend_on_the_batching(fink):
    # the server fills -1.0 into d:blazar_stats_* where a whole answer lacks them, and
    # leaves them null where only some rows do: the same rows must come out the same
    # however the IDs were batched (-1, "not computed", is masked)
    names = sorted(set(fink.query_object("ZTF", prefix=True, columns=["i:objectId"])
                       ["i:objectId"]))[:12]
    tables = []
    for size in (1, 12):
        with conf.set_temp("batch_size", size), conf.set_temp("max_workers", 4):
            tables.append(fink.query_object(names, cache=False))
    one, all_at_once = tables
    assert len(one) == len(all_at_once) > 0
    for name in [c for c in one.colnames if c.startswith("d:blazar_stats_")]:
        assert np.array_equal(np.ma.getmaskarray(one[name]),
                              np.ma.getmaskarray(all_at_once[name])), name
        assert not np.any(np.ma.compressed(one[name]) == -1.0)
