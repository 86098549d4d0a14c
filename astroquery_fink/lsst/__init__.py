# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The Fink Rubin/LSST API (https://api.lsst.fink-portal.org): `FinkLSSTClass`, its ready
instance `FinkLSST`, and helpers for Rubin Tables (`flux_to_mag`, `to_time`).

``core`` holds the public methods, ``endpoints`` the endpoint declarations, ``checks`` the
input checks, ``cutouts`` the cutout HDUs, ``schema`` the column types, units and
descriptions, ``plots`` the Rubin figures.
"""
from .core import FinkLSST, FinkLSSTClass
from .schema import BANDS, flux_to_mag, to_time

__all__ = ["FinkLSST", "FinkLSSTClass", "flux_to_mag", "to_time", "BANDS"]
