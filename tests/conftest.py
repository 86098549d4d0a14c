"""Shared fixtures: an isolated cache, recorded answers, and the loopback emulator."""
import json
from pathlib import Path

import pytest
import requests
from astroquery import cache_conf

from astroquery_fink import FinkClass, conf

DATA = Path(__file__).parent / "data"


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


def make_response(content, *, status=200, content_type="application/json", url="http://f/x",
                  headers=None):
    """A real `requests.Response`, as the server would send it."""
    response = requests.Response()
    response.status_code = status
    response._content = content.encode() if isinstance(content, str) else content
    response.headers["Content-Type"] = content_type
    response.headers.update(headers or {})
    response.url = url
    response.encoding = "utf-8"
    return response


class Recorder:
    """Stands in for `_request`: answers from a queue or a function, and records calls."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers(url, kwargs.get("json")) if callable(self.answers) \
            else self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def recorded(monkeypatch):
    """A FinkClass whose `_request` is replaced; call it with the answers to give."""
    def install(answers):
        fink = FinkClass(server="http://fink.test")
        recorder = Recorder(answers)
        monkeypatch.setattr(fink, "_request", recorder)
        return fink, recorder
    return install


def recorded_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def recorded_json(name: str):
    return json.loads(recorded_bytes(name))


@pytest.fixture(scope="session")
def emulator():
    """The bundled-data emulator on a free loopback port, for the whole session."""
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator() as emu:
        yield emu


@pytest.fixture
def fink(emulator, tmp_path):
    """A client pointed at the emulator, with a private cache directory."""
    client = FinkClass(server=emulator.url)
    client.cache_location = tmp_path / "cache"
    return client
