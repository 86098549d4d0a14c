# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Rows an answer holds that its request did not ask for, for endpoints whose rows are not
attributed to requested IDs (cone searches, key-prefix scans, date ranges): each builder
gives an `~astroquery_fink._endpoint.Endpoint` its ``strays`` check, which reads only the
request's payload and the answer (rows of requested IDs: `_merge.check_rows_belong`).

A check returns ``(mask, what)``: which rows were not asked for, and what the rows asked
for are ("within 5.0 arcsec of ..."), for the message; or None when the answer lacks the
columns to tell (a selection without them).
"""
from collections.abc import Callable

import numpy as np
from astropy.coordinates import angular_separation
from astropy.time import Time

__all__: list[str] = []

Check = Callable[[object, dict, object], "tuple[np.ndarray, str] | None"]

# Room for rounding: JSON answers carry 10 decimals, the server compares in double.
_ANGLE_ROOM_DEG = 1e-6
_JD_ROOM = 1e-5
_NUMBER_ROOM = 1e-9
# How far behind the server's clock this machine's may be.
_CLOCK_ROOM_DAYS = 1.0


def _outside(values, missing, low: float, high: float, room: float) -> np.ndarray:
    """Which present values are below ``low`` or above ``high``, with ``room`` each side."""
    values = values.astype(float)
    with np.errstate(invalid="ignore"):
        return ((values < low - room) | (values > high + room)) & ~missing


def _values(answer, name: str, schema):
    column = answer.typed(name, schema)
    if column is None:
        return None, None
    # plain arrays: arithmetic on masked arrays costs more than the check itself
    return np.ma.getdata(column), np.ma.getmaskarray(column)


def outside_cone(ra: str, dec: str) -> Check:
    """Rows farther from the request's ``ra``, ``dec`` (degrees) than its ``radius``
    (arcsec): the servers keep rows whose own position is within it (fink-object-api
    apps/routes/v1/ztf/conesearch/utils.py, lsst/conesearch/utils.py)."""
    def check(answer, payload: dict, schema):
        lon, lon_missing = _values(answer, ra, schema)
        lat, lat_missing = _values(answer, dec, schema)
        if lon is None or lat is None:
            return None
        centre = np.radians([float(payload["ra"]), float(payload["dec"])])
        radius = float(payload["radius"]) / 3600.0
        with np.errstate(invalid="ignore"):
            sep = np.degrees(angular_separation(centre[0], centre[1], np.radians(
                lon.astype(float)), np.radians(lat.astype(float))))
            far = (sep > radius * (1 + 1e-9) + _ANGLE_ROOM_DEG) & ~lon_missing & ~lat_missing
        return far, (f"within {payload['radius']} arcsec of ({payload['ra']}, "
                     f"{payload['dec']})")
    return check


def outside_number_prefix(name: str, arg: str) -> Check:
    """Rows whose number ``name``, as written in the server's row key, does not start with
    the request's ``arg`` text (a number, e.g. ``"60000.5"``): the server scans the keys
    with that prefix, which hold the numbers from it up to its last digit plus one
    (``[60000.5, 60000.6)``). Compared as numbers, with room for rounding."""
    def check(answer, payload: dict, schema):
        text = payload.get(arg)
        value, missing = _values(answer, name, schema)
        if text is None or value is None:
            return None
        decimals = len(text.partition(".")[2]) if "e" not in text.lower() else 0
        low = float(text)
        high = low + 10.0 ** -decimals
        if text.startswith("-"):  # "-5.5" starts the keys of (-5.6, -5.5]
            low, high = low - 10.0 ** -decimals, low
        out = _outside(value, missing, low, high, _NUMBER_ROOM)
        return out, f"with {name} starting with {text}"
    return check


def outside_prefix(name: str, prefix: Callable[[dict], str | None]) -> Check:
    """Rows whose ``name`` does not start with ``prefix(payload)`` (the server's row-key
    prefix scan), when the request has one."""
    def check(answer, payload: dict, schema):
        start = prefix(payload)
        text, missing = _values(answer, name, schema)
        if start is None or text is None:
            return None
        wrong = np.array([not str(v).startswith(start) for v in text], dtype=bool)
        return wrong & ~missing, f"with {name} starting with {start!r}"
    return check


def outside_jd_range(name: str, start_arg: str, stop_arg: str, stop_days: float = 0.0,
                     default_start: str | None = None, mjd: bool = False) -> Check:
    """Rows whose ``name`` (a Julian date; with ``mjd``, a modified one) is outside the
    request's date range (ISO dates under ``start_arg`` and ``stop_arg``, read as UTC as the
    server reads them, the stop moved ``stop_days`` later as the server does). A start the
    request leaves out is the server's ``default_start`` (open without one); a stop it
    leaves out is now, as on the server."""
    def check(answer, payload: dict, schema):
        jd, missing = _values(answer, name, schema)
        if jd is None:
            return None
        if mjd:
            jd = jd.astype(float) + 2400000.5
        start = payload.get(start_arg, default_start)
        low = -np.inf if start is None else Time(start, scale="utc").jd
        # "now" is the server's clock: this one's may be behind (by hours, if its time zone
        # is wrong), so it only bounds rows clearly in the future
        high = Time(payload[stop_arg], scale="utc").jd + stop_days if stop_arg in payload \
            else Time.now().jd + _CLOCK_ROOM_DAYS
        out = _outside(jd, missing, low, high, _JD_ROOM)
        return out, (f"with {name} from {start or 'the start'} to "
                     f"{payload.get(stop_arg, 'now')}")
    return check


def outside_start_window(name: str) -> Check:
    """Rows whose ``name`` (a Julian date) is outside the range the ZTF cone search scans
    its row keys (``<pixel>_<jdstarthist>``) on when the request has a ``startdate``: up to
    ``stopdate``, else ``startdate + window`` days, else now (fink-object-api
    apps/routes/v1/ztf/conesearch/utils.py); without a start, the scan has no dates."""
    def check(answer, payload: dict, schema):
        jd, missing = _values(answer, name, schema)
        if jd is None or "startdate" not in payload:
            return None
        low = Time(payload["startdate"], scale="utc").jd
        high = (Time(payload["stopdate"], scale="utc").jd if "stopdate" in payload
                else low + float(payload["window"]) if "window" in payload
                else Time.now().jd + _CLOCK_ROOM_DAYS)
        out = _outside(jd, missing, low, high, _JD_ROOM)
        until = (payload["stopdate"] if "stopdate" in payload else
                 f"{payload['window']} days later" if "window" in payload else "now")
        return out, f"with {name} from {payload['startdate']} to {until}"
    return check


def outside_tai_filters(first: str, last: str) -> Check:
    """Rows the Rubin cone search's date filters drop: ``first`` (an MJD, the object's first
    detection) before ``startdate``, or ``last`` (its latest) after ``stopdate`` or after
    ``startdate + window`` days; dates read as TAI (fink-object-api
    apps/routes/v1/lsst/conesearch/utils.py)."""
    def check(answer, payload: dict, schema):
        if "startdate" not in payload and "stopdate" not in payload:
            return None
        out, said = np.zeros(len(answer), bool), []
        if "startdate" in payload:
            start = Time(payload["startdate"], scale="tai").mjd
            values, missing = _values(answer, first, schema)
            if values is not None:
                out |= _outside(values, missing, start, np.inf, _JD_ROOM)
                said.append(f"with {first} from {payload['startdate']}")
        stops = [Time(payload["stopdate"], scale="tai").mjd] if "stopdate" in payload else []
        if "startdate" in payload and "window" in payload:
            stops.append(Time(payload["startdate"], scale="tai").mjd + float(payload["window"]))
        if stops:
            values, missing = _values(answer, last, schema)
            if values is not None:
                out |= _outside(values, missing, -np.inf, min(stops), _JD_ROOM)
                said.append(f"with {last} up to MJD {min(stops):.6f} (TAI)")
        return (out, " and ".join(said)) if said else None
    return check


def against_trend(name: str, arg: str, signs: dict[str, int]) -> Check:
    """Rows whose ``name`` has the sign opposite to the one the request's ``arg`` keeps
    (``trend``: rising alerts have a negative ``d:mag_rate``, fading ones a positive one;
    fink-object-api apps/routes/v1/ztf/latests/utils.py)."""
    def check(answer, payload: dict, schema):
        sign = signs.get(payload.get(arg))
        rate, missing = _values(answer, name, schema)
        if sign is None or rate is None:
            return None
        with np.errstate(invalid="ignore"):
            wrong = ~(rate.astype(float) * sign > 0) & ~missing  # the server keeps < 0 or > 0
        return wrong, f"with {name} {'above' if sign > 0 else 'below'} 0 ({arg} {payload[arg]})"
    return check


def other_than(name: str, arg: str, when: Callable[[str], bool] | None = None) -> Check:
    """Rows whose ``name`` is not the request's ``arg`` (the server keeps the equal rows
    only), compared as numbers when the request's value is one; ``when(value)`` says for
    which request values the server compares so (default: all)."""
    def check(answer, payload: dict, schema):
        if arg not in payload:
            return None
        wanted = str(payload[arg]).strip()
        values, missing = _values(answer, name, schema)
        if values is None or (when is not None and not when(wanted)):
            return None
        try:
            number = float(wanted)
        except ValueError:
            number = None

        def differs(value) -> bool:
            if number is None:
                return str(value).strip() != wanted
            try:
                return float(value) != number
            except (TypeError, ValueError):
                return True

        wrong = np.array([differs(v) for v in values], dtype=bool)
        return wrong & ~missing, f"with {name} {wanted!r}"
    return check


def of_several(name: str) -> Check:
    """Rows whose ``name`` is not the first row's, for an endpoint whose rows of one request
    all carry the one name the server resolved it to (``f:sso_name`` of a Rubin Solar System
    object: every alias scanned is mapped to it, fink-object-api
    apps/routes/v1/lsst/sso/utils.py). The request's own words cannot be compared: any of
    the object's names or designations may be asked."""
    def check(answer, payload: dict, schema):
        values, missing = _values(answer, name, schema)
        if values is None or missing.all():
            return None
        first = values[np.flatnonzero(~missing)[0]]
        return (values != first) & ~missing, f"of the one object {name} {str(first)!r}"
    return check
