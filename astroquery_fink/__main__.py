# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``python -m astroquery_fink``: the ``fink-query`` command line (see `astroquery_fink.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
