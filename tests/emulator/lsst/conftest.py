"""Fixtures of the LSST emulator tests: original Rubin alert files read with fastavro."""
import pytest
from lsst_helpers import PROCESSED, RAW, read_avro

from astroquery_fink.testing import FinkEmulator


@pytest.fixture(scope="session")
def processed():
    """The seven Fink-processed alerts of 2026-03-06 (schema 10.0)."""
    return read_avro(PROCESSED)


@pytest.fixture(scope="session")
def raw():
    """The raw LSSTCam alerts of 2025-09-05 copied into tests/data/lsst (schema 9.0)."""
    return [rec for path in RAW for rec in read_avro(path)]


@pytest.fixture(scope="session")
def emu_lsst():
    """Strict emulator on the processed and raw test files, served on a free loopback port."""
    with FinkEmulator([PROCESSED, *RAW], survey="lsst", strict=True) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def lsst(emu_lsst):
    """Flask test client of the same app."""
    return emu_lsst.app.test_client()
