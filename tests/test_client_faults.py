"""The client against a misbehaving emulator: every transient fault recovered, every
permanent one reported with the failed IDs and the rows that arrived."""
import numpy as np
import pytest
from _helpers import make_response
from astroquery.exceptions import RemoteServiceError

from astroquery_fink import FinkClass, _http, conf
from astroquery_fink.exceptions import PartialResultError
from astroquery_fink.testing import Faults, FinkEmulator, make_alert_file


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """An emulator holding 1,000 objects (no stamps, to stay small)."""
    path = tmp_path_factory.mktemp("many") / "many.parquet"
    ids = make_alert_file(path, n_objects=1000, seed=3)
    with FinkEmulator(path) as emu:
        yield emu, ids


@pytest.fixture
def client(many):
    emu, _ = many
    emu.faults = None
    yield FinkClass(server=emu.url)
    emu.faults = None


def same_table(a, b):
    assert a.colnames == b.colnames and len(a) == len(b)
    for name in a.colnames:
        assert a[name].dtype == b[name].dtype, name
        assert np.array_equal(np.ma.getmaskarray(a[name]), np.ma.getmaskarray(b[name])), name
        assert np.array_equal(np.ma.filled(a[name], 0) if a[name].dtype.kind != "U" else a[name],
                              np.ma.filled(b[name], 0) if b[name].dtype.kind != "U" else b[name],
                              equal_nan=a[name].dtype.kind == "f"), name


COLUMNS = ["i:objectId", "i:candid", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "d:cdsxmatch"]


@pytest.mark.parametrize("fault", [
    {"error_rate": 0.2},                                   # 502/503/504
    {"rate_429": 0.2, "retry_after": 0},
    {"drop_rate": 0.2},
    {"truncate_rate": 0.2},
    {"html_rate": 0.2},
])
@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_each_transient_fault_kind_is_recovered(many, client, fault, fmt):
    emu, ids = many
    with conf.set_temp("batch_size", 20), conf.set_temp("max_retries", 10):
        clean = client.query_object(ids, columns=COLUMNS, output_format=fmt)
        emu.faults = Faults(seed=11, **fault)
        flaky = client.query_object(ids, columns=COLUMNS, output_format=fmt)
    injected = sum(n for kind, n in emu.fault_log.items() if kind != "latency")
    assert injected >= 3, emu.fault_log  # faults really happened
    same_table(flaky, clean)


def test_1000_objects_with_20_percent_transient_faults_equal_the_fault_free_table(many, client):
    emu, ids = many
    clean = client.query_object(ids)  # every column, default batching and concurrency
    emu.faults = Faults(seed=5, error_rate=0.08, drop_rate=0.03, truncate_rate=0.03,
                        html_rate=0.03, rate_429=0.03, retry_after=0)
    with conf.set_temp("max_retries", 10):
        flaky = client.query_object(ids)
    assert sum(emu.fault_log.values()) >= 2, emu.fault_log
    assert set(flaky["i:objectId"]) == set(ids) and len(flaky) > 1000
    same_table(flaky, clean)


def test_slow_bodies_are_waited_for(many, client):
    emu, ids = many
    emu.faults = Faults(slow_body=0.2, seed=1)
    t = client.query_object(ids[:5], columns=["i:objectId", "i:jd"])
    assert set(t["i:objectId"]) == set(ids[:5]) and emu.fault_log["slow_body"] >= 1


def test_permanent_failures_name_the_ids_and_keep_the_rows(many, client):
    emu, ids = many
    bad = {ids[17], ids[503]}
    emu.faults = Faults(fail_ids=sorted(bad))
    with conf.set_temp("batch_size", 10), pytest.raises(PartialResultError) as info:
        client.query_object(ids[:600], output_format="json")
    err = info.value
    # the two failed batches of 10 are asked again in halves until the two objects the
    # server fails on are alone: only they are lost
    assert set(err.failed_ids) == bad
    assert "HTTP 500" in str(err.errors[ids[17]])
    arrived = set(err.table["i:objectId"])
    assert arrived == set(ids[:600]) - bad
    assert "2 of 600 objects" in str(err)


def test_retries_exhausted_are_reported_not_swallowed(many, client):
    emu, ids = many
    emu.faults = Faults(error_rate=1.0, error_statuses=(503,))
    with conf.set_temp("max_retries", 2), pytest.raises(RemoteServiceError,
                                                        match="HTTP 503.*gave up after 3"):
        client.query_object(ids[0])
    assert emu.fault_log["error"] == 3


@pytest.fixture
def waits(monkeypatch):
    """The back-off delays the client asks for, without waiting them."""
    asked = []
    monkeypatch.setattr(_http, "_backoff_wait", lambda delay, lanes: asked.append(delay))
    return asked


@pytest.mark.parametrize(("header", "expected"), [
    ("7", 7.0), ("0.3", 0.3),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),     # a date in the past: no wait
    ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),   # the naive-date form
])
def test_retry_after_is_honoured(recorded, waits, header, expected):
    answers = [make_response(b"slow down", status=429, headers={"Retry-After": header},
                             content_type="text/plain"),
               make_response(b'[{"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5}]')]
    fink, rec = recorded(answers)
    t = fink.query_object("ZTF20abfcszi", output_format="json")
    assert waits == [pytest.approx(expected)]
    assert len(rec.calls) == 2 and t["i:jd"][0] == 2459000.5


def test_unreadable_retry_after_falls_back_to_backoff(recorded, waits):
    answers = [make_response(b"slow down", status=429, headers={"Retry-After": "soon"},
                             content_type="text/plain"),
               make_response(b'[{"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5}]')]
    fink, _ = recorded(answers)
    fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(waits) == 1 and 0 <= waits[0] <= conf.retry_max_delay


def test_total_retry_time_is_bounded(recorded):
    slow = make_response(b"busy", status=503, headers={"Retry-After": "100"},
                         content_type="text/plain")
    fink, rec = recorded(lambda url, body: slow)
    with conf.set_temp("retry_total_time", 5), pytest.raises(RemoteServiceError, match="503"):
        fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(rec.calls) == 1  # waiting 100 s would overrun the 5 s budget: give up now


def test_connection_refused_is_retried_then_reported():
    with _closed_port() as url:
        fink = FinkClass(server=url)
        with conf.set_temp("max_retries", 1), pytest.raises(RemoteServiceError,
                                                            match="Could not reach Fink"):
            fink.query_object("ZTF20abfcszi")


class _closed_port:
    """A loopback URL where nothing listens."""

    def __enter__(self):
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        return False

