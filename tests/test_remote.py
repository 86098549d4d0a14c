"""Against the live Fink service: run with ``pytest --remote-data=any``; skipped otherwise.

Fink data grow every night, so these assert structure and stable facts, not exact content.
"""
import astropy.units as u
import numpy as np
import pytest

from astroquery_fink import FinkClass
from astroquery_fink.ztf import schema as _schema

pytestmark = pytest.mark.remote_data
LIVE = "https://api.ztf.fink-portal.org"
OBJECT = "ZTF21aaxtctv"  # the Fink documentation's example object


@pytest.fixture
def live():
    return FinkClass(server=LIVE)


def test_live_object_has_typed_columns(live):
    t = live.query_object(OBJECT)
    assert len(t) > 0 and set(t["i:objectId"]) == {OBJECT}
    assert t["i:candid"].dtype == np.int64 and t["i:magpsf"].unit == u.mag
    assert np.all(np.diff(t["i:jd"]) <= 0)


def test_live_formats_agree(live):
    a = live.query_object(OBJECT, columns=["i:jd", "i:magpsf", "i:candid"], output_format="json")
    b = live.query_object(OBJECT, columns=["i:jd", "i:magpsf", "i:candid"],
                          output_format="parquet")
    assert list(a["i:candid"]) == list(b["i:candid"])


def test_live_upper_limits_are_tagged(live):
    t = live.query_object(OBJECT, withupperlim=True)
    assert set(t["d:tag"]) <= {"valid", "upperlim", "badquality"}


def test_live_cutouts(live):
    hdul = live.get_cutouts(OBJECT)
    assert [h.name for h in hdul[1:]] == ["SCIENCE", "TEMPLATE", "DIFFERENCE"]
    assert hdul["SCIENCE"].data.shape == (63, 63)


def test_live_schema_matches_the_bundled_copy(live):
    """Schema drift: every column the client types must still be served, with its type."""
    served = {row["name"]: row["type"] for row in live.get_schema()}
    known = _schema.columns()
    missing = set(known) - set(served)
    assert not missing, f"columns no longer served: {sorted(missing)}"
