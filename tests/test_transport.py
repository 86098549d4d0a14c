"""The transport (`astroquery_fink._http`) against small loopback servers that misbehave on
purpose: deadlines, cut answers, error bodies, redirects, exception families, speed, files."""
import contextlib
import http.client
import inspect
import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
from http import HTTPStatus

import pytest
import requests
import urllib3
from _helpers import Recorder, make_response
from astroquery.exceptions import InvalidQueryError, RemoteServiceError, TableParseError
from astroquery.exceptions import TimeoutError as AstroTimeoutError
from astroquery.query import AstroQuery, BaseQuery

from astroquery_fink import FinkClass, _errors, _http, _session, conf
from astroquery_fink._http import download, fetch
from astroquery_fink.exceptions import TruncatedAnswerError

ASTROQUERY_FAMILY = (RemoteServiceError, InvalidQueryError, AstroTimeoutError)


class Client(BaseQuery):
    """The smallest astroquery query class: fetch only needs `_request` and the cache."""


def parse_json(response):
    try:
        return json.loads(response.content)
    except ValueError as err:
        raise TableParseError(f"not JSON: {response.content[:50]!r}") from err


# ------------------------------------------------------------------------ a loopback server

class Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body


class Server:
    """A raw HTTP server on 127.0.0.1 (any free port): each connection is answered by
    ``handler(server, conn, request)`` and then closed."""

    def __init__(self, handler, *, read=True, tls=None):
        self.handler = handler
        self.read = read
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.seen: list[Request] = []
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        ready = threading.Event()
        self._accepter = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._accepter.start()
        ready.wait(5)

    def _serve(self, ready):
        ready.set()
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, conn):
        try:
            conn.settimeout(5)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = _read_request(conn) if self.read else Request("", "", {}, b"")
            if request is not None:
                self.seen.append(request)
                self.handler(self, conn, request)
        except OSError:
            pass  # the client went away: that is what several tests do
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._accepter.join(5)
        for thread in self._threads:
            thread.join(5)


def _read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


def head(status=200, length=None, headers=None, content_type="application/json") -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {content_type}",
             "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(conn, body=b"", status=200, headers=None, content_type="application/json"):
    conn.sendall(head(status, len(body), headers, content_type) + body)


def trickle(server, conn, data, every):
    """Send ``data`` one byte every ``every`` seconds (until the server stops)."""
    for i in range(len(data)):
        if server.stop.wait(every):
            return
        conn.sendall(data[i:i + 1])


@pytest.fixture
def serve():
    servers = []

    def start(handler, **kwargs):
        server = Server(handler, **kwargs)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.close()


@pytest.fixture
def no_retries():
    with conf.set_temp("max_retries", 0):
        yield


def call(url, *, payload=None, parse=parse_json, timeout=2.0, cache=False, client=None,
         method="POST", **kwargs):
    return fetch(client or Client(), method, url, payload if payload is not None else {"a": 1},
                 parse, what="objects", cache=cache, timeout=timeout, **kwargs)


def timed(function, *args, **kwargs):
    start = time.monotonic()
    try:
        function(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - returned for the test to look at
        return err, time.monotonic() - start
    return None, time.monotonic() - start


# ------------------------------------------------------------------------ 1. deadlines

def never_answer(server, conn, request):
    server.stop.wait()


def trickled_body(server, conn, request):
    conn.sendall(head(200, 100_000))
    trickle(server, conn, b"[" + b" " * 99_999, every=0.02)


def trickled_headers(server, conn, request):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    trickle(server, conn, b"X-Slow: " + b"a" * 10_000, every=0.02)


@pytest.mark.parametrize("handler", [never_answer, trickled_body, trickled_headers])
def test_a_slow_server_ends_in_timeout_within_the_deadline(serve, no_retries, handler):
    server = serve(handler)
    err, elapsed = timed(call, server.url + "/api/v1/objects", timeout=0.5)
    assert isinstance(err, AstroTimeoutError), err
    assert "within 0.5 s" in str(err) and server.url in str(err)
    # the value that applied, whichever of timeout=, the client's or conf.timeout set it
    assert "the time allowed per request (timeout=0.5): raise it" in str(err)
    assert 0.45 <= elapsed < 1.5  # the timeout and some slack for a busy machine, not minutes
    assert len(server.seen) == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (server context, CA bundle path)."""
    pytest.importorskip("cryptography")
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "cert.pem"


@pytest.mark.parametrize("handler", [None, trickled_body, trickled_headers])
def test_deadlines_hold_over_tls(serve, certificate, monkeypatch, no_retries, handler):
    context, bundle = certificate
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # requests' documented variable
    server = serve(handler or echo, tls=context)
    assert server.url.startswith("https://")
    if handler is None:
        assert call(server.url + "/x", payload={"b": 2}) == {"method": "POST", "path": "/x",
                                                             "body": {"b": 2}}
        return
    err, elapsed = timed(call, server.url, timeout=0.5)
    assert isinstance(err, AstroTimeoutError), err
    assert 0.45 <= elapsed < 1.5


def test_an_unknown_certificate_is_refused_at_once(serve, certificate):
    server = serve(echo, tls=certificate[0])  # self-signed, not in any CA bundle
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError) as info:
        call(server.url)
    assert "certificate was refused" in str(info.value) and server.url in str(info.value)
    assert len(server.seen) == 0


def test_retry_total_time_bounds_the_whole_call(serve):
    server = serve(never_answer)
    with conf.set_temp("max_retries", 10), conf.set_temp("retry_total_time", 0.8):
        err, elapsed = timed(call, server.url + "/api/v1/objects", timeout=0.3)
    assert isinstance(err, AstroTimeoutError) and "gave up after" in str(err)
    assert "conf.retry_total_time (now 0.8 s)" in str(err)
    # tries of 0.3, 0.3 then the 0.2 s left (a last sliver may start): never 10 tries
    assert 0.75 <= elapsed < 1.6
    assert 3 <= len(server.seen) <= 4


def pretend_names(monkeypatch, behaviours: dict) -> list:
    """The system's lookup answers each name of ``behaviours`` by ``behaviour(n)`` (``n``:
    how many lookups of those names so far, this one included), which returns getaddrinfo's
    list or raises; other names resolve as usual. Returns the names looked up, in order."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, *args, **kwargs):
        if host in behaviours:
            asked.append(host)
            return behaviours[host](len(asked))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def slow_name(monkeypatch):
    """The name "slow.example" takes the system a minute to look up (released at teardown,
    so that no lookup thread outlives the test); every other name resolves as usual."""
    release = threading.Event()

    def never_answers(n):
        release.wait(60)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    asked = pretend_names(monkeypatch, {"slow.example": never_answers})
    _http._name_is_global.clear()
    yield asked
    release.set()
    pending = _http._lookups.get("slow.example")
    if pending is not None:  # the lookup ends (failing) before the next test looks it up
        pending.exception(timeout=10)
    _http._name_is_global.clear()


def test_a_name_lookup_that_never_ends_is_under_the_deadline(slow_name, no_retries):
    # the system's lookup has no time limit and a socket timeout does not bound it
    err, elapsed = timed(call, "http://slow.example:5000/api/v1/objects", timeout=0.5)
    assert isinstance(err, AstroTimeoutError), err
    assert str(err) == ("Could not reach Fink at http://slow.example:5000/api/v1/objects for "
                        "the objects query: looking up the name 'slow.example' took more than "
                        "0.5 s, the time allowed per request (timeout=0.5) (a slow or "
                        "unreachable name server?) (gave up after 1 attempt)")
    assert 0.45 <= elapsed < 1.5 and slow_name == ["slow.example"]


def test_a_slow_name_is_not_cached_and_not_waited_for_twice(slow_name):
    # whether its answers may be cached is decided within min(timeout, 2 s); a name not
    # looked up by then is taken as not cacheable, and asked again at the next call
    err, elapsed = timed(_http._cacheable, "http://slow.example/api/v1/objects", 0.3)
    assert err is None and 0.25 <= elapsed < 1.0
    assert _http._cacheable("http://slow.example/api/v1/objects", 0.3) is False
    # one lookup under way is waited for by every request of that name, not started again
    assert slow_name == ["slow.example"]
    with conf.set_temp("retry_total_time", 1.0), conf.set_temp("max_retries", 10):
        err, elapsed = timed(FinkClass(server="http://slow.example", timeout=0.4).query_object,
                             "ZTF20abfcszi", cache=True)
    assert isinstance(err, AstroTimeoutError) and "conf.retry_total_time (now 1 s)" in str(err)
    assert 0.9 <= elapsed < 2.0 and slow_name == ["slow.example"]


def test_a_name_is_looked_up_once_per_connection_and_its_addresses_connected(
        serve, monkeypatch, no_retries):
    # urllib3 is given the addresses found under the deadline: it looks nothing up again
    # (a second lookup would be unbounded); an address refusing the connection is skipped
    server = serve(echo)
    port = int(server.url.rsplit(":", 1)[1])

    def answer_once(n):
        if n > 1:
            threading.Event().wait(30)  # a second lookup would hang
        # the server listens on IPv4 only: ::1 refuses (or is not there) at once
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 0, 0, 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]

    asked = pretend_names(monkeypatch, {"twice.example": answer_once})
    err, elapsed = timed(call, f"http://twice.example:{port}/api/v1/objects", timeout=2)
    assert err is None and elapsed < 1.5 and asked == ["twice.example"]
    assert server.seen[0].path == "/api/v1/objects"


def test_a_name_that_cannot_be_looked_up_is_said_once_not_looked_up_again(monkeypatch):
    def unknown(n):
        time.sleep(0.3)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    asked = pretend_names(monkeypatch, {"nowhere.example": unknown})
    with conf.set_temp("max_retries", 3):
        err, elapsed = timed(call, "http://nowhere.example:5000/api/v1/objects", timeout=2)
    assert isinstance(err, RemoteServiceError) and not isinstance(err, AstroTimeoutError)
    assert "the name 'nowhere.example' cannot be looked up (no network?)" in str(err)
    assert asked == ["nowhere.example"] and elapsed < 1.0  # once: no retry, no second lookup


def test_a_forked_child_does_not_wait_for_its_parents_lookups():
    # the lookup threads do not exist in a child: their futures would never end there
    pending = _http._lookups.setdefault("parent.example", __import__(
        "concurrent.futures").futures.Future())
    _http._forget_threads()
    assert _http._lookups == {} and not pending.done()
    assert _http._looked_up("localhost", 5.0)[0][4][0] in ("127.0.0.1", "::1")


IDS16 = [f"ZTF20aaaaa{a}{b}" for a in "ab" for b in "abcdefgh"]


def test_retry_total_time_bounds_a_query_of_many_requests(serve):
    # 16 requests, 2 at once, to a server that answers none: the query stops trying once
    # conf.retry_total_time has passed since the call began (each request alone used to get
    # the whole budget: 8 rounds of 0.4 s at least)
    from astroquery_fink import Fink
    from astroquery_fink.exceptions import PartialResultError

    arrivals = []

    def silent(server, conn, request):
        arrivals.append(time.monotonic())
        never_answer(server, conn, request)

    server = serve(silent)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 2), \
            conf.set_temp("max_retries", 10), conf.set_temp("retry_total_time", 1.0):
        start = time.monotonic()
        err, elapsed = timed(Fink(server=server.url).query_object, IDS16, timeout=0.4)
    assert isinstance(err, PartialResultError) and len(err.table) == 0
    assert err.failed_ids == IDS16
    # tries of 0.4, 0.4, then the 0.2 s left: none starts after the budget (a request
    # waiting for its lane reads the time left when it gets one)
    assert max(arrivals) - start < 1.0 and elapsed < 1.9
    not_sent = [e for e in err.errors.values() if str(e).startswith("not sent: the call has "
                                                                     "run for 1 s")]
    assert isinstance(not_sent[0], AstroTimeoutError)
    assert str(not_sent[0]).endswith("its time budget astroquery_fink.conf.retry_total_time: "
                                     "raise it, or ask for less at once")
    assert len(server.seen) + len(not_sent) >= 16 and len(server.seen) <= 6


def test_a_long_query_that_keeps_being_answered_ends_at_the_budget_with_its_rows(serve):
    from astroquery_fink import Fink
    from astroquery_fink.exceptions import PartialResultError

    def slow_rows(server, conn, request):
        oid = json.loads(request.body)["objectId"]
        if not server.stop.wait(0.3):
            reply(conn, json.dumps([{"i:objectId": oid, "i:jd": 2459000.5}]).encode())

    server = serve(slow_rows)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 1), \
            conf.set_temp("retry_total_time", 1.0):
        err, elapsed = timed(Fink(server=server.url).query_object, IDS16[:8],
                             output_format="json")
    # answers of 0.3 s one at a time: three in the second, then the budget is spent
    assert isinstance(err, PartialResultError) and elapsed < 1.6
    arrived = sorted(err.table["i:objectId"])
    assert 2 <= len(arrived) <= 4 and set(arrived) < set(IDS16[:8])
    assert sorted(err.failed_ids) == [i for i in IDS16[:8] if i not in arrived]
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 1), \
            conf.set_temp("retry_total_time", 10):  # a budget for it: the whole query
        table = Fink(server=server.url).query_object(IDS16[:8], output_format="json")
    assert sorted(table["i:objectId"]) == IDS16[:8]


def test_a_query_whose_server_answers_some_requests_and_never_others_ends_on_time(serve):
    from astroquery_fink import Fink
    from astroquery_fink.exceptions import PartialResultError

    def half(server, conn, request):
        oid = json.loads(request.body)["objectId"]
        if oid[-1] in "abcd":
            reply(conn, json.dumps([{"i:objectId": oid, "i:jd": 2459000.5}]).encode())
        else:
            never_answer(server, conn, request)

    server = serve(half)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_workers", 2), \
            conf.set_temp("max_retries", 10), conf.set_temp("retry_total_time", 1.0):
        err, elapsed = timed(Fink(server=server.url).query_object, IDS16, timeout=0.4,
                             output_format="json")
    # each silent request used to get the whole budget while the others were answered:
    # 8 of them, 2 at a time, 4 x 1 s at least
    assert isinstance(err, PartialResultError) and elapsed < 1.6
    answered = sorted(err.table["i:objectId"])
    assert len(answered) >= 2 and all(i[-1] in "abcd" for i in answered)
    assert sorted(err.failed_ids) == [i for i in IDS16 if i not in answered]


def test_the_requests_of_one_call_made_one_after_another_share_its_budget(serve):
    # Rubin get_cutouts asks for each kind in turn: each request had the whole budget, so
    # three answers of 0.45 s each took 1.35 s of a 1 s budget
    import io

    import numpy as np
    from astropy.io import fits

    from astroquery_fink import FinkLSST

    stamp = io.BytesIO()
    image = np.zeros((3, 3), np.float32)
    fits.HDUList([fits.PrimaryHDU(image)] + [fits.ImageHDU(image, name=n)
                                             for n in ("UNCERT", "PSFIMAGE")]).writeto(stamp)

    def slow_stamp(server, conn, request):
        if not server.stop.wait(0.45):
            reply(conn, stamp.getvalue(), content_type="application/octet-stream")

    server = serve(slow_stamp)
    with conf.set_temp("max_retries", 10), conf.set_temp("retry_total_time", 1.0):
        err, elapsed = timed(FinkLSST(server=server.url).get_cutouts, 170094456272322681,
                             timeout=5)
    assert isinstance(err, AstroTimeoutError) and 0.95 <= elapsed < 1.5
    assert len(server.seen) == 3  # two answered, the third cut at the call's end
    with conf.set_temp("retry_total_time", 5):
        hdul = FinkLSST(server=server.url).get_cutouts(170094456272322681)
    assert [h.name for h in hdul][1:4] == ["SCIENCE", "SCIENCE_UNCERT", "SCIENCE_PSF"]


def test_a_slow_but_steady_body_is_waited_for(serve):
    body = json.dumps([{"i:jd": 2459000.5 + k} for k in range(200)]).encode()

    def steady(server, conn, request):
        conn.sendall(head(200, len(body)))
        for k in range(0, len(body), len(body) // 10):
            if server.stop.wait(0.03):
                return
            conn.sendall(body[k:k + len(body) // 10])

    server = serve(steady)
    assert call(server.url, timeout=1.0) == json.loads(body)


@pytest.mark.parametrize("where", ["_request", "parse"])
def test_keyboard_interrupt_is_never_swallowed(where):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    client = Client()
    recorder = Recorder(interrupt if where == "_request" else
                        (lambda url, body: make_response(b"[]")))
    client._request = recorder
    parse = interrupt if where == "parse" else parse_json
    with conf.set_temp("max_retries", 5), pytest.raises(KeyboardInterrupt):
        call("http://fink.test/api/v1/objects", parse=parse, client=client)
    assert len(recorder.calls) == 1


# ------------------------------------------------------------------------ 2. cut answers

FULL = json.dumps([{"i:objectId": "ZTF20abfcszi", "i:jd": 2459000.5 + k} for k in range(500)])
FULL = FULL.encode()


def cut_then_whole(cuts):
    def handler(server, conn, request):
        if len(server.seen) <= cuts:
            conn.sendall(head(200, len(FULL)) + FULL[:len(FULL) // 2])  # then close
        else:
            reply(conn, FULL)
    return handler


def test_a_body_shorter_than_its_content_length_is_retried(serve):
    server = serve(cut_then_whole(cuts=2))
    with conf.set_temp("max_retries", 5):
        assert call(server.url) == json.loads(FULL)
    assert len(server.seen) == 3


def test_a_body_cut_every_time_is_reported_as_truncated(serve):
    server = serve(cut_then_whole(cuts=100))
    with conf.set_temp("max_retries", 2), pytest.raises(TruncatedAnswerError) as info:
        call(server.url)
    half = len(FULL) // 2
    assert str(info.value) == (
        f"Fink's answer to the objects query at {server.url} was cut on the way: {half} bytes "
        f"arrived, {len(FULL) - half} more were expected (gave up after 3 attempts)")
    assert server.url in str(info.value)
    assert len(server.seen) == 3


def test_a_chunked_body_that_stops_is_truncated(serve, no_retries):
    def handler(server, conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     b"400\r\n" + FULL[:100])

    server = serve(handler)
    with pytest.raises(TruncatedAnswerError, match="cut"):
        call(server.url)


def test_content_length_is_checked_on_ready_made_responses(tmp_path):
    # e.g. an answer whose body was read by another layer: the count is still checked
    client = Client()
    client.cache_location = tmp_path
    short = make_response(FULL[:100], headers={"Content-Length": str(len(FULL))})
    client._request = recorder = Recorder([short, make_response(FULL)])
    result = call("http://fink.test/api/v1/objects", client=client, cache=True,
                  parse=lambda r: r.content)
    assert result == FULL and len(recorder.calls) == 2


def test_truncated_parse_is_retried_and_never_cached(tmp_path):
    client = Client()
    client.cache_location = tmp_path

    def parse(response):
        if response.content == b"cut":
            raise TruncatedAnswerError("the answer stops before its end")
        return json.loads(response.content)

    client._request = recorder = Recorder([make_response(b"cut"), make_response(b"[1, 2]")])
    url = "http://fink.test/api/v1/objects"
    assert call(url, client=client, cache=True, parse=parse) == [1, 2]
    assert len(recorder.calls) == 2
    # the whole answer, not the cut one, is in the cache: no request the second time
    assert call(url, client=client, cache=True, parse=parse) == [1, 2]
    assert len(recorder.calls) == 2
    assert len(list(tmp_path.glob("*.pickle"))) == 1


@pytest.mark.parametrize("error", [TableParseError("bad table"), ValueError("bad value"),
                                   KeyError("i:jd"), IndexError("list index"),
                                   TypeError("NoneType"), RecursionError("deep")])
def test_other_parse_failures_are_permanent_and_astroquery_exceptions(error):
    def parse(response):
        raise error

    client = Client()
    client._request = recorder = Recorder(lambda url, body: make_response(b"[]"))
    with conf.set_temp("max_retries", 5):
        err, _ = timed(call, "http://fink.test/api/v1/objects", client=client, parse=parse)
    assert len(recorder.calls) == 1  # the same bytes would come again: no retry
    if isinstance(error, TableParseError):
        assert err is error
    else:
        assert type(err) is RemoteServiceError
        assert f"{type(error).__name__}: {error}" in str(err) and "fink.test" in str(err)
        assert err.__cause__ is error


# ------------------------------------------------------------------------ 3. error bodies

NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center>"
             "<h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
             "</body>\r\n</html>\r\n")
WERKZEUG_404 = ('<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found'
                '</h1>\n<p>The requested URL was not found on the server. If you entered the '
                'URL manually please check your spelling and try again.</p>\n')


@pytest.mark.parametrize(("body", "expected"), [
    ("{'status': 'error', 'text': 'A value for `objectId` is required. See "
     "https://api.ztf.fink-portal.org \\n'}",
     "A value for `objectId` is required. See https://api.ztf.fink-portal.org"),
    ("{'status': 'error', 'text': ValueError(\"Invalid character at col 0 parsing angle "
     "'kfdlkj'\")}", "Invalid character at col 0 parsing angle 'kfdlkj'"),
    ("{'status': 'error', 'text': KeyError('i:jd')}", "i:jd"),
    ("{'status': 'error', 'text': <object at 0x7f>}", "<object at 0x7f>"),
    ("{'status': 'error', 'text': \"it's \\\\ fine\"}", "it's \\ fine"),
    ('{"message": "Did not attempt to load JSON data"}\n', "Did not attempt to load JSON data"),
    ('{"status": "error", "text": "Output format `xls` is not supported"}',
     "Output format `xls` is not supported"),
    (NGINX_502, "502 Bad Gateway"),
    (WERKZEUG_404, "404 Not Found"),
    ("<html><body><h1>Service &amp; co. down</h1></body></html>", "Service & co. down"),
    ("<html><body><p>plain <b>page</b></p></body></html>", "plain page"),
    ("Internal Server Error", "Internal Server Error"),
    (b"\xff\xfe binary", "\ufffd\ufffd binary"),
    # no words at all: said so, not an empty message after "(HTTP 500): "
    ("<html><head><title><<<</title></head></html>",
     "(the answer has no words: an empty or markup-only body)"),
    (" " * 100_000, "(the answer has no words: an empty or markup-only body)"),
])
def test_server_message_keeps_the_server_words(body, expected):
    assert _errors.server_message(body) == expected


@pytest.mark.parametrize("content_type, expected", [
    ("application/octet-stream", r"\(HTTP 500\): 4096 bytes of binary data, starting "
                                 "1f 8b 08 00 ff fe 00 01$"),
    # a named charset says it is text (UTF-16 is not UTF-8)
    ("text/plain; charset=utf-16", r"\(HTTP 500\): Erreur interne$"),
    # text in another charset, unnamed, is said as text (it was "binary data")
    ("text/plain", r"\(HTTP 500\): 25 bytes of text that is not UTF-8 \(byte 0xea at 17\), "
                   r"starting 'Erreur de la requ\ufffdte'$"),
])
def test_a_binary_error_body_is_summarised_not_printed(content_type, expected):
    body = (b"\x1f\x8b\x08\x00\xff\xfe\x00\x01" * 512 if "octet" in content_type
            else "Erreur interne".encode("utf-16") if "16" in content_type
            else "Erreur de la requête".encode("latin-1") + b" \n   ")
    with pytest.raises(RemoteServiceError, match=expected):
        _errors.raise_for_fink_status(make_response(body, status=500,
                                                    content_type=content_type), "objects")


def test_server_message_is_short():
    message = _errors.server_message("x" * 10_000)
    assert len(message) == 500 and message.endswith(" ...")
    message = _errors.server_message("{'status': 'error', 'text': '" + "y" * 100_000 + "'}")
    assert len(message) <= 500 and message.startswith("yyy")


PATHOLOGICAL = {
    # the old `_TEXT_FIELD` regex backtracked cubically on these (a 5 kB one took ~30 s)
    "unclosed text and spaces": "{'status': 'error', 'text': 'a" + " " * 5_000,
    "many closing braces": "{'text': " + " }" * 30_000,
    "nested braces": "{" * 60_000,
    "nested lists": "[" * 60_000,
    "many text keys": "'text':" * 9_000,
    "text then spaces": "'text':" + " " * 5_000 + "x",  # the old code: 96 s
    "escaped quotes": "{'text': '" + "\\'" * 30_000,
    "exception calls": "{'text': ValueError(" * 3_000,
    "tags": "<title" * 10_000,
    "angles": "<" * 60_000,
    "a megabyte": "{'status': 'error', 'text': '" + "z" * 1_000_000 + "'}",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_error_bodies_cost_bounded_time(name):
    start = time.perf_counter()
    message = _errors.server_message(PATHOLOGICAL[name])
    assert time.perf_counter() - start < 0.2
    assert len(message) <= 500


def test_a_huge_error_body_is_read_only_in_part(serve, no_retries):
    page = (b"<html><head><title>500 Internal Server Error</title></head><body>"
            + b"x" * 200_000)

    def handler(server, conn, request):
        conn.sendall(head(500, 50_000_000, content_type="text/html") + page)
        server.stop.wait()  # the other 49.8 MB never come: reading them would time out

    server = serve(handler)
    err, elapsed = timed(call, server.url + "/api/v1/objects", timeout=2.0)
    assert type(err) is RemoteServiceError
    assert str(err) == (f"Fink failed to answer the objects query at {server.url}/api/v1/objects"
                        " (HTTP 500): 500 Internal Server Error")
    assert elapsed < 1.5  # far below the 2 s that reading the whole body would take


def test_a_cut_error_body_still_gives_the_status_error(serve, no_retries):
    def handler(server, conn, request):
        conn.sendall(head(502, 10_000, content_type="text/html") + NGINX_502.encode())

    server = serve(handler)
    with pytest.raises(RemoteServiceError) as info:
        call(server.url)
    assert type(info.value) is RemoteServiceError
    assert str(info.value) == (f"Fink failed to answer the objects query at {server.url} "
                               "(HTTP 502): 502 Bad Gateway (gave up after 1 attempt)")


@pytest.mark.parametrize(("status", "family", "calls"), [
    (400, InvalidQueryError, 1), (413, InvalidQueryError, 1), (415, InvalidQueryError, 1),
    (422, InvalidQueryError, 1), (404, RemoteServiceError, 1), (500, RemoteServiceError, 1),
    (501, RemoteServiceError, 1), (429, RemoteServiceError, 3), (502, RemoteServiceError, 3),
    (503, RemoteServiceError, 3), (504, RemoteServiceError, 3),
])
def test_status_mapping(status, family, calls):
    client = Client()
    client._request = recorder = Recorder(
        lambda url, body: make_response(NGINX_502.replace("502 Bad Gateway", "the words"),
                                        status=status, content_type="text/html", url=url))
    with conf.set_temp("max_retries", 2), pytest.raises(family) as info:
        call("http://fink.test/api/v1/objects", client=client)
    assert type(info.value) is family and len(recorder.calls) == calls
    if status == 404:
        assert "http://fink.test/api/v1/objects" in str(info.value)
        assert "conf.server" in str(info.value)
    else:
        assert f"(HTTP {status}): the words" in str(info.value)


def test_retry_after_is_honoured_and_bounded(monkeypatch):
    waits = []
    monkeypatch.setattr(_http.time, "sleep", waits.append)
    client = Client()
    client._request = recorder = Recorder([
        make_response(b"busy", status=503, headers={"Retry-After": "0.25"}),
        make_response(b"busy", status=429, headers={"Retry-After": "1000"}),
    ])
    with conf.set_temp("max_retries", 5), conf.set_temp("retry_total_time", 60), \
            pytest.raises(RemoteServiceError, match="HTTP 429.*gave up after 2 attempts"):
        call("http://fink.test/api/v1/objects", client=client)
    assert waits == [0.25] and len(recorder.calls) == 2  # 1000 s would overrun 60 s


@pytest.mark.parametrize("value", ["-5", "nan", "Fri, 31 Dec 99999999999999999999 23:59:59 GMT"])
def test_an_invalid_retry_after_falls_back_to_our_backoff(value):
    # RFC 9110: a negative delay is invalid; a date no clock holds overflowed (an escape)
    assert _http._retry_after(make_response(b"busy", status=503,
                                            headers={"Retry-After": value})) is None


@pytest.mark.parametrize("name", ["retry_base_delay", "retry_max_delay", "retry_total_time"])
@pytest.mark.parametrize("value", [float("nan"), -1.0])
def test_bad_retry_settings_are_invalid_queries(name, value):
    client = Client()
    client._request = Recorder([make_response(b"busy", status=503)] * 3)
    with conf.set_temp(name, value), pytest.raises(InvalidQueryError,
                                                  match=f"conf.{name} must be seconds"):
        call("http://fink.test/api/v1/objects", client=client)
    assert client._request.calls == []  # refused before the first try, not at a failure


@pytest.mark.parametrize(("name", "value", "least"), [
    ("max_retries", -1, 0), ("max_workers", 0, 1), ("max_workers", -2, 1),
    ("batch_size", 0, 1), ("batch_size_upperlim", -1, 1)])
def test_bad_count_settings_are_invalid_queries(name, value, least):
    # astropy checks a setting's type only: 0 workers or batches of 0 IDs were clamped to 1
    # silently, a negative max_retries meant none
    fink = FinkClass(server="http://127.0.0.1:9")  # refused before any request is sent
    with conf.set_temp(name, value), pytest.raises(
            InvalidQueryError, match=rf"^astroquery_fink\.conf\.{name} must be a whole number "
            rf"of at least {least}, not {value}$"):
        fink.query_object(["ZTF21aaxtctv", "ZTF20abfcszi"],
                          withupperlim=name == "batch_size_upperlim")


def test_server_words_in_messages_have_no_control_characters():
    body = "\x1b[2J\x1b[31mred\x07 \x9b31m \u202eevil\u202c Erreur: dépassement".encode()
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/json"}):
        client = Client()
        client._request = Recorder([make_response(body, status=500, headers=headers)] * 6)
        with conf.set_temp("max_retries", 0), pytest.raises(RemoteServiceError) as info:
            call("http://fink.test/api/v1/objects", client=client)
        message = str(info.value)
        assert "red" in message and "evil" in message
        assert not any(c in message for c in "\x1b\x07\x9b\u202e\u202c")
        assert "Erreur: dépassement" in message  # UTF-8 without charset, not Latin-1


# ------------------------------------------------------------------------ 4. redirects

def echo(server, conn, request):
    reply(conn, json.dumps({"method": request.method, "path": request.path,
                            "body": json.loads(request.body or b"null")}).encode())


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_resends_the_same_post(serve, status):
    def handler(server, conn, request):
        if request.path.startswith("/old/"):
            reply(conn, b"", status=status,
                  headers={"Location": request.path.replace("/old/", "/new/")})
        else:
            echo(server, conn, request)

    server = serve(handler)
    payload = {"objectId": "ZTF20abfcszi", "output-format": "json"}
    answer = call(server.url + "/old/api/v1/objects", payload=payload)
    assert answer == {"method": "POST", "path": "/new/api/v1/objects", "body": payload}
    assert [(r.method, r.path) for r in server.seen] == [("POST", "/old/api/v1/objects"),
                                                         ("POST", "/new/api/v1/objects")]


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_redirects_body_is_never_read(serve, encoding):
    # requests reads a redirect's whole body even when not following it (to work out
    # Response.next): a 1 GiB one cost seconds and gigabytes, a never-ending one the whole
    # timeout, reported as the target's
    def handler(server, conn, request):
        if request.path.startswith("/old/"):
            headers = {"Location": request.path.replace("/old/", "/new/"),
                       **({"Content-Encoding": encoding} if encoding else {})}
            conn.sendall(head(302, 2**30, headers) + b"\x1f\x8b" + b"x" * 1000)
            server.stop.wait(10)  # the rest never comes
        else:
            echo(server, conn, request)

    server = serve(handler)
    payload = {"objectId": "ZTF20abfcszi"}
    start = time.monotonic()
    answer = call(server.url + "/old/api/v1/objects", payload=payload, client=FinkClass(),
                  timeout=5)
    assert answer == {"method": "POST", "path": "/new/api/v1/objects", "body": payload}
    assert time.monotonic() - start < 2


def test_a_redirect_to_another_server_resends_the_same_post(serve):
    target = serve(echo)
    moved = serve(lambda server, conn, request: reply(
        conn, status=301, headers={"Location": target.url + request.path}))
    answer = call(moved.url + "/api/v1/objects", payload={"objectId": "ZTF21aaxtctv"})
    assert answer == {"method": "POST", "path": "/api/v1/objects",
                      "body": {"objectId": "ZTF21aaxtctv"}}
    assert len(moved.seen) == 1 and len(target.seen) == 1


def test_a_get_is_redirected_as_a_get(serve):
    def handler(server, conn, request):
        if request.path == "/api/v1/schema":
            reply(conn, status=302, headers={"Location": "/v2/schema"})
        else:
            echo(server, conn, request)

    server = serve(handler)
    answer = fetch(Client(), "GET", server.url + "/api/v1/schema", {}, parse_json,
                   what="schema", cache=False, timeout=2)
    assert answer == {"method": "GET", "path": "/v2/schema", "body": None}


def test_a_redirect_loop_fails_at_once_naming_it(serve):
    def handler(server, conn, request):
        reply(conn, status=302, headers={"Location": "/b" if request.path == "/a" else "/a"})

    server = serve(handler)
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError) as info:
        call(server.url + "/a")
    assert str(info.value) == (f"Fink redirected the objects query in a loop: {server.url}/a -> "
                               f"{server.url}/b -> {server.url}/a")
    assert [r.path for r in server.seen] == ["/a", "/b"]


def test_too_many_redirects_fail_at_once(serve):
    def handler(server, conn, request):
        reply(conn, status=307, headers={"Location": f"/r{int(request.path[2:]) + 1}"})

    server = serve(handler)
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError,
                                                        match="more than 5 times"):
        call(server.url + "/r0")
    assert [r.path for r in server.seen] == [f"/r{k}" for k in range(6)]


@pytest.mark.parametrize(("location", "match"), [
    ("ftp://fink.test/x", "not an HTTP URL"), (None, "without saying where"),
])
def test_unusable_redirects_fail_at_once(location, match):
    client = Client()
    headers = {"Location": location} if location else {}
    client._request = recorder = Recorder(lambda url, body: make_response(
        b"", status=301, headers=headers))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError, match=match):
        call("http://fink.test/api/v1/objects", client=client)
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(("location", "match"), [
    ("http://fink.test:99999/x", r"redirected the objects query to 'http://fink.test:99999/x', "
                                 r"which is not a valid URL \(Port out of range"),
    ("http://[::1/x", "which is not a valid URL"),
])
def test_a_redirect_to_a_malformed_url_blames_the_redirect(location, match):
    client = Client()
    client._request = recorder = Recorder(lambda url, body: make_response(
        b"", status=302, headers={"Location": location}))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError, match=match) as info:
        call("http://fink.test/api/v1/objects", client=client)
    assert "conf.server" not in str(info.value) and len(recorder.calls) == 1


def raw(data: bytes):
    """A handler that answers every request with these bytes."""
    return lambda server, conn, request: conn.sendall(data)


@pytest.mark.parametrize("location", [b"/api/v1/\xff", b"http://[::1/x", b"http://exa mple.com/x"])
def test_a_redirect_over_a_socket_to_an_unreadable_location_fails_at_once(serve, location):
    # requests reads the Location itself (Session.send, even without following it), and
    # fails there: still the server's redirect, named, and never tried again
    server = serve(raw(b"HTTP/1.1 302 Found\r\nLocation: " + location
                       + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError) as info:
        call(server.url + "/api/v1/objects")
    assert "redirected the objects query to" in str(info.value)
    assert "which is not a valid URL" in str(info.value) and len(server.seen) == 1


def test_a_utf8_location_is_followed_as_requests_reads_it(serve):
    def handler(server, conn, request):
        if request.path == "/api/v1/objects":
            conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /api/v1/\xc3\xa9\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            echo(server, conn, request)

    server = serve(handler)
    assert call(server.url + "/api/v1/objects")["path"] == "/api/v1/%C3%A9"


def test_redirect_messages_are_bounded_and_printable(serve):
    def handler(server, conn, request):  # /s -> /<ESC>[2Jevilxxx... -> /s
        location = "/\x1b[2Jevil" + "x" * 30_000 if request.path == "/s" else "/s"
        reply(conn, status=302, headers={"Location": location})

    server = serve(handler)
    with pytest.raises(RemoteServiceError) as info:
        call(server.url + "/s")
    text = str(info.value)
    assert text.startswith("Fink redirected the objects query in a loop: ")
    assert "\x1b" not in text and len(text) < 600 and " ..." in text


@pytest.mark.parametrize(("answer", "words"), [
    (b"", "the server closed the connection without answering"),
    (b"HELLO\r\n\r\n", "the server answered something that is not HTTP ('HELLO')"),
])
def test_broken_http_is_said_in_plain_words(serve, no_retries, answer, words):
    server = serve(raw(answer))
    with pytest.raises(RemoteServiceError) as info:
        call(server.url + "/api/v1/objects")
    assert str(info.value).endswith(f"for the objects query: {words} (gave up after 1 attempt)")


def test_a_bad_chunk_size_is_a_cut_said_in_plain_words(serve, no_retries):
    server = serve(raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nab\r\n"))
    with pytest.raises(TruncatedAnswerError) as info:
        call(server.url + "/api/v1/objects")
    assert "a chunk size that is not a number ('ZZZ')" in str(info.value)


def test_a_corrupt_gzip_body_fails_at_once(serve):
    body = b"\x1f\x8b\x08\x00garbage-not-deflate" * 3
    server = serve(raw(head(200, len(body), {"Content-Encoding": "gzip"}) + body))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError) as info:
        call(server.url + "/api/v1/objects")
    assert "could not be decompressed" in str(info.value) and len(server.seen) == 1
    assert not isinstance(info.value, TruncatedAnswerError)


def test_chunked_encoding_wins_over_a_content_length(serve, no_retries):
    body = json.dumps([{"a": 1}]).encode()
    server = serve(raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\nContent-Length: 64506\r\n\r\n"
                       + f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"))
    assert call(server.url + "/api/v1/objects") == [{"a": 1}]


@pytest.mark.parametrize("status", [103, 204, 304])
def test_a_status_without_an_answer_is_named(serve, status):
    extra = head(200, 2) + b"[]" if status == 103 else b""
    server = serve(raw(f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                       f"{'Content-Length: 0' if status != 103 else 'Link: </x>'}\r\n\r\n"
                       .encode() + extra))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError) as info:
        call(server.url + "/api/v1/objects")
    assert f"with HTTP {status} {HTTPStatus(status).phrase}, not the 200 answer" \
        in str(info.value) and len(server.seen) == 1


def test_a_retry_after_beyond_the_budget_is_said(serve):
    server = serve(lambda server, conn, request: reply(
        conn, b"busy", status=429, headers={"Retry-After": "600"}))
    with conf.set_temp("max_retries", 5), conf.set_temp("retry_total_time", 60), \
            pytest.raises(RemoteServiceError) as info:
        call(server.url + "/api/v1/objects")
    assert str(info.value).endswith(
        "(gave up after 1 attempt; the server asked to wait 600 s (Retry-After), beyond what "
        "is left of astroquery_fink.conf.retry_total_time (60 s))")


def test_a_redirect_to_a_closed_port_names_both_servers(serve, no_retries):
    import socket
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    moved = serve(lambda server, conn, request: reply(
        conn, status=301, headers={"Location": closed + request.path}))
    with pytest.raises(RemoteServiceError) as info:
        call(moved.url + "/api/v1/objects")
    assert str(info.value).startswith(
        f"Could not reach Fink at {closed}/api/v1/objects (where {moved.url}/api/v1/objects "
        "redirected it) for the objects query: Connection refused")
    assert "HTTPConnection" not in str(info.value)


@pytest.mark.parametrize("url", [
    "api.ztf.fink-portal.org/api/v1/objects",      # requests' MissingSchema
    "htp://api.ztf.fink-portal.org/api/v1/objects",  # InvalidSchema
    "http:///api/v1/objects",                        # InvalidURL: no host
    "http://[::1/api/v1/objects",                    # InvalidURL: unparsable
    "http://127.0.0.1:99999/api/v1/objects",         # InvalidURL: port out of range
])
def test_a_malformed_url_is_an_invalid_query_naming_it(url):
    with conf.set_temp("max_retries", 5), pytest.raises(InvalidQueryError) as info:
        call(url)
    assert url in str(info.value) and "conf.server" in str(info.value)


def test_tls_to_a_plain_http_server_is_a_remote_service_error(serve, no_retries):
    # answers at once in plain HTTP, without waiting for the (TLS) request
    server = serve(lambda server, conn, request: reply(conn, b"[]"), read=False)
    url = server.url.replace("http://", "https://") + "/api/v1/objects"
    with pytest.raises(RemoteServiceError) as info:
        call(url)
    assert url in str(info.value)


def test_a_refused_certificate_is_permanent():
    refused = ssl.SSLCertVerificationError(1, "certificate verify failed")
    client = Client()
    client._request = recorder = Recorder(
        lambda url, body: requests.exceptions.SSLError(urllib3.exceptions.SSLError(refused)))
    with conf.set_temp("max_retries", 5), pytest.raises(RemoteServiceError,
                                                        match="certificate was refused"):
        call("https://fink.test/api/v1/objects", client=client)
    assert len(recorder.calls) == 1


def _instances():
    """One instance of every exception class requests and urllib3 define (and more)."""
    classes = [c for module in (requests.exceptions, urllib3.exceptions)
               for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, BaseException) and not issubclass(c, Warning)
               and c.__module__ == module.__name__]
    found = []
    for cls in classes:
        for args in (("boom",), (None, "http://fink.test/x", "boom"), (None, "boom"),
                     ("boom", None), (0, 10), ()):
            try:
                found.append(cls(*args))
                break
            except Exception:  # noqa: BLE001, S112 - try the next argument shape
                continue
    return found + [OSError("boom"), ConnectionResetError(104, "reset"), ValueError("boom"),
                    KeyError("k"), TypeError("t"), RecursionError("r"),
                    http.client.RemoteDisconnected("gone"), http.client.IncompleteRead(b"x", 9),
                    ssl.SSLError(1, "boom"), TimeoutError("slow"), socket.gaierror(-2, "dns")]


INSTANCES = _instances()


def test_every_transport_exception_becomes_an_astroquery_one():
    assert len(INSTANCES) > 60  # all of requests' and urllib3's, and more
    escaped = []
    client = Client()
    for error in INSTANCES:
        client._request = Recorder(lambda url, body, error=error: error)
        try:
            with conf.set_temp("max_retries", 1):
                call("http://fink.test/api/v1/objects", client=client, timeout=0.5)
        except ASTROQUERY_FAMILY as err:
            if "http://fink.test/api/v1/objects" not in str(err):
                escaped.append((error, err))
        except Exception as err:  # noqa: BLE001 - collected and shown below
            escaped.append((error, err))
    assert escaped == []


@pytest.mark.parametrize(("error", "family"), [
    (requests.ConnectTimeout("slow"), AstroTimeoutError),
    (requests.ReadTimeout("slow"), AstroTimeoutError),
    (requests.ConnectionError(urllib3.exceptions.ReadTimeoutError(None, "u", "slow")),
     AstroTimeoutError),
    (requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused")),
     RemoteServiceError),
    (requests.exceptions.ChunkedEncodingError("cut"), TruncatedAnswerError),
    (requests.exceptions.MissingSchema("no scheme"), InvalidQueryError),
])
def test_transient_failures_are_retried_into_the_right_exception(error, family):
    client = Client()
    client._request = recorder = Recorder(lambda url, body: error)
    with conf.set_temp("max_retries", 2), pytest.raises(family) as info:
        call("http://fink.test/api/v1/objects", client=client)
    assert type(info.value) is family
    assert len(recorder.calls) == (1 if family is InvalidQueryError else 3)


def test_the_session_gets_watched_adapters_but_custom_ones_are_kept(serve):
    server = serve(echo)
    client = Client()
    custom = type("Custom", (requests.adapters.HTTPAdapter,), {})()
    client._session.mount("https://", custom)
    call(server.url, client=client)
    assert type(client._session.adapters["http://"]) is _http._WatchedAdapter
    assert client._session.adapters["https://"] is custom


# ------------------------------------------------------------------------ 5. speed

def test_requests_are_streamed_so_astroquerys_hook_never_decodes_bodies(serve):
    body = json.dumps(list(range(100_000))).encode()
    server = serve(lambda server, conn, request: reply(conn, body))
    client = Client()
    seen = []
    client._session.hooks["response"] = [lambda r, *a, **kw: seen.append(kw.get("stream"))]
    assert call(server.url, client=client) == list(range(100_000))
    assert seen == [True]


# ------------------------------------------------------------------------ 6. cache keys

@pytest.mark.parametrize(("url", "cacheable"), [
    ("https://api.ztf.fink-portal.org/api/v1/objects", True),
    ("http://fink.test/api/v1/objects", True),
    ("http://134.158.75.151/api/v1/objects", True),
    ("http://10.1.2.3:5000/api/v1/objects", False),  # a local network
    ("http://127.1:5000/api/v1/objects", False),
    ("http://127.0.0.1:5000/api/v1/objects", False),
    ("http://127.3.2.1/api/v1/objects", False),
    ("http://localhost:5000/api/v1/objects", False),
    ("http://LOCALHOST/api/v1/objects", False),
    ("http://emulator.localhost/api/v1/objects", False),
    ("http://[::1]:5000/api/v1/objects", False),
    ("http://[::ffff:127.0.0.1]/api/v1/objects", False),
    ("http://0.0.0.0:5000/api/v1/objects", False),
    ("http://%31%32%37.0.0.1:5000/api/v1/objects", False),  # urllib3 decodes it: 127.0.0.1
    ("not a url", False),
])
def test_local_answers_are_never_cached(url, cacheable):
    assert _http._cacheable(url) is cacheable


def test_a_loopback_server_is_asked_every_time(serve, tmp_path):
    server = serve(echo)
    client = Client()
    client.cache_location = tmp_path
    for _ in range(2):
        call(server.url + "/api/v1/objects", client=client, cache=True)
    assert len(server.seen) == 2 and not list(tmp_path.iterdir())


def test_an_unreadable_cache_entry_is_a_miss(tmp_path):
    client = Client()
    client.cache_location = tmp_path
    url = "http://fink.test/api/v1/objects"
    key = AstroQuery("POST", url, json={"a": 1})
    key.request_file(tmp_path).write_bytes(b"\x80\x04 not a pickle")
    client._request = recorder = Recorder(lambda u, body: make_response(b"[1]"))
    assert call(url, client=client, cache=True) == [1]
    assert call(url, client=client, cache=True) == [1]
    assert len(recorder.calls) == 1  # the bad entry was replaced by the good answer
    assert [p.name for p in tmp_path.iterdir()] == [key.request_file(tmp_path).name]


def test_a_cached_answer_that_no_longer_parses_is_asked_again(tmp_path):
    client = Client()
    client.cache_location = tmp_path
    url = "http://fink.test/api/v1/objects"
    client._request = recorder = Recorder([make_response(b"[1]"), make_response(b"[2]")])
    assert call(url, client=client, cache=True) == [1]

    def picky(response):
        if response.content == b"[1]":
            raise TableParseError("written by another version")
        return json.loads(response.content)

    assert call(url, client=client, cache=True, parse=picky) == [2]
    assert len(recorder.calls) == 2


# ------------------------------------------------------------------------ download

BIG = bytes(range(256)) * (3 * 4096)  # 3 MiB


def test_download_writes_the_whole_file(serve, tmp_path):
    server = serve(lambda server, conn, request: reply(conn, BIG,
                                                       content_type="application/octet-stream"))
    path = download(Client(), "POST", server.url + "/api/v1/ssobulk", {"kind": "x"},
                    tmp_path / "sso.parquet", what="ssobulk", timeout=2, progress=False)
    assert path == tmp_path / "sso.parquet" and path.read_bytes() == BIG
    assert json.loads(server.seen[0].body) == {"kind": "x"} and server.seen[0].method == "POST"
    assert os.listdir(tmp_path) == ["sso.parquet"]


def cut_download(cuts):
    def handler(server, conn, request):
        if len(server.seen) <= cuts:
            conn.sendall(head(200, len(BIG), content_type="application/octet-stream")
                         + BIG[:len(BIG) // 3])
        else:
            reply(conn, BIG, content_type="application/octet-stream")
    return handler


def test_a_cut_download_is_retried(serve, tmp_path):
    server = serve(cut_download(cuts=1))
    path = download(Client(), "POST", server.url, None, tmp_path / "f.bin", what="ssobulk",
                    timeout=2, progress=False)
    assert path.read_bytes() == BIG and len(server.seen) == 2
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_download_cut_every_time_leaves_no_file(serve, tmp_path):
    server = serve(cut_download(cuts=100))
    (tmp_path / "f.bin").write_bytes(b"old")
    with conf.set_temp("max_retries", 1), pytest.raises(TruncatedAnswerError):
        download(Client(), "POST", server.url, None, tmp_path / "f.bin", what="ssobulk",
                 timeout=2, progress=False)
    assert os.listdir(tmp_path) == ["f.bin"] and (tmp_path / "f.bin").read_bytes() == b"old"
    assert len(server.seen) == 2


def test_a_stalled_download_times_out(serve, tmp_path, no_retries):
    def handler(server, conn, request):
        conn.sendall(head(200, len(BIG)) + BIG[:100_000])
        trickle(server, conn, BIG[100_000:], every=0.01)  # 100 B/s: below 64 KiB per 0.5 s

    server = serve(handler)
    err, elapsed = timed(download, Client(), "POST", server.url, None, tmp_path / "f.bin",
                         what="ssobulk", timeout=0.5, progress=False)
    assert isinstance(err, AstroTimeoutError) and elapsed < 1.5
    assert os.listdir(tmp_path) == []


def test_a_download_error_status_is_raised_with_its_message(serve, tmp_path, no_retries):
    server = serve(lambda server, conn, request: reply(
        conn, b"{'status': 'error', 'text': 'bad kind'}", status=400, content_type="text/html"))
    with pytest.raises(InvalidQueryError, match=r"HTTP 400\): bad kind"):
        download(Client(), "POST", server.url, None, tmp_path / "f.bin", what="ssobulk",
                 timeout=2, progress=False)
    assert os.listdir(tmp_path) == []


def test_a_slow_but_steady_download_outlives_the_timeout(serve, tmp_path, no_retries):
    piece = 1 << 16

    def handler(server, conn, request):
        conn.sendall(head(200, 5 * piece))
        for k in range(5):
            if server.stop.wait(0.12):
                return
            conn.sendall(BIG[k * piece:(k + 1) * piece])

    server = serve(handler)
    start = time.monotonic()
    path = download(Client(), "POST", server.url, None, tmp_path / "f.bin", what="ssobulk",
                    timeout=0.4, progress=False)
    assert path.read_bytes() == BIG[:5 * piece]
    assert time.monotonic() - start > 0.5  # beyond the timeout: kept alive by its progress


def test_a_download_to_a_missing_folder_fails_before_asking(serve, tmp_path):
    server = serve(echo)
    with pytest.raises(FileNotFoundError):
        download(Client(), "POST", server.url, None, tmp_path / "nowhere" / "f.bin",
                 what="ssobulk", timeout=2, progress=False)
    assert server.seen == []


@pytest.mark.parametrize("bar", ["tqdm", "astropy"])
def test_download_progress_bar(serve, tmp_path, capsys, monkeypatch, bar):
    if bar == "astropy":
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: astropy's bar
    server = serve(lambda server, conn, request: reply(conn, BIG))
    path = download(Client(), "GET", server.url, None, tmp_path / "f.bin", what="ssobulk",
                    timeout=2, progress=True)
    assert path.read_bytes() == BIG
    err = capsys.readouterr().err
    if bar == "tqdm":
        assert "f.bin" in err and "3.00M" in err


def test_a_proxy_dribbling_its_tunnel_answer_is_under_the_timeout(serve, no_retries,
                                                                   monkeypatch):
    # urllib3 opens an HTTPS proxy's tunnel inside connect(): the socket is watched from
    # its connection on, so the tunnel and the TLS handshake are bounded too
    proxy = serve(lambda server, conn, request: trickle(
        server, conn, b"HTTP/1.1 200 Connection established\r\nX-Slow: " + b"a" * 40
        + b"\r\n\r\n", every=0.25))
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "")
    err, elapsed = timed(call, "https://fink.test/api/v1/objects", timeout=1.0)
    assert isinstance(err, AstroTimeoutError), err
    assert proxy.seen and proxy.seen[0].method == "CONNECT"
    assert 0.9 < elapsed < 2.0


# ------------------------------------------------------------------------ 7. the environment

def test_a_query_reads_the_proxy_variables_once_and_uses_them(emulator, monkeypatch):
    # requests reads os.environ for every request (Session.merge_environment_settings);
    # the client reads it once per query, and every request still goes through the proxy
    ids = list(emulator.object_ids[:3])
    monkeypatch.setenv("http_proxy", emulator.url)  # the emulator answers as the proxy
    monkeypatch.setenv("no_proxy", "")
    readings = []
    real = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies",
                        lambda *a, **k: readings.append(a[0]) or real(*a, **k))
    fink = FinkClass(server="http://fink.test")  # no such host: only the proxy answers
    with conf.set_temp("batch_size", 1):
        table = fink.query_object(ids, columns=["i:objectId"], cache=False)
    assert sorted(set(table["i:objectId"])) == sorted(ids)
    assert readings == ["http://fink.test/api/v1/objects"]
    # outside a query, each request reads it, as requests does
    fink._session.post("http://fink.test/api/v1/objects", json={"objectId": ids[0]})
    assert len(readings) == 2


def test_the_environment_is_read_again_by_the_next_query(emulator, serve, monkeypatch):
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setenv("http_proxy", emulator.url)
    fink = FinkClass(server="http://fink.test")
    oid = emulator.object_ids[0]
    assert len(fink.query_object(oid, columns=["i:objectId"], cache=False)) > 0
    refusing = serve(lambda server, conn, request: reply(conn, b'{"status": "no"}', 403))
    monkeypatch.setenv("http_proxy", refusing.url)  # another proxy, for the next query
    with pytest.raises(RemoteServiceError, match="403"):
        fink.query_object(oid, columns=["i:objectId"], cache=False)
    assert [r.path for r in refusing.seen] == ["http://fink.test/api/v1/objects"]


def test_a_query_started_while_another_runs_reads_the_environment_again(emulator, serve,
                                                                       monkeypatch):
    # one client, two threads: the reading belongs to a query, not to the shared session
    arrived, release = threading.Event(), threading.Event()

    def held(server, conn, request):
        arrived.set()
        release.wait(10)
        reply(conn, b'{"status": "no"}', 403)

    slow_proxy = serve(held)
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setenv("http_proxy", slow_proxy.url)
    fink = FinkClass(server="http://fink.test")
    oid = emulator.object_ids[0]
    outcome = []
    first = threading.Thread(target=lambda: outcome.append(timed(
        fink.query_object, oid, columns=["i:objectId"], cache=False)[0]))
    first.start()
    assert arrived.wait(10)  # the first query's request is at its proxy
    monkeypatch.setenv("http_proxy", emulator.url)
    try:
        assert len(fink.query_object(oid, columns=["i:objectId"], cache=False)) > 0
    finally:
        release.set()
        first.join(10)
    assert not first.is_alive() and isinstance(outcome[0], RemoteServiceError)
    assert "403" in str(outcome[0])  # the first query kept its own proxy


def test_the_clients_session_keeps_astroquerys_response_hook(fink):
    # BaseQuery logs each request and answer through it at astroquery's DEBUG level; it is
    # run only then (astroquery formats them for nothing at the default INFO level)
    from astroquery import log

    assert [h.__name__ for h in fink._session.hooks["response"]] == ["_response_hook"]
    calls = []
    spy = fink._session.hooks["response"][0].__wrapped__
    fink._session.hooks["response"] = [_session.when_logged(
        lambda response, *a, **kw: calls.append(response.status_code) or spy(response, *a,
                                                                              **kw))]
    with log.log_to_list() as records:
        fink.query_object("ZTF17aaabbbp", columns=["i:jd"], cache=False)
    assert calls == [] and records == []
    level = log.level
    try:
        log.setLevel("DEBUG")
        with log.log_to_list() as records:
            fink.query_object("ZTF17aaabbbp", columns=["i:jd"], cache=False)
    finally:
        log.setLevel(level)
    assert calls == [200]
    assert [r.levelno for r in records] == [logging.DEBUG]
    assert "POST " in records[0].getMessage() and "/api/v1/objects" in records[0].getMessage()
