"""The ZTF search client over HTTP against the loopback emulator, checked against values
computed here from the bundled alert files with pandas and astropy."""
import warnings
from importlib import resources

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astroquery.exceptions import (
    InputWarning,
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
)

CENTER = SkyCoord(23.5, 30.7, unit="deg")


@pytest.fixture(scope="module")
def alerts() -> pd.DataFrame:
    """Every bundled alert: objectId and its candidate fields, as i: columns."""
    frames = []
    for path in sorted(resources.files("astroquery_fink.testing").joinpath("data").iterdir()):
        if path.name.endswith(".parquet"):
            df = pd.read_parquet(path)
            cand = pd.json_normalize(df["candidate"].tolist())
            frame = pd.DataFrame({f"i:{c}": cand[c] for c in ("jd", "ra", "dec", "candid",
                                                              "jdstarthist")})
            frame["i:objectId"] = df["objectId"].to_numpy()
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def last_alerts(alerts):
    return alerts.loc[alerts.groupby("i:objectId")["i:jd"].idxmax()]


def within(last, center, radius):
    sep = center.separation(SkyCoord(last["i:ra"].to_numpy(), last["i:dec"].to_numpy(),
                                     unit="deg"))
    return set(last["i:objectId"][sep <= radius])


@pytest.mark.parametrize("radius", [1 * u.arcmin, 30 * u.arcmin, 5 * u.deg])
def test_region_finds_every_object_within_the_radius(fink, alerts, radius):
    last = last_alerts(alerts)
    expected = within(last, CENTER, radius)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        t = fink.query_region(CENTER, radius)
    assert set(t["i:objectId"]) == expected and len(t) == len(expected)
    if len(t):
        sep = CENTER.separation(SkyCoord(t["i:ra"], t["i:dec"]))
        assert np.all(sep <= radius)
        np.testing.assert_allclose(sep.deg, t["v:separation_degree"], atol=1e-9)
        assert np.all(np.diff(t["v:separation_degree"]) >= 0)
        # the last alert of each object
        jd = dict(zip(last["i:objectId"], last["i:jd"], strict=True))
        np.testing.assert_allclose(t["i:jd"], [jd[o] for o in t["i:objectId"]])


def test_region_date_window_filters_on_first_detection(fink, alerts):
    start, days = Time("2019-01-01"), 400
    last = last_alerts(alerts)
    near = within(last, CENTER, 1 * u.deg)
    first = last.set_index("i:objectId")["i:jdstarthist"]
    expected = {o for o in near if start.jd <= first[o] <= start.jd + days}
    t = fink.query_region(CENTER, 1 * u.deg, startdate=start, window=days * u.day)
    assert set(t["i:objectId"]) == expected and 0 < len(expected) < len(near)


def test_region_several_positions_and_formats(fink, alerts):
    coords = SkyCoord([23.5, 23.62, 200.0], [30.7, 30.95, -20.0], unit="deg")
    last = last_alerts(alerts)
    t = fink.query_region(coords, 30 * u.arcmin, columns=["i:magpsf"], output_format="json")
    for k in range(3):
        assert set(t["i:objectId"][t["input_index"] == k]) == within(last, coords[k],
                                                                    30 * u.arcmin)
    tp = fink.query_region(coords, 30 * u.arcmin, columns=["i:magpsf"],
                           output_format="parquet")
    assert list(tp["i:objectId"]) == list(t["i:objectId"])
    assert list(tp["input_index"]) == list(t["input_index"])


def test_region_cut_at_n(fink):
    # n limits each pixel's scan, not the rows: the answer may hold more than n rows
    with pytest.warns(MaxResultsWarning, match="n=3"):
        t = fink.query_region(CENTER, 1 * u.deg, n=3)
    assert 3 <= len(t) < len(fink.query_region(CENTER, 1 * u.deg))


def test_classes_and_class_counts(fink):
    classes = fink.get_classes()
    assert len(classes["Fink classifiers"]) == 11
    assert all(c.startswith("(TNS) ") for c in classes["Cross-match with TNS"])
    # class counts: the v:classification of every bundled alert, through /objects
    objects = sorted(set(fink.query_region(CENTER, 5 * u.deg)["i:objectId"]))
    every = fink.query_object(objects, columns=None)
    counts = pd.Series(np.asarray(every["v:classification"])).value_counts()
    for name in ("SN candidate", "Unknown", "Ambiguous"):
        expected = int(counts.get(name, 0))
        t = fink.query_class(name, n=1000, startdate="2019-11-01")
        in_region = t[np.isin(t["i:objectId"], objects)]
        assert len(in_region) == expected, name
        assert np.all(np.diff(t["i:jd"]) <= 0)


def test_class_fetch_all_equals_one_large_answer(fink):
    full = fink.query_class("SN candidate", n=1000)
    with pytest.warns(MaxResultsWarning):
        fink.query_class("SN candidate", n=4)
    t = fink.query_class("SN candidate", n=4, fetch_all=True)
    assert len(full) > 4
    assert sorted(t["i:candid"]) == sorted(full["i:candid"])
    assert t.meta["requests"] > 1


def test_statistics_counts_alerts_per_night(fink, alerts):
    t = fink.get_statistics()
    nights = pd.Series(Time(alerts["i:jd"].to_numpy(), format="jd").strftime("%Y%m%d"))
    counts = nights.value_counts()
    assert list(t["time"].strftime("%Y%m%d")) == sorted(counts.index)
    assert dict(zip(t["time"].strftime("%Y%m%d"), t["basic:sci"], strict=True)) == \
        counts.to_dict()
    one = fink.get_statistics(sorted(counts.index)[0], columns=["basic:sci"])
    assert len(one) == 1 and set(one.colnames) >= {"time", "basic:sci", "key:key"}
    assert "basic:sci" in fink.get_statistics(schema=True)


def test_anomaly_newest_first(fink):
    t = fink.query_anomaly(n=1000)
    assert np.all(np.diff(t["i:jd"]) <= 0)
    if len(t) > 1:
        with pytest.warns(MaxResultsWarning):
            assert len(fink.query_anomaly(n=len(t) - 1)) == len(t) - 1


def test_skymap_fixture_event_and_unknown_event(fink):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = fink.query_skymap("EMU250610a", credible_level=0.9)
    if len(t):
        assert "v:jdstartgw" in t.colnames and t["v:jdstartgw"].unit == u.day
        assert len(set(t["i:objectId"])) == len(t)
    with pytest.raises(InvalidQueryError, match="No sky map of .* came from GraceDB"):
        fink.query_skymap("S000000xx", credible_level=0.5)


@pytest.mark.parametrize(("class_name", "column"), [("SN candidate", "d:Plx"),
                                                    ("SN candidate", "i:magpsf")])
def test_class_fetch_all_selection_gives_the_rows_of_one_request(fink, class_name, column):
    # a scan with columns returns only the alerts holding one of them: fetch_all, which
    # asks i:objectId and i:jd too, leaves the others out as one request does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)  # no alert holds d:Plx
        one = fink.query_class(class_name, n=1000, startdate="2019-11-01",
                               stopdate="2026-01-01", columns=[column])
        paged = fink.query_class(class_name, n=2, startdate="2019-11-01",
                                 stopdate="2026-01-01", columns=[column], fetch_all=True)
    assert len(paged) == len(one)
    assert sorted(np.ma.filled(paged[column], -1).tolist()) == sorted(
        np.ma.filled(one[column], -1).tolist())


def test_cone_search_columns_its_table_lacks_are_warned_about_first(fink):
    where = fink.query_object("ZTF20abfcszi", columns=["i:ra", "i:dec"])[0]
    with pytest.warns(InputWarning, match="ztf.pixel128, whose rows hold only i:objectId"), \
            pytest.warns(NoResultsWarning, match="no value in any row for d:Plx"):
        t = fink.query_region(SkyCoord(where["i:ra"], where["i:dec"], unit="deg"),
                              5 * u.arcsec, columns=["i:jd", "d:Plx"])
    assert "d:Plx" in t.colnames and np.ma.getmaskarray(t["d:Plx"]).all()
