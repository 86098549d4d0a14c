"""Helpers of the emulator tests that read alert files independently of the emulator."""
import gzip
import io
from pathlib import Path

import fastavro
import numpy as np
from astropy.io import fits

TESTS_DATA = Path(__file__).resolve().parent.parent / "data"
RAW_AVRO = sorted(TESTS_DATA.glob("raw_*.avro"))


def read_avro(path):
    """Records of an avro file, read with fastavro."""
    with open(path, "rb") as fh:
        return list(fastavro.reader(fh))


def stamp_pixels(stamp_data: bytes) -> np.ndarray:
    """Decode a gzipped FITS stamp independently of the emulator."""
    with fits.open(io.BytesIO(gzip.decompress(stamp_data)), ignore_missing_simple=True) as hdul:
        return np.array(hdul[0].data, dtype=float)
