# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""An example: the tests of a pipeline that uses Fink, run offline on the emulator.

This file is shown in the documentation (docs/emulator.rst) and collected by the project's
own test run (testpaths = tests docs), so it is known to work.
"""
import pytest
from astroquery.exceptions import RemoteServiceError

from astroquery_fink import FinkClass, conf
from astroquery_fink.testing import Faults, FinkEmulator, bundled_data_files


def brightest_g_magnitude(fink, object_id):
    """The pipeline step under test: the brightest valid g-band magnitude of an object."""
    t = fink.query_object(object_id, columns=["i:fid", "i:magpsf"], cache=False)
    return float(t["i:magpsf"][t["i:fid"] == 1].min())


@pytest.fixture(scope="module")
def emulator():
    """An emulator serving your own alert files (here: one bundled file)."""
    [tde] = [p for p in bundled_data_files() if p.name.startswith("ztf20abfcszi")]
    with FinkEmulator(data=[tde]) as emu:
        yield emu


def test_brightest_g_magnitude(emulator):
    fink = FinkClass(server=emulator.url)
    assert brightest_g_magnitude(fink, "ZTF20abfcszi") == pytest.approx(18.246, abs=1e-3)


def test_survives_an_unreliable_service(emulator):
    emulator.faults = Faults(error_rate=0.3, drop_rate=0.2, seed=7)  # half the requests fail
    try:
        with conf.set_temp("retry_base_delay", 0.01):  # keep the test fast
            fink = FinkClass(server=emulator.url)
            assert brightest_g_magnitude(fink, "ZTF20abfcszi") == pytest.approx(18.246,
                                                                                abs=1e-3)
    finally:
        emulator.faults = None


def test_reports_a_broken_service(emulator):
    emulator.faults = Faults(fail_ids=["ZTF20abfcszi"])  # always HTTP 500 for this object
    try:
        with pytest.raises(RemoteServiceError, match="HTTP 500"):
            brightest_g_magnitude(FinkClass(server=emulator.url), "ZTF20abfcszi")
    finally:
        emulator.faults = None
