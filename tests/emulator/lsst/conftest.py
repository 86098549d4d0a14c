"""Fixtures of the LSST emulator tests: original Rubin alert files read with fastavro."""
import io
from pathlib import Path

import fastavro
import numpy as np
import pytest
from astropy.io import fits

from astroquery_fink.testing import FinkEmulator

LSST_DATA = Path(__file__).resolve().parents[2] / "data" / "lsst"
PROCESSED = LSST_DATA / "part-2-918301.avro"
RAW = sorted(p for p in LSST_DATA.glob("*.avro") if p != PROCESSED)


def read_avro(path):
    """Records of an Avro file, read with fastavro (independently of the emulator)."""
    with open(path, "rb") as fh:
        return list(fastavro.reader(fh))


def stamp(data: bytes, hdu: int = 0) -> np.ndarray:
    """Pixels of one HDU of a Rubin (plain FITS) stamp."""
    with fits.open(io.BytesIO(data)) as hdul:
        return np.array(hdul[hdu].data, dtype=float)


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
    """Emulator on the processed and raw test files, served on a free loopback port."""
    with FinkEmulator([PROCESSED, *RAW], survey="lsst") as emulator:
        yield emulator


@pytest.fixture(scope="session")
def lsst(emu_lsst):
    """Flask test client of the same app."""
    return emu_lsst.app.test_client()
