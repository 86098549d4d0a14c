# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Run the examples of the documentation against ONE offline Fink emulator.

pytest collects every ``docs/*.rst`` as a doctest file (setup.cfg: ``--doctest-rst``). For
the whole session this starts `astroquery_fink.testing.FinkEmulator` on the bundled alerts
and, for each page:

* points ``astroquery_fink.conf.server`` at it, so the pages use the plain
  ``from astroquery_fink import Fink``; ``conf.server_lsst`` likewise points at a Rubin
  emulator on the bundled Rubin alerts; each page must leave both as it found them;
* turns astroquery's cache off (no page reads or writes the user's cache);
* runs the page in its own temporary directory (files written by examples stay out of the
  repository);
* draws with matplotlib's non-interactive Agg backend and closes the figures afterwards.

Examples that need the live service are marked ``doctest-remote-data`` and run only with
``pytest --remote-data=any``. They live only on the pages of ``LIVE_PAGES``, which are run
against the real server (``conf.server`` left alone); every other page always runs on the
emulator, so its printed output is the emulator's.
"""
import logging

import pytest

#: Pages whose examples talk to the live Fink service (all marked doctest-remote-data).
LIVE_PAGES = {"index.rst"}


@pytest.fixture(scope="session")
def docs_emulator():
    """The bundled-data emulator, shared by every page of the documentation."""
    from astroquery_fink.testing import FinkEmulator

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no log line per request
    with FinkEmulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def docs_lsst_emulator():
    """The bundled-data Rubin emulator, for the Rubin pages."""
    from astroquery_fink.testing import FinkEmulator

    with FinkEmulator(survey="lsst") as emu:
        yield emu


@pytest.fixture(autouse=True)
def _docs_environment(request, docs_emulator, tmp_path, monkeypatch):
    import matplotlib
    from astroquery import cache_conf

    from astroquery_fink import conf

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    live = request.node.path.name in LIVE_PAGES
    with cache_conf.set_temp("cache_active", False):
        if live:
            yield
        else:
            lsst = request.getfixturevalue("docs_lsst_emulator")
            with conf.set_temp("server", docs_emulator.url), \
                    conf.set_temp("server_lsst", lsst.url):
                yield
                # a reader runs the pages one after another in one session: a page that
                # changes the servers (conf.reload) would send the next to the live service
                assert (conf.server, conf.server_lsst) == (docs_emulator.url, lsst.url), \
                    f"{request.node.path.name} left the servers changed"
    import matplotlib.pyplot as plt

    plt.close("all")


def pytest_collection_modifyitems(items):
    """Compare the pages' output with whitespace normalised.

    Printed tables end their lines with padding spaces, which editors strip from the .rst
    files; the examples must not fail for that.
    """
    import doctest
    from pathlib import Path

    from _pytest.doctest import DoctestItem

    docs = Path(__file__).parent
    for item in items:
        if isinstance(item, DoctestItem) and Path(item.path).parent == docs:
            for example in item.dtest.examples:
                example.options[doctest.NORMALIZE_WHITESPACE] = True
