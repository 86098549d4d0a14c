"""astroquery's cache, used deliberately: keyed on every argument, never keeping failures."""
import pytest
from _helpers import make_response, recorded_bytes
from astroquery import cache_conf
from astroquery.exceptions import (
    InvalidQueryError,
    NoResultsWarning,
    RemoteServiceError,
    TableParseError,
)

from astroquery_fink import conf

GOOD = recorded_bytes("objects_ZTF20abfcszi_columns.json")


def _in_tmp_cache(recorded, tmp_path):
    """A recorded-answers fixture whose client caches in ``tmp_path``."""
    def install(answers):
        fink, rec = recorded(answers)
        fink.cache_location = tmp_path
        return fink, rec
    return install


@pytest.fixture
def cached(recorded, tmp_path):
    return _in_tmp_cache(recorded, tmp_path)


def test_second_identical_query_is_served_from_cache(cached):
    fink, rec = cached(lambda url, body: make_response(GOOD))
    first = fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd"], cache=True)
    second = fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd"], cache=True)
    assert len(rec.calls) == 1
    assert list(first["i:candid"]) == list(second["i:candid"])


def test_every_argument_is_part_of_the_key(cached):
    fink, rec = cached(lambda url, body: make_response(GOOD))
    fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd"], cache=True)
    fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd", "i:fid"], cache=True)
    fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd"], withupperlim=True,
                      cache=True)
    fink.server = "http://other.test"
    fink.query_object("ZTF20abfcszi", output_format="json", columns=["i:jd"], cache=True)
    assert len(rec.calls) == 4


def test_empty_answers_are_not_cached(cached):
    fink, rec = cached(lambda url, body: make_response(b"[]"))
    for _ in range(2):
        with pytest.warns(NoResultsWarning):
            fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 2
    assert not list(fink.cache_location.glob("*.pickle"))


def test_failed_answers_are_not_cached(cached):
    answers = [make_response(b'{"message": "Internal Server Error"}', status=500),
               make_response(GOOD)]
    fink, rec = cached(answers)
    with pytest.raises(RemoteServiceError):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert not list(fink.cache_location.glob("*.pickle"))
    assert len(fink.query_object("ZTF20abfcszi", output_format="json", cache=True)) == 21
    assert len(rec.calls) == 2


def test_unparsable_200_is_not_cached_nor_retried(cached):
    # A complete 200 that does not parse would come again: it is raised at once.
    answers = [make_response(b"<html>oops</html>", content_type="text/html"),
               make_response(GOOD)]
    fink, rec = cached(answers)
    with pytest.raises((TableParseError, RemoteServiceError), match="oops"):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 1
    assert not list(fink.cache_location.glob("*.pickle"))
    assert len(fink.query_object("ZTF20abfcszi", output_format="json", cache=True)) == 21
    assert len(rec.calls) == 2


def test_entries_expire_after_conf_cache_timeout(cached):
    fink, rec = cached(lambda url, body: make_response(GOOD))
    fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    with conf.set_temp("cache_timeout", 0):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 2


def test_an_infinite_cache_timeout_keeps_entries(cached):
    # astroquery's timedelta cannot hold it: it read as a miss, and nothing was ever reused
    fink, rec = cached(lambda url, body: make_response(GOOD))
    with conf.set_temp("cache_timeout", float("inf")):
        for _ in range(2):
            assert len(fink.query_object("ZTF20abfcszi", output_format="json", cache=True)) == 21
    assert len(rec.calls) == 1


@pytest.mark.parametrize("lifetime", [float("nan"), -1.0])
def test_a_bad_cache_timeout_is_refused_before_any_request(cached, lifetime):
    fink, rec = cached(lambda url, body: make_response(GOOD))
    with conf.set_temp("cache_timeout", lifetime), pytest.raises(
            InvalidQueryError, match=r"^astroquery_fink\.conf\.cache_timeout must be seconds "
            rf"\(>= 0\), not {lifetime}$"):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert rec.calls == []


def test_default_follows_the_global_switch_and_explicit_false_wins(cached):
    fink, rec = cached(lambda url, body: make_response(GOOD))
    with cache_conf.set_temp("cache_active", True):
        fink.query_object("ZTF20abfcszi", output_format="json")
        fink.query_object("ZTF20abfcszi", output_format="json")
        assert len(rec.calls) == 1
        fink.query_object("ZTF20abfcszi", output_format="json", cache=False)
        assert len(rec.calls) == 2
    with cache_conf.set_temp("cache_active", False):
        fink.query_object("ZTF20abfcszi", output_format="json")
        assert len(rec.calls) == 3


def test_default_lifetime_fits_nightly_data():
    assert conf.cache_timeout <= 24 * 3600


def test_two_emulators_on_one_port_never_answer_for_each_other(tmp_path):
    """A loopback server's data may change between starts on the same URL: not cached."""
    import json

    import pandas as pd
    from astroquery.query import BaseQuery

    from astroquery_fink._http import fetch
    from astroquery_fink.testing import FinkEmulator, bundled_data_files

    [first_file] = [p for p in bundled_data_files() if "ztf20abfcszi" in str(p)]
    alerts = pd.read_parquet(first_file)
    second_file = tmp_path / "every_other_alert.parquet"
    alerts.iloc[::2].to_parquet(second_file)

    class Client(BaseQuery):
        pass

    client = Client()
    client.cache_location = tmp_path / "cache"
    payload = {"objectId": "ZTF20abfcszi", "columns": "i:candid", "output-format": "json"}

    def candids(emulator):
        rows = fetch(client, "POST", f"{emulator.url}/api/v1/objects", payload,
                     lambda r: json.loads(r.content), what="objects", cache=True, timeout=10)
        return sorted(row["i:candid"] for row in rows)

    with FinkEmulator(data=[first_file]) as first:
        url = first.url
        assert candids(first) == sorted(alerts["candid"])
    with FinkEmulator(data=[second_file], port=int(url.rsplit(":", 1)[1])) as second:
        assert second.url == url
        answer = candids(second)
    assert answer == sorted(alerts["candid"].iloc[::2]) and len(answer) == 11
    assert not list(client.cache_location.glob("*.pickle"))


@pytest.mark.parametrize("server", [
    "http://127.1:5000", "http://2130706433:5000", "http://0x7f000001:5000", "http://0:5000",
    "http://[::ffff:127.0.0.1]:5000", "http://192.0.2.2:5000", "http://10.1.2.3",
    "http://192.168.0.7:8080", "http://169.254.1.1", "http://app.localhost:5000"])
def test_a_server_on_this_machine_or_a_local_network_is_never_cached(cached, server):
    # however the address is spelled: such a server is an emulator or a tunnel whose data
    # may change between two starts on the same URL
    fink, rec = cached(lambda url, body: make_response(GOOD))
    fink.server = server
    for _ in range(2):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 2 and not list(fink.cache_location.glob("*.pickle"))


def test_an_answer_the_server_asks_not_to_store_is_not_cached(cached):
    fink, rec = cached(lambda url, body: make_response(
        GOOD, headers={"Cache-Control": "private, no-store"}))
    for _ in range(2):
        fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    assert len(rec.calls) == 2 and not list(fink.cache_location.glob("*.pickle"))


def test_the_emulators_mark_their_answers_no_store(emulator, lsst_emulator):
    # so that no cache keeps them, whatever address an emulator listens on: two emulators
    # started one after the other on one URL may hold different alerts
    import requests

    for url, body in ((f"{emulator.url}/api/v1/objects", {"objectId": "ZTF25aauurnj"}),
                      (f"{lsst_emulator.url}/api/v1/sources",
                       {"diaObjectId": "170028485706776685"})):
        answer = requests.post(url, json=body, timeout=30)
        assert answer.status_code == 200 and len(answer.json()) > 0
        assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("server", ["http://emu.example:5000", "http://localhost.:5000",
                                    "http://127.0.0.1.:5000"])
def test_a_name_resolving_to_this_machine_is_never_cached(cached, monkeypatch, server):
    # /etc/hosts may give a name to this machine: the address decides, not the spelling
    import socket

    from astroquery_fink import _http
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "emu.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    _http._name_is_global.clear()
    fink, rec = cached(lambda url, body: make_response(GOOD))
    fink.server = server
    try:
        for _ in range(2):
            fink.query_object("ZTF20abfcszi", output_format="json", cache=True)
    finally:
        _http._name_is_global.clear()
    assert len(rec.calls) == 2 and not list(fink.cache_location.glob("*.pickle"))


@pytest.fixture
def lsst_cached(lsst_recorded, tmp_path):
    return _in_tmp_cache(lsst_recorded, tmp_path)


@pytest.mark.parametrize("body", [b"Unauthorized\n", b"Error: hbase unavailable\n",
                                  b"Error: hbase unavailable\nplease retry later\n",
                                  b"status,text\n"])
def test_one_line_of_text_as_csv_is_no_answer_and_not_cached(lsst_cached, body):
    """A line of text read as a csv header (with or without rows) is not "no data", with or
    without a selection, and is never cached."""
    fink, rec = lsst_cached(lambda url, b: make_response(body, content_type="text/csv"))
    for columns in (None, ["r:psfFlux"]):
        with pytest.raises(RemoteServiceError, match="answer is not sources: its columns"):
            fink.query_object(170028485706776685, columns=columns, cache=True)
    assert len(rec.calls) == 2 and not list(fink.cache_location.glob("*.pickle"))


def test_async_twins_retry_cut_answers_and_cache_only_whole_ones(lsst_cached):
    whole = b"r:diaObjectId,r:psfFlux\n170028485706776685,1.5\n"
    answers = [make_response(whole[:-6], content_type="text/csv"),  # cut inside its last row
               make_response(b"error\n", content_type="text/csv"),
               make_response(whole, content_type="text/csv")]
    fink, rec = lsst_cached(answers)
    first = fink.query_object_async(170028485706776685, columns="r:psfFlux", cache=True)
    assert first.content == b"error\n" and len(rec.calls) == 2  # the cut one tried again
    assert not list(fink.cache_location.glob("*.pickle"))  # what a Table method refuses
    second = fink.query_object_async(170028485706776685, columns="r:psfFlux", cache=True)
    third = fink.query_object_async(170028485706776685, columns="r:psfFlux", cache=True)
    assert second.content == third.content == whole and len(rec.calls) == 3
