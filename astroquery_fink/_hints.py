# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The kinds of value the public methods of both surveys take, named once for their hints.

What each kind accepts in detail, and what it refuses, is checked and documented where it
is read: `_sky` for positions, angles, dates and durations, each survey's ``checks`` for
IDs and column names.
"""
import datetime
import os
from collections.abc import Iterable

import requests
from astropy.coordinates import Angle, SkyCoord
from astropy.io import fits
from astropy.time import Time, TimeDelta
from astropy.units import Quantity

__all__: list[str] = []

#: Sky positions: a SkyCoord, text astropy reads, an (ra, dec) pair, or a list of these.
Coordinates = SkyCoord | str | tuple | list

#: An angle with its unit: ``10 * u.arcsec``, ``Angle("0.1d")``, ``"5 arcmin"``.
AngleLike = Quantity | Angle | str

#: A date: a Time (any scale), a datetime or date, or ISO text. Bare numbers are refused.
DateLike = Time | datetime.date | str

#: A duration with its unit: ``3 * u.day``, ``TimeDelta(2, format="jd")``.
Duration = Quantity | TimeDelta

#: A ``columns`` selection: names, or one comma-separated text.
Columns = str | Iterable[str]

#: Rubin ``diaObjectId``s: one (int or digits), a list, or comma-separated text.
DiaObjectIds = int | str | Iterable[int | str]

#: Solar-system names, numbers or designations: one, a list, or comma-separated text.
SolarSystemNames = str | int | Iterable[str | int]

#: A local sky map: a FITS file (gzipped or not), its bytes, or an HDUList.
SkyMap = str | os.PathLike | bytes | fits.HDUList

#: What an ``_async`` twin returns: the raw answer(s), or the request body(ies).
RawAnswer = requests.Response | list[requests.Response] | dict | list[dict]
