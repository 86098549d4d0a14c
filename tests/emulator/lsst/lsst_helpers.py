"""Helpers of the LSST emulator tests: the original Rubin alert files, read with fastavro."""
import io
from pathlib import Path

import fastavro
import numpy as np
from astropy.io import fits

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
