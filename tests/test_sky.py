"""Shared input checks of _sky: positions, radii, dates, windows, sky-map searches."""
import datetime
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.time import Time, TimeDelta
from astroquery.exceptions import InputWarning, InvalidQueryError

from astroquery_fink import _sky


@pytest.mark.parametrize("value, ra, dec", [
    ("10.68 41.27", 10.68, 41.27),
    ("00:42:44.3 +41:16:09", 10.684583, 41.269167),
    ("00h42m44.3s +41d16m09s", 10.684583, 41.269167),
    ((10.68 * u.deg, 41.27 * u.deg), 10.68, 41.27),
    (("10.68", "41.27"), 10.68, 41.27),
    (SkyCoord(10.68, 41.27, unit="deg"), 10.68, 41.27),
    (SkyCoord(10.68, 41.27, unit="deg").galactic, 10.68, 41.27),
])
def test_positions_one(value, ra, dec):
    c = _sky.positions(value)
    assert c.shape == (1,) and c.frame.name == "icrs"
    assert c.ra.deg[0] == pytest.approx(ra, abs=2e-3) and c.dec.deg[0] == pytest.approx(dec,
                                                                                        abs=2e-3)


def test_positions_many():
    arr = SkyCoord([1, 2, 3], [4, 5, 6], unit="deg")
    assert _sky.positions(arr).shape == (3,)
    assert _sky.positions(["1 4", "2 5"]).shape == (2,)
    assert _sky.positions(([1, 2] * u.deg, [4, 5] * u.deg)).shape == (2,)
    np.testing.assert_allclose(_sky.positions([arr[0], arr[2]]).ra.deg, [1, 3])


@pytest.mark.parametrize("bad", [(10, 20), 5, "abc", [], None, (10 * u.deg, 100 * u.deg),
                                 [1.0, 2.0]])
def test_positions_refused(bad):
    with pytest.raises(InvalidQueryError, match="sky positions"):
        _sky.positions(bad)


def test_radius():
    assert _sky.radius_arcsec(2 * u.arcmin, maximum=18_000) == 120
    assert _sky.radius_arcsec("5 deg", maximum=18_000) == 18_000
    for bad, match in [(10, "needs a unit"), (5.01 * u.deg, "maximum"), (0 * u.arcsec, "above 0"),
                       (1 * u.m, "angle"), ([1, 2] * u.arcsec, "one angle"),
                       (np.nan * u.arcsec, "finite")]:
        with pytest.raises(InvalidQueryError, match=match):
            _sky.radius_arcsec(bad, maximum=18_000)


def test_time_and_window():
    assert _sky.time_arg("2021-11-20", "d").iso == "2021-11-20 00:00:00.000"
    assert _sky.time_arg(datetime.date(2021, 11, 20), "d").jd == Time("2021-11-20").jd
    assert _sky.time_arg(Time(2459538.5, format="jd", scale="tt"), "d").scale == "utc"
    for bad in (2459538.5, "59538", "yesterday", Time(["2021-01-01", "2021-01-02"])):
        with pytest.raises(InvalidQueryError):
            _sky.time_arg(bad, "startdate")
    assert _sky.window_days(36 * u.hour) == 1.5
    assert _sky.window_days(TimeDelta(2, format="jd")) == 2
    for bad in (3, -1 * u.day, 1 * u.m):
        with pytest.raises(InvalidQueryError):
            _sky.window_days(bad)
    start, stop, days = _sky.date_range("2021-01-01", None, 2 * u.day)
    assert stop is None and days == 2 and _sky.wire_time(start) == "2021-01-01 00:00:00.000"


def test_the_other_ways_astronomers_write_dates_and_durations():
    # a UTC offset in ISO text is the instant it says; numpy's types; an array of one date
    for value, iso in (("2021-11-20T05:00:00+02:00", "2021-11-20 03:00:00.000"),
                       ("2021-11-20T05:00:00-0500", "2021-11-20 10:00:00.000"),
                       ("2021-11-20 05:00:00Z", "2021-11-20 05:00:00.000"),
                       (np.datetime64("2021-11-20T03:00"), "2021-11-20 03:00:00.000"),
                       (Time(["2021-11-20"]), "2021-11-20 00:00:00.000")):
        assert _sky.time_arg(value, "startdate").iso == iso
    for value, days in ((np.timedelta64(12, "h"), 0.5), (datetime.timedelta(hours=6), 0.25),
                        ("2 day", 2.0)):
        assert _sky.window_days(value) == days
    with pytest.raises(InvalidQueryError, match="window must be a finite duration above 0"):
        _sky.window_days(np.timedelta64("NaT"))
    with pytest.raises(InvalidQueryError, match="startdate must be a date"):
        _sky.time_arg("2021-13-45T05:00:00+02:00", "startdate")


@pytest.mark.parametrize("client", ["FinkClass", "FinkLSSTClass"])
def test_skymap_arguments_are_checked_alike_for_both_surveys(client, monkeypatch, tmp_path):
    import ast
    import gzip

    from astropy.io import fits

    import astroquery_fink

    fink = getattr(astroquery_fink, client)(server="http://fink.test")
    path = tmp_path / "map.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros(4000))]).writeto(path)
    body = fink.query_skymap(bayestar=path, credible_level=np.float32(0.5),
                             get_query_payload=True)
    assert gzip.decompress(ast.literal_eval(body["bayestar"])) == path.read_bytes()
    assert body["credible_level"] == 0.5 and "event_name" not in body
    assert fink.query_skymap(" S230518h ", credible_level=1,
                             get_query_payload=True)["event_name"] == "S230518h"
    for bad in ("S230518h; drop", "", 230518):
        with pytest.raises(InvalidQueryError, match="Not a GraceDB event name"):
            fink.query_skymap(bad, credible_level=0.9)
    for level in (0, 1.5, float("nan"), True, "0.9"):
        with pytest.raises(InvalidQueryError, match=r"credible_level must be a number in \(0, 1\]"):
            fink.query_skymap("S230518h", credible_level=level)
    with pytest.raises(InvalidQueryError, match="event_name .* or bayestar .*, one"):
        fink.query_skymap(credible_level=0.9)
    # the documented day limits are not enforced by the servers: warned about, then sent
    with pytest.warns(InputWarning, match="n_day_before=8: the Fink documentation gives 7"):
        body = fink.query_skymap("S230518h", credible_level=0.9, n_day_before=8 * u.day,
                                 n_day_after=12 * u.hour, get_query_payload=True)
    assert body["n_day_before"] == 8.0 and body["n_day_after"] == 0.5
    for days, message in ((-1, "must not be negative"), ("2", "must be a number of days"),
                          (3 * u.m, "n_day_after")):
        with pytest.raises(InvalidQueryError, match=message):
            fink.query_skymap("S230518h", credible_level=0.9, n_day_after=days)
    # both servers refuse bodies above 100 MiB (HTTP 413): said before sending, with the way out
    monkeypatch.setattr(_sky, "MAX_BODY", 100)
    with pytest.raises(InvalidQueryError, match="at most 100 MiB: use a lower-resolution map"):
        fink.query_skymap(bayestar=path, credible_level=0.9)


@pytest.mark.parametrize("date", ["2028-12-31", "2030-01-01", "2099-06-30", "1959-01-01",
                                  "1000-01-02", "9999-12-30"])
def test_dates_beyond_the_leap_second_table_are_dates(date):
    # ERFA calls UTC years it has no leap seconds for "dubious" (a warning): they are dates
    from erfa import ErfaWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        assert _sky.time_arg(date, "stopdate").iso == f"{date} 00:00:00.000"


@pytest.mark.parametrize("value", [Time(1e12, format="jd"), Time(100.0, format="jd"),
                                   "0999-12-31"])
def test_dates_outside_four_digit_years_are_refused(value):
    from erfa import ErfaWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        with pytest.raises(InvalidQueryError, match="not a date of years 1000 to 9999"):
            _sky.time_arg(value, "startdate")


def test_rubin_ids_in_a_list_are_read_as_in_text():
    from astroquery_fink.lsst.checks import dia_ids

    assert dia_ids([" 313893023095193658 ", 170028485706776685]) == dia_ids(
        "313893023095193658, 170028485706776685") == [313893023095193658, 170028485706776685]


@pytest.mark.parametrize("text", ["01 34 00 +30 42 00", "01 34 00, +30 42 00", "01:34:00 +30:42:00",
                                  "01h34m00s +30d42m00s", "23.5, 30.7", "23.5 30.7"])
def test_sexagesimal_written_with_spaces_is_hours_and_degrees(text):
    # six numbers are hours and degrees (as SIMBAD writes them), never 1.57 deg of RA
    coords = _sky.positions(text)
    assert np.allclose([coords.ra.deg[0], coords.dec.deg[0]], [23.5, 30.7])


def test_a_ztf_cone_search_stop_date_alone_is_refused(recorded):
    # the server filters by date only with a start date (conesearch/utils.py)
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match="^stopdate needs startdate: the server "
                                                "ignores it otherwise$"):
        fink.query_region("23.5 30.7", 10 * u.arcmin, stopdate="2020-01-01")
    assert rec.calls == []
