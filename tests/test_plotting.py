# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""plot_lightcurve and plot_cutouts: what is drawn, checked on the artists' data."""
import sys

import astropy.units as u
import matplotlib
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import MaskedColumn, Table
from astropy.time import Time
from astropy.visualization import AsinhStretch, LinearStretch, ZScaleInterval
from astroquery.exceptions import InvalidQueryError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from astroquery_fink import FinkClass  # noqa: E402
from astroquery_fink.plotting import plot_cutouts, plot_lightcurve  # noqa: E402

MJD0 = 2400000.5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def emulator():
    """The offline emulator on its small bundled file (ZTF25aauurnj has all three tags)."""
    from astroquery_fink import testing
    files = [p for p in testing.bundled_data_files() if p.name.startswith("regular_")]
    with testing.FinkEmulator(files) as emu:
        yield emu


def lightcurve_table():
    """Rows as Fink.query_object(..., withupperlim=True) gives them, with traps.

    Fill values under masks are implausible magnitudes (0 and 99), so drawing one would show.
    """
    rows = [
        # objectId,      jd,             fid, magpsf, sigmapsf, diffmaglim, tag
        ("ZTF21aaxtctv", 2459540.90, 1, 18.10, 0.05, 20.1, "valid"),
        ("ZTF21aaxtctv", 2459539.80, 2, 18.40, 0.07, 20.3, "valid"),
        ("ZTF21aaxtctv", 2459538.70, 1, 18.60, 0.06, 20.0, "valid"),
        ("ZTF21aaxtctv", 2459537.60, 2, None, None, 19.9, "upperlim"),
        ("ZTF21aaxtctv", 2459536.50, 1, None, None, 19.7, "upperlim"),
        ("ZTF21aaxtctv", 2459535.40, 1, None, None, None, "upperlim"),  # no limit: not drawn
        ("ZTF21aaxtctv", 2459534.30, 2, 19.20, 0.20, 19.5, "badquality"),
        ("ZTF21aaxtctv", 2459533.20, 3, 18.90, 0.10, 20.2, "valid"),
        ("ZTF21aaxtctv", 2459532.10, 2, None, None, 20.0, "valid"),  # no magnitude: not drawn
        ("ZTF21aaxtctv", 2459531.00, 1, 19.00, None, 20.0, "valid"),  # no error: no bar
    ]
    names = ("i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim", "d:tag")
    cols = list(zip(*rows, strict=True))
    table = Table(masked=True)
    for name, values in zip(names, cols, strict=True):
        mask = [v is None for v in values]
        fill = 99.0 if name == "i:diffmaglim" else 0.0
        data = [fill if v is None else v for v in values]
        table[name] = MaskedColumn(data, mask=mask)
    for name in ("i:magpsf", "i:sigmapsf", "i:diffmaglim"):
        table[name].unit = u.mag
    table["i:jd"].unit = u.day
    return table


def _container(ax, gid):
    found = [c for c in ax.containers if c[0].get_gid() == gid]
    assert len(found) == 1, [c[0].get_gid() for c in ax.containers]
    return found[0]


def _line(ax, gid):
    found = [line for line in ax.lines if line.get_gid() == gid]
    assert len(found) == 1, [line.get_gid() for line in ax.lines]
    return found[0]


def _expected(table, tag, fid, column):
    rows = ((table["d:tag"] == tag) & (table["i:fid"] == fid)
            & ~np.ma.getmaskarray(table[column]))
    return table[rows]


# ----------------------------------------------------------------------------- light curve

def test_lightcurve_valid_points_per_band_match_the_valid_rows():
    table = lightcurve_table()
    ax = plot_lightcurve(table)
    for fid in (1, 2, 3):
        want = _expected(table, "valid", fid, "i:magpsf")
        line = _container(ax, f"valid:{fid}")[0]
        np.testing.assert_allclose(line.get_xdata(), want["i:jd"] - MJD0, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(line.get_ydata(), want["i:magpsf"])
    # r has one valid row without magnitude: two rows in the table, one point drawn
    assert len(_container(ax, "valid:2")[0].get_xdata()) == 1


def test_lightcurve_error_bars_are_sigmapsf_and_zero_when_missing():
    table = lightcurve_table()
    container = _container(plot_lightcurve(table), "valid:1")
    [bars] = container.lines[2]
    half_lengths = [abs(seg[1][1] - seg[0][1]) / 2 for seg in bars.get_segments()]
    want = _expected(table, "valid", 1, "i:magpsf")["i:sigmapsf"]
    np.testing.assert_allclose(half_lengths, want.filled(0.0))  # 0.05, 0.06 then none


def test_lightcurve_upper_limits_are_open_triangles_at_diffmaglim():
    table = lightcurve_table()
    ax = plot_lightcurve(table)
    for fid in (1, 2):
        want = _expected(table, "upperlim", fid, "i:diffmaglim")
        line = _line(ax, f"upperlim:{fid}")
        np.testing.assert_array_equal(line.get_ydata(), want["i:diffmaglim"])
        np.testing.assert_allclose(line.get_xdata(), want["i:jd"] - MJD0, rtol=0, atol=1e-7)
        assert line.get_marker() == "v"
        assert line.get_markerfacecolor() == "none"
    # g has two upper-limit rows; the one with a masked limit is not drawn
    assert len(_line(ax, "upperlim:1").get_ydata()) == 1


def test_lightcurve_bad_quality_points_are_faded_hollow_with_errors():
    table = lightcurve_table()
    container = _container(plot_lightcurve(table), "badquality:2")
    np.testing.assert_array_equal(container[0].get_ydata(), [19.2])
    assert container[0].get_markerfacecolor() == "none"
    assert container[0].get_alpha() < 1
    assert container.has_yerr


def test_lightcurve_never_draws_masked_values():
    table = lightcurve_table()
    ax = plot_lightcurve(table)
    ys = np.concatenate([line.get_ydata() for line in ax.lines])
    assert np.all(np.isfinite(ys))
    assert not np.isin(ys, [0.0, 99.0]).any()
    drawable = 4 + 1 + 2 + 1  # valid g/r/i with a magnitude, bad quality, limits present
    assert len(ys) == drawable


def test_lightcurve_axes_labels_title_legend_and_inverted_magnitudes():
    ax = plot_lightcurve(lightcurve_table())
    assert ax.yaxis_inverted()
    assert ax.get_xlabel() == "MJD (UTC)"
    assert ax.get_ylabel() == "Difference magnitude (mag)"
    assert ax.get_title() == "ZTF21aaxtctv"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["g detections", "g upper limits", "r detections", "r upper limits",
                      "r bad quality", "i detections"]
    colours = {c.get_label(): c[0].get_color() for c in ax.containers}
    assert len({colours["g detections"], colours["r detections"],
                colours["i detections"]}) == 3


def test_lightcurve_on_given_axes_keeps_an_already_inverted_axis():
    _, ax = plt.subplots()
    ax.invert_yaxis()
    assert plot_lightcurve(lightcurve_table(), ax=ax) is ax
    assert ax.yaxis_inverted()


def test_lightcurve_hides_upper_limits_and_bad_quality_on_request():
    ax = plot_lightcurve(lightcurve_table(), show_upperlim=False, show_badquality=False)
    gids = {line.get_gid() for line in ax.lines}
    assert gids == {"valid:1", "valid:2", "valid:3"}


def test_lightcurve_without_tag_column_treats_every_row_as_detection():
    table = lightcurve_table()
    table.remove_column("d:tag")
    ax = plot_lightcurve(table)
    ys = np.concatenate([line.get_ydata() for line in ax.lines])
    want = table["i:magpsf"][~table["i:magpsf"].mask]
    assert sorted(ys) == sorted(want)
    assert all(line.get_gid().startswith("valid:") for line in ax.lines)


def test_lightcurve_time_formats():
    table = lightcurve_table()
    want = _expected(table, "valid", 3, "i:magpsf")["i:jd"]
    ax = plot_lightcurve(table, time_format="jd")
    np.testing.assert_array_equal(_container(ax, "valid:3")[0].get_xdata(), want)
    assert ax.get_xlabel() == "JD (UTC)"
    ax = plot_lightcurve(table, time_format="datetime")
    [when] = _container(ax, "valid:3")[0].get_xdata()
    assert when.isoformat().startswith("2021-11-14T16:48")  # JD 2459533.2
    with pytest.raises(InvalidQueryError, match="time_format='iso' is unknown"):
        plot_lightcurve(table, time_format="iso")


def test_one_epoch_gets_a_two_day_axis_in_every_time_format():
    # matplotlib widens a zero-width range by 5% of its value: thousands of days at MJD 60000
    from astropy.time import Time

    from astroquery_fink.plotting import plot_lsst_lightcurve

    one = Table({"i:jd": [2459533.2], "i:fid": [1], "i:magpsf": [18.0],
                 "i:sigmapsf": [0.1]})
    for time_format, centre, day in (("mjd", 59532.7, 1.0), ("jd", 2459533.2, 1.0),
                                     ("decimalyear", Time(2459533.2, format="jd").decimalyear,
                                      1 / 365.25)):
        low, high = plot_lightcurve(one, time_format=time_format).get_xlim()
        assert (low + high) / 2 == pytest.approx(centre, abs=1e-4)
        assert high - low == pytest.approx(2 * day)
    low, high = plot_lightcurve(one, time_format="datetime").get_xlim()
    assert high - low == pytest.approx(2.0)  # matplotlib's date axis counts days
    rubin = Table({"r:midpointMjdTai": [60924.33, 60924.34], "r:band": ["g", "r"],
                   "r:psfFlux": [1000.0, 1200.0], "r:psfFluxErr": [10.0, 12.0]})
    assert plot_lsst_lightcurve(rubin).get_xlim() == pytest.approx((60923.335, 60925.335))
    # several epochs keep matplotlib's limits; axes given by the user are left alone
    many = Table({"i:jd": [2459533.2, 2459573.2], "i:fid": [1, 1], "i:magpsf": [18.0, 18.5],
                  "i:sigmapsf": [0.1, 0.1]})
    low, high = plot_lightcurve(many).get_xlim()
    assert low < 59532.7 - 1 and high > 59572.7 + 1 and high - low < 45
    _, ax = plt.subplots()
    ax.set_xlim(0, 1e5)
    assert plot_lightcurve(one, ax=ax).get_xlim() == (0, 1e5)


def test_lightcurve_several_objects_title_and_filter():
    one = lightcurve_table()
    two = lightcurve_table()
    two["i:objectId"] = "ZTF19acmdpyr"
    two["i:magpsf"] += 1
    from astropy.table import vstack
    both = vstack([one, two])
    ax = plot_lightcurve(both)
    assert ax.get_title() == "ZTF21aaxtctv, ZTF19acmdpyr"
    assert len(_container(ax, "valid:1")[0].get_ydata()) == 6
    ax = plot_lightcurve(both, object_id="ZTF19acmdpyr")
    assert ax.get_title() == "ZTF19acmdpyr"
    np.testing.assert_array_equal(_container(ax, "valid:1")[0].get_ydata(), [19.1, 19.6, 20.0])
    with pytest.raises(InvalidQueryError, match="No rows of ZTF18aaaaaaa"):
        plot_lightcurve(both, object_id="ZTF18aaaaaaa")


def test_lightcurve_missing_columns_are_named():
    table = lightcurve_table()
    table.remove_columns(["i:sigmapsf", "i:fid"])
    with pytest.raises(InvalidQueryError, match=r"i:fid, i:sigmapsf"):
        plot_lightcurve(table)
    table = lightcurve_table()
    table.remove_column("i:diffmaglim")
    with pytest.raises(InvalidQueryError, match="i:diffmaglim"):
        plot_lightcurve(table)
    assert plot_lightcurve(table, show_upperlim=False).lines  # fine without upper limits


def test_lightcurve_nothing_to_plot():
    table = lightcurve_table()[:0]
    with pytest.raises(InvalidQueryError, match="No row"):
        plot_lightcurve(table)


def test_lightcurve_from_pandas():
    table = lightcurve_table()
    frame = table.to_pandas()  # masked floats become NaN
    assert frame["i:magpsf"].isna().sum() == 4
    ax = plot_lightcurve(frame)
    np.testing.assert_array_equal(_line(ax, "upperlim:2").get_ydata(), [19.9])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'astroquery_fink\[plotting\]'"):
        plot_lightcurve(lightcurve_table())


def test_lightcurve_of_an_emulator_query(emulator):
    fink = FinkClass(server=emulator.url)
    table = fink.query_object("ZTF25aauurnj", withupperlim=True, cache=False)
    ax = plot_lightcurve(table)
    tags = np.asarray(table["d:tag"])
    for line in ax.lines:
        kind, fid = line.get_gid().split(":")
        rows = (tags == kind) & (np.asarray(table["i:fid"]) == int(fid))
        column = "i:diffmaglim" if kind == "upperlim" else "i:magpsf"
        want = table[column][rows]
        np.testing.assert_array_equal(np.sort(line.get_ydata()), np.sort(want))
    assert sum(len(line.get_ydata()) for line in ax.lines) == len(table)
    assert {line.get_gid().split(":")[0] for line in ax.lines} == {
        "valid", "upperlim", "badquality"}


def test_detections_without_band_are_refused_not_left_out(emulator):
    # withupperlim and a selection without i:fid: the detections come back without band
    fink = FinkClass(server=emulator.url)
    table = fink.query_object("ZTF25aauurnj", withupperlim=True, cache=False,
                              columns=["i:jd", "i:magpsf", "i:sigmapsf", "i:diffmaglim"])
    valid = np.asarray(table["d:tag"]) == "valid"
    assert valid.sum() == 3 and np.ma.getmaskarray(table["i:fid"])[valid].all()
    with pytest.raises(InvalidQueryError, match="3 detection.s. of the table have no time .i:jd. "
                                         "or band .i:fid."):
        plot_lightcurve(table)


# ----------------------------------------------------------------------------- cutouts

def synthetic_cutouts(order=("SCIENCE", "TEMPLATE", "DIFFERENCE")):
    rng = np.random.default_rng(3)
    primary = fits.PrimaryHDU()
    primary.header["OBJECTID"] = "ZTF21aaxtctv"
    primary.header["CANDID"] = 1788473621915015001
    primary.header["JD"] = 2459537.0497222
    hdus = [primary]
    for k, name in enumerate(order):
        data = rng.normal(100.0 * (k + 1), 5.0, (63, 63)).astype(np.float32)
        data[10, 20] = 5000.0  # a bright pixel off the diagonal: flips would move it
        data[:3, :] = np.nan  # an off-CCD strip
        hdus.append(fits.ImageHDU(data, name=name))
    return fits.HDUList(hdus)


def test_cutouts_three_panels_show_the_stamps_with_origin_lower():
    hdul = synthetic_cutouts()
    fig = plot_cutouts(hdul)
    assert [ax.get_title() for ax in fig.axes] == ["Science", "Template", "Difference"]
    for ax, name in zip(fig.axes, ("SCIENCE", "TEMPLATE", "DIFFERENCE"), strict=True):
        [image] = ax.images
        assert image.origin == "lower"
        shown = image.get_array()
        np.testing.assert_array_equal(np.ma.filled(shown, np.nan), hdul[name].data)
        assert shown.mask[:3].all() and not shown.mask[3:].any()  # NaN left out, not filled
        assert shown[10, 20] == 5000.0
    assert fig.get_suptitle() == (
        "ZTF21aaxtctv  candid 1788473621915015001  2021-11-18 13:11:36 UTC")


def test_cutouts_default_normalisation_is_zscale_asinh_on_finite_pixels():
    hdul = synthetic_cutouts()
    fig = plot_cutouts(hdul)
    data = hdul["TEMPLATE"].data
    vmin, vmax = ZScaleInterval().get_limits(data[np.isfinite(data)])
    norm = fig.axes[1].images[0].norm
    assert isinstance(norm.stretch, AsinhStretch)
    assert norm.vmin == pytest.approx(vmin) and norm.vmax == pytest.approx(vmax)
    assert vmax < 5000  # the bright pixel does not set the scale


def test_cutouts_order_follows_the_kind_not_the_hdu_position():
    hdul = synthetic_cutouts(order=("DIFFERENCE", "SCIENCE", "TEMPLATE"))
    fig = plot_cutouts(hdul, title="mine", stretch="linear")
    assert [ax.get_title() for ax in fig.axes] == ["Science", "Template", "Difference"]
    np.testing.assert_array_equal(np.ma.filled(fig.axes[2].images[0].get_array(), np.nan),
                                  hdul["DIFFERENCE"].data)
    assert fig.get_suptitle() == "mine"
    assert isinstance(fig.axes[0].images[0].norm.stretch, LinearStretch)


def test_cutouts_from_a_dict_of_arrays_and_given_axes():
    hdul = synthetic_cutouts()
    arrays = {"Difference": hdul[3].data, "Science": hdul[1].data}
    _, axes = plt.subplots(1, 2)
    fig = plot_cutouts(arrays, axes=axes, interval=99.5)
    assert fig is axes[0].figure
    assert [ax.get_title() for ax in axes] == ["Science", "Difference"]
    np.testing.assert_array_equal(np.ma.filled(axes[1].images[0].get_array(), np.nan),
                                  hdul[3].data)
    with pytest.raises(InvalidQueryError, match="2 stamps to draw but only 1 axes"):
        plot_cutouts(arrays, axes=axes[:1])


def test_cutouts_from_a_table_row_with_a_missing_stamp():
    hdul = synthetic_cutouts()
    cube = np.stack([hdul[1].data, hdul[1].data]).astype(float)
    table = Table(masked=True)
    table["i:objectId"] = ["ZTF21aaxtctv", "ZTF21aaxtctv"]
    table["i:candid"] = [11, 12]
    table["b:cutoutScience_stampData"] = MaskedColumn(cube)
    table["b:cutoutTemplate_stampData"] = MaskedColumn(cube, mask=np.ones(cube.shape, bool))
    fig = plot_cutouts(table[1])
    assert [ax.get_title() for ax in fig.axes] == ["Science", "Template"]
    np.testing.assert_array_equal(np.ma.filled(fig.axes[0].images[0].get_array(), np.nan),
                                  hdul[1].data)
    assert not fig.axes[1].images and fig.axes[1].texts[0].get_text() == "not available"
    assert fig.get_suptitle() == "ZTF21aaxtctv  candid 12"
    with pytest.raises(InvalidQueryError, match="one row"):
        plot_cutouts(table)


def test_cutouts_all_nan_stamp_and_bad_arguments():
    fig = plot_cutouts({"Science": np.full((5, 5), np.nan)})
    assert fig.axes[0].images[0].get_array().mask.all()
    with pytest.raises(InvalidQueryError, match="stretch='cubic' is unknown"):
        plot_cutouts(synthetic_cutouts(), stretch="cubic")
    with pytest.raises(InvalidQueryError, match="interval=.* is unknown"):
        plot_cutouts(synthetic_cutouts(), interval="auto")
    with pytest.raises(InvalidQueryError, match="not a 2-D image"):
        plot_cutouts({"Science": np.zeros((2, 5, 5))})
    with pytest.raises(InvalidQueryError, match="HDUList"):
        plot_cutouts([1, 2, 3])


def test_cutouts_of_an_emulator_alert(emulator):
    fink = FinkClass(server=emulator.url)
    hdul = fink.get_cutouts("ZTF25aauurnj", cache=False)
    fig = plot_cutouts(hdul)
    assert [ax.get_title() for ax in fig.axes] == ["Science", "Template", "Difference"]
    for ax, name in zip(fig.axes, ("SCIENCE", "TEMPLATE", "DIFFERENCE"), strict=True):
        np.testing.assert_array_equal(np.ma.filled(ax.images[0].get_array(), np.nan),
                                      hdul[name].data)
    assert fig.get_suptitle().startswith(f"ZTF25aauurnj  candid {hdul[0].header['CANDID']}")
    arrays = fink.get_cutouts("ZTF25aauurnj", as_array=True, cache=False)
    fig = plot_cutouts(arrays)
    np.testing.assert_array_equal(np.ma.filled(fig.axes[0].images[0].get_array(), np.nan),
                                  hdul["SCIENCE"].data)


def test_rubin_fluxes_are_drawn_in_njy_whatever_the_columns_unit():
    from astropy.time import Time

    from astroquery_fink.lsst import flux_to_mag, to_time
    from astroquery_fink.plotting import plot_lsst_lightcurve

    table = Table({"r:midpointMjdTai": [61000.0, 61001.0], "r:band": ["g", "g"],
                   "r:psfFlux": [1.0, 2.0] * u.uJy, "r:psfFluxErr": [0.1, 0.2] * u.uJy})
    ax = plot_lsst_lightcurve(table)
    [line] = [c[0] for c in ax.containers]
    np.testing.assert_allclose(line.get_ydata(), [1000.0, 2000.0])
    assert ax.get_ylabel() == "psfFlux (nJy)"
    with pytest.raises(InvalidQueryError, match="magnitude must be True or False"):
        plot_lsst_lightcurve(table, magnitude="yes")
    # the helpers: a Time is taken as it is, nothing is no time
    t = Time(61000.5, format="mjd", scale="utc")
    assert to_time(t).scale == "tai" and to_time(t).mjd == pytest.approx(t.tai.mjd)
    for helper in (to_time, flux_to_mag):
        with pytest.raises(InvalidQueryError, match="needs"):
            helper(None)


# ------------------------------------------- Rubin tables in every figure; units and types

def _rubin_lc():
    return Table({"r:diaObjectId": [170028485706776685] * 3,
                  "r:midpointMjdTai": u.Quantity([61090.0, 61100.0, 61105.0], u.day),
                  "r:band": ["g", "r", "g"],
                  "r:psfFlux": u.Quantity([1000.0, 2000.0, 1500.0], u.nJy),
                  "r:psfFluxErr": u.Quantity([10.0, 20.0, 15.0], u.nJy)})


def _drawn_x(ax):
    # the data lines of the error bars (not the zero line)
    return sorted(float(x) for container in ax.containers
                  for x in np.atleast_1d(container[0].get_xdata()))


def test_rubin_light_curve_times_in_any_time_unit_or_as_time():
    from astropy.time import Time

    from astroquery_fink.plotting import plot_lsst_lightcurve
    days = _drawn_x(plot_lsst_lightcurve(_rubin_lc()))
    assert days == [61090.0, 61100.0, 61105.0]
    seconds = _rubin_lc()
    seconds["r:midpointMjdTai"] = seconds["r:midpointMjdTai"].to(u.s)
    assert _drawn_x(plot_lsst_lightcurve(seconds)) == pytest.approx(days)
    as_time = _rubin_lc()
    as_time["r:midpointMjdTai"] = Time([61090.0, 61100.0, 61105.0], format="mjd", scale="tai")
    assert _drawn_x(plot_lsst_lightcurve(as_time)) == pytest.approx(days)


@pytest.mark.parametrize(("change", "error", "words"), [
    (lambda t: t.__setitem__("r:psfFlux", u.Quantity([1.0, 2.0, 3.0], u.m)), InvalidQueryError,
     "r:psfFlux is in m, not a flux density"),
    (lambda t: t.__setitem__("r:midpointMjdTai", u.Quantity([1.0, 2.0, 3.0], u.m)),
     InvalidQueryError, "r:midpointMjdTai is in m, not a time"),
])
def test_rubin_light_curve_columns_in_other_units_are_refused(change, error, words):
    from astroquery_fink.plotting import plot_lsst_lightcurve
    table = _rubin_lc()
    change(table)
    with pytest.raises(error, match=words):
        plot_lsst_lightcurve(table)


@pytest.mark.parametrize("table", [None, [1, 2]])
def test_rubin_light_curve_of_no_table_is_refused(table):
    from astroquery_fink.plotting import plot_lsst_lightcurve
    with pytest.raises(InvalidQueryError, match="plot_lsst_lightcurve needs an astropy Table"):
        plot_lsst_lightcurve(table)


def test_rubin_statistics_and_cone_search_draw():
    from astroquery_fink.lsst.answers import with_night_time
    from astroquery_fink.plotting import plot_region, plot_statistics
    stats = with_night_time(Table({"f:night": [20251101, 20251102], "f:alerts": [900, 1348]}))
    assert stats["time"].iso.tolist() == ["2025-11-01 00:00:00.000", "2025-11-02 00:00:00.000"]
    ax = plot_statistics(stats)
    (line,) = ax.get_lines()
    assert line.get_label() == "f:alerts" and list(line.get_ydata()) == [900, 1348]
    cone = Table({"r:ra": [10.0, 10.0005], "r:dec": [20.0, 20.0],
                  "r:diaObjectId": [170028485706776685, 170028485706776686]})
    ax = plot_region(cone, "10 20", 5 * u.arcsec)
    assert sorted(t.get_text() for t in ax.texts) == ["170028485706776685",
                                                      "170028485706776686"]


def test_rubin_cutouts_refuse_too_few_axes():
    from astroquery_fink.plotting import plot_lsst_cutouts
    stamps = {k: np.ones((5, 5)) for k in ("Science", "Template", "Difference")}
    _, ax = plt.subplots()
    with pytest.raises(InvalidQueryError, match="3 stamps to draw but only 1 axes given"):
        plot_lsst_cutouts(stamps, axes=[ax])


def test_each_light_curve_column_is_checked_by_its_own_unit():
    from astroquery_fink.plotting import plot_lsst_lightcurve
    table = _rubin_lc()
    table["r:psfFluxErr"] = u.Quantity([1.0, 2.0, 3.0], u.s)
    with pytest.raises(InvalidQueryError, match="r:psfFluxErr is in s, not a flux density"):
        plot_lsst_lightcurve(table)
    ztf = Table({"i:objectId": ["ZTF21aaxtctv"], "i:jd": [2459500.5], "i:fid": [1],
                 "i:magpsf": u.Quantity([1000.0], u.nJy), "i:sigmapsf": [0.1]})
    with pytest.raises(InvalidQueryError, match="i:magpsf is in nJy, not magnitudes"):
        plot_lightcurve(ztf)


def test_a_rubin_light_curve_with_nothing_to_draw_is_refused():
    from astroquery_fink.plotting import plot_lsst_lightcurve
    empty = _rubin_lc()[:0]
    masked = _rubin_lc()
    masked["r:psfFlux"] = MaskedColumn(masked["r:psfFlux"], mask=[True, True, True])
    for table in (empty, masked):
        n = len(plt.get_fignums())
        with pytest.raises(InvalidQueryError, match="No row of the table has a time, a band and a "
                           "r:psfFlux to plot"):
            plot_lsst_lightcurve(table)
        assert len(plt.get_fignums()) == n  # no figure left behind


def test_statistics_draw_counters_only_and_rows_with_a_night():
    from astroquery_fink.lsst.answers import with_night_time
    from astroquery_fink.plotting import plot_statistics
    stats = with_night_time(Table({
        "f:night": MaskedColumn([20251101, 20251102, 0], mask=[False, False, True]),
        "f:alerts": [900, 1348, 5], "f:version": ["a", "b", "c"]}))
    assert stats["time"].mask.tolist() == [False, False, True]
    (line,) = plot_statistics(stats).get_lines()
    assert list(line.get_ydata()) == [900, 1348]
    with pytest.raises(InvalidQueryError, match="Not counters \\(numbers per night\\): f:version"):
        plot_statistics(stats, "f:version")
    assert len(plot_statistics(stats[:0]).get_lines()) == 1  # no night: an empty line


def test_a_cone_search_is_drawn_from_its_columns_units_without_missing_positions():
    from astroquery_fink.plotting import plot_region
    cone = Table({"i:ra": u.Quantity([36000.0, 36001.8], u.arcsec),
                  "i:dec": u.Quantity(np.radians([20.0, 20.0]), u.rad),
                  "i:objectId": ["ZTF21aaaaaaa", "ZTF21aaaaaab"]})
    offsets = plot_region(cone, "10 20", 10 * u.arcsec).collections[0].get_offsets()
    assert np.allclose(offsets[:, 0], [0.0, 1.8 * np.cos(np.radians(20.0))], atol=1e-3)
    cone["i:ra"] = MaskedColumn([36000.0, 36001.8], unit=u.arcsec, mask=[False, True])
    ax = plot_region(cone, "10 20", 10 * u.arcsec)
    assert len(ax.collections[0].get_offsets()) == 1
    assert "1 objects" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_rubin_cutouts_that_are_no_images_are_refused():
    from astroquery_fink.plotting import plot_lsst_cutouts
    with pytest.raises(InvalidQueryError, match=r"Not 2-D images: Science \(5,\)"):
        plot_lsst_cutouts({"Science": np.ones(5)})


def _ztf_rows():
    return Table({"i:objectId": ["ZTF21aaxtctv"] * 2, "i:jd": [2459500.5, 2459501.5],
                  "i:fid": [1, 2], "i:magpsf": [18.0, 18.5], "i:sigmapsf": [0.1, 0.1]})


@pytest.mark.parametrize(("call", "words"), [
    (lambda: plot_lightcurve(_ztf_rows(), object_id=5),
     "plot_lightcurve cannot use its arguments (TypeError: 'int' object is not iterable)"),
    (lambda: plot_lightcurve(_ztf_rows(), ax="x"), "plot_lightcurve cannot use its arguments "
     "(AttributeError: 'str' object has no attribute 'errorbar')"),
    (lambda: plot_cutouts({"Science": np.ones((5, 5))}, cmap="nope"),
     "plot_cutouts cannot use its arguments (ValueError: 'nope' is not a valid value for "),
    (lambda: __import__("astroquery_fink.lsst", fromlist=["x"]).to_time(Table({"x": [1]})),
     "to_time cannot use its arguments (KeyError: 'r:midpointMjdTai')"),
    (lambda: __import__("astroquery_fink.lsst", fromlist=["x"]).flux_to_mag([1.0] * u.m),
     "flux_to_mag cannot use its arguments (UnitConversionError: 'm' (length) and 'nJy' "),
])
def test_values_the_figures_and_conversions_cannot_use_are_invalid_queries(call, words):
    # what numpy, astropy or matplotlib raise on the user's values: one family, named
    with pytest.raises(InvalidQueryError) as info:
        call()
    assert str(info.value).startswith(words)
    plt.close("all")


def test_the_figures_flags_are_checked_as_the_queries_are():
    with pytest.raises(InvalidQueryError, match=r"^show_upperlim must be True or False, not None$"):
        plot_lightcurve(_ztf_rows(), show_upperlim=None)
    with pytest.raises(InvalidQueryError, match=r"^time_format=\['mjd'\] is unknown"):
        plot_lightcurve(_ztf_rows(), time_format=["mjd"])
    from astroquery_fink.plotting import plot_statistics

    stats = Table({"time": Time(["2021-01-01", "2021-01-02"]), "basic:sci": [1, 2]})
    with pytest.raises(InvalidQueryError, match=r"^cumulative must be True or False, not 'x'$"):
        plot_statistics(stats, cumulative="x")
