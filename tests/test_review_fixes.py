"""Failures found in review, each fixed as a kind and pinned with the right value."""
import gzip

import astropy.units as u
import pytest
from _helpers import make_response
from astroquery.exceptions import InvalidQueryError, RemoteServiceError

from astroquery_fink import FinkLSSTClass, _validate


def test_statistics_counter_names_keep_their_inner_spaces(recorded):
    fink, _ = recorded([])
    payload = fink.get_statistics("2021", columns="class:SN candidate, basic:sci",
                                  get_query_payload=True)
    assert payload["columns"] == "class:SN candidate,basic:sci"


@pytest.mark.parametrize("bayestar", [b"\x1f\x8b\x08\x00junk", b"hello",
                                      gzip.compress(b"not a FITS file")])
def test_unreadable_sky_maps_are_refused_before_any_request(recorded, bayestar):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match="bayestar"):
        fink.query_skymap(bayestar=bayestar, credible_level=0.5)
    lsst = FinkLSSTClass(server="http://fink.test")
    with pytest.raises(InvalidQueryError, match="bayestar"):
        lsst.query_skymap(bayestar=bayestar, credible_level=0.5, get_query_payload=True)
    assert rec.calls == []


def test_several_durations_and_wrong_units_are_refused(recorded):
    fink, _ = recorded([])
    for value in ([1, 2] * u.day, 3 * u.m):
        with pytest.raises(InvalidQueryError, match="n_day_before"):
            fink.query_skymap("S200219ac", credible_level=0.5, n_day_before=value,
                              get_query_payload=True)
    payload = fink.query_skymap("S200219ac", credible_level=0.5, n_day_before=0 * u.day,
                                get_query_payload=True)
    assert payload["n_day_before"] == 0.0


def test_rubin_statistics_columns_of_another_type_are_refused():
    with pytest.raises(InvalidQueryError, match="columns"):
        FinkLSSTClass(server="http://fink.test").get_statistics("2026", columns=[1])


def test_a_server_failure_is_not_mistaken_for_a_missing_gw_event(recorded):
    body = b'{"message": "HBase region server status: unavailable"}'
    fink, _ = recorded(lambda url, b: make_response(body, status=500))
    with pytest.raises(RemoteServiceError, match="HBase region server") as info:
        fink.query_skymap("S200219ac", credible_level=0.5, output_format="json")
    assert not isinstance(info.value, InvalidQueryError)


def test_graceDB_without_the_event_is_said_so(recorded):
    body = b'[{"status": "No such event S999999zz"}]'
    fink, _ = recorded(lambda url, b: make_response(body))
    with pytest.raises(InvalidQueryError,
                       match="No sky map of .* came from GraceDB.*No such event"):
        fink.query_skymap("S999999zz", credible_level=0.5, output_format="json")


def test_ssoft_works_on_a_core_install_without_pyarrow(recorded, monkeypatch):
    monkeypatch.setattr(_validate, "_have_pyarrow", lambda: False)
    fink, _ = recorded([])
    assert fink.get_ssoft(get_query_payload=True)["output-format"] == "json"


@pytest.mark.parametrize(("call", "match"), [
    (lambda f: f.get_cutouts("ZTF21aaxtctv", candid=2**70), "64-bit"),
    (lambda f: f.get_cutouts("ZTF21aaxtctv", candid=-5), "64-bit"),
    (lambda f: f.query_class("SN candidate", n=2**70), "a whole number from 1 to 2147483647"),
])
def test_out_of_range_numbers_are_refused_before_any_request(recorded, call, match):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match=match):
        call(fink)
    assert rec.calls == []
