"""Shared fixtures: an isolated cache, recorded answers, and the loopback emulator."""
import pytest
from _helpers import Recorder
from astroquery import cache_conf

from astroquery_fink import FinkClass, FinkLSSTClass, conf


@pytest.fixture(autouse=True)
def _no_user_cache():
    """No test reads or writes the user's astroquery cache unless it asks for a tmp one."""
    with cache_conf.set_temp("cache_active", False):
        yield


@pytest.fixture(autouse=True)
def _fast_retries():
    """Retries keep their logic but not their waiting time."""
    with conf.set_temp("retry_base_delay", 0.001), conf.set_temp("retry_max_delay", 0.01):
        yield


def _recorded(monkeypatch, client_class):
    def install(answers):
        fink = client_class(server="http://fink.test")
        recorder = Recorder(answers)
        monkeypatch.setattr(fink, "_request", recorder)
        return fink, recorder
    return install


@pytest.fixture
def recorded(monkeypatch):
    """A FinkClass whose `_request` is replaced; call it with the answers to give."""
    return _recorded(monkeypatch, FinkClass)


@pytest.fixture
def lsst_recorded(monkeypatch):
    """The same for the Rubin client (`FinkLSSTClass`)."""
    return _recorded(monkeypatch, FinkLSSTClass)


@pytest.fixture(scope="session")
def emulator():
    """The bundled-data emulator on a free loopback port, for the whole session."""
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def lsst_emulator():
    """The bundled-data Rubin emulator on a free loopback port, for the whole session."""
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator(survey="lsst") as emu:
        yield emu


@pytest.fixture
def fink(emulator, tmp_path):
    """A client pointed at the emulator, with a private cache directory."""
    client = FinkClass(server=emulator.url)
    client.cache_location = tmp_path / "cache"
    return client
