# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""pytest set-up for the examples in this package's docstrings (run by the test suite)."""
import pytest


@pytest.fixture(autouse=True)
def _docstring_examples_offline_and_tidy(tmp_path, monkeypatch):
    """Examples write files to a temporary directory and keep the user's cache untouched."""
    import matplotlib
    from astroquery import cache_conf

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    with cache_conf.set_temp("cache_active", False):
        yield
