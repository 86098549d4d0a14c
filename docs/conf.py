# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration of the astroquery_fink documentation.

Build with ``tox -e build_docs`` or ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The build needs no network: there is no intersphinx mapping, and the figures are drawn from
the offline emulator's bundled alerts.
"""
import datetime
import os
import sys
from configparser import ConfigParser

from sphinx_astropy.conf.v2 import *  # noqa: F401,F403

# -- Project metadata, read from setup.cfg -----------------------------------------------------
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, ".."))  # the package from this checkout
_cfg = ConfigParser()
_cfg.read(os.path.join(_here, "..", "setup.cfg"))
_meta = dict(_cfg.items("metadata"))

project = _meta["name"]
author = _meta["author"]
copyright = f"{datetime.datetime.now(datetime.UTC).year}, {author}"

import astroquery_fink  # noqa: E402

release = astroquery_fink.__version__
version = release.split(".dev")[0]

# -- General --------------------------------------------------------------------------------------
needs_sphinx = "7.0"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"
# sphinx-astropy's rst_epilog links to astropy's site; keep only what the pages use.
rst_epilog = ""

# No network during the build: no intersphinx inventory is fetched. Names of other projects
# (astropy, numpy, requests...) are written as plain text by the `obj` role when they cannot
# be resolved; nitpicky mode stays off for that reason.
intersphinx_mapping = {}
extensions = [e for e in extensions if e != "sphinx_astropy.ext.intersphinx_toggle"]  # noqa: F405

# sphinx-astropy adds sphinx.ext.viewcode, which writes the source of the modules.
automodapi_toctreedirnm = "api"
automodsumm_inherited_members = False
numpydoc_show_class_members = False

# The figures' code starts the emulator inside the build: keep its request log and
# astroquery's cache out of it (the emulator's port, hence the cache key, changes each run).
import logging  # noqa: E402

from astroquery import cache_conf  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)
cache_conf.cache_active = False

# -- Figures: matplotlib's plot directive, run at build time against the emulator --------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"savefig.bbox": "tight"}
plot_apply_rcparams = True
plot_working_directory = _here

# -- HTML ----------------------------------------------------------------------------------------
html_title = f"{project} v{release}"
html_theme_options = {
    "collapse_navigation": True,
    "icon_links": [],
    "navigation_depth": 2,
    "show_nav_level": 2,
    "use_edit_page_button": False,
}
html_static_path = []
html_last_updated_fmt = None  # reproducible pages
