# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sky positions, radii, dates and time windows given by users -> checked astropy objects.

Shared by the ZTF and Rubin clients. Every function raises
`~astroquery.exceptions.InvalidQueryError` (before any request) on input it cannot read
unambiguously. Physical quantities must carry units: a bare ``10`` as a radius could be
arcseconds (the Fink wire unit) or degrees (astroquery's usual default), so it is refused
with a message saying how to write it.
"""
import contextlib
import datetime
import math
import re
from collections.abc import Iterable

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.time import Time, TimeDelta
from astroquery.exceptions import InputWarning, InvalidQueryError

from ._errors import shown, warn

__all__: list[str] = []


_NUMBER = (int, float, np.integer, np.floating)
# JD of 1000-01-02 and 9999-12-30: a day's margin either way for the UTC-TAI offset
_FIRST_JD, _LAST_JD = 2086303.5, 5373482.5


def _is_number(value) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool | np.bool_)


def _finite(value) -> bool:
    """A number that is a finite float (an int beyond a float's range is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _parse_text(text: str) -> SkyCoord:
    """One position written as text: with units/letters ('10h21m +41d'), else sexagesimal
    with ':' or as six numbers ('01 34 00 +30 42 00': hours, degrees, as SIMBAD writes it),
    else two numbers in degrees (the Fink server's reading of ``ra``/``dec``: fink-object-api
    apps/routes/v1/ztf/conesearch/utils.py)."""
    text = text.replace(",", " ").strip()  # '10.68, 41.27' as the CLI's files write it
    if not text:
        raise ValueError("empty position")
    try:
        return SkyCoord(text, frame="icrs")
    except (u.UnitsError, ValueError):
        pass
    sexagesimal = ":" in text or len(text.split()) > 2
    unit = (u.hourangle, u.deg) if sexagesimal else (u.deg, u.deg)
    return SkyCoord(text, frame="icrs", unit=unit)


def _one_or_many(value) -> SkyCoord:
    if isinstance(value, SkyCoord):
        return value
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, tuple) and len(value) == 2 and all(
            isinstance(v, u.Quantity | str) or _is_number(v) for v in value):
        ra, dec = value
        if not (isinstance(ra, u.Quantity) and isinstance(dec, u.Quantity)):
            if _is_number(ra) or _is_number(dec):
                raise ValueError("numbers without units")
            return _parse_text(f"{ra} {dec}")
        return SkyCoord(ra, dec, frame="icrs")
    if isinstance(value, Iterable) and not isinstance(value, bytes | dict):
        items = list(value)
        if not items:
            raise ValueError("no position")
        if all(isinstance(v, SkyCoord) for v in items):
            return SkyCoord([c.icrs for c in items]) if len(items) > 1 else items[0]
        if all(isinstance(v, str) for v in items):
            coords = [_parse_text(v) for v in items]
            return SkyCoord(coords) if len(coords) > 1 else coords[0]
        if all(isinstance(v, tuple) for v in items):
            coords = [_one_or_many(v) for v in items]
            return SkyCoord(coords) if len(coords) > 1 else coords[0]
    raise ValueError("not a position")


def positions(coordinates) -> SkyCoord:
    """User positions -> a 1-D ICRS `~astropy.coordinates.SkyCoord`.

    Parameters
    ----------
    coordinates : SkyCoord, str, tuple or list
        A `~astropy.coordinates.SkyCoord` (scalar or array, any celestial frame); text that
        astropy reads (``"10.68 41.27"`` in degrees, ``"00:42:44.3 +41:16:09"`` in hours and
        degrees, ``"00h42m44.3s +41d16m09s"``); an ``(ra, dec)`` pair of angle Quantities
        (scalars or arrays) or of texts; or a list of any of these.

    Returns
    -------
    coords : `~astropy.coordinates.SkyCoord`
        ICRS, one dimension (a scalar gives one position).

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        Anything else, including bare numbers (say ``(ra * u.deg, dec * u.deg)``), an empty
        list and positions outside the sky.
    """
    try:
        coords = _one_or_many(coordinates)
        coords = coords.icrs
    except (ValueError, TypeError, u.UnitsError, AttributeError) as err:
        raise InvalidQueryError(
            f"Cannot read {shown(coordinates)} as sky positions ({err}): give a SkyCoord, text "
            "such as '10.68 41.27' (degrees) or '00:42:44.3 +41:16:09', or "
            "(ra * u.deg, dec * u.deg)"
        ) from None
    coords = coords.reshape(-1) if not coords.isscalar else coords.reshape((1,))
    if not len(coords):
        raise InvalidQueryError("No sky position given (an empty SkyCoord)")
    ra, dec = coords.ra.deg, coords.dec.deg
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        raise InvalidQueryError("Sky positions must be finite (some are NaN or infinite)")
    return coords


def radius_arcsec(radius, *, maximum: float | None = None, name: str = "radius") -> float:
    """A radius given as an angle -> arcseconds (float), within ``(0, maximum]``.

    Parameters
    ----------
    radius : `~astropy.units.Quantity`, `~astropy.coordinates.Angle` or str
        An angle: ``10 * u.arcsec``, ``Angle("0.1d")``, ``"5 arcmin"``.
    maximum : float, optional
        The largest radius the server accepts, in arcseconds (e.g.
        the survey's ``MAX_RADIUS_ARCSEC``).
    name : str, optional
        The argument's name, for messages.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        Bare numbers (units are required), non-angles, radii not above 0 or above
        ``maximum``.
    """
    if _is_number(radius):
        raise InvalidQueryError(
            f"{name} needs a unit: write {name}={shown(radius)} * u.arcsec (or u.arcmin, u.deg)")
    value = radius
    if isinstance(radius, str):
        # text that is no angle stays text, refused below with the words given
        with contextlib.suppress(TypeError, ValueError, u.UnitsError):
            value = Angle(radius)
    arcsec = _positive(value, u.arcsec, name, "an angle", "10 * u.arcsec", given=radius)
    if maximum is not None and arcsec > maximum:
        raise InvalidQueryError(
            f"{name} {arcsec:g} arcsec is above the server's maximum of {maximum:,g} arcsec "
            f"({maximum / 3600:g} deg)")
    return arcsec


# The digits of a date and time, "YYYYMMDDhhmmss", completed with the least values.
_LEAST_DATE = "00000101000000"
_DATE_FIELDS = (4, 6, 8, 10, 12, 14)  # where the year, month, ... end


def date_prefix(text: str, shape: str) -> bool:
    """Whether ``text`` is the start of a real date and time written as ``shape``.

    ``shape`` has ``0`` for each digit and the other characters as they are, e.g.
    ``"0000-00-00 00:00:00"``, ``"00000000"`` or ``"TRCK_00000000_000000_00"`` (the
    server's row keys, which it matches as prefixes); its first 14 digits are the year,
    month, day, hour, minute and second. ``"2021-1"`` is a start (of October to December),
    ``"2021-13"`` and ``"2021-02-30"`` are not.
    """
    if len(text) > len(shape) or not all(
            c in "0123456789" if t == "0" else c == t for c, t in zip(text, shape,
                                                                      strict=False)):
        return False
    return _completes("".join(c for c in text if c in "0123456789")[:14])


def _completes(digits: str) -> bool:
    """Whether some real date begins with these digits of ``YYYYMMDDhhmmss``."""
    for end in _DATE_FIELDS:
        if end - 2 < len(digits) < end:  # within a two-digit field: try its second digit
            return any(_completes(digits + d) for d in "0123456789")
    if int(digits.ljust(4, "9")[:4]) < 1000:  # years from 1000 on (as every date here)
        return False
    if len(digits) < 4:
        return True
    try:
        datetime.datetime.strptime(digits + _LEAST_DATE[len(digits):], "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def night(date, name: str = "date") -> str:
    """The ``date`` of the statistics endpoints: ``"YYYYMMDD"`` (a night), ``"YYYYMM"``,
    ``"YYYY"`` or ``""`` (every night), from text (``-`` allowed), an integer, or a
    Time, datetime or date (its UTC night); else `InvalidQueryError`."""
    if isinstance(date, str | int | np.integer) and not isinstance(date, bool | np.bool_):
        text = str(date).strip().replace("-", "")
        if text == "" or len(text) in (4, 6, 8) and date_prefix(text, "00000000"):
            return text
        raise InvalidQueryError(f"{name} must be a date 'YYYYMMDD', 'YYYYMM', 'YYYY' or '' "
                                f"(every night), not {shown(date)}")
    return time_arg(date, name).strftime("%Y%m%d")


def time_arg(value, name: str) -> Time:
    """A date given by the user -> a scalar `~astropy.time.Time` (UTC).

    Parameters
    ----------
    value : `~astropy.time.Time`, `datetime.datetime`, `datetime.date`, `numpy.datetime64` or str
        A Time (any scale or format: ``Time(2459500.5, format="jd")``,
        ``Time(59500, format="mjd")``; an array of one), a datetime or date, or ISO text
        (``"2021-11-20"``, ``"2021-11-20 03:00:00"``, ``"2021-11-20T03:00:00"``, with a UTC
        offset ``"2021-11-20T05:00:00+02:00"``).
    name : str
        The argument's name, for messages.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        Bare numbers or numeric text (JD or MJD? say ``Time(x, format="jd")``), arrays,
        anything astropy cannot read as a date.
    """
    if _is_number(value) or (isinstance(value, str) and _looks_numeric(value)):
        raise InvalidQueryError(
            f"{name}={shown(value)} is ambiguous: write an ISO date such as '2021-11-20' or "
            f"'2021-11-20 03:00:00', or for a JD or MJD Time({shown(value)}, format='jd') or "
            f"Time({shown(value)}, format='mjd')")
    try:
        if isinstance(value, Time):
            t = value
        elif isinstance(value, str) and _UTC_OFFSET.search(value.strip()):
            # ISO text with a UTC offset, which astropy does not read: the instant it says
            moment = datetime.datetime.fromisoformat(value.strip())
            t = Time(moment.astimezone(datetime.UTC).replace(tzinfo=None), scale="utc")
        elif isinstance(value, str | datetime.datetime | datetime.date | np.datetime64):
            if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                value = datetime.datetime(value.year, value.month, value.day)
            t = Time(value.strip() if isinstance(value, str) else value, scale="utc")
        else:
            raise TypeError(type(value).__name__)
        if not t.isscalar and t.size == 1:  # an array of one date
            t = t.ravel()[0]
        t = t.utc
    except (TypeError, ValueError):  # erfa's errors are ValueErrors
        raise InvalidQueryError(
            f"{name} must be a date (astropy Time, datetime or ISO text like "
            f"'2021-11-20 03:00:00'), not {shown(value)}") from None
    if not t.isscalar:
        raise InvalidQueryError(f"{name} must be one date, not {t.size} of them")
    if not np.isfinite(t.jd):
        raise InvalidQueryError(f"{name} must be a finite date, not {shown(value)}")
    # the servers read ISO text with a four-digit year (in UTC or TAI): years 1000 to 9999
    if not _FIRST_JD <= t.jd <= _LAST_JD:
        raise InvalidQueryError(f"{name}={shown(value)} is not a date of years 1000 to 9999")
    return t


# An ISO time's UTC offset: "+02:00", "-0500", "Z" after the time of day.
_UTC_OFFSET = re.compile(r"[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z)$")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _positive(value, unit, name: str, what: str, example: str, given=None) -> float:
    """One finite quantity above 0 in ``unit`` (a Quantity, Angle or TimeDelta), else
    `InvalidQueryError` naming ``what`` the argument must be."""
    given = value if given is None else given
    try:
        if not isinstance(value, TimeDelta | u.Quantity):
            raise TypeError(type(value).__name__)
        number = value.to_value(unit)
    except (TypeError, ValueError, u.UnitsError) as err:
        raise InvalidQueryError(
            f"{name} must be {what} such as {example}, not {shown(given)} ({err})") from None
    if np.ndim(number) != 0:
        raise InvalidQueryError(f"{name} must be one {what.split()[-1]}, not "
                                f"{np.size(number)} of them")
    number = float(number)
    if not math.isfinite(number) or number <= 0:
        raise InvalidQueryError(f"{name} must be a finite {what.split()[-1]} above 0, "
                                f"not {shown(given)}")
    return number


def window_days(value, name: str = "window") -> float:
    """A time window -> days (float above 0).

    Parameters
    ----------
    value : `~astropy.units.Quantity`, `~astropy.time.TimeDelta`, timedelta or str
        A duration: ``3 * u.day``, ``12 * u.hour``, ``TimeDelta(2, format="jd")``,
        `datetime.timedelta`, `numpy.timedelta64`, or text of a Quantity (``"3 day"``).
    name : str, optional
        The argument's name, for messages.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        Bare numbers (units are required), non-durations, durations not above 0.
    """
    given = value
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds() * u.s
    elif isinstance(value, np.timedelta64):  # a numpy integer, but with its own unit
        value = float(value / np.timedelta64(1, "us")) * u.us  # NaT: NaN, refused below
    elif isinstance(value, str):
        with contextlib.suppress(TypeError, ValueError):
            value = u.Quantity(value)
    if _is_number(value):
        raise InvalidQueryError(f"{name} needs a unit: write {name}={shown(value)} * u.day")
    return _positive(value, u.day, name, "a duration", "3 * u.day", given)


def date_range(startdate=None, stopdate=None, window=None, *,
               names: tuple[str, str, str] = ("startdate", "stopdate", "window"),
               stop_needs_start: bool = False
               ) -> tuple[Time | None, Time | None, float | None]:
    """Check a start/stop/window triple as Fink servers read it.

    The server reads ``window`` only with a start date and only when no stop date is given
    (fink-object-api apps/routes/v1/ztf/conesearch/utils.py), so those combinations are
    refused rather than silently ignored; a stop date before the start date is refused too.
    With ``stop_needs_start``, a stop date without a start date is refused as well: the ZTF
    cone search filters by date only when a start date is given (the same file).

    Returns
    -------
    start, stop, window : `~astropy.time.Time` or None, `~astropy.time.Time` or None, float or None
        UTC Times and the window in days.
    """
    start = None if startdate is None else time_arg(startdate, names[0])
    stop = None if stopdate is None else time_arg(stopdate, names[1])
    days = None if window is None else window_days(window, names[2])
    if days is not None and start is None:
        raise InvalidQueryError(f"{names[2]} needs {names[0]}: the server ignores it otherwise")
    if stop_needs_start and stop is not None and start is None:
        raise InvalidQueryError(f"{names[1]} needs {names[0]}: the server ignores it otherwise")
    if days is not None and stop is not None:
        raise InvalidQueryError(f"Give {names[1]} or {names[2]}, not both")
    if start is not None and stop is not None and stop < start:
        raise InvalidQueryError(
            f"{names[1]} {stop.iso} is before {names[0]} {start.iso}")
    return start, stop, days


def position_payloads(coords: SkyCoord, base: dict) -> list[dict]:
    """One request body per position: ``ra`` and ``dec`` in degrees (ICRS), and ``base``
    (the position's coordinates read at once: a loop over scalar SkyCoords costs ~0.5 ms
    each)."""
    return [{"ra": float(ra), "dec": float(dec), **base}
            for ra, dec in zip(coords.ra.deg, coords.dec.deg, strict=True)]


def wire_time(t: Time) -> str:
    """A Time as the ISO text (UTC, millisecond precision) Fink servers parse."""
    return t.utc.iso


def date_arguments(start: Time | None, stop: Time | None, *,
                   names: tuple[str, str] = ("startdate", "stopdate"),
                   scale: str = "utc") -> dict:
    """A date range's server arguments (those given), as ISO text in ``scale``.

    The ZTF servers parse UTC text. The Rubin ones read their dates as TAI (conesearch:
    ``Time(..., scale="tai")``) or compare their MJD with TAI MJDs (tags): TAI text
    (``scale="tai"``) matches both.
    """
    return {name: getattr(t, scale).iso for name, t in zip(names, (start, stop), strict=True)
            if t is not None}


#: The servers' request-body limit (``MAX_CONTENT_LENGTH`` in fink-object-api app_ztf.py and
#: app_lsst.py): a larger body is refused with HTTP 413.
MAX_BODY = 100 * 2**20

_GRACEDB_NAME = re.compile(r"[A-Za-z0-9_]+")


#: The days around the event the Fink documentation allows (not enforced by the servers).
SKYMAP_DAYS_MAX = {"n_day_before": 7, "n_day_after": 14}


def skymap_arguments(event_name, bayestar, credible_level, n_day_before,
                     n_day_after) -> dict:
    """The sky-map search arguments, which both surveys' servers read alike: a GraceDB event
    name (``event_name``) or a local map (``bayestar``, one of them), ``credible_level``, and
    the days around the event (those given: the servers default to 1 and 6).

    The map is sent as ``str()`` of its gzipped bytes, the text the servers evaluate and
    gunzip (fink-object-api apps/routes/v1/{ztf,lsst}/skymap/utils.py). Days beyond the
    documented 7 before and 14 after are sent, with an `~astroquery.exceptions.InputWarning`.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        Neither or both sources, a name that is not a GraceDB name, a map that is not FITS
        or makes a body above the servers' 100 MiB, a level outside (0, 1], days that are
        negative or not a number or time Quantity.
    """
    if (event_name is None) == (bayestar is None):
        raise InvalidQueryError("Give event_name (GraceDB) or bayestar (a local map), one")
    if isinstance(credible_level, bool) or not _is_number(credible_level) \
            or not 0 < credible_level <= 1:
        raise InvalidQueryError(
            f"credible_level must be a number in (0, 1], not {shown(credible_level)}")
    if event_name is not None:
        if not isinstance(event_name, str) or not _GRACEDB_NAME.fullmatch(event_name.strip()):
            raise InvalidQueryError(f"Not a GraceDB event name: {shown(event_name)}")
        source = {"event_name": event_name.strip()}
    else:
        text = str(gzipped_skymap(bayestar))
        if len(text) > MAX_BODY:
            raise InvalidQueryError(
                f"The sky map makes a {len(text) / 2**20:.0f} MiB request; the server takes "
                "at most 100 MiB: use a lower-resolution map, or event_name")
        source = {"bayestar": text}
    arguments = {**source, "credible_level": float(credible_level)}
    for name, value in (("n_day_before", n_day_before), ("n_day_after", n_day_after)):
        if value is not None:
            arguments[name] = days(value, name)
            if arguments[name] > SKYMAP_DAYS_MAX[name]:
                warn(f"{name}={arguments[name]:g}: the Fink documentation gives "
                     f"{SKYMAP_DAYS_MAX[name]} days at most; the search may be slow",
                     InputWarning)
    return arguments


def days(value, name: str) -> float:
    """Days: a number (the argument's unit) or a time Quantity, at least 0."""
    if isinstance(value, u.Quantity):
        if value.isscalar and value.unit.physical_type == "time" and value.value == 0:
            return 0.0
        number = window_days(value, name)
    elif _is_number(value) and _finite(value):
        number = float(value)
    else:
        raise InvalidQueryError(f"{name} must be a number of days, not {shown(value)}")
    if number < 0:
        raise InvalidQueryError(f"{name} must not be negative, not {shown(value)}")
    return number


def gzipped_skymap(bayestar) -> bytes:
    """A local sky map (FITS path, bytes or `~astropy.io.fits.HDUList`), gzipped as the
    servers read it (they gunzip the bytes they get: fink-object-api
    apps/routes/v1/{ztf,lsst}/skymap/utils.py); `InvalidQueryError` if it is not FITS."""
    import gzip
    import io
    import os
    import zlib
    from pathlib import Path

    from astropy.io import fits

    if isinstance(bayestar, fits.HDUList):
        buffer = io.BytesIO()
        bayestar.writeto(buffer)
        data = buffer.getvalue()
    elif isinstance(bayestar, bytes):
        data = bayestar
    elif isinstance(bayestar, str | os.PathLike):
        try:
            data = Path(bayestar).read_bytes()
        except (OSError, ValueError) as err:  # ValueError: a NUL in the path
            raise InvalidQueryError(f"Cannot read the sky map {shown(bayestar)}: {err}") from None
    else:
        raise InvalidQueryError(
            "bayestar must be a FITS file path, its bytes or an HDUList, not "
            f"{type(bayestar).__name__}")
    zipped = data[:2] == b"\x1f\x8b"
    try:
        raw = gzip.decompress(data) if zipped else data
    except (OSError, EOFError, zlib.error) as err:
        raise InvalidQueryError(f"bayestar is not a readable gzipped file: {err}") from None
    if not raw.startswith(b"SIMPLE"):
        raise InvalidQueryError("bayestar is not a FITS file (gzipped or not)")
    return data if zipped else gzip.compress(data, mtime=0)  # the same bytes each time
