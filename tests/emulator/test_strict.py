"""Strict mode: the server's intended 500s answer 500, an emulator bug is not hidden."""
import logging

import pytest
from flask import Flask

from astroquery_fink.testing import FinkEmulator
from astroquery_fink.testing.wire import Route, ServerFailure, add_routes, set_strict

_BODY_500 = b'{"message": "Internal Server Error"}\n'


def _app(strict: bool) -> Flask:
    def intended(backend, args):
        raise ServerFailure("the real server fails here")

    def bug(backend, args):
        return {}["missing"]  # an emulator bug: KeyError

    app = Flask("strict_test")
    add_routes(app, None, [Route("/intended", intended, "d"), Route("/bug", bug, "d")])
    set_strict(app, strict)
    return app


@pytest.mark.parametrize("strict", [False, True])
def test_intended_500_in_both_modes(strict):
    r = _app(strict).test_client().get("/intended?x=1")
    assert (r.status_code, r.data) == (500, _BODY_500)


def test_bug_raises_in_strict_mode():
    app = _app(True)
    with pytest.raises(KeyError, match="missing"):
        app.test_client().get("/bug?x=1")
    assert [type(e) for e in app.extensions["fink_emulator_errors"]] == [KeyError]


def test_bug_is_a_logged_500_by_default(caplog):
    with caplog.at_level(logging.ERROR, logger="astroquery_fink.testing"):
        r = _app(False).test_client().get("/bug?x=1")
    assert (r.status_code, r.data) == (500, _BODY_500)
    assert "emulated /bug failed" in caplog.text and "KeyError" in caplog.text


def test_emulator_default_is_not_strict():
    emu = FinkEmulator()
    assert emu.strict is False and emu.app.config["FINK_EMULATOR_STRICT"] is False
    assert emu.unexpected_errors == []


def test_download_keeps_only_failed_inner_calls(emu):
    # engine._download: a bad kind or an unknown alert leaves [] (the inner /cutouts fails)
    oid = emu.object_ids[0]
    assert emu.engine._download(oid, "1", "Science") == []
    assert emu.engine._download(oid, "1", "Sci") == []


def test_ssnamenrs_of_a_number_is_empty(emu):
    from astroquery_fink.testing._solar_data import solar_tables
    from astroquery_fink.testing.ztf_resolver import ssnamenrs_of

    # the inner resolver request with a JSON number fails (name.lower()): no ssnamenr
    assert ssnamenrs_of(solar_tables(emu.engine), 4371, 10_000) == []
