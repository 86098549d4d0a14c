"""The ZTF search plots draw what the tables hold."""
import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError

from astroquery_fink.plotting import plot_region, plot_statistics

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_region_offsets_and_circle():
    center = SkyCoord(23.5, 30.7, unit="deg")
    table = Table({"i:objectId": ["ZTF19abysrdg", "ZTF19aawtdou"],
                   "i:ra": [23.5, 23.5], "i:dec": [30.7 + 0.1, 30.7 - 0.2]})
    ax = plot_region(table, center, 30 * u.arcmin)
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], [6, -12], atol=1e-6)  # arcmin north
    np.testing.assert_allclose(offsets[:, 0], [0, 0], atol=1e-6)
    circle = ax.patches[0]
    assert circle.get_radius() == pytest.approx(30)
    assert ax.get_xlim()[0] > ax.get_xlim()[1]  # east to the left
    assert [t.get_text() for t in ax.texts] == ["ZTF19abysrdg", "ZTF19aawtdou"]


def test_plot_region_of_several_positions_wants_one():
    """Rows of another position would be drawn as offsets from this center."""
    table = Table({"i:objectId": ["ZTF19abysrdg", "ZTF19aawtdou", "ZTF20abfcszi"],
                   "i:ra": [23.5, 23.5, 100.0], "i:dec": [30.8, 30.5, -10.0],
                   "input_index": [0, 0, 1]})
    with pytest.raises(InvalidQueryError, match="this table holds 2: select one first"):
        plot_region(table, SkyCoord(100, -10, unit="deg"), 30 * u.arcmin)
    one = table[table["input_index"] == 1]
    ax = plot_region(one, SkyCoord(100, -10, unit="deg"), 30 * u.arcmin)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0, 0]], atol=1e-6)
    assert [t.get_text() for t in ax.texts] == ["ZTF20abfcszi"]


def test_plot_statistics_lines():
    table = Table({"basic:sci": [2, 5, 3], "basic:raw": [4, 6, 3]})
    table.add_column(Time(["2021-11-22", "2021-11-20", "2021-11-21"]), name="time", index=0)
    ax = plot_statistics(table, ["basic:sci", "basic:raw"], cumulative=True)
    assert [line.get_label() for line in ax.lines] == ["basic:sci", "basic:raw"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [5, 8, 10])
    with pytest.raises(InvalidQueryError, match="No column basic:nope"):
        plot_statistics(table, "basic:nope")
