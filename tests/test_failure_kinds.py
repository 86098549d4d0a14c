"""Failure kinds users hit, each fixed as a kind: the right value, or an astroquery error."""
import contextlib
import io
import json
import os
import re
import socket
import threading
import time
import warnings

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
import requests
from _helpers import make_response, rows_answer
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astroquery.exceptions import (
    InputWarning,
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
    RemoteServiceError,
    TableParseError,
)

from astroquery_fink import FinkClass, FinkLSSTClass, _tables, conf
from astroquery_fink.exceptions import (
    ErrorAnswerError,
    PartialResultError,
    TruncatedAnswerError,
)


def rows_json(rows) -> bytes:
    return pd.DataFrame(rows).to_json(orient="records").encode()


def objects_server(rows, *, by_prefix=True):
    """Answers /objects from ``rows`` (prefix matching, as the server's HBase scan)."""
    def answer(url, body):
        ids = body["objectId"].split(",")
        keep = [r for r in rows if any(r["i:objectId"].startswith(i) for i in ids)]
        if "columns" in body:
            keep = [{c: r[c] for c in body["columns"].split(",") if c in r} for r in keep]
        return make_response(rows_json(keep) if keep else b"[]")
    return answer


# ------------------------------------------------------------- 2. limits are never silent

def test_prefix_covering_many_objects_cut_at_10000_rows_warns(recorded):
    rows = [{"i:objectId": f"ZTF21a{k:07d}"[:12], "i:jd": 2459000.5 + k, "i:candid": k}
            for k in range(10_000)]
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows)))
    with pytest.warns(MaxResultsWarning, match=r"ZTF21a reached the server's limit of 10000 "
                                               r"rows per requested prefix.*longer prefixes"):
        table = fink.query_object("ZTF21a", prefix=True, output_format="json")
    assert len(table) == 10_000 and table.meta["cut"] == ["ZTF21a"]


def test_object_below_the_cap_does_not_warn(recorded):
    rows = [{"i:objectId": "ZTF21aaaaaaa", "i:jd": 2459000.5 + k, "i:candid": k}
            for k in range(9_999)]
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows)))
    table = fink.query_object("ZTF21aaaaaaa", output_format="json")
    assert len(table) == 9_999 and "cut" not in table.meta


def test_more_rows_than_the_servers_limit_n_are_refused_at_once(recorded):
    # the class search's scan stops at n rows (setLimit, apps/routes/v1/ztf/latests/utils.py)
    rows = [{"i:objectId": f"ZTF21aaaaa{k:02d}", "i:jd": 2459100.5 - k, "i:candid": k,
             "v:classification": "SN candidate"} for k in range(11)]
    fink, rec = recorded(lambda url, body: make_response(rows_json(rows[:body["n"] + 1])))
    with pytest.raises(RemoteServiceError) as info:
        fink.query_class("SN candidate", n=10, output_format="json")
    assert str(info.value) == ("Fink's class search answer has 11 rows, more than its limit "
                               "n=10: the server never sends more, so the answer is refused "
                               "rather than merged")
    assert len(rec.calls) == 1  # a permanent failure: not retried
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows[:body["n"]])))
    with pytest.warns(MaxResultsWarning, match="has 10 rows, its limit n=10"):
        assert len(fink.query_class("SN candidate", n=10, output_format="json")) == 10


def test_a_cone_capped_at_n_among_several_is_named_by_its_input_index(recorded):
    def answer(url, body):  # the second position has n rows: cut; the first has fewer
        count = 2 if float(body["ra"]) == 11.0 else 1
        return make_response(rows_json([
            {"i:objectId": f"ZTF21aaaaa{k:02d}", "i:jd": 2459100.5, "i:candid": k,
             "i:ra": float(body["ra"]), "i:dec": 20.0} for k in range(count)]))

    fink, _ = recorded(answer)
    with pytest.warns(MaxResultsWarning) as caught:
        t = fink.query_region(SkyCoord([10, 11], [20, 20], unit="deg"), 5 * u.arcsec, n=2,
                              output_format="json")
    assert [str(w.message) for w in caught] == [
        "Fink's cone search answer for input_index 1 has 2 rows, its limit n=2: more rows may "
        "exist; raise n or narrow the query (e.g. a smaller radius)"]
    assert list(t["input_index"]) == [0, 1, 1]


def test_more_rows_of_one_object_than_the_servers_cap_are_refused(recorded):
    rows = [{"i:objectId": "ZTF21aaaaaaa", "i:jd": 2459000.5 + k, "i:candid": k}
            for k in range(10_001)]
    fink, rec = recorded(lambda url, body: make_response(rows_json(rows)))
    with pytest.raises(RemoteServiceError, match="has 10001 rows, more than the server's 10000 "
                                                 "rows per requested ID for ZTF21aaaaaaa:"):
        fink.query_object(["ZTF21aaaaaaa", "ZTF21aaaaaab"], output_format="json")
    assert len(rec.calls) == 1


def test_a_rubin_summary_with_two_rows_for_one_object_is_refused(lsst_recorded):
    row = {"r:diaObjectId": 313853237411037209, "r:nDiaSources": 3}
    fink, rec = lsst_recorded(lambda url, body: rows_answer([row, row], body))
    with pytest.raises(RemoteServiceError, match="has 2 rows, more than the server's 1 rows "
                                                 "per requested ID for 313853237411037209"):
        fink.get_object_summary(313853237411037209, output_format="json")
    assert len(rec.calls) == 1
    fink, _ = lsst_recorded(lambda url, body: rows_answer([row], body))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one row per object is no cut
        table = fink.get_object_summary(313853237411037209, output_format="json")
    assert list(table["r:nDiaSources"]) == [3]


def test_a_rubin_cone_search_pixel_beyond_n_rows_is_refused(lsst_recorded):
    rows = [{"r:diaObjectId": 1000 + k, "r:ra": 10.0, "r:dec": 20.0, "r:midpointMjdTai": 61000.0,
             "v:separation_degree": 0.0, "f:pixel1024": 7} for k in range(4)]
    fink, _ = lsst_recorded(lambda url, body: rows_answer(rows, body))
    with pytest.raises(RemoteServiceError, match="has 4 rows, more than the server's 3 rows per "
                                                 "scan for f:pixel1024 7:"):
        fink.query_region(SkyCoord(10, 20, unit="deg"), 1 * u.arcsec, n=3, output_format="json")


@pytest.mark.parametrize(("resolver", "reverse", "refused"), [
    ("simbad", False, False), ("ssodnet", False, False),  # Sesame; the server's own /sso
    ("tns", False, True), ("simbad", True, True)])
def test_rubin_resolvers_capped_by_nmax_refuse_more_rows_the_others_keep_them(
        lsst_recorded, resolver, reverse, refused):
    rows = [{"name": f"x{k}", "r:diaObjectId": 1000 + k} for k in range(12)]
    fink, _ = lsst_recorded(lambda url, body: rows_answer(rows, body))
    name = "313853237411037209" if reverse else "x"
    if refused:
        with pytest.raises(RemoteServiceError, match="has 12 rows, more than its limit nmax=10"):
            fink.resolve(name, resolver=resolver, reverse=reverse, nmax=10,
                         output_format="json")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "may be cut" either: nmax does not cap these
        table = fink.resolve(name, resolver=resolver, nmax=10, output_format="json")
    assert list(table["name"]) == [f"x{k}" for k in range(12)]


# ------------------------------------------------------------- 3. types from the wire

def test_json_text_stays_text_in_a_column_the_schema_does_not_know():
    table = _tables.parse_table(b'[{"d:new_code": "007"}, {"d:new_code": "010"}]', "json")
    assert list(table["d:new_code"]) == ["007", "010"]


def test_csv_text_becomes_a_number_only_when_nothing_is_lost():
    table = _tables.parse_table(b"d:code,d:count,d:x,d:version\n007,3,1.5,2026.10\n"
                                b"010,12,-2000.0,2025.09\n", "csv")
    assert list(table["d:code"]) == ["007", "010"]
    # a float would drop the version's last zero: text, as json sends it
    assert list(table["d:version"]) == ["2026.10", "2025.09"]
    assert table["d:count"].dtype == np.int64 and list(table["d:count"]) == [3, 12]
    assert list(table["d:x"]) == [1.5, -2000.0]
    # infinities as pandas writes them are floats too (parquet and VOTable keep float64)
    table = _tables.parse_table(b"d:y,d:z\n-inf,1.5\n-inf,inf\n", "csv")
    assert table["d:y"].dtype == table["d:z"].dtype == np.float64
    assert list(table["d:y"]) == [-np.inf, -np.inf] and list(table["d:z"]) == [1.5, np.inf]
    # numbers only as pandas writes them (an int's digits, a float's repr): other spellings
    # are someone's text, kept as json and parquet keep it
    for texts in (["1e5", "2e5"], ["-0", "1"], ["0.5e1"], ["-2e3", "1.5"]):
        body = ("d:t\n" + "\n".join(texts) + "\n").encode()
        assert list(_tables.parse_table(body, "csv")["d:t"]) == texts


@pytest.mark.parametrize("repeat", [1, 20_000])  # the Python reader, and pyarrow's size
def test_csv_cells_with_carriage_returns_keep_them(repeat):
    # pandas ends rows with \n and writes a \r inside a cell unquoted
    frame = pd.DataFrame({"d:t": ["a\rb", "c", "g\r"] * repeat, "i:jd": [1.5, 2.5, 3.5] * repeat})
    table = _tables.parse_table(frame.to_csv(index=False).encode(), "csv")
    assert len(table) == 3 * repeat and list(table["d:t"][:3]) == ["a\rb", "c", "g\r"]
    assert list(table["i:jd"][:3]) == [1.5, 2.5, 3.5]


@pytest.mark.parametrize("repeat", [1, 20_000])
def test_csv_cut_inside_a_quoted_cell_or_a_character_is_cut(repeat):
    body = pd.DataFrame({"i:jd": [1.5, 2.5] * repeat, "d:note": ["line\nnext", "Boötes"] * repeat
                         }).to_csv(index=False).encode()
    inside_quote = body[:body.rindex(b"line\n") + 5]
    inside_char = body[:body.rindex("ö".encode()) + 1]
    for cut in (inside_quote, inside_char):
        with pytest.raises(TruncatedAnswerError):
            _tables.parse_table(cut, "csv")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_answer_whose_length_the_server_said_is_malformed_not_cut(recorded, fmt):
    # all the bytes of its Content-Length came: the server wrote it so, and would again
    body = {"csv": b'i:jd,i:objectId,i:magpsf\n1.0,ZTF20abfcszi,18.0\n2.0,ZTF20abfcszi,"19.0\n',
            "json": b'[{"i:jd":1.0,"i:objectId":"ZTF20abfcszi"},{"i:jd":2.0,'}[fmt]
    said = {"Content-Length": str(len(body))}
    fink, rec = recorded(lambda url, b: make_response(body, headers=said))
    with pytest.raises(RemoteServiceError) as info:
        fink.query_object("ZTF20abfcszi", output_format=fmt)
    assert type(info.value) is RemoteServiceError and len(rec.calls) == 1
    assert str(info.value).endswith(
        "yet all of it came (the server said where it ends, by its length or its chunks): "
        "the objects answer at http://fink.test/api/v1/objects is malformed as written, not cut")
    # where the connection's end is the answer's end, it may have been cut: tried again
    fink, rec = recorded(lambda url, b: make_response(body))
    with conf.set_temp("max_retries", 1), pytest.raises(TruncatedAnswerError):
        fink.query_object("ZTF20abfcszi", output_format=fmt)
    assert len(rec.calls) == 2


def test_the_backoff_of_a_thousandth_retry_is_a_number():
    import random

    from astroquery_fink import _http

    with conf.set_temp("retry_base_delay", 0.5), conf.set_temp("retry_max_delay", 30):
        delays = [_http.backoff_delay(attempt, random.Random(1)) for attempt in (1, 1024, 5000)]
    assert 0 <= delays[0] <= 1.0 and all(0 <= d <= 30 for d in delays[1:])


@pytest.mark.parametrize("body", [b"Rate limit exceeded", b"Unauthorized"])
def test_a_message_without_line_end_is_no_cut_csv(body):
    with pytest.raises(RemoteServiceError, match=body.decode()) as caught:
        _tables.parse_table(body, "csv")
    assert not isinstance(caught.value, TruncatedAnswerError)
    with pytest.raises(TruncatedAnswerError):  # a cut header of Fink names is a cut
        _tables.parse_table(b"r:midpointMjdTai,r:psfF", "csv")


def test_csv_with_a_column_twice_is_refused():
    with pytest.raises(TableParseError, match="the column 'r:band' twice"):
        _tables.parse_table(b"r:diaObjectId,r:band,r:band\n1,g,r\n", "csv")


def test_batches_typed_differently_merge_into_one_type(recorded):
    answers = {  # d:new is int in one batch, only nulls in another, text in a third
        "ZTF21aaaaaaa": [{"i:objectId": "ZTF21aaaaaaa", "i:jd": 3.5, "d:new": 2**62 + 1,
                          "d:other": 1}],
        "ZTF21aaaaaab": [{"i:objectId": "ZTF21aaaaaab", "i:jd": 2.5, "d:new": None,
                          "d:other": None}],
        "ZTF21aaaaaac": [{"i:objectId": "ZTF21aaaaaac", "i:jd": 1.5, "d:new": 5,
                          "d:other": "x"}],
    }
    fink, _ = recorded(lambda url, body: make_response(json.dumps(answers[body["objectId"]])))
    with conf.set_temp("batch_size", 1):
        table = fink.query_object(list(answers), output_format="json")
    assert table["d:new"].dtype == np.int64  # never through float, despite the null batch
    assert table["d:new"][0] == 2**62 + 1 and table["d:new"].mask.tolist() == [False, True, False]
    assert table["d:other"].dtype.kind == "U" and list(table["d:other"].filled("")) == [
        "1", "", "x"]


# ------------------------------------------------------------- 4. cut and invalid answers

GOOD = [{"i:objectId": "ZTF21aaaaaaa", "i:jd": 2459000.5, "i:candid": 1, "i:magpsf": 18.5}]


def parquet_bytes(rows) -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buf)
    return buf.getvalue()


def votable_bytes(rows) -> bytes:
    from astropy.io import votable
    from astropy.table import Table

    buf = io.BytesIO()
    with pytest.warns(Warning):
        votable.writeto(votable.from_table(Table.from_pandas(pd.DataFrame(rows))), buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "votable"])
def test_body_cut_short_is_detected_in_every_format(fmt):
    whole = {"json": rows_json(GOOD * 3), "csv": pd.DataFrame(GOOD * 3).to_csv(
        index=False).encode(), "parquet": parquet_bytes(GOOD * 3),
        "votable": votable_bytes(GOOD * 3)}[fmt]
    assert len(_tables.parse_table(whole, fmt)) == 3
    # (the VOTable writer ends with a newline: without it the document is still whole)
    for cut in (len(whole) - (12 if fmt == "votable" else 1), len(whole) - 20, len(whole) // 2):
        with pytest.raises(TruncatedAnswerError):
            _tables.parse_table(whole[:cut], fmt)


def test_cut_answer_is_retried_and_the_whole_one_kept(recorded):
    whole = rows_json(GOOD)
    fink, rec = recorded([make_response(whole[:-5]), make_response(whole)])
    table = fink.query_object("ZTF21aaaaaaa", output_format="json")
    assert len(rec.calls) == 2 and table["i:magpsf"][0] == 18.5


@pytest.mark.parametrize(("body", "match"), [
    (b"{'status': 'error', 'text': 'Output format is not supported'}", "not supported"),
    (b'[{"status": "error", "text": "something failed"}]', "something failed"),
    (b"<html><head><title>502 Bad Gateway</title></head></html>", "502 Bad Gateway"),
    (b"", "empty"),
])
def test_complete_200_that_is_not_rows_fails_at_once(recorded, body, match):
    fink, rec = recorded(lambda url, b: make_response(body))
    with pytest.raises(RemoteServiceError, match=match):
        fink.query_object("ZTF21aaaaaaa", output_format="json")
    assert len(rec.calls) == 1


def test_rows_of_objects_not_asked_for_are_refused(recorded):
    stray = GOOD + [dict(GOOD[0], **{"i:objectId": "ZTF18zzzzzzz"})]
    fink, _ = recorded(lambda url, body: make_response(rows_json(stray)))
    with pytest.raises(RemoteServiceError, match="not asked for.*ZTF18zzzzzzz"):
        fink.query_object(["ZTF21aaaaaaa", "ZTF21aaaaaab"], output_format="json")


def test_csv_row_with_a_wrong_field_count_inside_is_a_parse_error():
    with pytest.raises(TableParseError, match="row 2 has 1 fields"):
        _tables.parse_table(b"i:jd,i:fid\n1.5\n2.5,1\n", "csv")


# ------------------------------------------------------------- 7. every argument checked

@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "10", None, True])
def test_bad_timeouts_are_refused_before_any_request(recorded, timeout):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match="timeout"):
        if timeout is None:
            FinkClass(timeout="soon")
        else:
            fink.query_object("ZTF21aaaaaaa", timeout=timeout)
    assert rec.calls == []


def test_a_bad_timeout_in_conf_is_named_as_the_setting(recorded):
    fink, rec = recorded([])
    with conf.set_temp("timeout", 0), pytest.raises(
            InvalidQueryError, match=r"^astroquery_fink\.conf\.timeout must be a finite number of "
            r"seconds above 0, not 0\.0$"):
        fink.query_object("ZTF21aaaaaaa")
    assert rec.calls == []


@pytest.mark.parametrize("server", ["", "   ", "api.fink.test", "ftp://x.org", 5])
def test_bad_servers_are_refused(server):
    with pytest.raises(InvalidQueryError, match="server"):
        FinkClass(server=server)


@pytest.mark.parametrize(("cls", "example"), [(FinkClass, "https://api.ztf.fink-portal.org"),
                                              (FinkLSSTClass, "https://api.lsst.fink-portal.org")])
def test_a_missing_server_is_refused_naming_the_clients_own_survey(cls, example):
    message = f"^server must be an http\\(s\\) URL such as '{re.escape(example)}', not ''$"
    with pytest.raises(InvalidQueryError, match=message):
        cls(server="")
    with pytest.raises(InvalidQueryError, match=message.replace("''", "' '")):
        cls().server = " "


@pytest.mark.parametrize("cls", [FinkClass, FinkLSSTClass])
def test_server_and_timeout_set_after_construction_are_checked_as_in_it(cls):
    client = cls()
    with pytest.raises(InvalidQueryError, match=r"^server 'api\.fink\.test' is not an http\(s\) "
                       r"URL: write it with its scheme, e\.g\. 'https://api\.fink\.test'$"):
        client.server = "api.fink.test"
    with pytest.raises(InvalidQueryError, match="timeout"):
        client.timeout = -1
    assert client.server is None and client.timeout is None  # unchanged by refused values
    client.server, client.timeout = " http://127.0.0.1:5000 ", 7
    assert client.server == "http://127.0.0.1:5000" and client.timeout == 7
    assert client._server() == "http://127.0.0.1:5000"  # where its queries go


def test_bad_cache_and_as_array_values_are_refused(recorded):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match="cache must be True or False"):
        fink.query_object("ZTF21aaaaaaa", cache="yes")
    with pytest.raises(InvalidQueryError, match="as_array must be True or False"):
        fink.get_cutouts("ZTF21aaaaaaa", as_array="yes")
    assert rec.calls == []


def test_a_scheme_less_server_in_conf_is_refused_at_call_time(recorded):
    fink = FinkClass()
    with conf.set_temp("server", "api.fink.test"), \
            pytest.raises(InvalidQueryError, match="https://api.fink.test"):
        fink.query_object("ZTF21aaaaaaa")


# ------------------------------------------------------------- 8. duplicates, 10. missing IDs

def test_overlapping_prefixes_give_each_row_once_without_the_row_key(recorded):
    rows = [{"i:objectId": f"ZTF21aab{c}aaaa", "i:jd": 2459000.5 + k, "i:magpsf": 18.0 + k}
            for k, c in enumerate("abc")]
    fink, rec = recorded(objects_server(rows))
    with conf.set_temp("batch_size", 1):
        table = fink.query_object(["ZTF21aab", "ZTF21aa", "ZTF21aabb"], prefix=True,
                                  columns=["i:magpsf"], output_format="json")
    assert [c[2]["json"]["objectId"] for c in rec.calls] == ["ZTF21aa"]  # the others covered
    assert table.colnames == ["i:magpsf"] and sorted(table["i:magpsf"]) == [18.0, 19.0, 20.0]


def test_objects_without_rows_are_named(recorded):
    rows = [dict(GOOD[0], **{"i:objectId": oid}) for oid in ("ZTF21aaaaaaa", "ZTF21aaaaaac")]
    fink, _ = recorded(objects_server(rows))
    with pytest.warns(NoResultsWarning, match=r"1 of 3 requested objects returned no alerts: "
                                              r"ZTF21aaaaaab"):
        table = fink.query_object(["ZTF21aaaaaaa", "ZTF21aaaaaab", "ZTF21aaaaaac"],
                                  columns=["i:jd"], output_format="json")
    assert table.meta["missing_ids"] == ["ZTF21aaaaaab"] and table.colnames == ["i:jd"]


# ------------------------------------------------------------- 1. Ctrl-C reaches the caller

def test_ctrl_c_during_many_batches_reaches_the_caller_promptly(recorded):
    started = threading.Event()

    def slow(url, body):
        started.set()
        time.sleep(3)  # a slow server (this thread stands for it): never waited for
        return make_response(b"[]")

    fink, _ = recorded(slow)

    def interrupt():
        started.wait(10)
        import _thread
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    begin = time.monotonic()
    with conf.set_temp("batch_size", 1), pytest.raises(KeyboardInterrupt):
        fink.query_object([f"ZTF21aaaaaa{c}" for c in "abcdefgh"], output_format="json")
    assert time.monotonic() - begin < 2.0


def test_ctrl_c_stops_the_requests_under_way():
    # A server that accepts and never answers: after Ctrl-C the worker threads must end at
    # once (their sockets shut down), or the interpreter would wait for them at exit.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted, two_in = [], threading.Event()

    def accept():
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])
                if len(accepted) >= 2:
                    two_in.set()

    threading.Thread(target=accept, daemon=True).start()

    def interrupt():
        two_in.wait(10)
        import _thread
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    fink = FinkClass(server=f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=60)
    before = set(threading.enumerate())
    try:
        with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 2), \
                pytest.raises(KeyboardInterrupt):
            fink.query_object([f"ZTF21aaaaaa{c}" for c in "abcdefgh"], output_format="json")
        workers = [t for t in set(threading.enumerate()) - before
                   if t.name.startswith("fink-batch")]
        for thread in workers:
            thread.join(timeout=5)
        assert len(accepted) == 2 and not any(t.is_alive() for t in workers)
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


def test_partial_failures_keep_the_rows_and_name_the_ids(recorded):
    def answer(url, body):
        if body["objectId"] == "ZTF21aaaaaab":
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        return make_response(rows_json([dict(GOOD[0], **{"i:objectId": body["objectId"]})]))

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_retries", 0), \
            pytest.raises(PartialResultError) as info:
        fink.query_object(["ZTF21aaaaaaa", "ZTF21aaaaaab"], output_format="json")
    assert info.value.failed_ids == ["ZTF21aaaaaab"]
    assert list(info.value.table["i:objectId"]) == ["ZTF21aaaaaaa"]
    assert info.value.table.meta["failed_ids"] == ["ZTF21aaaaaab"]  # kept in written files


def test_partial_cone_searches_name_the_positions_that_failed(recorded):
    # several positions: one request each, no IDs; a failed one must be told from an empty one
    def answer(url, body):
        if body["ra"] == 30.0:
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        if body["ra"] == 10.0:
            return make_response(rows_json([{"i:objectId": "ZTF21abcdefg", "i:jd": 2459538.5,
                                             "i:ra": 10.0, "i:dec": 20.0,
                                             "v:separation_degree": 0.0}]))
        return make_response(b"[]")

    fink, _ = recorded(answer)
    positions = SkyCoord([10, 20, 30, 40], [20, 20, 20, 20], unit="deg")
    with conf.set_temp("max_retries", 0), pytest.raises(PartialResultError) as info:
        fink.query_region(positions, 5 * u.arcsec, output_format="json")
    assert info.value.failed_ids == [2] and list(info.value.errors) == [2]
    assert "1 of 4 positions could not be fetched" in str(info.value)
    assert "their input_index values are in .failed_ids" in str(info.value)
    table = info.value.table
    assert list(table["input_index"]) == [0] and table.meta["failed_ids"] == [2]


def test_the_servers_nan_text_is_a_missing_value_in_text_and_flag_columns():
    # pandas astype(str) of a null, as both Fink servers cast their HBase cells
    table = _tables.parse_table(
        b'[{"d:cdsxmatch": "Star", "d:roid": 1, "d:from_upper": "nan"},'
        b' {"d:cdsxmatch": "nan", "d:roid": 2, "d:from_upper": true}]', "json")
    assert table["d:cdsxmatch"].mask.tolist() == [False, True]
    assert table["d:from_upper"].dtype == bool
    assert table["d:from_upper"].mask.tolist() == [True, False]
    assert table["d:from_upper"][1]


def test_a_selection_of_unknown_names_is_not_reported_as_an_object_without_alerts(recorded):
    # the server ignores unknown names: the rows carry only what the client asked for itself
    def answer(url, body):
        assert body["columns"] == "i:magpsff,i:objectId,i:jd"
        return make_response(rows_json([{"i:objectId": "ZTF21aaaaaaa"}] * 3))

    fink, _ = recorded(answer)
    with pytest.warns(InputWarning), pytest.warns(
            NoResultsWarning, match=r"rows for this objects query but none of the selected "
                                    r"columns \(i:magpsff\)"):
        table = fink.query_object("ZTF21aaaaaaa", columns=["i:magpsff"], output_format="json")
    assert table.colnames == ["i:magpsff"] and len(table) == 0
    assert table.meta["missing_ids"] == []


def test_a_name_that_cannot_be_looked_up_fails_at_once_with_the_offline_way(recorded):
    import requests
    import urllib3

    err = requests.ConnectionError(urllib3.exceptions.NameResolutionError(
        "api.fink.test", None, "Temporary failure in name resolution"))
    fink, rec = recorded(lambda url, body: err)
    with pytest.raises(RemoteServiceError, match="no network.*FinkEmulator"):
        fink.query_object("ZTF21aaaaaaa", output_format="json")
    assert len(rec.calls) == 1


# ------------------------------------------------------------- 4. cut cutouts, not stamps

def _stamp_fits(shape=(63, 63)) -> bytes:
    buffer = io.BytesIO()
    from astropy.io import fits
    fits.PrimaryHDU(np.arange(np.prod(shape), dtype=np.float32).reshape(shape)).writeto(buffer)
    return buffer.getvalue()


_ALERT = rows_json([{"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5, "i:candid": 5,
                     "i:ra": 1.0, "i:dec": 2.0}])


def _stamp_server(stamp: bytes):
    """Answers the alert's row on /objects and ``stamp`` on /cutouts."""
    return lambda url, body: make_response(
        _ALERT if url.endswith("/objects") else stamp, content_type="application/octet-stream")


@pytest.mark.parametrize("cut", [2880, 3000, 4000])
def test_a_cutout_cut_short_is_retried_then_reported_as_cut(recorded, cut):
    whole = _stamp_fits()
    fink, rec = recorded(_stamp_server(whole[:-cut]))
    with conf.set_temp("max_retries", 2), \
            pytest.raises(TruncatedAnswerError, match="cutout was cut short"):
        fink.get_cutouts("ZTF20abfcszi", kind="Science", cache=False)
    assert [url.rsplit("/", 1)[-1] for _, url, _ in rec.calls] == ["objects"] + ["cutouts"] * 3
    fink, _ = recorded(_stamp_server(whole))
    hdul = fink.get_cutouts("ZTF20abfcszi", kind="Science")
    assert hdul["SCIENCE"].data[62, 62] == 63 * 63 - 1 and hdul[0].header["CANDID"] == 5


@pytest.mark.parametrize("cut", [1, 100, 1404])
def test_a_cutout_without_its_last_padding_is_complete(recorded, cut):
    # 63 x 63 float32 pixels end 1,404 bytes before the 2,880-byte block does: a file
    # missing only (some of) that padding has every pixel
    whole = _stamp_fits()
    fink, _ = recorded(_stamp_server(whole[:-cut]))
    hdul = fink.get_cutouts("ZTF20abfcszi", kind="Science")
    assert hdul["SCIENCE"].data.tolist() == np.arange(63 * 63).reshape(63, 63).tolist()


def test_cutouts_read_in_threads_leave_the_warnings_filters_alone(recorded):
    from concurrent.futures import ThreadPoolExecutor
    whole = _stamp_fits()
    fink, _ = recorded(_stamp_server(whole))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: fink.get_cutouts("ZTF20abfcszi", kind="Science"), range(64)))
    # the filter that makes astropy's "truncated" warning an error, set while a stamp is
    # read, never outlives the reads
    assert not [f for f in warnings.filters if f[0] == "error" and f[1] is not None
                and "truncated" in f[1].pattern]


def test_a_rubin_cutout_cut_short_is_reported_as_cut(lsst_recorded):
    fink, _ = lsst_recorded(lambda url, body: make_response(
        _stamp_fits()[:-3000], content_type="application/octet-stream"))
    with conf.set_temp("max_retries", 0), \
            pytest.raises(TruncatedAnswerError, match="cutout was cut short"):
        fink.get_cutouts(170028485706776685, kind="Science")


@pytest.mark.parametrize(("stamp", "words"), [
    (5, "no 2-D image for b:cutoutScience_stampData"),
    ([], "no 2-D image for b:cutoutScience_stampData"),
    ([1.0, 2.0], "no 2-D image for b:cutoutScience_stampData"),
    ([[[1.0]]], "no 2-D image for b:cutoutScience_stampData"),
    ("text", "holds no numbers for b:cutoutScience_stampData"),
    ([["1", "2"], ["3", "4"]], "holds no numbers for b:cutoutScience_stampData"),
    ([[True, False], [False, True]], "holds no numbers for b:cutoutScience_stampData"),
    ([[1e39, 1.0], [1.0, 1.0]], "values beyond float32"),
])
def test_an_array_stamp_that_is_no_image_is_refused(recorded, stamp, words):
    answer = json.dumps({"b:cutoutScience_stampData": stamp}).encode()
    fink, _ = recorded(lambda url, body: make_response(
        _ALERT if url.endswith("/objects") else answer))
    with pytest.raises(RemoteServiceError, match=words):
        fink.get_cutouts("ZTF20abfcszi", kind="Science", as_array=True)


def test_null_pixels_of_an_array_stamp_are_nan(recorded):
    answer = json.dumps({"b:cutoutScience_stampData": [[1.5, None], [2, 3]]}).encode()
    fink, _ = recorded(lambda url, body: make_response(
        _ALERT if url.endswith("/objects") else answer))
    image = fink.get_cutouts("ZTF20abfcszi", kind="Science", as_array=True)
    assert image.dtype == np.float32
    assert np.array_equal(image, [[1.5, np.nan], [2, 3]], equal_nan=True)


@pytest.mark.parametrize("shape", [None, (2, 63, 63), (0, 63)])
def test_a_fits_stamp_without_an_image_is_refused(recorded, shape):
    from astropy.io import fits
    buffer = io.BytesIO()
    data = None if shape is None else np.zeros(shape, dtype=np.float32)
    fits.PrimaryHDU(data).writeto(buffer)
    fink, rec = recorded(_stamp_server(buffer.getvalue()))
    with pytest.raises(RemoteServiceError, match=rf"cutout holds no 2-D image \(its data: "
                       rf"{re.escape(str(shape))}\)"):
        fink.get_cutouts("ZTF20abfcszi", kind="Science")
    assert len(rec.calls) == 2  # a wrong answer is not tried again


@pytest.mark.parametrize("position", [{}, {"i:ra": None, "i:dec": None}])
def test_a_position_the_alert_lacks_is_not_written_as_zero(recorded, position):
    row = {"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5, "i:candid": 5, **position}
    stamp = _stamp_fits()
    fink, _ = recorded(lambda url, body: make_response(
        rows_json([row]) if url.endswith("/objects") else stamp,
        content_type="application/octet-stream"))
    header = fink.get_cutouts("ZTF20abfcszi", kind="Science")[0].header
    assert header["CANDID"] == 5 and header["JD"] == 2459000.5
    assert "RA" not in header and "DEC" not in header


def test_alerts_without_their_candid_are_an_unusable_answer(recorded):
    fink, _ = recorded(lambda url, body: make_response(
        rows_json([{"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5}])))
    with pytest.raises(RemoteServiceError, match="ZTF20abfcszi lack i:candid"):
        fink.get_cutouts("ZTF20abfcszi")


# ------------------------------------------------- 7. every argument checked, in our family

_QUANTITY = 5 * u.kg
_ARRAY = np.array([1, 2])


def _far_time():
    return Time(1e12, format="jd")


_BAD_CALLS = {
    "ZTF IDs as a scalar Quantity": (
        "ztf", lambda f: f.query_object(_QUANTITY), "object_id must be a ZTF object name"),
    "columns as a scalar Quantity": (
        "ztf", lambda f: f.query_object("ZTF21aaxtctv", columns=_QUANTITY),
        "columns must be names"),
    "SSO names as a scalar Quantity": (
        "ztf", lambda f: f.query_sso(_QUANTITY), "n_or_d must be an SSO number"),
    "Rubin IDs as a scalar Quantity": (
        "lsst", lambda f: f.query_object(_QUANTITY), "diaObjectId must be an integer ID"),
    "a Rubin source as a scalar Quantity": (
        "lsst", lambda f: f.get_cutouts(_QUANTITY), "diaSourceId must be an integer ID"),
    "a date beyond year 9999": (
        "ztf", lambda f: f.query_class("SN candidate", startdate=_far_time()),
        "startdate=.* is not a date of years 1000 to 9999"),
    "a date before year 1000": (
        "ztf", lambda f: f.query_anomaly(start_date=Time(100, format="jd")),
        "start_date=.* is not a date of years 1000 to 9999"),
    "a Rubin time out of erfa's range": (
        "lsst", lambda f: f.query_object(170028485706776685, midpointMjdTai=_far_time()),
        "midpointMjdTai: ERFA"),
    "an array as trend": (
        "ztf", lambda f: f.query_class("SN candidate", trend=_ARRAY), "trend=array.* is unknown"),
    "an array as ssocand kind": (
        "ztf", lambda f: f.query_ssocand(_ARRAY), "kind=array.* is unknown"),
    "an array as flavor": (
        "ztf", lambda f: f.get_ssoft(flavor=_ARRAY), "flavor=array.* is unknown"),
    "an array as resolver": (
        "lsst", lambda f: f.resolve("M31", resolver=_ARRAY), "resolver=array.* is unknown"),
    "a path with a NUL as sky map": (
        "ztf", lambda f: f.query_skymap(bayestar="a\x00b", credible_level=0.5),
        "Cannot read the sky map"),
    "no path for the bulk file": ("ztf", lambda f: f.download_ssobulk(None), "file path"),
    "a bulk file in a missing folder": (
        "ztf", lambda f: f.download_ssobulk("/no/such/folder/sso.parquet"),
        "the folder '/no/such/folder' does not exist"),
    "an empty SkyCoord": (
        "ztf", lambda f: f.query_region(SkyCoord([], [], unit="deg"), 5 * u.arcsec),
        "No sky position given"),
    "an array as get_query_payload": (
        "ztf", lambda f: f.query_region("10 20", 5 * u.arcsec, get_query_payload=_ARRAY),
        "get_query_payload must be True or False"),
    "a Quantity as get_query_payload of a twin": (
        "ztf", lambda f: f.query_class_async("SN candidate", get_query_payload=_QUANTITY),
        "get_query_payload must be True or False"),
    "an array as get_query_payload with fetch_all": (
        "ztf", lambda f: f.query_class("SN candidate", fetch_all=True,
                                       get_query_payload=_ARRAY),
        "get_query_payload must be True or False"),
    "a bad timeout with get_query_payload": (
        "ztf", lambda f: f.query_region("10 20", 5 * u.arcsec, timeout=-1,
                                        get_query_payload=True), "timeout must be"),
    "a bad cache with get_query_payload": (
        "lsst", lambda f: f.query_object(170028485706776685, cache="x", get_query_payload=True),
        "cache must be True or False"),
    "a bad progress with get_query_payload": (
        "ztf", lambda f: f.query_object("ZTF21aaxtctv", progress="x", get_query_payload=True),
        "progress must be True or False"),
    "a timeout beyond any float": (
        "ztf", lambda f: f.get_schema(timeout=10**400), "finite number of seconds"),
    "a bulk file name too long for the file system": (
        "ztf", lambda f: f.download_ssobulk("a" * 300), "cannot be a file: File name too long"),
}


@pytest.mark.parametrize("case", list(_BAD_CALLS))
def test_bad_arguments_are_refused_before_any_request(recorded, lsst_recorded, case):
    survey, call, message = _BAD_CALLS[case]
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)([])
    with pytest.raises(InvalidQueryError, match=message):
        call(fink)
    assert rec.calls == []


def test_a_huge_whole_number_of_days_is_a_number_not_a_crash(recorded):
    fink, _ = recorded([])
    with pytest.warns(InputWarning, match="n_day_before=1.18059e"):
        body = fink.query_skymap("S200219ac", credible_level=0.5, n_day_before=2**70,
                                 get_query_payload=True)
    assert body["n_day_before"] == float(2**70)


@pytest.mark.parametrize("server, message", [
    ("http://[::1", r"not a valid URL \(Invalid IPv6 URL\)"),
    ("http://fink.test:99999", "not a valid URL"),
    ("http://127.0.0.1:1/?x=1#f", "without a query"),
    ("https://api.ztf.fink-portal.org/#top", "without a query"),
    # an address copied from a request: the client adds /api/v1/<endpoint> itself
    ("https://api.ztf.fink-portal.org/api/v1", "without '/api/v1': .* give "
     "'https://api.ztf.fink-portal.org'"),
    ("http://127.0.0.1:5000/fink/api/v1/objects/", "without '/api/v1/objects/': .* give "
     "'http://127.0.0.1:5000/fink'"),
])
def test_a_malformed_server_url_is_refused_in_our_family(server, message):
    with pytest.raises(InvalidQueryError, match=message):
        FinkClass(server=server)
    with conf.set_temp("server", server), pytest.raises(InvalidQueryError, match=message):
        FinkClass().query_object("ZTF21aaxtctv")


# ------------------------------------- 3. one type per column, whatever the batches' sizes

@pytest.mark.parametrize("value", [2**60 + 1, True, "007"])
@pytest.mark.parametrize("sizes", [(250, 5), (250, 250), (5, 250), (5, 5)])
def test_an_unknown_column_keeps_its_type_whatever_the_batches(recorded, value, sizes):
    # a large answer is typed as it arrives: a column the schema does not know, all null
    # in one answer, must not become float (or text) before the others are seen
    def answer(url, body):
        oid = body["objectId"]
        n, cell = (sizes[0], None) if oid.endswith("a") else (sizes[1], value)
        return make_response(json.dumps([
            {"i:objectId": oid, "i:jd": 2459000.5 + k + (cell is None) / 2, "x:foo": cell}
            for k in range(n)]).encode())

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1):
        table = fink.query_object(["ZTF20aaaaaaa", "ZTF20aaaaaab"], output_format="json")
    column = table["x:foo"]
    assert len(table) == sum(sizes) and column.mask.sum() == sizes[0]
    assert column.dtype.kind == {int: "i", bool: "b", str: "U"}[type(value)]
    assert column.compressed().tolist() == [value] * sizes[1]


@pytest.mark.parametrize("fmt", ["parquet", "votable"])
@pytest.mark.parametrize("value", [2**60 + 1, True])
def test_a_batch_with_only_nulls_in_an_unknown_column_gives_it_no_type(recorded, fmt, value):
    # pandas writes a column of nulls as float: that answer must not make the others' 64-bit
    # integers float, nor their flags text
    bodies = {}
    for oid in ("ZTF20aaaaaaa", "ZTF20aaaaaab"):
        cell = np.nan if oid.endswith("a") else value
        rows = [{"i:objectId": oid, "i:jd": 2459000.5 + oid.endswith("a"), "i:candid": 7,
                 "x:foo": cell}]
        bodies[oid] = parquet_bytes(rows) if fmt == "parquet" else votable_bytes(rows)
    fink, _ = recorded(lambda url, body: make_response(
        bodies[body["objectId"]], content_type="application/octet-stream"))
    with conf.set_temp("batch_size", 1):
        table = fink.query_object(["ZTF20aaaaaaa", "ZTF20aaaaaab"], output_format=fmt)
    column = table["x:foo"]
    assert column.dtype.kind == {int: "i", bool: "b"}[type(value)]
    assert column.mask.tolist() == [True, False] and column[1] == value


@pytest.mark.parametrize("fmt", [None, "json"])
def test_an_unknown_rubin_column_keeps_its_64_bit_integers(lsst_recorded, fmt):
    def answer(url, body):
        oid = int(body["diaObjectId"])
        n, cell = (300, None) if oid == 1 else (3, 2**62 + 7)
        return rows_answer([
            {"r:diaObjectId": oid, "r:midpointMjdTai": 61000.0 + k, "r:newThing": cell}
            for k in range(n)], body)

    fink, _ = lsst_recorded(answer)
    with conf.set_temp("batch_size", 1):
        table = fink.query_object([1, 2], output_format=fmt)
    assert table["r:newThing"].dtype == np.int64
    assert table["r:newThing"].compressed().tolist() == [2**62 + 7] * 3


# ------------------------------------------ 7. statistics the server got wrong, in our family

def test_statistics_of_a_night_that_is_no_date_are_a_parse_error(recorded):
    body = b'[{"key:key": "ztf_20211399", "basic:sci": "3"}, {"key:key": "ztf_20211120"}]'
    fink, _ = recorded(lambda url, payload: make_response(body))
    with pytest.raises(TableParseError, match="nights that are not dates: ztf_20211399$"):
        fink.get_statistics("2021", output_format="json")


def test_a_counter_beyond_64_bits_is_a_float_not_an_overflow(recorded):
    body = (b'[{"key:key": "ztf_20210101", "basic:sci": "99999999999999999999"},'
            b' {"key:key": "ztf_20210102", "basic:sci": "12"}]')
    fink, _ = recorded(lambda url, payload: make_response(body))
    table = fink.get_statistics("2021", output_format="json")
    assert table["basic:sci"].dtype == float
    assert table["basic:sci"].tolist() == [1e20, 12.0]
    assert table["time"].iso.tolist() == ["2021-01-01 00:00:00.000", "2021-01-02 00:00:00.000"]


# ------------------------------------------------ 4. cut and invalid answers, more shapes

@pytest.mark.parametrize("body", [b'[{"status": "error", "text": "boom"}]\n',
                                  b"Internal error happened\n",
                                  b"Service temporarily down, retry later\n",
                                  b"Service temporarily down\nretry later\n"])
def test_a_csv_answer_that_is_no_table_fails_at_once(recorded, body):
    fink, rec = recorded(lambda url, payload: make_response(body, content_type="text/csv"))
    with pytest.raises(RemoteServiceError, match="not csv"):
        fink.query_object("ZTF20abfcszi", output_format="csv")
    assert len(rec.calls) == 1


def test_a_csv_table_with_fink_names_is_read(recorded):
    body = b"i:objectId,class:SN candidate\nZTF20abfcszi,3\n"
    fink, _ = recorded(lambda url, payload: make_response(body, content_type="text/csv"))
    table = fink.query_object("ZTF20abfcszi", output_format="csv")
    assert table.colnames == ["i:objectId", "class:SN candidate"] and len(table) == 1


@pytest.mark.parametrize("body", [
    b'[{"i:objectId":"ZTF20abfcszi","i:jd":1.5,"b:stamp":[[1.0,2.0],[3.0,4.0]]',
    b'[{"i:objectId":"ZTF20abfcszi","i:jd":1.5},{"i:objectId":"ZTF20abfcszi"',
    '[{"i:objectId":"ZTF20abfcszi","v:constellation":"Boötes","x":[1'.encode(),
])
def test_json_cut_after_an_inner_bracket_is_seen_as_cut(recorded, body):
    fink, rec = recorded(lambda url, payload: make_response(body))
    with conf.set_temp("max_retries", 2), \
            pytest.raises(TruncatedAnswerError, match="stops before its end"):
        fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(rec.calls) == 3


def test_json_with_extra_data_is_wrong_not_cut(recorded):
    fink, rec = recorded(lambda url, payload: make_response(
        b'[{"i:objectId":"ZTF20abfcszi","i:jd":1.5}] and more'))
    with pytest.raises(RemoteServiceError, match="not JSON rows") as info:
        fink.query_object("ZTF20abfcszi", output_format="json")
    assert not isinstance(info.value, TruncatedAnswerError) and len(rec.calls) == 1


# ---------------------------------- 2, 8, 10. names whose rows do not say which name they are

_SSO_ROWS = [{"i:objectId": "ZTF20aaaaaaa", "i:jd": 2459000.5 + k, "i:ssnamenr": "8467",
              "i:magpsf": 18.0 + k} for k in range(3)]


def _sso_server(rows, empty=()):
    def answer(url, body):
        if body["n_or_d"] in empty:
            return make_response(b"[]")
        wanted = body.get("columns")
        keep = [{c: r[c] for c in wanted.split(",") if c in r} if wanted else r for r in rows]
        return make_response(rows_json(keep))
    return answer


@pytest.mark.parametrize("columns", [None, ["i:magpsf"]])
def test_two_names_of_one_object_give_its_rows_once(recorded, columns):
    fink, rec = recorded(_sso_server(_SSO_ROWS))
    with conf.set_temp("batch_size", 1):
        table = fink.query_sso(["8467", "Benoitcarry"], columns=columns, output_format="json")
    assert len(rec.calls) == 2 and sorted(table["i:magpsf"]) == [18.0, 19.0, 20.0]
    # the row key rides along for the client and is dropped; the server's i:ssnamenr stays
    assert set(table.colnames) >= {"i:magpsf", "i:ssnamenr"}
    if columns:
        assert table.colnames == ["i:magpsf", "i:ssnamenr"]
        assert rec.calls[0][2]["json"]["columns"] == "i:magpsf,i:ssnamenr,i:objectId,i:jd"


def test_rubin_names_of_one_object_give_its_rows_once(lsst_recorded):
    rows = [{"r:diaSourceId": 10 + k, "r:midpointMjdTai": 61000.0 + k, "r:psfFlux": 5.0 + k,
             "r:packed_primary_provisional_designation": "K04J12Q"} for k in range(3)]

    def answer(url, body):
        wanted = body["columns"].split(",")
        return rows_answer([{c: r[c] for c in wanted} for r in rows], body)

    fink, rec = lsst_recorded(answer)
    with conf.set_temp("batch_size", 1):
        table = fink.query_sso(["2004 JQ12", "K04J12Q"], columns=["r:psfFlux"])
    assert len(rec.calls) == 2 and table.colnames == ["r:psfFlux"]
    assert sorted(table["r:psfFlux"]) == [5.0, 6.0, 7.0]


def _sso_rows(*names):
    return [{"r:diaSourceId": 10 + k, "r:midpointMjdTai": 61000.0 + k, "r:psfFlux": 5.0,
             "r:packed_primary_provisional_designation": "K02A03B", "f:sso_name": name}
            for k, name in enumerate(names)]


def test_rubin_rows_of_several_solar_system_objects_are_refused(lsst_recorded):
    # the server names every row of one request by the one object quaero resolved
    rows = _sso_rows("2002 AB3", "2002 AB3", "Ceres")
    fink, _ = lsst_recorded(lambda url, body: rows_answer(rows, body))
    with pytest.raises(RemoteServiceError, match="holds 1 of its 3 rows not of the one object "
                       "f:sso_name '2002 AB3'"):
        fink.query_sso("K04J12Q")


def test_rubin_rows_under_the_primary_of_a_secondary_designation_asked_are_kept(lsst_recorded):
    # quaero gives all the object's packed designations; its rows carry the primary one
    fink, _ = lsst_recorded(lambda url, body: rows_answer(_sso_rows("2002 AB3", "2002 AB3"),
                                                          body))
    table = fink.query_sso("K04J12Q")
    assert table["r:packed_primary_provisional_designation"].tolist() == ["K02A03B"] * 2
    assert table["r:diaSourceId"].tolist() == [11, 10]


def test_a_name_without_rows_is_named(recorded):
    fink, _ = recorded(_sso_server(_SSO_ROWS, empty=("zzz",)))
    with conf.set_temp("batch_size", 1), \
            pytest.warns(NoResultsWarning, match="1 of 2 requested objects returned no alerts: "
                                                 "zzz"):
        table = fink.query_sso(["8467", "zzz"], output_format="json")
    assert table.meta["missing_ids"] == ["zzz"] and len(table) == 3


def test_a_name_whose_request_failed_is_named(recorded):
    def answer(url, body):
        if body["n_or_d"] == "zzz":
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        return _sso_server(_SSO_ROWS)(url, body)

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_retries", 0), \
            pytest.raises(PartialResultError) as info:
        fink.query_sso(["8467", "zzz"], output_format="json")
    assert info.value.failed_ids == ["zzz"] and len(info.value.table) == 3


@pytest.mark.parametrize(("call", "scan"), [
    (lambda f: f.query_sso("8467", output_format="json"), "8467"),
    (lambda f: f.query_tracklet(date="2021-01-01", output_format="json"), "the tracklet query"),
])
def test_a_scan_cut_at_10000_rows_warns(recorded, call, scan):
    rows = [{"i:objectId": "ZTF20aaaaaaa", "i:jd": 2459000.5 + k, "i:ssnamenr": "8467"}
            for k in range(10_000)]
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows)))
    with pytest.warns(MaxResultsWarning, match=f"^{scan} reached the server's limit of 10000 "
                                               "rows per scan"):
        assert len(call(fink)) == 10_000


def test_a_rubin_sso_scan_cut_at_10000_rows_warns(lsst_recorded):
    rows = [{"r:diaSourceId": k + 1, "r:midpointMjdTai": 61000.0 + k,
             "r:packed_primary_provisional_designation": "K04J12Q"} for k in range(10_000)]
    fink, _ = lsst_recorded(lambda url, body: rows_answer(rows, body))
    with pytest.warns(MaxResultsWarning, match="^K04J12Q reached the server's limit of 10000"):
        fink.query_sso("8467")


def test_missing_ids_are_named_also_when_the_columns_match_nothing(recorded):
    def answer(url, body):
        if body["objectId"].endswith("b"):
            return make_response(b"[]")
        return make_response(rows_json([{"i:objectId": "ZTF20aaaaaaa", "i:jd": 1.5}]))

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1), pytest.warns(NoResultsWarning) as caught, \
            pytest.warns(InputWarning, match="'i:nosuch' is not in the Fink schema"):
        table = fink.query_object(["ZTF20aaaaaaa", "ZTF20aaaaaab"], columns=["i:nosuch"],
                                  output_format="json")
    said = [str(w.message) for w in caught if w.category is NoResultsWarning]
    assert any("none of the selected columns (i:nosuch)" in m for m in said)
    assert any(m.startswith("1 of 2 requested objects returned no alerts: ZTF20aaaaaab")
               for m in said)
    assert table.meta["missing_ids"] == ["ZTF20aaaaaab"]


def test_an_sso_selection_matching_nothing_is_said_over_the_servers_own_columns(
        emulator, lsst_emulator):
    # the server adds its own columns (i:ssnamenr, sso_name, ...) to every selection: the
    # rows are not empty, yet none of the names asked for came
    cases = ((FinkClass(server=emulator.url), 4371, "i:magpsff", "solar system objects",
              ["i:ssnamenr", "sso_name", "sso_number"]),
             (FinkLSSTClass(server=lsst_emulator.url), "2004 JQ12", "r:psfFluxx",
              "Solar System objects", ["f:sso_name"]))
    for fink, name, wrong, what, kept in cases:
        with pytest.warns(NoResultsWarning) as caught, pytest.warns(InputWarning):
            table = fink.query_sso(name, columns=[wrong], output_format="json")
        said = [str(w.message) for w in caught if w.category is NoResultsWarning]
        assert said == [f"Fink has rows for this {what} query but none of the selected "
                        f"columns ({wrong}): the server ignores names it does not know; check "
                        "them (get_schema lists the columns) or leave columns out"]
        assert len(table) >= 1 and sorted(table.colnames) == kept


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_an_unknown_column_signed_in_one_batch_and_unsigned_in_another_merges(
        recorded, output_format):
    top = 2**64 - 1
    cells = {"ZTF20aaaaaaa": 7, "ZTF20aaaaaab": top}  # ints, then one beyond int64

    def answer(url, body):
        oid = body["objectId"]
        if output_format == "json":
            return make_response(rows_json([{"i:objectId": oid, "i:jd": 1.5,
                                             "x:flags": cells[oid]}]))
        return make_response(f"i:objectId,i:jd,x:flags\n{oid},1.5,{cells[oid]}\n".encode(),
                             content_type="application/csv")

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1):  # a column of the server's newer than our schema
        table = fink.query_object(list(cells), output_format=output_format)
    assert table["x:flags"].dtype == np.uint64
    assert dict(zip(table["i:objectId"], map(int, table["x:flags"]), strict=True)) == cells


@pytest.mark.parametrize("count", [9_999, 10_000, 12_000])
def test_a_ztf_sky_map_answer_as_large_as_a_pixel_scan_is_said_maybe_cut(recorded, count):
    # each pixel's scan stops at 10,000 alerts, then one row per object is kept; the rows
    # do not say their pixel: 10,000 rows or more may hide a cut pixel, and are not refused
    rows = [{"i:objectId": f"ZTF20a{k:06d}", "i:jd": 2458898.5 + k * 1e-5, "i:candid": k,
             "v:jdstartgw": 2458898.3} for k in range(count)]
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = fink.query_skymap("S200219ac", credible_level=0.2, output_format="json")
    said = [str(w.message) for w in caught if w.category is MaxResultsWarning]
    assert len(table) == count
    assert said == ([] if count < 10_000 else [
        f"Fink's sky map search answer has {count} rows, as many as the server's limit of "
        "10000 rows per scan, and its rows do not say their scan: one may have been cut. "
        "Narrow the query, or use Fink's Data Transfer service for complete data"])
    assert table.meta.get("cut", []) == ([] if count < 10_000 else ["10000 rows per scan"])


def test_the_cap_warning_of_an_id_reads_as_a_sentence(recorded):
    rows = [{"i:objectId": "ZTF21aaaaaaa", "i:jd": 2459000.5 + k, "i:candid": k}
            for k in range(10_000)]
    fink, _ = recorded(lambda url, body: make_response(rows_json(rows)))
    with pytest.warns(MaxResultsWarning) as caught:
        fink.query_object("ZTF21aaaaaaa", output_format="json")
    assert str(caught[0].message).endswith(
        "only the oldest rows came back. Use Fink's Data Transfer service for complete "
        "histories")


# ------------------------------------------- 2. Rubin caps counted per HEALPix pixel scan

def _pixel_rows(per_pixel: dict, body: dict):
    rows, k = [], 0
    for pixel, n in per_pixel.items():
        for _ in range(n):
            k += 1
            rows.append({"r:diaObjectId": 170000000000000000 + k, "r:ra": 10.0, "r:dec": 20.0,
                         "r:midpointMjdTai": 61000.0 + k, "f:pixel1024": pixel,
                         "v:separation_degree": 0.001 * k})
    return rows_answer(rows, body)


def test_a_rubin_cone_pixel_with_n_rows_was_cut(lsst_recorded):
    fink, rec = lsst_recorded(lambda url, body: _pixel_rows({7: 3, 8: 2}, body))
    with pytest.warns(MaxResultsWarning, match=r"^f:pixel1024 7 reached the server's limit "
                                               r"of 3 rows per scan.*\(raise n\)"):
        table = fink.query_region("10 20", 5 * u.deg, n=3, columns=["r:diaObjectId"])
    # the pixel rides along for the count, and is dropped
    assert rec.calls[0][2]["json"]["columns"].endswith(",f:pixel1024")
    assert len(table) == 5 and "f:pixel1024" not in table.colnames


def test_rubin_cone_pixels_below_n_do_not_warn(lsst_recorded):
    # 5 rows in all with n=3: the limit is per pixel, not per answer
    fink, _ = lsst_recorded(lambda url, body: _pixel_rows({7: 2, 8: 2, 9: 1}, body))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaxResultsWarning)
        assert len(fink.query_region("10 20", 5 * u.deg, n=3)) == 5


def test_a_rubin_cone_pixel_at_the_default_n_warns(lsst_recorded):
    fink, _ = lsst_recorded(lambda url, body: _pixel_rows({7: 1000}, body))
    with pytest.warns(MaxResultsWarning, match="limit of 1000 rows per scan"):
        fink.query_region("10 20", 5 * u.deg)


def test_a_rubin_sky_map_pixel_at_10000_rows_warns(lsst_recorded):
    fink, _ = lsst_recorded(lambda url, body: _pixel_rows({42: 10_000, 43: 5}, body))
    with pytest.warns(MaxResultsWarning, match="^42 reached the server's limit of 10000 rows"):
        fink.query_skymap("S230518h", credible_level=0.9)


# ------------------------------------------------ 3, 4. flags, lists in cells, "no ID" rows

_A = 170028485706776685


def _rubin_rows(column, values):
    return [{"r:diaObjectId": _A, "r:midpointMjdTai": 61000.0 + k, column: v}
            for k, v in enumerate(values)]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_flag_cells_read_alike_in_every_format(lsst_recorded, fmt):
    values = ["None", "NaN", "null", True, "false", 1, 0.0, "nan"]
    rows = _rubin_rows("r:isDipole", values)
    body = json.dumps(rows).encode() if fmt == "json" else \
        pd.DataFrame(rows).to_csv(index=False).encode()
    fink, _ = lsst_recorded(lambda url, payload: make_response(body))
    flags = fink.query_object(_A, output_format=fmt)["r:isDipole"]  # newest first
    assert flags.tolist() == [None, False, True, False, True, None, None, None]


@pytest.mark.parametrize("fmt", [None, "json"])
@pytest.mark.parametrize("value", ["maybe", "yes", 2, -1, 0.5])
def test_a_flag_cell_that_is_no_flag_is_refused_not_false(lsst_recorded, value, fmt):
    rows = _rubin_rows("r:isDipole", [True, value])
    fink, _ = lsst_recorded(lambda url, payload: rows_answer(rows, payload))
    with pytest.raises(TableParseError, match=r"r:isDipole: .* is not a flag"):
        fink.query_object(_A, output_format=fmt)


@pytest.mark.parametrize("fmt", [None, "json"])
def test_an_unknown_flag_column_with_the_servers_nan_text_stays_flags(lsst_recorded, fmt):
    rows = _rubin_rows("x:flag", [True, "nan", False])
    fink, _ = lsst_recorded(lambda url, payload: rows_answer(rows, payload))
    flags = fink.query_object(_A, output_format=fmt)["x:flag"]
    assert flags.dtype == bool and flags.tolist() == [False, None, True]


@pytest.mark.parametrize("fmt", [None, "json"])
def test_a_list_in_a_cell_of_numbers_is_refused(lsst_recorded, fmt):
    rows = [{"r:diaObjectId": _A, "r:midpointMjdTai": [1, 2]}]
    fink, _ = lsst_recorded(lambda url, payload: rows_answer(rows, payload))
    with pytest.raises(TableParseError, match="r:midpointMjdTai: cells hold lists"):
        fink.query_object(_A, output_format=fmt)


@pytest.mark.parametrize("fmt", [None, "json"])
def test_rows_of_the_no_id_value_are_rows_not_asked_for(lsst_recorded, fmt):
    rows = [{"r:diaObjectId": 0, "r:midpointMjdTai": 1.0}]
    fink, rec = lsst_recorded(lambda url, payload: rows_answer(rows, payload))
    # 0 is Rubin's "no ID": such a row cannot be told to be the object's
    with pytest.raises(RemoteServiceError, match=r"1 of the 1 rows of Fink's sources answer "
                                                 r"have no r:diaObjectId"):
        fink.query_object(_A, output_format=fmt)
    assert len(rec.calls) == 1


# ----------------------------------------------- 10. names reported whatever conf.batch_size

def test_each_solar_system_name_is_its_own_request_so_missing_ones_are_named(
        recorded, lsst_recorded):
    fink, rec = recorded(_sso_server(_SSO_ROWS, empty=("zzz",)))
    with pytest.warns(NoResultsWarning, match="1 of 3 requested objects returned no alerts: "
                                              "zzz"):
        table = fink.query_sso(["8467", "zzz", "Benoitcarry"], output_format="json")
    assert [c[2]["json"]["n_or_d"] for c in rec.calls] == ["8467", "zzz", "Benoitcarry"]
    assert table.meta["missing_ids"] == ["zzz"] and len(table) == 3

    def rubin(url, body):
        if body["n_or_d"] == "10P":
            return rows_answer([], body)  # "\n" in csv, [] in JSON
        return rows_answer([{"r:diaSourceId": 7, "r:midpointMjdTai": 61000.0,
                             "f:sso_name": body["n_or_d"]}], body)

    fink, _ = lsst_recorded(rubin)
    with pytest.warns(NoResultsWarning, match="1 of 3 requested names returned no alerts: 10P"):
        table = fink.query_sso(["2004 JQ12", "2020 SJ88", "10P"])
    assert table.meta["missing_ids"] == ["10P"]


# ------------------------------------------- 7. Rubin arguments from rows, times and dates

def test_a_row_gives_its_ids_to_the_same_checks_as_typed_ids(lsst_recorded):
    from astropy.table import Table
    fink, rec = lsst_recorded([])
    for value, message in ((1.7009445627232268e17, "float"), (0, "not an ID"),
                           (-5, "diaSourceId"), (True, "diaSourceId"), ("abc", "diaSourceId")):
        with pytest.raises(InvalidQueryError, match=message):
            fink.get_cutouts(Table({"r:diaSourceId": [value]})[0], kind="Science")
    assert rec.calls == []


def test_row_values_a_fits_header_cannot_hold_are_left_out(lsst_recorded):
    from astropy.table import Table
    stamp = _rubin_stamp()
    fink, _ = lsst_recorded(lambda url, body: make_response(
        stamp, content_type="application/octet-stream"))
    row = Table({"r:diaSourceId": [170094456272322680], "r:midpointMjdTai": [np.nan],
                 "r:band": ["é"], "r:ra": [10.5]})[0]
    hdul = fink.get_cutouts(row, kind="Science")
    header = hdul[0].header
    assert header["DIASRCID"] == 170094456272322680 and header["RA"] == 10.5
    assert "MJD-AVG" not in header and "BAND" not in header
    row = Table({"r:diaSourceId": [170094456272322680],
                 "r:midpointMjdTai": Time([61000.5], format="mjd", scale="tai")})[0]
    assert fink.get_cutouts(row, kind="Science")[0].header["MJD-AVG"] == 61000.5


def test_a_masked_time_is_refused(lsst_recorded):
    fink, _ = lsst_recorded([])
    masked = Time(np.ma.MaskedArray([61000.5], mask=[True]), format="mjd")[0]
    with pytest.raises(InvalidQueryError, match="midpointMjdTai is a masked"):
        fink.query_object(_A, midpointMjdTai=masked)


@pytest.mark.parametrize("date", ["٢٠٢٥", "２０２５", "2025１１"])
def test_dates_of_digits_other_than_ascii_are_refused(recorded, lsst_recorded, date):
    for fink, rec in (recorded([]), lsst_recorded([])):
        with pytest.raises(InvalidQueryError, match="date must be"):
            fink.get_statistics(date)
        assert rec.calls == []
    with pytest.raises(InvalidQueryError, match="Not ZTF object names"):
        recorded([])[0].query_object(f"ZTF{date[-2:]}aaxtctv")


def test_json_cut_at_any_byte_is_seen_as_cut():
    # inside a string, a number, a literal, between rows or after an inner bracket
    rows = [{"i:objectId": "ZTF21abcdefg", "i:jd": 2459000.5, "d:cdsxmatch": "Unknown",
             "b:stamp": [[1.0, 2.0]], "d:flag": True, "d:none": None},
            {"i:objectId": "ZTF21abcdefh", "i:jd": 2459001.5, "v:constellation": "Boötes"}]
    body = json.dumps(rows, ensure_ascii=False).encode()
    for k in range(1, len(body)):
        with pytest.raises(TruncatedAnswerError, match="stops before its end"):
            _tables.decode(body[:k], "json")


def test_a_nan_in_a_typed_flag_array_is_missing():
    from astroquery_fink._schema import SCHEMAS
    schema = SCHEMAS["lsst"]()
    column = _tables.typed_column("r:isDipole", np.array([True, np.nan, False], dtype=object),
                                  schema=schema)
    assert column.dtype == bool and column.tolist() == [True, None, False]


def test_a_cut_stamp_is_cut_also_where_warnings_are_not_errors(recorded):
    whole = _stamp_fits()
    fink, _ = recorded(_stamp_server(whole[:-3000]))
    with warnings.catch_warnings(), conf.set_temp("max_retries", 0):
        warnings.simplefilter("ignore")  # astropy's "may have been truncated" only printed
        with pytest.raises(TruncatedAnswerError, match="cutout was cut short: 17160 bytes, "
                           "its HDUs need 18756"):
            fink.get_cutouts("ZTF20abfcszi", kind="Science")


# ------------------------------- 4. object answers (/classes, /schema, tags...): cut or wrong

_OBJECT_CALLS = {
    "classes": ("ztf", lambda f: f.get_classes(), "/classes"),
    "schema": ("ztf", lambda f: f.get_schema(), "/schema"),
    "ssoft schema": ("ztf", lambda f: f.get_ssoft(schema=True), "/ssoft schema"),
    "rubin schema": ("lsst", lambda f: f.get_schema("fp"), "/schema"),
    "rubin tags": ("lsst", lambda f: f.get_tags(), "tags"),
    "rubin blocks": ("lsst", lambda f: f.get_blocks(), "blocks"),
}


@pytest.mark.parametrize("case", list(_OBJECT_CALLS))
@pytest.mark.parametrize(("body", "tries", "error", "words"), [
    (b'{"fink": ["SN candidate", "Ear', 3, TruncatedAnswerError, "stops before its end"),
    (b'{"status": "error", "message": "boom"}', 1, RemoteServiceError, ": boom$"),
    # Fink's error with more keys, and a gateway's problem details (RFC 9457)
    (b'{"status": "error", "text": "HBase is down", "code": 500}', 1, RemoteServiceError,
     ": HBase is down$"),
    (b'{"status": 503, "title": "Service Unavailable", "detail": "HBase is down"}', 1,
     RemoteServiceError, ": HBase is down$"),
    (b'{"title": "Service Unavailable", "type": "about:blank"}', 1, RemoteServiceError,
     ": Service Unavailable$"),
    (b"{}", 1, RemoteServiceError, ": {}$"),
    (b"<html><title>Bad Gateway</title></html>", 1, RemoteServiceError, ": Bad Gateway$"),
    (b"[1]", 1, RemoteServiceError, r": \[1\]$"),
])
def test_object_answers_cut_are_retried_and_wrong_ones_fail_at_once(
        recorded, lsst_recorded, case, body, tries, error, words):
    survey, call, what = _OBJECT_CALLS[case]
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)(
        lambda url, payload: make_response(body))
    with conf.set_temp("max_retries", 2), conf.set_temp("retry_total_time", 60), \
            pytest.raises(error, match=words) as err:
        call(fink)
    assert len(rec.calls) == tries
    if error is RemoteServiceError:
        assert str(err.value).startswith(f"Fink's answer is not the JSON object of {what}")


@pytest.mark.parametrize(("rows", "words"), [
    ([{"basic:sci": "1"}], "not a 'schema' column of names: columns"),
    ([{"schema": "basic:sci"}, {"schema": None}], "not a 'schema' column of names"),
])
def test_a_statistics_schema_answer_without_names_is_refused(recorded, rows, words):
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    with pytest.raises(RemoteServiceError, match=words):
        fink.get_statistics(schema=True, output_format="json")


def test_a_statistics_schema_answer_gives_its_names(recorded):
    fink, _ = recorded([make_response(b'[{"schema": "basic:sci"}, {"schema": "class:SN"}]'),
                        make_response(b"[]")])
    assert fink.get_statistics(schema=True, output_format="json") == ["basic:sci", "class:SN"]
    assert fink.get_statistics(schema=True, output_format="json") == []


# ------------------------------------------------ 4. the bulk download is a whole parquet file

def _parquet_file() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    buffer = io.BytesIO()
    pq.write_table(pa.table({"ssnamenr": [str(k) for k in range(500)]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("cut", "tries", "error", "words"), [
    ("error dict", 1, RemoteServiceError, "Fink's answer is not parquet: boom"),
    ("html", 1, RemoteServiceError, "Fink's answer is not parquet: Oops"),
    ("empty", 1, RemoteServiceError, "Fink's answer is empty where parquet was expected"),
    ("half", 2, TruncatedAnswerError, r"stops before its footer \(\d+ bytes\)"),
    ("footer", 1, TableParseError, "no readable footer"),
    ("error table", 1, ErrorAnswerError,
     "^Fink answered with an error instead of rows: WebHDFS unreachable$"),
])
def test_a_bulk_download_that_is_not_a_whole_parquet_file_leaves_no_file(
        recorded, tmp_path, cut, tries, error, words):
    import pandas as pd

    good = _parquet_file()
    error_table = pd.DataFrame([{"status": "error", "text": "WebHDFS unreachable"}]).to_parquet()
    body = {"error dict": b'{"status": "error", "text": "boom"}', "error table": error_table,
            "html": b"<html><title>Oops</title></html>", "empty": b"",
            "half": good[:len(good) // 2], "footer": good[:-12] + b"\0" * 8 + b"PAR1"}[cut]
    fink, rec = recorded(lambda url, payload: make_response(
        body, content_type="application/parquet"))
    path = tmp_path / "sso.parquet"
    with conf.set_temp("max_retries", 1), pytest.raises(error, match=words):
        fink.download_ssobulk(path)
    assert len(rec.calls) == tries
    assert list(tmp_path.iterdir()) == []  # neither the file nor a part of it


def test_a_whole_bulk_parquet_file_is_written(recorded, tmp_path):
    import pyarrow.parquet as pq
    good = _parquet_file()
    fink, _ = recorded([make_response(good, content_type="application/parquet")])
    path = fink.download_ssobulk(tmp_path / "sso.parquet")
    assert path.read_bytes() == good
    assert pq.read_table(path)["ssnamenr"].to_pylist()[-1] == "499"


def test_a_bulk_file_is_written_as_open_would_write_it(recorded, tmp_path):
    # through a link (the link stays), with the permissions of any new file (umask), not
    # the 0600 of a temporary file
    good = _parquet_file()
    fink, rec = recorded(lambda url, payload: make_response(
        good, content_type="application/parquet"))
    (tmp_path / "real.parquet").write_text("old")
    (tmp_path / "link.parquet").symlink_to("real.parquet")
    umask = os.umask(0o027)
    try:
        path = fink.download_ssobulk(tmp_path / "link.parquet")
        fresh = fink.download_ssobulk(tmp_path / "new.parquet")
    finally:
        os.umask(umask)
    assert path == tmp_path.resolve() / "real.parquet"
    assert (tmp_path / "link.parquet").is_symlink() and path.read_bytes() == good
    assert fresh.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.parquet", "new.parquet",
                                                          "real.parquet"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_bulk_file_never_replaces_a_device_or_a_fifo(recorded, tmp_path):
    fink, rec = recorded([])
    os.mkfifo(tmp_path / "pipe.parquet")
    for target in (tmp_path / "pipe.parquet", os.devnull):
        with pytest.raises(InvalidQueryError, match=r"is not a regular file \(a device, FIFO "
                                                    r"or socket\): name a file to write$"):
            fink.download_ssobulk(target)
    assert rec.calls == [] and (tmp_path / "pipe.parquet").is_fifo()


def test_a_bulk_file_behind_a_link_loop_or_to_a_folder_is_refused_by_its_name(recorded,
                                                                              tmp_path):
    fink, rec = recorded([])
    (tmp_path / "a.parquet").symlink_to("b.parquet")
    (tmp_path / "b.parquet").symlink_to("a.parquet")
    (tmp_path / "dir.parquet").symlink_to(tmp_path)
    with pytest.raises(InvalidQueryError) as info:
        fink.download_ssobulk(tmp_path / "a.parquet")
    # (a long path is shortened in the middle)
    assert str(info.value).startswith("path '/") and str(info.value).endswith(
        "a.parquet' is a loop of symbolic links: name a file to write")
    with pytest.raises(InvalidQueryError) as info:
        fink.download_ssobulk(tmp_path / "dir.parquet")
    assert str(info.value).endswith("dir.parquet' is a folder: name the file to write")
    assert rec.calls == [] and (tmp_path / "a.parquet").is_symlink()


def test_a_bulk_file_that_cannot_be_made_is_said_by_its_name(recorded, tmp_path, monkeypatch):
    fink, rec = recorded([])
    real_open = os.open

    def refuse(name, *args, **kwargs):
        if str(name).endswith(".part"):
            raise PermissionError(13, "Permission denied", name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError) as info:
        fink.download_ssobulk(tmp_path / "sso.parquet")
    assert str(info.value) == f"[Errno 13] Permission denied: '{tmp_path / 'sso.parquet'}'"
    assert rec.calls == [] and list(tmp_path.iterdir()) == []


# ------------------------------- 7. dates the server matches as key prefixes must be real

@pytest.mark.parametrize(("date", "sent"), [
    ("2021", "2021"), ("202111", "202111"), ("2021-11-20", "20211120"), ("", ""),
    (20211120, "20211120"), (Time("2021-11-20T23:00"), "20211120"), ("20240229", "20240229"),
])
def test_statistics_nights_both_surveys(recorded, lsst_recorded, date, sent):
    for fink, _ in (recorded([]), lsst_recorded([])):
        assert fink.get_statistics(date, get_query_payload=True)["date"] == sent


@pytest.mark.parametrize("date", ["2021-13-45", "20211345", "20210230", "20230229", "0999",
                                  "202113", "2021112", True])
def test_impossible_nights_are_refused_before_any_request(recorded, lsst_recorded, date):
    for fink, rec in (recorded([]), lsst_recorded([])):
        with pytest.raises(InvalidQueryError, match="date must be a date"):
            fink.get_statistics(date)
        assert rec.calls == []


@pytest.mark.parametrize(("date", "ok"), [
    ("2021-1", True), ("2021-11-20T03:14", True), ("2021-11-20 2", True), ("2021", True),
    ("2021-02-30 25:61", False), ("2021-1-05", False), ("2021-11-31", False),
    ("2021-11-20 3", False), ("2021-11-20 24", False), ("2021-11-20 23:6", False),
])
def test_tracklet_dates_are_starts_of_real_dates(recorded, date, ok):
    fink, rec = recorded([])
    if ok:
        assert fink.query_tracklet(date=date, get_query_payload=True)["date"] == \
            date.replace("T", " ")
    else:
        with pytest.raises(InvalidQueryError, match="leading part of a date"):
            fink.query_tracklet(date=date)
    assert rec.calls == []


@pytest.mark.parametrize(("tracklet", "ok"), [
    ("TRCK_20211120_031428_00", True), ("TRCK_2", True), ("TRCK_20211120_2", True),
    ("TRCK_20211345_999999_99", False), ("TRCK_20211120_3", False), ("TRCK_0", False),
    ("TRCK_20211120_235960_00", False),
])
def test_tracklet_ids_are_starts_of_real_dates(recorded, tracklet, ok):
    fink, _ = recorded([])
    if ok:
        assert fink.query_tracklet(tracklet, get_query_payload=True)["id"] == tracklet
    else:
        with pytest.raises(InvalidQueryError, match="Not a tracklet ID"):
            fink.query_tracklet(tracklet)


# ---------------------------------------- 4. Rubin cutouts: three HDUs, cut anywhere is cut

def _rubin_stamp() -> bytes:
    from astropy.io import fits
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(np.ones((30, 30), np.float32)),
                  fits.ImageHDU(np.ones((30, 30), np.float32), name="UNCERT"),
                  fits.ImageHDU(np.ones((41, 41), np.float32), name="PSFIMAGE")]).writeto(buffer)
    return buffer.getvalue()


def test_a_rubin_cutout_hdu_without_an_image_is_refused(lsst_recorded):
    from astropy.io import fits
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4), np.float32)), fits.ImageHDU(name="UNCERT"),
                  fits.ImageHDU(np.zeros(3), name="PSFIMAGE")]).writeto(buffer)
    fink, _ = lsst_recorded(lambda url, body: make_response(
        buffer.getvalue(), content_type="application/octet-stream"))
    with pytest.raises(RemoteServiceError,
                       match="no 2-D image in HDU 1 UNCERT, HDU 2 PSFIMAGE$"):
        fink.get_cutouts(170094456272322680, kind="Science")


def test_rubin_cutout_hdus_are_found_by_name_then_by_position(lsst_recorded):
    from astropy.io import fits
    image, uncert, psf = (np.full((4, 4), v, np.float32) for v in (1.0, 2.0, 3.0))
    cases = {
        "a mask among them": [fits.PrimaryHDU(image), fits.ImageHDU(image * 0, name="MASK"),
                              fits.ImageHDU(uncert, name="UNCERT"),
                              fits.ImageHDU(psf, name="PSFIMAGE")],
        "none named": [fits.PrimaryHDU(image), fits.ImageHDU(uncert), fits.ImageHDU(psf)],
    }
    for hdus in cases.values():
        buffer = io.BytesIO()
        fits.HDUList(hdus).writeto(buffer)
        fink, _ = lsst_recorded([make_response(buffer.getvalue(),
                                               content_type="application/octet-stream")])
        hdul = fink.get_cutouts(170094456272322680, kind="Science")
        assert [h.name for h in hdul] == ["PRIMARY", "SCIENCE", "SCIENCE_UNCERT",
                                          "SCIENCE_PSF"]
        assert [float(h.data[0, 0]) for h in hdul[1:]] == [1.0, 2.0, 3.0]
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(image), fits.ImageHDU(uncert, name="MASK"),
                  fits.ImageHDU(psf, name="PSFIMAGE")]).writeto(buffer)
    fink, _ = lsst_recorded([make_response(buffer.getvalue(),
                                           content_type="application/octet-stream")])
    with pytest.raises(RemoteServiceError, match="has no UNCERT HDU: PRIMARY, MASK, PSFIMAGE"):
        fink.get_cutouts(170094456272322680, kind="Science")


def test_bytes_after_the_last_hdu_are_padding_not_a_cut(lsst_recorded):
    for tail in (bytes(2880), b"\n"):
        fink, rec = lsst_recorded([make_response(_rubin_stamp() + tail,
                                                 content_type="application/octet-stream")])
        hdul = fink.get_cutouts(170094456272322680, kind="Science")
        assert len(hdul) == 4 and len(rec.calls) == 1


def test_a_rubin_cutout_cut_at_any_block_is_refused(lsst_recorded):
    whole = _rubin_stamp()
    ends = {7200: 1, 8640: 1, 15840: 2, 17280: 2}  # after an HDU: a whole file, fewer HDUs
    for end in range(2880, len(whole), 2880):
        for length in ({"Content-Length": str(end)}, {}):
            fink, rec = lsst_recorded(lambda url, body, end=end, length=length: make_response(
                whole[:end], content_type="application/octet-stream", headers=length))
            if end in ends and length:  # the server's whole answer, by its length: at once
                with pytest.raises(RemoteServiceError, match=f"cutout has {ends[end]} of the "
                                   "3 HDUs of a Rubin cutout"):
                    fink.get_cutouts(170094456272322680, kind="Science")
                assert len(rec.calls) == 1, end
                continue
            if length:  # inside an HDU, but all the length said came: malformed, at once
                with pytest.raises(RemoteServiceError) as info:
                    fink.get_cutouts(170094456272322680, kind="Science")
                assert type(info.value) is RemoteServiceError
                assert str(info.value).endswith(
                    "yet all of it came (the server said where it ends, by its length or its "
                    "chunks): the cutouts answer at http://fink.test/api/v1/cutouts is "
                    "malformed as written, not cut"), end
                assert len(rec.calls) == 1, end
                continue
            # cut inside an HDU; or between two, where the connection ended: tried again
            cut = f"ends after {ends[end]} of the 3 HDUs" if end in ends else "was cut short"
            with conf.set_temp("max_retries", 1), \
                    pytest.raises(TruncatedAnswerError, match=cut):
                fink.get_cutouts(170094456272322680, kind="Science")
            assert len(rec.calls) == 2, end
    fink, _ = lsst_recorded([make_response(whole, content_type="application/octet-stream")])
    hdul = fink.get_cutouts(170094456272322680, kind="Science")
    assert [h.name for h in hdul] == ["PRIMARY", "SCIENCE", "SCIENCE_UNCERT", "SCIENCE_PSF"]
    assert hdul["SCIENCE_PSF"].data.shape == (41, 41)


@pytest.mark.parametrize(("body", "words"), [
    (b'{"status": "error", "text": "boom"}', "Fink's answer is not a FITS file: boom$"),
    (b"<html><title>Bad Gateway</title></html>", "not a FITS file: Bad Gateway$"),
])
def test_a_cutout_answer_that_is_no_fits_fails_at_once_in_the_servers_words(
        recorded, lsst_recorded, body, words):
    fink, rec = lsst_recorded(lambda url, payload: make_response(body))
    with pytest.raises(RemoteServiceError, match=words):
        fink.get_cutouts(170094456272322680, kind="Science")
    assert len(rec.calls) == 1
    fink, rec = recorded(_stamp_server(body))
    with pytest.raises(RemoteServiceError, match=words):
        fink.get_cutouts("ZTF20abfcszi", kind="Science")


def test_an_array_cutout_answer_cut_short_is_tried_again(lsst_recorded):
    whole = json.dumps({"b:cutoutScience": np.ones((30, 30)).tolist()}).encode()
    fink, rec = lsst_recorded(lambda url, payload: make_response(whole[:len(whole) // 2]))
    with conf.set_temp("max_retries", 1), \
            pytest.raises(TruncatedAnswerError, match="/cutouts answer stops before its end"):
        fink.get_cutouts(170094456272322680, kind="Science", as_array=True)
    assert len(rec.calls) == 2


# -------------------------------- 4. rows that are none of the endpoint's: not its answer

_FOREIGN_ROWS = b'[{"foo": 1, "bar": "x"}]'
_ROW_CALLS = {
    "cone search": ("ztf", lambda f: f.query_region("10 20", 5 * u.arcsec,
                                                    output_format="json")),
    "class search": ("ztf", lambda f: f.query_class("SN candidate", output_format="json")),
    "objects": ("ztf", lambda f: f.query_object("ZTF21aaxtctv", output_format="json")),
    "tracklet": ("ztf", lambda f: f.query_tracklet(date="2021-11-20", output_format="json")),
    "sources": ("lsst", lambda f: f.query_object(170028485706776685, output_format="json")),
    "tag search": ("lsst", lambda f: f.query_tags("in_tns", output_format="json")),
}


@pytest.mark.parametrize("case", list(_ROW_CALLS))
def test_rows_with_none_of_the_endpoints_columns_fail_at_once(recorded, lsst_recorded, case):
    survey, call = _ROW_CALLS[case]
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)(
        lambda url, body: make_response(_FOREIGN_ROWS))
    with pytest.raises(RemoteServiceError, match=rf"Fink's {case} answer is not \w+: its "
                       r"columns \(foo, bar\) are none of the schema's"):
        call(fink)
    assert len(rec.calls) == 1


def test_a_selection_matching_nothing_names_only_the_selection(recorded):
    # no cell for i:magpsf in any row (HBase sends none for a missing value): the rows stay,
    # with the selected column masked
    rows = [{"i:objectId": "ZTF21abcdefg", "i:jd": 2459538.5, "i:ra": 10.0, "i:dec": 20.0,
             "v:separation_degree": 0.0}]
    fink, _ = recorded([make_response(json.dumps(rows))])
    with pytest.warns(NoResultsWarning) as caught:
        table = fink.query_region("10 20", 5 * u.arcsec, columns=["i:magpsf"],
                                  output_format="json")
    assert table.colnames == ["i:objectId", "i:jd", "i:ra", "i:dec", "v:separation_degree",
                              "i:magpsf"]
    assert table["i:magpsf"].mask.all() and table["i:magpsf"].unit == "mag"
    assert str(caught[0].message) == ("Fink's cone search answer has no value in any row for "
                                      "i:magpsf (masked columns)")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_statistics_counters_are_numbers_and_other_families_keep_their_type(recorded, fmt):
    rows = [{"key:key": "ztf_20211122", "basic:sci": "12", "class:Early SN Ia candidate": "3",
             "x:code": "007"}]
    body = json.dumps(rows) if fmt == "json" else \
        "key:key,basic:sci,class:Early SN Ia candidate,x:code\nztf_20211122,12,3,007\n"
    fink, _ = recorded([make_response(body)])
    table = fink.get_statistics("20211122", output_format=fmt)
    assert table["basic:sci"][0] == 12 and table["class:Early SN Ia candidate"][0] == 3
    assert table["basic:sci"].dtype.kind == "i"
    assert table["x:code"][0] == "007" and table["x:code"].dtype.kind == "U"


def test_a_statistics_night_without_the_selected_counter_is_kept(recorded):
    # the server sends the row key of each night whatever the selection
    rows = [{"key:key": "ztf_20211122", "key:time": 1637625600000}]
    fink, _ = recorded([make_response(json.dumps(rows))])
    with pytest.warns(NoResultsWarning, match="no column class:SN candidate: the server "
                                              "sends none for a name it does not know, nor "
                                              "where no row has a value"):
        table = fink.get_statistics("20211122", columns=["class:SN candidate"],
                                    output_format="json")
    assert list(table["key:key"]) == ["ztf_20211122"]


def test_an_object_without_a_value_for_a_known_column_keeps_its_rows(recorded):
    rows = [{"i:objectId": "ZTF21abcdefg"}, {"i:objectId": "ZTF21abcdefg"}]
    fink, _ = recorded([make_response(json.dumps(rows))])
    with pytest.warns(NoResultsWarning, match="no value in any row for i:ssnamenr"):
        table = fink.query_object("ZTF21abcdefg", columns=["i:ssnamenr"], output_format="json")
    assert table.colnames == ["i:ssnamenr"] and len(table) == 2 and table["i:ssnamenr"].mask.all()


# -------------------------- 4. rows outside the cone, prefix, date range or trend asked for

def _alert_row(**cells):
    return {"i:objectId": "ZTF21abcdefg", "i:candid": 7, "i:jd": 2459538.5, "i:ra": 10.0,
            "i:dec": 20.0, **cells}


_STRAY_CASES = {
    "a cone-search row outside the cone": (
        "ztf", [_alert_row(), _alert_row(**{"i:objectId": "ZTF21abcdefh", "i:ra": 10.01})],
        lambda f: f.query_region("10 20", 5 * u.arcsec, output_format="json"),
        r"cone search answer holds 1 of its 2 rows not within 5.0 arcsec of \(10.0, 20.0\)"),
    "a Rubin cone-search row outside the cone": (
        "lsst", [{"r:diaObjectId": 1234567, "r:ra": 10.0, "r:dec": 21.0,
                  "r:midpointMjdTai": 61000.5}],
        lambda f: f.query_region("10 20", 5 * u.arcsec, output_format="json"),
        r"holds 1 of its 1 rows not within 5.0 arcsec"),
    # with a start, the ZTF cone search scans keys <pixel>_<jdstarthist> up to start + window
    "a ZTF cone-search row first detected after the window": (
        "ztf", [_alert_row(**{"i:jdstarthist": Time("2021-11-05").jd})],
        lambda f: f.query_region("10 20", 5 * u.arcsec, startdate="2021-11-01",
                                 window=2 * u.day, output_format="json"),
        "holds 1 of its 1 rows not with i:jdstarthist from 2021-11-01 00:00:00.000 to 2.0 "
        "days later"),
    # the Rubin cone search filters its rows: first detection from the start, latest up to
    # the stop (or start + window), in TAI
    "a Rubin cone-search row first detected before the start": (
        "lsst", [{"r:diaObjectId": 1234567, "r:ra": 10.0, "r:dec": 20.0,
                  "r:midpointMjdTai": 61000.5, "f:firstDiaSourceMjdTaiFink": 60999.0}],
        lambda f: f.query_region("10 20", 5 * u.arcsec, startdate=Time(61000, format="mjd",
                                                                       scale="tai"),
                                 output_format="json"),
        r"holds 1 of its 1 rows not with f:firstDiaSourceMjdTaiFink from 2025-11-21 "),
    "a Rubin cone-search row seen after the window": (
        "lsst", [{"r:diaObjectId": 1234567, "r:ra": 10.0, "r:dec": 20.0,
                  "r:midpointMjdTai": 61003.5, "f:firstDiaSourceMjdTaiFink": 61000.5}],
        lambda f: f.query_region("10 20", 5 * u.arcsec, startdate=Time(61000, format="mjd",
                                                                       scale="tai"),
                                 window=2 * u.day, output_format="json"),
        r"not with f:firstDiaSourceMjdTaiFink from 2025-11-21 00:00:00.000 and with "
        r"r:midpointMjdTai up to MJD 61002.000000 \(TAI\)"),
    "a tracklet row of another tracklet": (
        "ztf", [_alert_row(**{"d:tracklet": "TRCK_20190101_000000_01"})],
        lambda f: f.query_tracklet("TRCK_20211120_031428_00", output_format="json"),
        "not with d:tracklet starting with 'TRCK_20211120_031428_00'"),
    "a tracklet row of another night": (
        "ztf", [_alert_row(**{"d:tracklet": "TRCK_20211121_000000_01"})],
        lambda f: f.query_tracklet(date="2021-11-20 03", output_format="json"),
        "not with d:tracklet starting with 'TRCK_20211120_03'"),
    "a statistics row of another night": (
        "ztf", [{"key:key": "ztf_20190101", "basic:sci": "5"}],
        lambda f: f.get_statistics("20211120", output_format="json"),
        "not with key:key starting with 'ztf_20211120'"),
    "a Rubin statistics row of another night": (
        "lsst", [{"f:night": 20190101, "f:alerts": 5}],
        lambda f: f.get_statistics("2025", output_format="json"),
        "not with f:night starting with '2025'"),
    "a class row before the date range": (
        "ztf", [_alert_row(**{"i:jd": 2458800.5})],
        lambda f: f.query_class("SN candidate", startdate="2021-11-01",
                                stopdate="2021-11-30", output_format="json"),
        "not with i:jd from 2021-11-01 00:00:00.000 to 2021-11-30 00:00:00.000"),
    # no dates: the server's own, from the start of Fink (2019-11-01) to now
    "a class row before Fink began, without dates": (
        "ztf", [_alert_row(**{"i:jd": 2458700.5})],
        lambda f: f.query_class("SN candidate", output_format="json"),
        "holds 1 of its 1 rows not with i:jd from 2019-11-01 00:00:00 to now"),
    "an anomaly row after now, without dates": (
        "ztf", [_alert_row(**{"i:jd": Time.now().jd + 30})],
        lambda f: f.query_anomaly(output_format="json"),
        "holds 1 of its 1 rows not with i:jd from 2019-11-01 00:00:00 to now"),
    "a fading row for trend rising": (
        "ztf", [_alert_row(**{"d:mag_rate": 0.5})],
        lambda f: f.query_class("SN candidate", trend="rising", output_format="json"),
        r"not with d:mag_rate below 0 \(trend rising\)"),
    "an anomaly row after the stop date and its day": (
        "ztf", [_alert_row(**{"i:jd": Time("2025-06-16 00:00:01").jd})],
        lambda f: f.query_anomaly(start_date="2025-06-13", stop_date="2025-06-15",
                                  output_format="json"),
        "holds 1 of its 1 rows not with i:jd from 2025-06-13 00:00:00.000 to 2025-06-15"),
    "a Rubin tag row before the date range": (
        "lsst", [{"r:diaObjectId": 1234567, "r:diaSourceId": 5, "r:midpointMjdTai": 50000.0}],
        lambda f: f.query_tags("extragalactic_new_candidate", startdate="2025-06-01",
                               stopdate="2025-06-02", output_format="json"),
        # the UTC dates given, sent as TAI dates
        "holds 1 of its 1 rows not with r:midpointMjdTai from 2025-06-01 00:00:37.000 to "
        "2025-06-02 00:00:37.000"),
    "a Rubin tag row before Fink began, without dates": (
        "lsst", [{"r:diaObjectId": 1234567, "r:diaSourceId": 5, "r:midpointMjdTai": 58000.0}],
        lambda f: f.query_tags("extragalactic_new_candidate", output_format="json"),
        "holds 1 of its 1 rows not with r:midpointMjdTai from 2019-11-01 00:00:00 to now"),
    # the server scans the row keys <salt>_<diaObjectId>_<midpointMjdTai> with that prefix
    "a Rubin source row of another time than the midpointMjdTai asked": (
        "lsst", [{"r:diaObjectId": 1234567, "r:diaSourceId": 5, "r:midpointMjdTai": 60000.55},
                 {"r:diaObjectId": 1234567, "r:diaSourceId": 6, "r:midpointMjdTai": 60001.0}],
        lambda f: f.query_object(1234567, midpointMjdTai=60000.5, output_format="json"),
        "holds 1 of its 2 rows not with r:midpointMjdTai starting with 60000.5"),
    "an SSO row of another number": (
        "ztf", [_alert_row(**{"i:ssnamenr": "4371", "sso_number": 4371, "sso_name": "Eichhorn"}),
                _alert_row(**{"i:ssnamenr": "8467", "sso_number": 8467, "sso_name": "Benoitcarry",
                              "i:candid": 8})],
        lambda f: f.query_sso(4371, output_format="json"),
        "holds 1 of its 2 rows not with sso_number '4371'"),
    "a candidate's light-curve row of another candidate": (
        "ztf", [{"d:ssoCandId": "FF20220804aaaaaab", "d:jd": 2459800.5},
                {"d:ssoCandId": "FF20990101zzzzzzz", "d:jd": 2459801.5}],
        lambda f: f.query_ssocand("lightcurves", ssoCandId="FF20220804aaaaaab",
                                  output_format="json"),
        "holds 1 of its 2 rows not with d:ssoCandId starting with 'FF20220804aaaaaab'"),
    "an SSOFT row of another object": (
        "ztf", [{"sso_name": "Julienpeloton", "sso_number": 31534},
                {"sso_name": "Ceres", "sso_number": 1}],
        lambda f: f.get_ssoft(sso_name="Julienpeloton", output_format="json"),
        "holds 1 of its 2 rows not with sso_name 'Julienpeloton'"),
}


@pytest.mark.parametrize("case", list(_STRAY_CASES))
def test_rows_that_were_not_asked_for_refuse_the_answer(recorded, lsst_recorded, case):
    survey, rows, call, words = _STRAY_CASES[case]
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)(
        lambda url, body: make_response(json.dumps(rows).encode()))
    with pytest.raises(RemoteServiceError, match=words):
        call(fink)
    assert len(rec.calls) == 1  # a wrong answer, not tried again


def test_rows_of_the_last_day_of_an_anomaly_range_and_of_a_name_are_kept(recorded):
    # the server scans to stop_date + 1 day; a name (not a number) is not compared
    fink, _ = recorded([make_response(json.dumps(
        [_alert_row(**{"i:jd": Time("2025-06-15 23:59:59").jd})]).encode())])
    assert len(fink.query_anomaly(start_date="2025-06-13", stop_date="2025-06-15",
                                  output_format="json")) == 1
    rows = [_alert_row(**{"i:ssnamenr": "2010JO69", "sso_number": None, "sso_name": "2010 JO69"})]
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    assert len(fink.query_sso("2010JO69", output_format="json")) == 1


def test_cone_rows_at_the_edges_of_their_dates_are_kept(recorded, lsst_recorded):
    ztf = [_alert_row(**{"i:objectId": f"ZTF21abcdef{c}", "i:jdstarthist": jd})
           for c, jd in zip("ab", (Time("2021-11-01").jd, Time("2021-11-03").jd), strict=True)]
    fink, _ = recorded(lambda url, body: make_response(json.dumps(ztf).encode()))
    assert len(fink.query_region("10 20", 5 * u.arcsec, startdate="2021-11-01",
                                 window=2 * u.day, output_format="json")) == 2
    rubin = [{"r:diaObjectId": 1234567 + k, "r:ra": 10.0, "r:dec": 20.0,
              "r:midpointMjdTai": last, "f:firstDiaSourceMjdTaiFink": first}
             for k, (first, last) in enumerate(((61000.0, 61002.0), (61001.0, 61001.5)))]
    lsst, _ = lsst_recorded(lambda url, body: make_response(json.dumps(rubin).encode()))
    t = lsst.query_region("10 20", 5 * u.arcsec, startdate=Time(61000, format="mjd",
                                                                   scale="tai"),
                          window=2 * u.day, output_format="json")
    assert sorted(t["r:diaObjectId"]) == [1234567, 1234568]


def test_rubin_rows_at_the_edges_of_a_key_prefix_and_a_tag_range_are_kept(lsst_recorded):
    rows = [{"r:diaObjectId": 1234567, "r:diaSourceId": k, "r:midpointMjdTai": mjd}
            for k, mjd in enumerate((60000.5, 60000.5999999999, 60000.54), start=1)]
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(rows).encode()))
    lc = fink.query_object(1234567, midpointMjdTai=60000.5, output_format="json")
    assert sorted(lc["r:diaSourceId"]) == [1, 2, 3]
    # a TAI date is sent, which the server reads as the same MJD (TAI)
    ends = (Time("2025-06-01").tai.mjd, Time("2025-06-02").tai.mjd)
    edges = [{"r:diaObjectId": 1234567, "r:diaSourceId": k, "r:midpointMjdTai": mjd}
             for k, mjd in enumerate(ends, start=1)]
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(edges).encode()))
    tags = fink.query_tags("extragalactic_new_candidate", startdate="2025-06-01",
                           stopdate="2025-06-02", output_format="json")
    assert sorted(tags["r:midpointMjdTai"]) == list(ends)
    # without a stop, the server's "now" bounds the scan: a clock here 10 minutes behind it
    # (or hours, with a wrong time zone) must not refuse its newest alerts
    soon = [{"r:diaObjectId": 1234567, "r:diaSourceId": 1,
             "r:midpointMjdTai": (Time.now() + 10 * u.min).tai.mjd}]
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(soon).encode()))
    assert len(fink.query_tags("extragalactic_new_candidate", output_format="json")) == 1
    # a negative number's prefix "-5.5" starts the keys of (-5.6, -5.5]
    rows = [{"r:diaObjectId": 1234567, "r:diaSourceId": 1, "r:midpointMjdTai": -5.55}]
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(rows).encode()))
    assert len(fink.query_object(1234567, midpointMjdTai=-5.5, output_format="json")) == 1
    rows[0]["r:midpointMjdTai"] = -5.45
    with pytest.raises(RemoteServiceError, match="not with r:midpointMjdTai starting with -5.5"):
        fink.query_object(1234567, midpointMjdTai=-5.5, output_format="json")
    assert round(ends[0] - 60827.0, 9) == round(37 / 86400, 9)


def test_an_sso_candidate_table_at_the_servers_scan_limit_is_said(recorded):
    rows = [{"d:ssoCandId": f"FF{k:015d}", "d:a": 2.5} for k in range(10_000)]
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    with pytest.warns(MaxResultsWarning, match="reached the server's limit of 10000 rows per "
                      "scan"):
        assert len(fink.query_ssocand("orbParams", output_format="json")) == 10_000


def test_rows_at_the_edge_of_what_was_asked_are_kept(recorded):
    # 4.999 arcsec away (JSON's rounding of the position), a rising alert, the range's ends
    edge = 10.0 + 4.999 / 3600 / np.cos(np.radians(20.0))
    fink, _ = recorded([make_response(json.dumps([_alert_row(**{"i:ra": edge})]).encode())])
    assert len(fink.query_region("10 20", 5 * u.arcsec, output_format="json")) == 1
    rows = [_alert_row(**{"i:jd": Time("2021-11-01").jd, "d:mag_rate": -0.1}),
            _alert_row(**{"i:objectId": "ZTF21abcdefh", "i:jd": Time("2021-11-30").jd,
                          "d:mag_rate": None})]
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    with pytest.warns(MaxResultsWarning, match="the server keeps the alerts of trend rising "
                      "after cutting at n=5 rows"):
        table = fink.query_class("SN candidate", startdate="2021-11-01",
                                 stopdate="2021-11-30", trend="rising", n=5,
                                 output_format="json")
    assert len(table) == 2


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"class_name": "SN candidate", "trend": "fading"}, "keeps the alerts of trend fading"),
    ({"class_name": "SLSN candidate"}, "keeps one alert per object"),
])
def test_a_class_search_thinned_after_its_cut_warns_with_fewer_rows(recorded, kwargs, words):
    rows = [_alert_row(**{"d:mag_rate": 0.2})]
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    with pytest.warns(MaxResultsWarning, match=f"answer has 1 rows, but the server {words} "
                      "after cutting at n=10 rows"):
        fink.query_class(output_format="json", **kwargs)
    fink, _ = recorded([make_response(json.dumps(rows).encode())])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plain class search with fewer rows than n: no cut
        assert len(fink.query_class("SN candidate", output_format="json")) == 1


def test_a_rubin_statistics_selection_matching_nothing_is_said(lsst_recorded):
    # the server's scan keeps no row without a selected cell: an unknown name, no night
    fink, _ = lsst_recorded([make_response(b'[]')])
    with pytest.warns(InputWarning, match="'f:alerts_typo' is not a Rubin statistics column"), \
            pytest.warns(NoResultsWarning, match=r"answer is empty \(or do its rows hold a "
                                                 r"value in the selected columns\? the server "
                                                 r"returns only those that do\)"):
        table = fink.get_statistics("202511", columns=["f:alerts_typo"], output_format="json")
    assert table.colnames == ["f:alerts_typo"] and len(table) == 0


@pytest.mark.parametrize(("call", "body", "words"), [
    ("get_tags", b'{"error": "HBase is down", "code": 500}',
     "tag list is not {tag: {description, API support}} for 'error', 'code'"),
    ("get_tags", b'{"in_tns": [1, 2], "x": null}', "for 'in_tns', 'x'"),
    ("get_tags", b'{"in_tns": {"description": "TNS", "API support": "yes"}}', "for 'in_tns'"),
    ("get_blocks", b'{"b_is_new": {"x": 1}}', "block list is not {block: description} for "
                                                "'b_is_new'"),
])
def test_tag_and_block_lists_of_another_shape_are_refused(lsst_recorded, call, body, words):
    fink, _ = lsst_recorded([make_response(body)])
    with pytest.raises(RemoteServiceError, match=re.escape(words)):
        getattr(fink, call)()


def test_a_tracklet_date_object_means_its_day(recorded):
    import datetime
    fink, _ = recorded([])
    assert fink.query_tracklet(date=datetime.date(2021, 6, 4),
                               get_query_payload=True)["date"] == "2021-06-04"
    assert fink.query_tracklet(date=datetime.datetime(2021, 6, 4, 3),
                               get_query_payload=True)["date"] == "2021-06-04 03:00:00"


def test_a_binary_answer_is_described_not_dumped(lsst_recorded):
    import gzip
    fink, _ = lsst_recorded([make_response(gzip.compress(_rubin_stamp()),
                                           content_type="application/octet-stream")])
    with pytest.raises(RemoteServiceError, match=r"not a FITS file: \d+ bytes of binary data, "
                       "starting 1f 8b 08"):
        fink.get_cutouts(170094456272322680, kind="Science")


@pytest.mark.parametrize("fmt", ["json", "csv", "votable", "parquet"])
def test_an_error_written_as_rows_is_an_error_in_every_format(recorded, fmt):
    rows = [{"status": "error", "text": "HBase is down"}]
    def votable():
        from astropy.io import votable
        from astropy.table import Table
        buffer = io.BytesIO()
        votable.writeto(votable.from_table(Table.from_pandas(pd.DataFrame(rows))), buffer)
        return buffer.getvalue()

    body = {"json": lambda: json.dumps(rows).encode(),
            "csv": lambda: pd.DataFrame(rows).to_csv(index=False).encode(),
            "votable": votable, "parquet": lambda: parquet_bytes(rows)}[fmt]()
    fink, rec = recorded(lambda url, payload: make_response(body))
    with pytest.raises(ErrorAnswerError, match="an error instead of rows: HBase is down$"):
        fink.query_region("10 20", 5 * u.arcsec, output_format=fmt)
    assert len(rec.calls) == 1


# ----------------------------- 1. a server that answers nothing is not sent every batch

def test_a_server_that_cannot_be_reached_is_not_sent_every_batch(recorded):
    import urllib3

    def refuse(url, body):
        raise requests.exceptions.ConnectionError(urllib3.exceptions.NewConnectionError(
            None, "Failed to establish a new connection: [Errno 111] Connection refused"))

    fink, rec = recorded(refuse)
    ids = [f"ZTF20aaaa{chr(97 + k // 26)}{chr(97 + k % 26)}a" for k in range(40)]
    # each request tries 3 times, 0.2 s apart: the first failures end while the others wait
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 4), \
            conf.set_temp("max_retries", 2), conf.set_temp("retry_base_delay", 0.2), \
            conf.set_temp("retry_max_delay", 0.2), pytest.raises(PartialResultError) as err:
        fink.query_object(ids, cache=False)
    assert sorted(err.value.failed_ids) == sorted(ids)
    assert len(rec.calls) < 40  # the tries of the first requests only, not 3 x 40
    assert sum("not sent: Fink could not be reached by the first 4 objects requests" in str(e)
               for e in err.value.errors.values()) >= 30


def test_batches_that_time_out_do_not_stop_the_others(recorded):
    # a heavy batch may time out on a server that answers the others: nothing is given up
    ids = [f"ZTF20aaaa{chr(97 + k // 26)}{chr(97 + k % 26)}a" for k in range(12)]

    def answer(url, body):
        oid = body["objectId"]
        if oid in ids[:4]:  # the first batches, as many as run at once and more
            raise requests.exceptions.ReadTimeout("read timed out")
        return make_response(rows_json([{"i:objectId": oid, "i:jd": 2459000.5,
                                         "i:candid": 1}]))

    fink, rec = recorded(answer)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 2), \
            conf.set_temp("max_retries", 0), pytest.raises(PartialResultError) as err:
        fink.query_object(ids, cache=False, output_format="json")
    assert len(rec.calls) == 12
    assert sorted(err.value.failed_ids) == ids[:4]
    assert sorted(err.value.table["i:objectId"]) == ids[4:]


# ------------------------------------ 3. csv read by pyarrow or by Python: the same Table

_RUBIN_CSV = (
    # flags with the server's "nan", an empty flag, an unknown flag column
    b"r:diaObjectId,r:midpointMjdTai,r:isDipole,x:flag\n1,61000.5,True,True\n"
    b"1,61001.5,nan,nan\n1,61002.5,False,\n",
    b"r:diaObjectId,r:isDipole\n1,maybe\n",  # no flag
    b"r:diaObjectId,r:isDipole\n1,1\n2,0.0\n3,t\n4,NULL\n",  # flags as numbers, null text
    b"r:diaObjectId,r:midpointMjdTai\n2.0,1.5\n",  # an int written as a float: exact
    b"r:diaObjectId,r:midpointMjdTai\n0x1F,1.5\n",  # hexadecimal: no integer
    b"r:diaObjectId,r:midpointMjdTai\n+5,1_0\n",  # what Python reads and pyarrow does not
    b"r:diaObjectId,r:midpointMjdTai\n1,nan(1)\n",  # what pyarrow reads and Python does not
    b"r:diaObjectId\n9223372036854775808\n",  # beyond 64 bits
    # missing numbers and text, "nan" text, a 64-bit unknown integer column
    b"r:diaObjectId,r:ssObjectId,r:midpointMjdTai,r:band,f:xm_simbad_otype,x:big\n"
    b"170028485706776685,,61000.5,g,,4611686018427387911\n"
    b"170028485706776686,21164719644750924,,,nan,\n",
    'r:band,r:target_name,x:text\ng,"a, b",Boötes\nr,"line\nnext",\n'.encode(),
    b"r:band,r:band\ng,r\n",  # a name twice
    b"\xef\xbb\xbfr:band,r:psfFlux\ng,1.5\n",  # a byte-order mark
    b"r:psfFlux,r:band\n 1.5,g\n-inf,r\n,\n",
    b"r:psfFlux,x:empty,x:code,x:version\n1.5,,007,2026.10\n2.5,,010,2025.09\n",
    b"r:psfFlux,r:band\n1.5\n2.5,g\n",  # a row too short inside
    b"r:psfFlux,r:band\n1.5,g\n2.5\n",  # the last row cut
)


def _same_table(a, b) -> None:
    assert a.colnames == b.colnames
    for name in a.colnames:
        x, y = a[name], b[name]
        assert x.dtype == y.dtype and x.unit == y.unit, name
        assert np.ma.getmaskarray(x).tolist() == np.ma.getmaskarray(y).tolist(), name
        same = np.ma.getdata(x) == np.ma.getdata(y)
        if x.dtype.kind == "f":
            same |= np.isnan(np.ma.getdata(x)) & np.isnan(np.ma.getdata(y))
        assert np.all(same | np.ma.getmaskarray(x)), name


def _csv_both_ways(monkeypatch, body, schema):
    """The Table (or the error) of a csv answer read by the Python reader, and by pyarrow."""
    out = []
    for threshold in (1 << 62, 0):  # _from_csv tries pyarrow from this size on
        monkeypatch.setattr(_tables, "_SMALL_CSV_BYTES", threshold)
        try:
            out.append(_tables.parse_table(body, "csv", schema=schema))
        except Exception as err:  # noqa: BLE001 - the error is what is compared
            out.append(err)
    return out


@pytest.mark.parametrize("body", _RUBIN_CSV)
def test_csv_read_by_pyarrow_gives_what_the_python_reader_gives(monkeypatch, body):
    pytest.importorskip("pyarrow")
    from astroquery_fink.lsst.schema import columns

    python, arrow = _csv_both_ways(monkeypatch, body, columns())
    if isinstance(python, Exception):
        assert type(arrow) is type(python) and str(arrow) == str(python)
    else:
        _same_table(python, arrow)


def test_pyarrow_reads_the_csv_it_can_and_leaves_the_rest(monkeypatch):
    pytest.importorskip("pyarrow")
    from astroquery_fink.lsst.schema import columns

    names = ["r:diaObjectId", "r:midpointMjdTai", "r:isDipole"]
    assert _tables._csv_via_arrow(_RUBIN_CSV[0], names + ["x:flag"], columns()) is not None
    for body in (_RUBIN_CSV[4], _RUBIN_CSV[6], _RUBIN_CSV[3]):  # 0x, nan(, an int as 2.0
        assert _tables._csv_via_arrow(body, names[:2], columns()) is None
    # the ZTF csv cases: cutouts as lists, "007" and "2026.10" kept as text
    for body in (b'i:candid,b:cutoutScience_stampData\n7,"[[1.0, nan], [2.5, 3.0]]"\n8,[]\n',
                 b"d:code,d:count,d:x,d:version\n007,3,1.5,2026.10\n010,12,-2e3,2025.09\n"):
        python, arrow = _csv_both_ways(monkeypatch, body, None)
        _same_table(python, arrow)


@pytest.mark.parametrize("rows", [[{"i:jd": 2459000.5}], [{"i:objectId": None, "i:jd": 1.5}]])
def test_rows_that_do_not_name_their_object_are_refused(recorded, rows):
    # the client asks i:objectId with every query: rows without it could be anyone's
    fink, rec = recorded(lambda url, body: make_response(rows_json(rows)))
    with pytest.raises(RemoteServiceError, match=r"i:objectId.*whose rows they are cannot be "
                                                  r"told; the answer is refused"):
        fink.query_object("ZTF99zzzzzzz", output_format="json")
    assert len(rec.calls) == 1


def test_fetch_all_refuses_colours_computed_per_answer(recorded):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match="fetch_all cannot be used with color"):
        fink.query_class("SN candidate", fetch_all=True, color=True)
    assert rec.calls == []
