"""Fixtures of the emulator tests: one strict emulator on the bundled sample for the session.

Strict mode (``FinkEmulator(strict=True)``): an exception the emulator does not mean as the
server's 500 propagates, so an emulator bug fails the test instead of looking like a 500.
"""
import pyarrow.parquet as pq
import pytest

from astroquery_fink.testing import FinkEmulator, bundled_data_files


@pytest.fixture(scope="session")
def emu():
    """Strict emulator on the bundled sample, served on a free loopback port."""
    with FinkEmulator(strict=True) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_emulator_bug(request):
    """Fail a test during which the shared emulator met an unintended exception."""
    emulators = [request.getfixturevalue(name) for name in ("emu", "emu_lsst")
                 if name in request.fixturenames]
    yield
    for emulator in emulators:
        errors = list(emulator.unexpected_errors)
        emulator.unexpected_errors.clear()
        assert not errors, f"emulator bug(s) answered as 500: {errors!r}"


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


@pytest.fixture(scope="session")
def latest_candidates(raw_alerts):
    """The ``candidate`` of each object's latest alert (the row a cone or sky-map search
    shows), by objectId, from the files."""
    by_oid = {}
    for a in raw_alerts:
        c = a["candidate"]
        if a["objectId"] not in by_oid or c["jd"] > by_oid[a["objectId"]]["jd"]:
            by_oid[a["objectId"]] = c
    return by_oid
