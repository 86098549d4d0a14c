"""Fixtures of the emulator tests: one emulator on the bundled sample for the session."""
import pyarrow.parquet as pq
import pytest

from astroquery_fink.testing import FinkEmulator, bundled_data_files


@pytest.fixture(scope="session")
def emu():
    """Emulator on the bundled sample, served on a free loopback port."""
    with FinkEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def client(emu):
    """Flask test client of the same app (no socket)."""
    return emu.app.test_client()


@pytest.fixture(scope="session")
def raw_alerts():
    """Every bundled alert as read directly with pyarrow (independent of the store)."""
    rows = []
    for path in bundled_data_files():
        # use_threads=False: threaded reads sometimes abort the interpreter at exit here.
        rows.extend(pq.read_table(path, use_threads=False).to_pylist())
    return rows

