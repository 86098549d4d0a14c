# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The Fink ZTF API (https://api.ztf.fink-portal.org): `FinkClass` and its ready instance
`Fink`.

``core`` holds the public methods, ``endpoints`` the endpoint declarations, ``checks`` the
input checks, ``answers`` what some answers need beyond the shared parsing, ``schema`` the
column types, units and descriptions, ``plots`` the ZTF-specific figures.
"""
from .core import Fink, FinkClass

__all__ = ["Fink", "FinkClass"]
