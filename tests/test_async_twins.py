"""The ``_async`` twins of both clients: each sends exactly the payload(s) its sync method's
``get_query_payload`` gives and returns the raw response object(s); over HTTP on the
loopback emulators, the twin's answer read with pandas has the sync method's row count."""
import gzip
import inspect
import io
import warnings

import astropy.units as u
import pytest
from _helpers import make_response
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astroquery.exceptions import InputWarning, InvalidQueryError, NoResultsWarning

from astroquery_fink import FinkClass, FinkLSSTClass, conf
from astroquery_fink._hints import RawAnswer
from astroquery_fink.exceptions import PartialResultError

# A tiny sky map, gzipped here with a fixed mtime so that its payload text is reproducible
SKYMAP = io.BytesIO()
fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"PROB": [0.5, 0.5]}))]).writeto(SKYMAP)
SKYMAP_GZ = gzip.compress(SKYMAP.getvalue(), mtime=0)

BIG = 170028485706776685    # bundled Rubin object: 346 diaSources, 395 forced sources
OTHER = 313897383979122767

# (sync method, positional args, keyword args, endpoint path)
ZTF_CASES = [
    ("get_statistics", ("202111",), {"columns": "basic:sci"}, "statistics"),
    ("get_statistics", (), {"schema": True, "output_format": "json"}, "statistics"),
    ("query_anomaly", (), {"n": 3, "stop_date": "2021-11-20", "columns": ["i:jd"]}, "anomaly"),
    ("resolve", ("Vega",), {"resolver": "simbad"}, "resolver"),
    ("resolve", ("ZTF21aaxtctv",), {"resolver": "tns", "reverse": True, "nmax": 1},
     "resolver"),
    ("query_skymap", ("S200219ac",), {"credible_level": 0.2, "n_day_after": 3}, "skymap"),
    ("query_skymap", (), {"bayestar": SKYMAP_GZ, "credible_level": 0.1}, "skymap"),
    ("get_ssoft", (), {"sso_name": "Julienpeloton", "version": "2024.11"}, "ssoft"),
    ("get_ssoft", (), {"sso_number": 33803, "flavor": "HG", "output_format": "csv"}, "ssoft"),
    # the twins that existed before
    ("query_object", ("ZTF21aaxtctv",), {"columns": ["i:jd"]}, "objects"),
    ("query_region", ("193.82 2.89", 10 * u.arcsec), {"n": 5}, "conesearch"),
    ("query_class", ("SN candidate",), {"n": 4, "color": True}, "latests"),
    ("query_sso", ("8467",), {"withEphem": True}, "sso"),
    ("query_ssocand", ("lightcurves",), {"maxnumber": 7}, "ssocand"),
    ("query_tracklet", ("TRCK_20211120_03",), {}, "tracklet"),
]

LSST_CASES = [
    ("get_object_summary", (BIG,), {"columns": ["r:nDiaSources"]}, "objects"),
    ("query_forced_photometry", ([BIG, OTHER],), {"output_format": "csv"}, "fp"),
    ("query_tags", ("in_tns",), {"n": 5, "startdate": "2026-01-01"}, "tags"),
    ("query_sso", ("2004 JQ12",), {"withEphem": True}, "sso"),
    ("resolve", (BIG,), {"resolver": "simbad", "reverse": True}, "resolver"),
    ("resolve", ("2004 JQ12",), {"resolver": "ssodnet", "nmax": 2}, "resolver"),
    ("query_skymap", ("S230518h",), {"credible_level": 0.9, "n_day_before": 2}, "skymap"),
    ("query_skymap", (), {"bayestar": SKYMAP_GZ, "credible_level": 0.5}, "skymap"),
    ("get_statistics", (202511,), {"columns": "f:alerts"}, "statistics"),
    # the twins that existed before
    ("query_object", (BIG,), {"midpointMjdTai": 61105.1}, "sources"),
    ("query_region", ((63.3 * u.deg, -47.2 * u.deg), 5 * u.arcsec), {}, "conesearch"),
]


def check_twin(fink, rec, name, args, kwargs, path):
    expected = getattr(fink, name)(*args, get_query_payload=True, **kwargs)
    twin = getattr(fink, f"{name}_async")
    # get_query_payload gives the same body from both, without any request
    assert twin(*args, get_query_payload=True, **kwargs) == expected
    assert rec.calls == []
    response = rec.answers[0]
    assert twin(*args, **kwargs) is response
    [(method, url, sent)] = rec.calls
    assert method == "POST" and url == f"http://fink.test/api/v1/{path}"
    assert sent["json"] == expected


@pytest.mark.parametrize(("name", "args", "kwargs", "path"), ZTF_CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(ZTF_CASES)])
def test_ztf_twin_sends_the_sync_payload_and_returns_the_response(recorded, name, args, kwargs,
                                                                  path):
    fink, rec = recorded([make_response(b'[{"x": 1}]')])
    check_twin(fink, rec, name, args, kwargs, path)


@pytest.mark.parametrize(("name", "args", "kwargs", "path"), LSST_CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(LSST_CASES)])
def test_lsst_twin_sends_the_sync_payload_and_returns_the_response(lsst_recorded, name, args,
                                                                   kwargs, path):
    fink, rec = lsst_recorded([make_response(b'[{"x": 1}]')])
    check_twin(fink, rec, name, args, kwargs, path)


@pytest.mark.parametrize(("survey", "name", "ids"), [
    ("ztf", "query_sso", ["8467", "33803", "1922", "10P", "2010JO69"]),
    ("lsst", "get_object_summary", [BIG, OTHER, 1, 2, 3]),
    ("lsst", "query_forced_photometry", [BIG, OTHER, 1, 2, 3]),
    ("lsst", "query_sso", ["2004 JQ12", "2020 SJ88", 8467, 33803, 1922]),
])
def test_batched_twin_returns_one_response_per_payload_in_order(recorded, lsst_recorded,
                                                               survey, name, ids):
    def answer(url, payload):  # one distinct response per request, whatever the order
        return make_response(repr(sorted(payload.items())).encode())

    fink, rec = (recorded if survey == "ztf" else lsst_recorded)(answer)
    with conf.set_temp("batch_size", 2), conf.set_temp("max_workers", 2):
        payloads = getattr(fink, name)(ids, get_query_payload=True)
        responses = getattr(fink, f"{name}_async")(ids, progress=False)
    assert isinstance(payloads, list) and len(payloads) >= 3
    assert len(responses) == len(payloads) == len(rec.calls)
    assert [r.content for r in responses] == [repr(sorted(p.items())).encode()
                                              for p in payloads]
    assert sorted(map(repr, (c[2]["json"] for c in rec.calls))) == sorted(map(repr, payloads))


def test_twins_refuse_bad_input_before_any_request(recorded, lsst_recorded):
    fink, rec = recorded([])
    lsst, lrec = lsst_recorded([])
    for call in (lambda: fink.get_statistics_async("Nov 2021"),
                 lambda: fink.query_anomaly_async(n=0),
                 lambda: fink.resolve_async("Vega", resolver="sesame"),
                 lambda: fink.query_skymap_async("S200219ac", credible_level=0),
                 lambda: fink.get_ssoft_async(version="2023.01"),
                 lambda: lsst.get_object_summary_async("ZTF21aaxtctv"),
                 lambda: lsst.query_tags_async(""),
                 lambda: lsst.query_sso_async("a,b", withResiduals=True),
                 lambda: lsst.resolve_async("x", resolver="ned"),
                 lambda: lsst.query_skymap_async(credible_level=0.5),
                 lambda: lsst.get_statistics_async("2025-13")):
        with pytest.raises(InvalidQueryError):
            call()
    # many requests merged into one Table have no raw form
    with pytest.raises(InvalidQueryError, match="use query_class, not query_class_async"):
        fink.query_class_async("Early SN Ia candidate", fetch_all=True)
    assert rec.calls == [] and lrec.calls == []


def test_twins_are_named_and_documented_as_methods():
    for client in (FinkClass, FinkLSSTClass):
        for name in dir(client):
            if name.endswith("_async") and not name.startswith("_"):
                twin, sync = getattr(client, name), getattr(client, name[:-len("_async")])
                assert twin.__name__ == name
                assert twin.__qualname__ == f"{client.__name__}.{name}"
                assert f"`{sync.__name__}`" in twin.__doc__
                # the twin takes exactly the sync method's arguments
                sync_sig, twin_sig = inspect.signature(sync), inspect.signature(twin)
                assert list(twin_sig.parameters) == list(sync_sig.parameters)
                assert "get_query_payload" in twin_sig.parameters


def test_every_public_method_is_named_and_documented_as_written_in_its_class():
    # get_object_summary and query_forced_photometry are made by one factory: they must
    # still read, in help() and in tracebacks, as methods of their class
    for client in (FinkClass, FinkLSSTClass):
        for name in (n for n in vars(client) if not n.startswith("_")):
            method = getattr(client, name)
            if not callable(method) or isinstance(method, type):
                continue
            assert method.__name__ == name
            assert method.__qualname__ == f"{client.__name__}.{name}"
            assert method.__doc__.split("\n")[0].strip(), name  # a summary line first
    summary = inspect.signature(FinkLSSTClass.get_object_summary)
    assert list(summary.parameters) == ["self", "object_id", "columns", "output_format",
                                        "progress", "get_query_payload", "cache", "timeout"]
    assert summary == inspect.signature(FinkLSSTClass.query_forced_photometry)
    for name in ("get_object_summary", "query_forced_photometry"):
        doc = getattr(FinkLSSTClass, name).__doc__
        assert "\nobject_id : int, str or list\n" in doc
        assert "\ntimeout : float, optional\n" in doc  # the shared keywords are documented
    lsst = FinkLSSTClass(server="http://fink.test")
    assert lsst.query_forced_photometry(["170028485706776685", 1],
                                        get_query_payload=True) == {
        "diaObjectId": "170028485706776685,1", "output-format": "csv"}
    assert lsst.get_object_summary(1, columns="r:nDiaSources", get_query_payload=True) == {
        "diaObjectId": "1", "columns": "r:nDiaSources,r:diaObjectId", "output-format": "csv"}


def test_skymap_days_warning_points_at_the_caller_of_both():
    fink = FinkClass(server="http://fink.test")
    for method in (fink.query_skymap, fink.query_skymap_async):
        with pytest.warns(InputWarning, match="7 days at most") as caught:
            method("S200219ac", credible_level=0.2, n_day_before=8, get_query_payload=True)
        assert caught[0].filename == __file__


def test_warnings_from_deep_in_the_machinery_point_at_the_caller(fink):
    # a warning raised deep in the merge (IDs that returned no row) names this file
    with pytest.warns(NoResultsWarning, match="returned no") as caught:
        fink.query_object(["ZTF20abfcszi", "ZTF99zzzzzzz"])
    assert caught[0].filename == __file__


# ----------------------------------------------------------------------------- emulators

def read_rows(response, fmt) -> int:
    """Rows of a raw answer, read with pandas alone."""
    pd = pytest.importorskip("pandas")
    buffer = io.BytesIO(response.content)
    if fmt == "parquet":
        return len(pd.read_parquet(buffer))
    if fmt == "csv":  # the Rubin default
        return len(pd.read_csv(buffer, dtype=str))
    return len(pd.read_json(buffer, orient="records"))


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("get_statistics", (), {}),
    ("get_statistics", ("202008",), {"columns": ["basic:sci"]}),
    ("query_anomaly", (), {"n": 1000}),
    ("resolve", ("8467",), {"resolver": "ssodnet", "nmax": 1}),
    ("resolve", ("ZTF20abfcszi",), {"resolver": "tns", "reverse": True}),
    ("query_skymap", ("EMU250610a",), {"credible_level": 0.9}),
    ("get_ssoft", (), {}),
    ("get_ssoft", (), {"sso_name": "Julienpeloton", "output_format": "json"}),
])
def test_ztf_twin_answer_has_the_sync_rows(fink, name, args, kwargs):
    assert_twin_has_the_sync_rows(fink, name, args, kwargs)


def assert_twin_has_the_sync_rows(client, name, args, kwargs):
    pytest.importorskip("pyarrow")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        table = getattr(client, name)(*args, **kwargs)
    payload = getattr(client, name)(*args, get_query_payload=True, **kwargs)
    response = getattr(client, f"{name}_async")(*args, **kwargs)
    assert response.status_code == 200 and len(table) > 0
    assert read_rows(response, payload["output-format"]) == len(table)


@pytest.fixture
def finklsst(lsst_emulator):
    return FinkLSSTClass(server=lsst_emulator.url)


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("get_object_summary", ([BIG, OTHER],), {}),
    ("query_forced_photometry", (BIG,), {"output_format": "parquet"}),
    ("query_sso", ("2004 JQ12",), {}),
    ("resolve", ("2004 JQ12",), {"resolver": "ssodnet"}),
    ("get_statistics", (), {}),
    ("query_region", (SkyCoord(63.34954, -47.18079, unit="deg"), 1 * u.arcmin), {}),
])
def test_lsst_twin_answer_has_the_sync_rows(finklsst, name, args, kwargs):
    assert_twin_has_the_sync_rows(finklsst, name, args, kwargs)


def test_a_query_made_while_a_twin_runs_gets_a_table(fink, monkeypatch):
    # e.g. a user's hook on _request that queries Fink itself: only the twin's own answer
    # is raw
    inner = FinkClass(server=fink.server)
    seen = []
    sent = fink._request

    def hook(*args, **kwargs):
        if not seen:
            seen.append(inner.query_object("ZTF20abfcszi", columns=["i:jd"], cache=False))
        return sent(*args, **kwargs)

    monkeypatch.setattr(fink, "_request", hook)
    response = fink.query_object_async("ZTF20abfcszi", columns=["i:jd"], cache=False)
    assert isinstance(seen[0], Table) and len(seen[0]) == read_rows(response, "parquet")
    assert isinstance(fink.query_object("ZTF20abfcszi", columns=["i:jd"]), Table)


def test_partial_twin_failure_says_where_the_responses_are(recorded):
    def answer(url, body):
        if body["objectId"] == "ZTF21aaaaaab":
            return make_response(b'{"message": "Internal Server Error"}', status=500)
        return make_response(b"[]")

    fink, _ = recorded(answer)
    with conf.set_temp("batch_size", 1), conf.set_temp("max_retries", 0), \
            pytest.raises(PartialResultError, match=r"the responses that arrived \(1\) are "
                                                    r"in \.responses") as info:
        fink.query_object_async(["ZTF21aaaaaaa", "ZTF21aaaaaab"], output_format="json")
    assert len(info.value.responses) == 1 and info.value.failed_ids == ["ZTF21aaaaaab"]


@pytest.mark.parametrize("client", [FinkClass, FinkLSSTClass])
def test_every_parameter_of_every_public_method_is_documented(client):
    # the keywords all methods share are documented once (SHARED_PARAMETERS) and added to
    # each method that takes them; the rest each method documents itself
    for name in dir(client):
        method = getattr(client, name)
        if name.startswith("_") or name.endswith("_async") or not inspect.isfunction(method) \
                or not method.__module__.startswith("astroquery_fink"):
            continue
        lines = inspect.getdoc(method).split("\n")
        start, end = lines.index("Parameters") if "Parameters" in lines else 0, \
            lines.index("Returns")
        documented = {n.strip() for line in lines[start:end] if line and line[0] != " "
                      for n in line.split(" : ")[0].split(",")}
        wanted = set(inspect.signature(method).parameters) - {"self"}
        assert wanted <= documented, (name, wanted - documented)
    doc = inspect.getdoc(client.query_skymap)
    assert "cache : bool, optional\n    Use astroquery's cache for this call" in doc
    assert doc.index("timeout : float") < doc.index("Returns\n-------")


@pytest.mark.parametrize(("client", "conf_item", "emulator"), [
    (FinkClass, "server", "``fink-emulator``"),
    (FinkLSSTClass, "server_lsst", "``fink-emulator --survey lsst``")])
def test_constructor_arguments_documented_once_for_both_surveys(client, conf_item, emulator):
    doc = inspect.getdoc(client)
    # the constructor is FinkQuery's: its arguments are written in one place, with the
    # survey's configuration item and emulator command filled in
    assert doc.count("Parameters\n----------") == 1
    assert f"Defaults to\n    ``astroquery_fink.conf.{conf_item}``, read at each call." in doc
    assert emulator in doc
    assert set(inspect.signature(client.__init__).parameters) - {"self"} == {"server", "timeout"}
    assert "server : str, optional" in doc and "timeout : float, optional" in doc
    assert doc.index("timeout : float") < doc.index("Raises\n------")


def test_twins_hint_their_raw_answers():
    for client in (FinkClass, FinkLSSTClass):
        twin_sig = inspect.signature(client.query_object_async)
        assert twin_sig.return_annotation is RawAnswer
        # the public methods' arguments all carry type hints
        for name in dir(client):
            method = getattr(client, name)
            if name.startswith("_") or not callable(method) \
                    or not getattr(method, "__module__", "").startswith("astroquery_fink"):
                continue
            sig = inspect.signature(method)
            bare = [p for p, v in sig.parameters.items()
                    if p != "self" and v.annotation is inspect.Parameter.empty]
            assert bare == [], (client.__name__, name)
            assert sig.return_annotation is not inspect.Signature.empty, name


def test_a_client_class_must_declare_its_survey():
    from astroquery_fink._query import FinkQuery

    # without a declared server, a new survey's queries would go to the ZTF server
    with pytest.raises(TypeError, match="must declare its survey's _server_conf"):
        class NoSurvey(FinkQuery):
            """A client that forgot its survey."""

    class MyFink(FinkLSSTClass):
        """A user's subclass keeps its survey's declarations."""

    assert MyFink()._server() == conf.server_lsst.rstrip("/")
    assert "``astroquery_fink.conf.server_lsst``" in MyFink.__doc__


def test_a_twin_called_wrongly_names_itself():
    fink = FinkClass(server="http://fink.test")
    with pytest.raises(TypeError, match=r"^FinkClass\.query_object_async\(\): got an "
                                        r"unexpected keyword argument 'foo'$"):
        fink.query_object_async("ZTF21aaxtctv", foo=1)
    with pytest.raises(TypeError, match=r"^FinkLSSTClass\.query_tags_async\(\): missing a "
                                        r"required argument: 'tag'$"):
        FinkLSSTClass(server="http://fink.test").query_tags_async()
