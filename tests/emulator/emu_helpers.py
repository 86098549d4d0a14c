"""Helpers of the emulator tests that read alert files independently of the emulator."""
import gzip
import io
from pathlib import Path

import fastavro
import numpy as np
import pandas as pd
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


def rows_of(response) -> pd.DataFrame:
    """A 200 JSON answer of the Flask test client, read as users' pipelines do (pandas)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return pd.read_json(io.StringIO(response.get_data(as_text=True)))
