"""The client against recorded Fink answers (tests/data, rebuilt by tools/record_responses.py)."""
import io

import astropy.units as u
import numpy as np
import pyarrow.parquet as pq
import pytest
import requests
from _helpers import DATA, make_response, recorded_bytes, recorded_json
from astropy.io import fits
from astroquery.exceptions import (
    InvalidQueryError,
    NoResultsWarning,
    RemoteServiceError,
    TimeoutError,
)

from astroquery_fink import conf

FORMATS = {"json": "application/json", "csv": "application/csv", "votable": "text/xml",
           "parquet": "parquet"}
TDE_COLUMNS = ["i:objectId", "i:candid", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf",
               "i:diffmaglim", "i:ra", "i:dec", "d:cdsxmatch", "d:roid", "d:rf_snia_vs_nonia"]


def tde_answer(fmt):
    return make_response(recorded_bytes(f"objects_ZTF20abfcszi_columns.{fmt}"),
                         content_type=FORMATS[fmt])


def query_tde(recorded, fmt):
    fink, rec = recorded([tde_answer(fmt)])
    table = fink.query_object("ZTF20abfcszi", columns=TDE_COLUMNS, output_format=fmt)
    return table, rec


def test_json_rows_types_units_and_exact_ids(recorded):
    table, rec = query_tde(recorded, "json")
    raw = recorded_json("objects_ZTF20abfcszi_columns.json")
    assert len(table) == 21 == len(raw)
    assert table.colnames == TDE_COLUMNS
    assert table["i:candid"].dtype == np.int64
    # 64-bit alert ids stay exact (they are above 2**53)
    assert [int(c) for c in table["i:candid"]] == [r["i:candid"] for r in raw]
    assert table["i:fid"].dtype == np.int64 and set(table["i:fid"]) == {1, 2}
    assert table["i:jd"].unit == u.day and table["i:magpsf"].unit == u.mag
    assert table["i:ra"].unit == u.deg
    assert "PSF-fit" in table["i:magpsf"].description
    assert table["d:cdsxmatch"].dtype.kind == "U"
    assert np.all(np.diff(table["i:jd"]) <= 0)  # newest first, as the server sorts
    assert table["i:magpsf"][0] == pytest.approx(raw[0]["i:magpsf"])
    assert rec.calls[0][2]["json"] == {
        "objectId": "ZTF20abfcszi", "output-format": "json", "columns": ",".join(TDE_COLUMNS)}


@pytest.mark.parametrize("fmt", ["csv", "votable", "parquet"])
def test_every_format_gives_the_json_table(recorded, fmt):
    ref, _ = query_tde(recorded, "json")
    table, rec = query_tde(recorded, fmt)
    assert rec.calls[0][2]["json"]["output-format"] == fmt
    assert table.colnames == ref.colnames
    for name in ref.colnames:
        assert table[name].dtype.kind == ref[name].dtype.kind, name
        assert table[name].unit == ref[name].unit
        if table[name].dtype.kind == "f":
            # JSON carries 10 decimals (pandas double_precision=10), the others full doubles
            np.testing.assert_allclose(table[name], ref[name], rtol=1e-12, atol=1e-9)
        else:
            assert list(table[name]) == list(ref[name]), name


def test_withupperlim_string_numbers_become_typed_and_masked(recorded):
    fink, _ = recorded([make_response(recorded_bytes("objects_ZTF21acqdcyb_withupperlim.json"))])
    table = fink.query_object("ZTF21acqdcyb", columns=TDE_COLUMNS, withupperlim=True,
                              output_format="json")  # the recorded answer is JSON
    raw = recorded_json("objects_ZTF21acqdcyb_withupperlim.json")
    tags = list(table["d:tag"])
    assert tags.count("valid") == sum(r["d:tag"] == "valid" for r in raw) == 1
    assert tags.count("upperlim") == 25
    upper = table[table["d:tag"] == "upperlim"]
    raw_upper = [r for r in raw if r["d:tag"] == "upperlim"]
    # the server sends "2" and "19.87" for these rows: they come back as numbers
    assert upper["i:fid"].dtype == np.int64
    assert list(upper["i:fid"]) == [int(r["i:fid"]) for r in raw_upper]
    np.testing.assert_allclose(upper["i:diffmaglim"], [float(r["i:diffmaglim"]) for r in raw_upper])
    assert upper["i:magpsf"].mask.all() and not table["i:magpsf"].mask[tags.index("valid")]
    assert set(upper["i:candid"]) == {-1}


def test_empty_answer_warns_and_keeps_requested_columns(recorded):
    fink, _ = recorded([make_response(b"[]")])
    with pytest.warns(NoResultsWarning, match="ZTF99aaaaaaa"):
        table = fink.query_object("ZTF99aaaaaaa", columns=["i:jd", "i:magpsf"],
                                  output_format="json")
    assert len(table) == 0 and table.colnames == ["i:jd", "i:magpsf"]
    assert table["i:magpsf"].unit == u.mag


def test_meta_records_server_payload_and_time(recorded):
    table, _ = query_tde(recorded, "json")
    assert table.meta["server"] == "http://fink.test"
    assert table.meta["endpoint"] == "/api/v1/objects"
    assert table.meta["payload"]["objectId"] == "ZTF20abfcszi"
    assert table.meta["query_time"].startswith("20")


# ---------------------------------------------------------------- server failures

BAD_FORMAT = ("{'status': 'error', 'text': 'Output format `xls` is not supported. "
              "Choose among json, csv, votable, or parquet\\n'}")


def test_400_repr_body_becomes_invalid_query_with_server_words(recorded):
    fink, rec = recorded([make_response(BAD_FORMAT, status=400, content_type="text/html")])
    with pytest.raises(InvalidQueryError, match=r"Output format `xls` is not supported"):
        fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(rec.calls) == 1  # a 400 is not retried


def test_400_with_exception_repr_is_read_without_eval(recorded):
    body = ("{'status': 'error', 'text': ValueError(\"Invalid character at col 0 parsing "
            "angle 'kfdlkj'\")}")
    fink, _ = recorded([make_response(body, status=400, content_type="text/html")])
    with pytest.raises(InvalidQueryError, match="Invalid character at col 0"):
        fink.query_object("ZTF20abfcszi")


def test_500_is_remote_service_error_with_message(recorded):
    fink, rec = recorded([make_response(b'{"message": "Internal Server Error"}', status=500)])
    with pytest.raises(RemoteServiceError, match="HTTP 500.*Internal Server Error"):
        fink.query_object("ZTF20abfcszi")
    assert len(rec.calls) == 1


def test_404_names_the_server_setting(recorded):
    fink, _ = recorded([make_response(b"<html>Not Found</html>", status=404,
                                      content_type="text/html")])
    with pytest.raises(RemoteServiceError, match="conf.server"):
        fink.query_object("ZTF20abfcszi")


def test_transient_503_then_success_is_retried(recorded):
    fink, rec = recorded([make_response(b"<html>busy</html>", status=503, content_type="text/html"),
                          tde_answer("json")])
    table = fink.query_object("ZTF20abfcszi", columns=TDE_COLUMNS, output_format="json")
    assert len(table) == 21 and len(rec.calls) == 2


def test_complete_html_page_with_200_is_reported_at_once(recorded):
    page = make_response(b"<html><head><title>Proxy error</title></head><body>x</body></html>",
                         content_type="text/html")
    with conf.set_temp("max_retries", 2):
        fink, rec = recorded(lambda url, body: page)
        with pytest.raises(RemoteServiceError, match="not JSON rows: Proxy error"):
            fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(rec.calls) == 1  # a complete answer: asking again would give the same


def test_timeout_becomes_astroquery_timeout_with_advice(recorded):
    with conf.set_temp("max_retries", 1):
        fink, rec = recorded(lambda url, body: requests.ReadTimeout("slow"))
        with pytest.raises(TimeoutError, match=r"the time allowed per request \(timeout=0.5\)"):
            fink.query_object("ZTF20abfcszi", timeout=0.5)
    assert len(rec.calls) == 2


# ---------------------------------------------------------------- cutouts

def cutout_answers(url, body):
    if url.endswith("/objects"):
        return tde_answer("json")
    if body["output-format"] == "array":
        return make_response(recorded_bytes("cutout_ZTF20abfcszi_All.json"))
    return make_response(recorded_bytes(f"cutout_ZTF20abfcszi_{body['kind']}.fits"),
                         content_type="application/octet-stream")


def test_get_cutouts_hdulist_keeps_stamp_and_adds_alert_keywords(recorded):
    fink, rec = recorded(cutout_answers)
    hdul = fink.get_cutouts("ZTF20abfcszi")
    candid = int((DATA / "cutout_ZTF20abfcszi_candid.txt").read_text())
    assert [h.name for h in hdul] == ["PRIMARY", "SCIENCE", "TEMPLATE", "DIFFERENCE"]
    assert hdul[0].header["CANDID"] == candid and hdul[0].header["OBJECTID"] == "ZTF20abfcszi"
    for hdu, kind in zip(hdul[1:], ("Science", "Template", "Difference"), strict=True):
        stamp = fits.getdata(io.BytesIO(recorded_bytes(f"cutout_ZTF20abfcszi_{kind}.fits")))
        assert hdu.data.shape == (63, 63)
        np.testing.assert_array_equal(hdu.data, stamp)  # FITS order kept, no flip
        assert hdu.header["CANDID"] == candid and hdu.header["BUNIT"] == "DN"
    # the latest alert was asked for explicitly, so the three stamps are of one alert
    assert {c[2]["json"].get("candid") for c in rec.calls[1:]} == {str(candid)}


def test_get_cutouts_array_matches_hdulist_orientation(recorded):
    fink, _ = recorded(cutout_answers)
    arrays = fink.get_cutouts("ZTF20abfcszi", as_array=True)
    hdul = fink.get_cutouts("ZTF20abfcszi")
    assert set(arrays) == {"Science", "Template", "Difference"}
    for kind in arrays:
        np.testing.assert_array_equal(arrays[kind], hdul[kind.upper()].data)
    science = fink.get_cutouts("ZTF20abfcszi", kind="science", as_array=True)
    np.testing.assert_array_equal(science, arrays["Science"])


def test_get_cutouts_unknown_candid_is_clear_before_cutout_request(recorded):
    fink, rec = recorded(cutout_answers)
    with pytest.raises(InvalidQueryError, match="123 is not an alert of ZTF20abfcszi"):
        fink.get_cutouts("ZTF20abfcszi", candid=123)
    assert all(c[1].endswith("/objects") for c in rec.calls)


def test_parquet_recorded_has_server_index_column(recorded):
    # the server writes the pandas index; the client must drop it
    names = pq.read_schema(DATA / "objects_ZTF20abfcszi_columns.parquet").names
    assert "__index_level_0__" in names
    table, _ = query_tde(recorded, "parquet")
    assert "__index_level_0__" not in table.colnames


def test_restx_json_errors_carry_their_message(recorded):
    body = (b'{"message": "Did not attempt to load JSON data because the request Content-Type '
            b'was not \'application/json\'."}\n')
    fink, _ = recorded([make_response(body, status=415)])
    with pytest.raises(InvalidQueryError, match="HTTP 415.*Did not attempt to load JSON"):
        fink.query_object("ZTF20abfcszi", output_format="json")


def test_503_maintenance_is_retried_then_reported(recorded):
    busy = make_response(b"<html><h1>503 Service Unavailable</h1></html>", status=503,
                         content_type="text/html")
    with conf.set_temp("max_retries", 3):
        fink, rec = recorded(lambda url, body: busy)
        with pytest.raises(RemoteServiceError, match="HTTP 503.*gave up after 4 attempts"):
            fink.query_object("ZTF20abfcszi", output_format="json")
    assert len(rec.calls) == 4
