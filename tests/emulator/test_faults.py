"""Fault injection of the emulator (`Faults`), observed with a plain `requests` client."""
import dataclasses
import json
import logging
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
import requests

from astroquery_fink.testing import Faults, FinkEmulator, bundled_data_files
from astroquery_fink.testing.__main__ import _faults

TDE = "ZTF20abfcszi"
OUTCOMES = ("ok", "error", "429", "drop", "truncate", "html")


@pytest.fixture(scope="module")
def tde_file():
    (path,) = [p for p in bundled_data_files() if "ztf20abfcszi" in p.name]
    return path


@pytest.fixture(scope="module")
def server(tde_file):
    """An emulator serving one object (quick to load), owned by this module."""
    with FinkEmulator(tde_file, strict=True) as emulator:
        yield emulator


@pytest.fixture
def emu(server):
    """The module's emulator, with no faults before and after each test."""
    server.faults = Faults()
    yield server
    server.faults = Faults()


def post(emu, path="/api/v1/objects", **payload):
    return requests.post(emu.url + path, json=payload, timeout=10)


def outcome(emu, payload, path="/api/v1/objects"):
    """What a client makes of one request, as one word of OUTCOMES."""
    try:
        r = post(emu, path, **payload)
    except requests.exceptions.ChunkedEncodingError:
        return "truncate"
    except requests.exceptions.ConnectionError:
        return "drop"
    if r.status_code == 429:
        return "429"
    if r.headers.get("Content-Type", "").startswith("text/html"):
        return "html"
    if r.status_code >= 500:
        return "error"
    assert r.status_code == 200
    json.loads(r.text)  # a whole body
    return "ok"


def cheap(i):
    """Distinct, quick requests: an unknown ID prefix answers ``[]``."""
    return {"objectId": f"ZTF99{i:07d}"}


# --------------------------------------------------------------------------- each kind
def test_no_faults_by_default(emu):
    assert not Faults().active
    assert [outcome(emu, cheap(i)) for i in range(30)] == ["ok"] * 30
    assert post(emu, objectId=TDE).status_code == 200
    assert emu.fault_log == Counter()


def test_error_statuses_drawn_from_the_given_ones(emu):
    emu.faults = Faults(error_rate=1.0)
    seen = Counter()
    for i in range(60):
        r = post(emu, **cheap(i))
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == {"message": HTTPStatus(r.status_code).phrase}  # as flask-restx
        seen[r.status_code] += 1
    assert set(seen) == {502, 503, 504}
    assert emu.fault_log["error"] == 60


def test_error_500_allowed(emu):
    emu.faults = Faults(error_rate=1.0, error_statuses=[500])
    r = post(emu, objectId=TDE)
    assert (r.status_code, r.text) == (500, '{"message": "Internal Server Error"}\n')


def test_429_with_retry_after(emu):
    emu.faults = Faults(rate_429=1.0, retry_after=7)
    r = post(emu, objectId=TDE)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert r.json() == {"message": "Too Many Requests"}
    assert emu.fault_log == Counter({"429": 1})


def test_html_error_page(emu):
    emu.faults = Faults(html_rate=1.0, error_statuses=[502])
    r = post(emu, objectId=TDE)
    assert r.status_code == 502
    assert r.headers["Content-Type"] == "text/html"
    assert r.text.startswith("<html>") and "502 Bad Gateway" in r.text
    with pytest.raises(ValueError):
        r.json()


def test_drop_closes_the_connection_without_answer(emu):
    emu.faults = Faults(drop_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError, match="without response"):
        post(emu, objectId=TDE)
    assert emu.fault_log == Counter({"drop": 1})
    emu.faults = Faults()  # the server keeps serving
    assert post(emu, objectId=TDE).status_code == 200
    assert emu._thread.is_alive()


def test_truncate_declares_the_full_length_and_sends_less(emu):
    whole = post(emu, objectId=TDE).content
    emu.faults = Faults(truncate_rate=1.0)
    with requests.post(emu.url + "/api/v1/objects", json={"objectId": TDE}, timeout=10,
                       stream=True) as r:
        assert r.status_code == 200
        assert r.headers["Content-Length"] == str(len(whole))
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            r.content  # noqa: B018
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post(emu, objectId=TDE)
    assert emu.fault_log == Counter({"truncate": 2})
    emu.faults = Faults()
    assert post(emu, objectId=TDE).content == whole  # and serves whole answers afterwards


def test_truncate_leaves_non_200_answers_whole(emu):
    emu.faults = Faults(truncate_rate=1.0)
    r = post(emu, kind="Science")  # no objectId: 400
    assert r.status_code == 400 and r.text.startswith("{'status': 'error'")
    assert emu.fault_log == Counter()


def test_latency_is_added_to_each_request(emu):
    emu.faults = Faults(latency=0.2)
    t0 = time.monotonic()
    assert post(emu, objectId=TDE).status_code == 200
    assert time.monotonic() - t0 >= 0.2
    assert emu.fault_log == Counter({"latency": 1})


def test_slow_body_comes_after_the_headers(emu):
    emu.faults = Faults(slow_body=0.4)
    t0 = time.monotonic()
    with requests.post(emu.url + "/api/v1/objects", json={"objectId": TDE}, timeout=10,
                       stream=True) as r:
        headers_after = time.monotonic() - t0
        rows = json.loads(r.content)
    total = time.monotonic() - t0
    assert len(rows) == 21
    assert total >= 0.4
    assert headers_after < total - 0.1  # the body, not the headers, is slow
    assert emu.fault_log == Counter({"slow_body": 1})


def test_fail_ids_always_fail_with_500(emu):
    emu.faults = Faults(fail_ids=[TDE])
    for _ in range(5):
        r = post(emu, objectId=TDE)
        assert (r.status_code, r.text) == (500, '{"message": "Internal Server Error"}\n')
    assert post(emu, objectId=f"ZTF21abcdefg, {TDE}").status_code == 500  # in a list
    r = requests.get(emu.url + "/api/v1/cutouts", timeout=10,
                     params={"objectId": TDE, "kind": "Science", "output-format": "array"})
    assert r.status_code == 500  # query string too, every API route
    assert post(emu, objectId="ZTF20abfcsz").status_code == 200  # exact IDs, not prefixes
    assert emu.fault_log == Counter({"fail_ids": 7})


def test_only_api_routes_are_faulted(emu):
    emu.faults = Faults(error_rate=1.0, latency=0.01)
    # the Swagger page (GET /, as flask-restx serves it) is not an /api/v1 route: no fault
    assert requests.get(emu.url + "/", timeout=10).status_code == 200
    assert requests.get(emu.url + "/api/v1/schema", timeout=10).status_code in (502, 503, 504)
    assert emu.fault_log == Counter({"latency": 1, "error": 1})


def test_test_client_sees_no_faults(emu):
    emu.faults = Faults(error_rate=1.0)
    assert emu.app.test_client().post("/api/v1/objects", json={"objectId": TDE}).status_code \
        == 200


# --------------------------------------------------------------------------- rates, seeds
def test_rates_are_respected(emu):
    faults = Faults(error_rate=0.1, rate_429=0.05, drop_rate=0.05, truncate_rate=0.05,
                    html_rate=0.05, seed=3)
    emu.faults = faults
    n = 400
    seen = Counter(outcome(emu, cheap(i)) for i in range(n))
    rates = {"error": 0.1, "429": 0.05, "drop": 0.05, "truncate": 0.05, "html": 0.05}
    rates["ok"] = 1 - sum(rates.values())
    for kind, p in rates.items():
        half_width = 4 * math.sqrt(n * p * (1 - p))  # binomial, ~4 sigma
        assert abs(seen[kind] - n * p) <= half_width, (kind, seen)
    # what the client saw is what the server says it injected
    assert {k: v for k, v in seen.items() if k != "ok"} == dict(emu.fault_log)


def run(emu, faults, payloads, workers=1):
    emu.faults = faults
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: outcome(emu, p), payloads))


MIXED = Faults(error_rate=0.15, rate_429=0.1, drop_rate=0.1, truncate_rate=0.1, html_rate=0.1,
               retry_after=0, seed=11)


def test_same_seed_same_faults(emu):
    # repeats of one request (a client retrying) get fresh draws, in a reproducible order
    payloads = [cheap(i % 40) for i in range(120)]
    first = run(emu, MIXED, payloads)
    assert run(emu, MIXED, payloads) == first
    assert len(set(first)) == len(OUTCOMES)
    other = dataclasses.replace(MIXED, seed=12)
    assert run(emu, other, payloads) != first


def test_retried_request_gets_a_fresh_draw(emu):
    got = run(emu, Faults(error_rate=0.5, seed=5), [{"objectId": TDE}] * 20)
    assert {"ok", "error"} == set(got)


def test_concurrency_does_not_change_the_decisions(emu):
    payloads = [cheap(i) for i in range(150)]
    sequential = run(emu, MIXED, payloads)
    log = Counter(emu.fault_log)
    concurrent = run(emu, MIXED, payloads, workers=8)
    assert concurrent == sequential  # request by request
    assert emu.fault_log == log


def test_replacing_faults_restarts_draws_and_log(emu):
    payloads = [cheap(i) for i in range(30)]
    first = run(emu, MIXED, payloads)
    assert sum(emu.fault_log.values()) == sum(o != "ok" for o in first)
    emu.faults = Faults()
    assert emu.fault_log == Counter()
    assert run(emu, MIXED, payloads) == first  # counts of seen requests restart too


# --------------------------------------------------------------------------- API details
@pytest.mark.parametrize(("kwargs", "error"), [
    ({"error_rate": 1.5}, ValueError),
    ({"drop_rate": -0.1}, ValueError),
    ({"error_rate": 0.6, "rate_429": 0.5}, ValueError),
    ({"error_statuses": [404]}, ValueError),
    ({"error_statuses": []}, ValueError),
    ({"latency": -1}, ValueError),
    ({"retry_after": 1.5}, ValueError),
    ({"fail_ids": TDE}, TypeError),
])
def test_invalid_faults(kwargs, error):
    with pytest.raises(error, match="Faults"):
        Faults(**kwargs)


def test_faults_setter_type(emu):
    with pytest.raises(TypeError, match="Faults instance"):
        emu.faults = {"error_rate": 1.0}
    emu.faults = None
    assert emu.faults == Faults()


def test_quiet_by_default(tde_file, caplog):
    for quiet, lines in ((True, 0), (False, 1)):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="werkzeug"), \
                FinkEmulator(tde_file, quiet=quiet, strict=True) as emu:
            assert post(emu, objectId=TDE).status_code == 200
        assert len([r for r in caplog.records if "/api/v1/objects" in r.getMessage()]) == lines


def test_cli_fault_options():
    assert _faults(["error_rate=0.1", "error-statuses=502,503", "fail_ids=ZTF1,ZTF2",
                    "seed=4", "latency=0.5"]) == Faults(
        error_rate=0.1, error_statuses=(502, 503), fail_ids={"ZTF1", "ZTF2"}, seed=4,
        latency=0.5)
    with pytest.raises(ValueError, match="NAME=VALUE"):
        _faults(["nonsense"])


def test_rubin_objects_fail_and_slow_down_by_their_dia_object_id():
    # the Rubin client names its objects diaObjectId (a reviewer found them ignored)
    from astroquery_fink import FinkLSSTClass
    from astroquery_fink.exceptions import PartialResultError

    with FinkEmulator(survey="lsst") as rubin:
        ids = [int(i) for i in rubin.object_ids[:3]]
        rubin.faults = Faults(fail_ids=[str(ids[0])])
        fink = FinkLSSTClass(server=rubin.url)
        with pytest.raises(PartialResultError) as info:
            fink.query_object(ids)
        assert info.value.failed_ids == [ids[0]] and rubin.fault_log["fail_ids"] >= 1
        rubin.faults = Faults(latency_per_id=0.2)
        start = time.monotonic()
        fink.query_object(ids, get_query_payload=False)
        assert time.monotonic() - start >= 0.6  # 3 IDs in one request
