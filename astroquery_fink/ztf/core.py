# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`FinkClass`: the Fink ZTF API (https://api.ztf.fink-portal.org).

Each endpoint is a declaration in `endpoints` plus a thin public method here; the ZTF input
checks live in `checks`, answers that need more than the shared parsing in `answers`, and
the shared machinery (batches, retries, parsing, merging, warnings) in ``_query``. Server
behaviour is cited from fink-object-api (apps/routes/v1/ztf/<name>/).
"""
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import (
    InputWarning,
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
    RemoteServiceError,
)
from astroquery.exceptions import TimeoutError as AstroTimeoutError

from .. import _cutouts, _hints, _merge, _sky, _validate
from .._cutouts import (
    CUTOUT_KINDS,
    fits_stamp,
    stamp_arrays,
    stamp_column,
    stamp_hdu,
)
from .._endpoint import FINK_START
from .._errors import shown, warn
from .._http import download
from .._merge import drop_covered_prefixes
from .._query import FinkQuery, Plan, batched, columns_argument, raw_twin, with_columns
from .._tables import check_parquet_file, json_object, schema_table
from ..exceptions import NoAlertsError, PartialResultError
from . import answers, checks, endpoints
from .schema import CATEGORY_FAMILY
from .schema import columns as known_columns

__all__ = ["Fink", "FinkClass"]


class FinkClass(FinkQuery):
    """Query the Fink alert broker's REST API (ZTF).

    Examples
    --------
    On the bundled emulator (with the live service: ``Fink.query_object(...)``):

    >>> from astroquery_fink import FinkClass
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator() as emu:
    ...     fink = FinkClass(server=emu.url)
    ...     lc = fink.query_object("ZTF25aauurnj", columns=["i:jd", "i:magpsf", "i:fid"])
    >>> len(lc), lc["i:magpsf"].unit, round(float(lc["i:magpsf"][0]), 3)
    (3, Unit("mag"), 19.085)
    """

    _server_conf = "server"
    _emulator = "fink-emulator"
    _output_format_default = ("None: parquet (exact and fastest) when pyarrow is installed, "
                              "else json")

    # ------------------------------------------------------------------ objects
    def _objects_plan(self, object_id, columns, withupperlim, withcutouts, cutout_kind,
                      output_format, prefix) -> Plan:
        prefix = _validate.flag(prefix, "prefix")
        ids = checks.object_ids(object_id, prefix=prefix)
        if prefix:
            ids = drop_covered_prefixes(ids)
        withupperlim = _validate.flag(withupperlim, "withupperlim")
        withcutouts = _validate.flag(withcutouts, "withcutouts")
        kind = _cutouts.cutout_kind(cutout_kind, name="cutout_kind")
        if cutout_kind is not None and not withcutouts:
            raise InvalidQueryError("cutout_kind is used only with withcutouts=True")
        fmt = _validate.output_format(output_format, withupperlim=withupperlim)
        if fmt == "parquet" and withupperlim:
            # The server fails (HTTP 500) writing this: upper-limit rows hold numbers as
            # strings, so columns mix types (fink-object-api apps/utils/utils.py,
            # send_tabular_data).
            raise InvalidQueryError(
                "The Fink server cannot write parquet with withupperlim=True: use "
                "output_format='csv' (or leave it to the client: output_format=None)")
        endpoint = endpoints.OBJECTS_UPPERLIM if withupperlim else \
            endpoints.OBJECTS_CUTOUTS if withcutouts else endpoints.OBJECTS
        options = {"withupperlim": withupperlim, "withcutouts": withcutouts}
        # The client reads the objectId of each row to attribute it to a requested ID
        # (missing IDs, row caps, stray rows), and to tell an object without alerts from a
        # selection of unknown column names (the server ignores them: no row at all).
        mine = ("i:objectId",)
        cols, added = with_columns(endpoint, checks.column_list(columns), options, mine)
        if withupperlim:  # upper-limit rows bring i:objectId whatever the selection: keep it
            added = ()
        payload = checks.options_payload(
            columns=cols, cutout_kind=kind,
            flags={"withupperlim": withupperlim, "withcutouts": withcutouts})
        batches, payloads = batched(endpoint, ids, payload)
        # an answer without rows gets the columns a full one has (all: with the v: ones)
        empty = cols or answers.all_columns() + (["d:tag"] if withupperlim else [])
        return Plan(endpoint, payloads, batches, output_format=fmt, prefix=prefix,
                    mixed_types=withupperlim, columns=empty, added_columns=added)

    def query_object(self, object_id: str | Iterable[str], *,
                     columns: _hints.Columns | None = None, withupperlim: bool = False,
                     withcutouts: bool = False, cutout_kind: str | None = None,
                     output_format: str | None = None, prefix: bool = False,
                     progress: bool | None = None, get_query_payload: bool = False,
                     cache: bool | None = None, timeout: float | None = None) -> Table:
        """All alerts of one or more ZTF objects, as a typed `~astropy.table.Table`.

        Keyword names follow the Fink ``/api/v1/objects`` arguments one to one.

        Parameters
        ----------
        object_id : str or list of str
            One ZTF object name (``"ZTF21aaxtctv"``), a list of them, or a comma-separated
            string. Duplicates are dropped. Many IDs are sent in batches of
            ``conf.batch_size`` (``conf.batch_size_cutouts`` with ``withcutouts``,
            ``conf.batch_size_upperlim``, 1, with ``withupperlim``: the server drops a
            bad-quality point at the time of a valid alert of any object of the request), at
            most ``conf.max_workers`` requests at once, each retried on transient failures.
        columns : str or list of str, optional
            Family-prefixed names to return, e.g. ``["i:jd", "i:magpsf"]``. Default: every
            column, including the ``v:`` columns the server computes (which cannot be
            selected). The columns the server needs for an option are added to the
            selection and returned: ``i:objectId`` and ``i:candid`` with ``withcutouts``
            (the server fails with HTTP 500 without them), ``i:jd`` with ``withupperlim``
            (likewise). Columns come in the server's order (HBase sorts them by name), not
            the order given: ``t[names]`` reorders.
        withupperlim : bool, optional
            Add upper-limit and bad-quality rows, labelled by the ``d:tag`` column
            (``valid``, ``upperlim`` or ``badquality``).
        withcutouts : bool, optional
            Add the cutouts as 3-D columns (rows x 63 x 63), in FITS pixel order.
        cutout_kind : {'Science', 'Template', 'Difference'}, optional
            With ``withcutouts``, only this cutout. Default: all three.
        output_format : {None, 'json', 'csv', 'votable', 'parquet'}, optional
            Wire format. All give the same Table (see the documentation for the few
            differences the formats themselves impose). Default None: parquet (exact and
            fastest) when pyarrow is installed; with ``withupperlim``, which the server
            cannot write as parquet, csv (exact: JSON rounds floats to 10 decimals); else
            json.
        prefix : bool, optional
            Treat each ID as a prefix: the server then returns every object whose name starts
            with it, at most 10,000 rows per prefix (a `~astroquery.exceptions.MaxResultsWarning`
            says when a prefix reached that). Prefixes that another one covers are dropped.
            Off by default, so that a mistyped ID cannot return thousands of objects.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert (and per upper limit), sorted by ``i:jd`` descending (ties by
            ``i:objectId``, ``i:candid``), with units and descriptions. ``meta`` records the
            server, the endpoint, the payload(s), the query time and ``missing_ids``, the
            requested IDs that returned no row (also named in a
            `~astroquery.exceptions.NoResultsWarning`).

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or the server rejected the query.
        astroquery.exceptions.RemoteServiceError
            The server failed; `~astroquery_fink.exceptions.PartialResultError` (a subclass)
            when only some batches failed, carrying the rows that arrived.
        astroquery.exceptions.TimeoutError
            A request, or all the tries of one, took longer than allowed.

        Warns
        -----
        astroquery.exceptions.MaxResultsWarning
            An ID or prefix reached the server's limit of 10,000 rows.
        astroquery.exceptions.NoResultsWarning
            No row at all, or none for some of the IDs.
        """
        plan = self._objects_plan(object_id, columns, withupperlim, withcutouts, cutout_kind,
                                  output_format, prefix)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    query_object_async = raw_twin(query_object, "objects", several=True)

    # ------------------------------------------------------------------ cutouts
    def get_cutouts(self, object_id: str, *, kind: str = "All", candid: int | None = None,
                    as_array: bool = False, cache: bool | None = None,
                    timeout: float | None = None) -> fits.HDUList | np.ndarray | dict:
        """The cutouts (science, template, difference stamps) of one alert.

        Parameters
        ----------
        object_id : str
            ZTF object name.
        kind : {'All', 'Science', 'Template', 'Difference'}, optional
            Which stamp(s). Default: the three.
        candid : int, optional
            The alert (``i:candid``); default: the object's latest alert.
        as_array : bool, optional
            Return `numpy.ndarray` data instead of an `~astropy.io.fits.HDUList`: one array
            for one kind, or a dict ``{"Science": array, ...}`` for ``kind="All"``.

        Returns
        -------
        hdulist : `~astropy.io.fits.HDUList`
            An empty primary HDU (OBJECTID, CANDID, JD, RA, DEC) then one image HDU per kind,
            EXTNAME SCIENCE / TEMPLATE / DIFFERENCE, each with the stamp's own header plus
            OBJECTID, CANDID and JD. Pixel data keep the FITS order of the ZTF stamp: display
            with ``origin="lower"`` for the sky orientation (the same picture as the Fink
            docs' ``data[::-1]`` shown with matplotlib's default origin).

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), an object without alerts, or a ``candid`` that
            is not one of the object's alerts.
        """
        if not isinstance(object_id, str) or "," in object_id:
            raise InvalidQueryError(
                f"get_cutouts takes one ZTF object name, not {shown(object_id)}; loop over "
                "objects, or use query_object(..., withcutouts=True) for many")
        [oid] = checks.object_ids(object_id)
        chosen = _cutouts.cutout_kind(kind)
        kinds = (chosen,) if chosen else CUTOUT_KINDS
        candid = None if candid is None else checks.candid(candid)
        as_array = _validate.flag(as_array, "as_array")
        alert = self._alert(oid, candid, cache, timeout)
        base = {"objectId": oid, "candid": str(alert["i:candid"])}

        if as_array:
            payload = dict(base, kind=chosen or "All", **{"output-format": "array"})
            arrays = self._fetch(endpoints.CUTOUTS, payload, lambda r: stamp_arrays(r.content),
                                 cache=cache, timeout=timeout)
            missing = [k for k in kinds if stamp_column(k) not in arrays]
            if missing:
                raise RemoteServiceError(
                    f"Fink's cutouts answer has no {', '.join(missing)} stamp: "
                    f"{sorted(arrays)[:5]}")
            out = {k: arrays[stamp_column(k)] for k in kinds}
            return out[chosen] if chosen else out

        hdus = [fits.PrimaryHDU()]
        for k in kinds:
            payload = dict(base, kind=k, **{"output-format": "FITS"})
            stamp = self._fetch(endpoints.CUTOUTS, payload, lambda r: fits_stamp(r.content),
                                cache=cache, timeout=timeout)
            hdus.append(stamp_hdu(stamp, k, alert))
        for key, col in (("OBJECTID", "i:objectId"), ("CANDID", "i:candid"), ("JD", "i:jd"),
                         ("RA", "i:ra"), ("DEC", "i:dec")):
            if col in alert:  # a position the answer lacks (or null) is not written as 0
                hdus[0].header[key] = alert[col]
        return fits.HDUList(hdus)

    def _alert(self, oid, candid, cache, timeout) -> dict:
        """objectId, candid, jd, ra, dec of the requested (or latest) alert of an object."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoResultsWarning)
            rows = self.query_object(oid, columns=["i:objectId", "i:candid", "i:jd", "i:ra",
                                                   "i:dec"], output_format="json",
                                     cache=cache, timeout=timeout)
        if len(rows) == 0:
            raise NoAlertsError(f"Fink has no alerts for {oid}, hence no cutouts")
        lacking = [c for c in ("i:candid", "i:jd") if c not in rows.colnames
                   or np.ma.is_masked(rows[c])]
        if lacking:
            raise RemoteServiceError(
                f"Fink's alerts of {oid} lack {' and '.join(lacking)}: the alert whose "
                "cutouts to fetch cannot be told")
        if candid is None:
            row = rows[int(np.argmax(rows["i:jd"]))]
        else:
            match = np.nonzero(rows["i:candid"] == candid)[0]
            if not len(match):
                shown = ", ".join(map(str, rows["i:candid"][:10]))
                raise InvalidQueryError(
                    f"{candid} is not an alert of {oid}; its latest "
                    f"{min(10, len(rows))} of {len(rows)} alerts are {shown}")
            row = rows[int(match[0])]
        return {c: row[c].item() if hasattr(row[c], "item") else row[c] for c in rows.colnames
                if not np.ma.is_masked(row[c])}

    # ------------------------------------------------------------------ schema
    def get_schema(self, *, cache: bool | None = None, timeout: float | None = None) -> Table:
        """The columns the Fink server describes (``/api/v1/schema``) as a Table.

        Returns
        -------
        table : `~astropy.table.Table`
            Columns ``name`` (prefixed, e.g. ``i:magpsf``), ``family`` (i, d, v or b),
            ``type`` (the server's type; Avro unions written ``null|float``), ``unit`` (as this
            client attaches it) and ``description``.
        """
        answer = self._fetch(endpoints.SCHEMA, None,
                             lambda r: json_object(r.content, "/schema", nested=True),
                             cache=cache, timeout=timeout)
        table = schema_table(answer, known_columns(), CATEGORY_FAMILY)
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/schema"})
        return table

    # ------------------------------------------------------------------ cone search
    def _region_plan(self, coordinates, radius, startdate, stopdate, window, n, columns,
                     output_format) -> Plan:
        coords = _sky.positions(coordinates)
        labelled = not checks.one_position(coordinates)
        arcsec = _sky.radius_arcsec(radius, maximum=endpoints.MAX_RADIUS_ARCSEC)
        start, stop, days = _sky.date_range(startdate, stopdate, window, stop_needs_start=True)
        n = _validate.count(n, "n")
        fmt = _validate.output_format(output_format)
        selection = checks.column_list(columns)
        beyond = [c for c in selection or () if c not in endpoints.CONE_COLUMNS]
        if beyond:
            warn(f"The cone search reads ztf.pixel128, whose rows hold only "
                 f"{', '.join(endpoints.CONE_COLUMNS)}: {', '.join(beyond)} will be masked; "
                 "query_object gives every column of the objects found", InputWarning)
        cols, added = with_columns(endpoints.CONESEARCH, selection, {})
        base = {"radius": arcsec, "n": n}
        base.update(_sky.date_arguments(start, stop))
        if days is not None:
            base["window"] = days
        base.update(columns_argument(cols))
        payloads = _sky.position_payloads(coords, base)
        # the search runs on ztf.pixel128, always "truncated": its columns, no v: ones
        empty = (cols or list(endpoints.CONE_COLUMNS)) + ["v:separation_degree"]
        return Plan(endpoints.CONESEARCH, payloads, [[] for _ in payloads], output_format=fmt,
                    columns=empty + (["input_index"] if labelled else []),
                    added_columns=added, labels=list(range(len(payloads))) if labelled else None)

    def query_region(self, coordinates: _hints.Coordinates, radius: _hints.AngleLike, *,
                     startdate: _hints.DateLike | None = None,
                     stopdate: _hints.DateLike | None = None,
                     window: _hints.Duration | None = None, n: int = 1000,
                     columns: _hints.Columns | None = None,
                     output_format: str | None = None, get_query_payload: bool = False,
                     cache: bool | None = None, timeout: float | None = None,
                     progress: bool | None = None) -> Table:
        """ZTF objects within ``radius`` of one or more sky positions (``/api/v1/conesearch``).

        The server keeps the last alert of each object whose last alert lies within the
        radius, adds its distance ``v:separation_degree`` and sorts by it (fink-object-api
        apps/routes/v1/ztf/conesearch/utils.py). Keyword names are the server's arguments
        (``coordinates`` gives ``ra`` and ``dec``).

        Parameters
        ----------
        coordinates : `~astropy.coordinates.SkyCoord`, str, tuple or list
            One position or several: a SkyCoord (scalar or array, any celestial frame), text
            (``"193.82 2.89"`` in degrees, ``"12:55:17.2 +02:53:50"``), ``(ra, dec)``
            angle Quantities, or a list of these. Several positions are sent as one request
            each (at most ``conf.max_workers`` at once, each retried on transient failures)
            and their rows merged, labelled by the position's index in ``input_index``.
        radius : `~astropy.units.Quantity` or str
            An angle (``10 * u.arcsec``, ``"2 arcmin"``); at most 18,000 arcsec (5 deg),
            the server's maximum. Bare numbers are refused (arcsec or deg?).
        startdate, stopdate : `~astropy.time.Time`, datetime or ISO str, optional
            Keep objects whose *first detection* (``i:jdstarthist``) is in this range (stop
            date by default: now). The server filters by date only when a start date is
            given, so a stop date alone is refused. Bare JD/MJD numbers are refused: give
            ``Time(x, format="jd")``.
        window : `~astropy.units.Quantity`, optional
            Instead of ``stopdate``: a duration after ``startdate`` (``3 * u.day``).
        n : int, optional
            The server's limit (default 1000) on the alerts read by each of its database
            scans (one per HEALPix pixel of nside 128 the cone touches), before it keeps one
            alert per object: an answer with at least ``n`` rows may have been cut
            (`~astroquery.exceptions.MaxResultsWarning`); a cut answer may also hold more,
            or fewer, than ``n`` rows.
        columns : str or list of str, optional
            ``i:``/``d:`` columns to return (default: all, with the ``v:`` ones).
            ``i:objectId`` and ``i:jd`` are added (without them the server returns every
            alert instead of the last one per object), and the server adds ``i:ra``,
            ``i:dec`` and ``v:separation_degree``.
        output_format : {None, 'json', 'csv', 'votable', 'parquet'}, optional
            Wire format; all give the same Table. Default: parquet with pyarrow, else json.
        get_query_payload : bool, optional
            Return the request body (a list of them for several positions) instead.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per object and position, nearest first (by position, then distance);
            ``v:separation_degree`` in deg; ``input_index`` (several positions only) gives
            the index of the position in ``coordinates``.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request): positions, a radius without units or above
            18,000 arcsec, dates, ``window`` without ``startdate`` or with ``stopdate``.

        Warns
        -----
        astroquery.exceptions.MaxResultsWarning
            An answer reached ``n`` rows.
        astroquery.exceptions.NoResultsWarning
            No object at all.
        """
        plan = self._region_plan(coordinates, radius, startdate, stopdate, window, n, columns,
                                 output_format)
        if self._unparsed(get_query_payload):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                                progress=progress)
        table = self._table(plan, cache=cache, timeout=timeout, progress=progress)
        if "v:separation_degree" in table.colnames:
            table["v:separation_degree"].unit = u.deg
            table["v:separation_degree"].description = (
                "Angular distance between the object's last alert and the position")
        if "input_index" in table.colnames:
            table["input_index"].description = "Index of the position in the input"
        table.meta["radius_arcsec"] = plan.payloads[0]["radius"]
        return table

    query_region_async = raw_twin(query_region, "conesearch", several=True)

    # ------------------------------------------------------------------ class search
    def _class_plan(self, class_name, n, startdate, stopdate, trend, color, columns,
                    output_format, fetch_all) -> tuple[Plan, Time | None, Time | None]:
        if not isinstance(class_name, str) or not class_name.strip():
            raise InvalidQueryError(
                f"class_name must be a class name such as 'SN candidate' (see get_classes()), "
                f"not {shown(class_name)}")
        class_name = class_name.strip()
        n = _validate.count(n, "n")
        start, stop, _ = _sky.date_range(startdate, stopdate, None)
        if trend is not None:
            _validate.choice(trend, "trend", endpoints.TRENDS)
            if trend in ("low_state", "new_low_state") and class_name != endpoints.FINK_CLASSES[9]:
                raise InvalidQueryError(
                    f"trend={shown(trend)} exists only for class "
                    f"'{endpoints.FINK_CLASSES[9]}'; other classes take rising or fading")
        color = _validate.flag(color, "color")
        fetch_all = _validate.flag(fetch_all, "fetch_all")
        if fetch_all and trend is not None:
            raise InvalidQueryError(
                "fetch_all cannot be used with trend: the server filters by trend after "
                "cutting at n rows, so a cut answer cannot be told from a complete one")
        if fetch_all and color:
            raise InvalidQueryError(
                "fetch_all cannot be used with color: the server computes the colours and "
                "rates of an object from the alerts of one answer, which would then depend on "
                "how the range was paged")
        if fetch_all and class_name in endpoints.GROUPED_CLASSES:
            raise InvalidQueryError(
                f"fetch_all cannot be used with {shown(class_name)}: the server keeps one alert "
                "per object after cutting at n rows, so a cut answer cannot be told from a "
                "complete one")
        payload = {"class": class_name, "n": n}
        payload.update(_sky.date_arguments(start, stop))
        if trend is not None:
            payload["trend"] = trend
        if color:
            # the server turns colours on when the key is present, whatever its value
            payload["color"] = True
        # the client checks that rows are new by object and time: it needs both
        mine = ("i:objectId", "i:jd") if fetch_all else ()
        plan = _alerts_plan(endpoints.LATESTS, payload, output_format, columns, mine)
        return plan, start, stop

    def query_class(self, class_name: str, *, n: int = 10,
                    startdate: _hints.DateLike | None = None,
                    stopdate: _hints.DateLike | None = None, trend: str | None = None,
                    color: bool = False, columns: _hints.Columns | None = None,
                    fetch_all: bool = False,
                    max_requests: int | None = None, output_format: str | None = None,
                    get_query_payload: bool = False, cache: bool | None = None,
                    timeout: float | None = None, progress: bool | None = None) -> Table:
        """The latest alerts of a class (``/api/v1/latests``), newest first.

        Keyword names are the server's arguments (``class_name`` is ``class``).

        Parameters
        ----------
        class_name : str
            A Fink class (``"SN candidate"``, ``"Early SN Ia candidate"``, ...), a SIMBAD
            type as ``"(SIMBAD) <type>"`` or a TNS type as ``"(TNS) <type>"``; the list is
            `get_classes`.
        n : int, optional
            The newest ``n`` alerts in the date range (server default 10). An answer with
            ``n`` rows was cut (`~astroquery.exceptions.MaxResultsWarning`); see
            ``fetch_all``.
        startdate, stopdate : `~astropy.time.Time`, datetime or ISO str, optional
            The alerts' date range (server defaults: 2019-11-01 and now).
        trend : {'rising', 'fading', 'low_state', 'new_low_state'}, optional
            Keep alerts whose magnitude rate ``d:mag_rate`` is negative (rising) or positive
            (fading); the last two only for ``"(CTA) Blazar low state"``. The server filters
            after cutting at ``n`` rows, so fewer rows may come back.
        color : bool, optional
            Add the ``v:`` colour columns.
        columns : str or list of str, optional
            ``i:``/``d:`` columns to return (default all, with the ``v:`` columns).
        fetch_all : bool, optional
            When the date range holds more than ``n`` alerts, page back in time, ``n`` alerts
            a request, each request stopping at the oldest alert of the last answer, until
            an answer is not cut: every alert of the class in the range (``n`` alerts of one
            exposure, one ``i:jd``, which dates cannot split, are warned about). A failed
            request raises `~astroquery_fink.exceptions.PartialResultError` holding the
            alerts that arrived and, in ``failed_ids``, the date range left (``start/stop``).
            Not with ``trend`` or the classes the server groups per object (the blazar
            states, SLSN), for which a cut cannot be detected, nor with ``color`` (the
            server computes colours from the alerts of one answer). With ``columns``, alerts
            without a value in any selected column are left out, as the server leaves them
            out of one answer.
        max_requests : int, optional
            With ``fetch_all``: at most this many requests (default 64); if parts are still
            cut then, their alerts are returned and a MaxResultsWarning names them.
        get_query_payload : bool, optional
            Return the request body (with ``fetch_all``, the first request's) instead of
            sending it.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert, sorted by ``i:jd`` descending.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request).

        Warns
        -----
        astroquery.exceptions.MaxResultsWarning
            The answer (or with ``fetch_all``, a part still cut after ``max_requests``) has
            ``n`` rows: more alerts exist.
        astroquery.exceptions.NoResultsWarning
            No alert.
        """
        plan, start, stop = self._class_plan(class_name, n, startdate, stopdate, trend, color,
                                             columns, output_format, fetch_all)
        if max_requests is not None and not _validate.flag(fetch_all, "fetch_all"):
            raise InvalidQueryError("max_requests applies with fetch_all=True only")
        max_requests = _validate.count(64 if max_requests is None else max_requests,
                                       "max_requests")
        if not fetch_all or _validate.flag(get_query_payload, "get_query_payload"):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                                progress=progress)
        if self._unparsed(False):
            raise InvalidQueryError("fetch_all builds a Table from many requests: use "
                                    "query_class, not query_class_async")
        start = Time(FINK_START, scale="utc") if start is None else start
        stop = Time.now() if stop is None else stop
        return self._class_all(plan, start, stop, max_requests, cache=cache, timeout=timeout,
                               progress=progress)

    query_class_async = raw_twin(query_class, "latests")

    def _class_all(self, plan: Plan, start: Time, stop: Time, max_requests: int, *, cache,
                   timeout, progress) -> Table:
        """Page back in time through the date range, ``n`` alerts a request, until an answer
        is not cut (or ``max_requests`` are sent).

        The server answers the newest ``n`` alerts before ``stopdate`` in a reversed scan of
        row keys ``<class>_<jd>_<objectId>`` compared as text, ``<class>_<stop jd>`` excluded
        (fink-object-api apps/routes/v1/ztf/latests/utils.py). The alerts of one exposure
        share their ``jd``, so each next request stops just above the text of the oldest
        ``jd`` of the last answer (a key ``<class>_2459540.6867477_ZTF...`` sorts after
        ``<class>_2459540.68674772``, but before ``<class>_2459540.6867478``): that ``jd``'s
        alerts come again (kept once) and none is skipped. When ``n`` alerts share a ``jd``,
        which dates cannot split, it is stepped over and named as still cut.
        """
        n = plan.payloads[0]["n"]
        uncapped = replace(plan.endpoint, limit_arg=None)
        margin = 1 * u.ms  # the wire's rounding (ISO text to the millisecond)
        pages, seen, still_cut, sent, upper = [], set(), [], 0, stop
        while upper > start:
            if sent >= max_requests:
                still_cut.append((start, upper))
                break
            payload = dict(plan.payloads[0], startdate=_sky.wire_time(start),
                           stopdate=_sky.wire_time(upper))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", NoResultsWarning)
                    page = self._table(replace(plan, endpoint=uncapped, payloads=[payload],
                                               added_columns=()),
                                       cache=cache, timeout=timeout, progress=False)
            except (RemoteServiceError, AstroTimeoutError) as err:
                if not pages:
                    raise
                table = self._class_table(plan, pages, sent)
                failed = f"{_sky.wire_time(start)}/{_sky.wire_time(upper)}"
                raise PartialResultError(
                    f"the alerts from {start.iso} to {upper.iso} could not be fetched ({err}); "
                    f"that range is in .failed_ids and the {len(table)} alerts that arrived "
                    f"in {sent} requests are in .table", table=table, failed_ids=[failed],
                    errors={failed: err}) from err
            sent += 1
            if not len(page):
                break
            keys = list(zip(page["i:objectId"].tolist(), page["i:jd"].tolist(), strict=True))
            new = np.array([key not in seen for key in keys], dtype=bool)
            seen.update(keys)
            pages.append(page[new])
            if len(page) < n:  # the range holds no more
                break
            jd = float(np.min(page["i:jd"]))
            oldest = Time(jd, format="jd", scale="utc")
            above = Time(jd + _last_decimal(jd), format="jd", scale="utc") + margin
            if new.any() and above < upper:
                upper = above
                continue
            # n alerts at that jd (or its last decimal): step over them, and say so
            below = min(oldest - margin, upper - margin)
            still_cut.append((below, upper))
            upper = below
        return self._class_table(plan, pages, sent, still_cut)

    def _class_table(self, plan: Plan, pages: list, sent: int, still_cut=()) -> Table:
        """The pages of `_class_all` as one Table, with the warnings they deserve."""
        n = plan.payloads[0]["n"]
        table = _merge.merge([t for t in pages if len(t)], plan.endpoint)
        selected = [c for c in table.colnames if c not in plan.added_columns]
        if "columns" in plan.payloads[0] and len(table) and selected:
            # the pages asked i:objectId and i:jd, which every alert holds; one request
            # returns only the alerts holding a selected column (the scan's column filter)
            held = np.zeros(len(table), dtype=bool)
            for name in selected:
                held |= ~np.ma.getmaskarray(table[name]).reshape(len(table), -1).all(axis=1)
            table = table[held]
        table.remove_columns([c for c in plan.added_columns if c in table.colnames])
        table = answers.or_empty_columns(table, plan.columns)
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/latests",
                           "payload": plan.payloads[0], "requests": sent})
        if still_cut:
            ranges = ", ".join(f"{a.iso} to {b.iso}" for a, b in still_cut[:3])
            table.meta["cut"] = [(a.iso, b.iso) for a, b in still_cut]
            one = len(still_cut) == 1
            more = " ..." if len(still_cut) > 3 else ""
            # a range is cut when it held n alerts or more: maybe exactly n
            warn(
                f"{len(still_cut)} date range{'' if one else 's'} may still "
                f"hold more than the n={n} alerts returned, after {sent} requests "
                f"({ranges}{more}): raise n or max_requests", MaxResultsWarning)
        if len(table) == 0:
            warn("Fink's class search answer is empty", NoResultsWarning)
        return table

    def get_classes(self, *, as_table: bool = False, cache: bool | None = None,
                    timeout: float | None = None) -> dict | Table:
        """The class names `query_class` takes (``/api/v1/classes``).

        Parameters
        ----------
        as_table : bool, optional
            Return a Table (columns ``class`` and ``origin``) instead of a dict.

        Returns
        -------
        classes : dict or `~astropy.table.Table`
            ``{origin: [class names]}`` as the server gives it: the Fink classifiers, the TNS
            types (``"(TNS) ..."``) and the SIMBAD types (``"(SIMBAD) ..."``), each list
            sorted case-insensitively.
        """
        as_table = _validate.flag(as_table, "as_table")
        classes = self._fetch(endpoints.CLASSES, None, lambda r: answers.classes_answer(r.content),
                              cache=cache, timeout=timeout)
        if not as_table:
            return classes
        rows = [(name, origin) for origin, names in classes.items() for name in names]
        table = Table(rows=rows or None, names=("class", "origin"), dtype=(str, str))
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/classes"})
        return table

    # ------------------------------------------------------------------ solar system
    def _sso_plan(self, n_or_d, withEphem, withResiduals, withcutouts, cutout_kind, columns,
                  output_format) -> Plan:
        ids = checks.sso_names(n_or_d)
        with_ephem = _validate.flag(withEphem, "withEphem")
        with_residuals = _validate.flag(withResiduals, "withResiduals")
        with_cutouts = _validate.flag(withcutouts, "withcutouts")
        if with_residuals and len(ids) > 1:
            raise InvalidQueryError(
                "withResiduals works for one object only (the server refuses lists)")
        kind = _cutouts.cutout_kind(cutout_kind, allow_all=False, name="cutout_kind")
        if cutout_kind is not None and not with_cutouts:
            raise InvalidQueryError("cutout_kind is used only with withcutouts=True")
        fmt = _validate.output_format(output_format)
        cols, added = with_columns(endpoints.SSO, checks.column_list(columns),
                                   {"withcutouts": with_cutouts, "withEphem": with_ephem,
                                    "withResiduals": with_residuals})
        payload = checks.options_payload(
            columns=cols, cutout_kind=kind,
            flags={"withEphem": with_ephem, "withResiduals": with_residuals,
                   "withcutouts": with_cutouts})
        # one batch when residuals are asked (a single object)
        batches, payloads = batched(endpoints.SSO, ids, payload, size=1)
        return Plan(endpoints.SSO, payloads, batches, output_format=fmt,
                    columns=(cols + ["sso_name", "sso_number"]) if cols else
                    answers.all_columns() + ["sso_name", "sso_number"], added_columns=added)

    def query_sso(self, n_or_d: _hints.SolarSystemNames, *, withEphem: bool = False,
                  withResiduals: bool = False, withcutouts: bool = False,
                  cutout_kind: str | None = None, columns: _hints.Columns | None = None,
                  output_format: str | None = None,
                  get_query_payload: bool = False, cache: bool | None = None,
                  timeout: float | None = None, progress: bool | None = None) -> Table:
        """The alerts of Solar System objects (``/api/v1/sso``), newest first.

        Keyword names are the server's arguments, one to one.

        Parameters
        ----------
        n_or_d : str, int or list
            IAU number (``8467``, ``"10P"``), designation (``"2010JO69"``, ``"C/2020V2"``) or
            name, or a list of them (or a comma-separated string). The server resolves each
            through SsODNet quaero and adds ``sso_name`` and ``sso_number``. Each name is sent
            in its own request (``conf.max_workers`` at once): the server resolves and scans
            names one by one anyway, and so a name without alerts can be named.
        withEphem : bool, optional
            Add Miriade ephemerides columns (computed by the server).
        withResiduals : bool, optional
            Add ``residuals_shg1g2`` (observed minus sHG1G2 model); one object only.
        withcutouts : bool, optional
            Add a cutout column (``b:cutout<Kind>_stampData``, 2-D arrays).
        cutout_kind : {'Science', 'Template', 'Difference'}, optional
            With ``withcutouts``: which cutout (server default Science).
        columns : str or list of str, optional
            ``i:``/``d:`` columns to return; the server adds ``i:ssnamenr``. The client adds
            what the server needs for the options: ``i:objectId`` and ``i:candid`` with
            ``withcutouts`` (the server refuses without), ``i:jd`` and ``i:magpsf`` with
            ``withEphem`` (without, the server says it could not obtain ephemerides), and
            also ``i:sigmapsf``, ``i:fid``, ``i:ra``, ``i:dec`` with ``withResiduals``.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert, sorted by ``i:jd`` descending, with ``sso_name`` and
            ``sso_number``.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or a name the server cannot resolve.

        Warns
        -----
        astroquery.exceptions.NoResultsWarning
            No alert.
        """
        plan = self._sso_plan(n_or_d, withEphem, withResiduals, withcutouts, cutout_kind,
                              columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    query_sso_async = raw_twin(query_sso, "sso", several=True)

    def _ssocand_plan(self, kind, ssoCandId, start_date, stop_date, maxnumber,
                      output_format) -> Plan:
        _validate.choice(kind, "kind", ("orbParams", "lightcurves"))
        start, stop, _ = _sky.date_range(start_date, stop_date, None,
                                         names=("start_date", "stop_date", "window"))
        if kind == "orbParams" and (start is not None or stop is not None):
            raise InvalidQueryError(
                "start_date and stop_date apply to kind='lightcurves' only (the server "
                "ignores them for orbParams)")
        maxnumber = _validate.count(maxnumber, "maxnumber")
        fmt = _validate.output_format(output_format)
        payload = {"kind": kind}
        if ssoCandId is not None:
            if not isinstance(ssoCandId, str | int) or isinstance(ssoCandId, bool) \
                    or not str(ssoCandId).strip():
                raise InvalidQueryError(
                    f"ssoCandId must be a trajectory ID, not {shown(ssoCandId)}")
            payload["ssoCandId"] = str(ssoCandId).strip()
        payload.update(_sky.date_arguments(start, stop, names=("start_date", "stop_date")))
        payload["maxnumber"] = maxnumber
        endpoint = endpoints.SSOCAND_LIGHTCURVES if kind == "lightcurves" else endpoints.SSOCAND
        return Plan(endpoint, [payload], output_format=fmt)

    def query_ssocand(self, kind: str = "orbParams", *, ssoCandId: str | None = None,
                      start_date: _hints.DateLike | None = None,
                      stop_date: _hints.DateLike | None = None,
                      maxnumber: int = 10_000,
                      output_format: str | None = None, get_query_payload: bool = False,
                      cache: bool | None = None, timeout: float | None = None) -> Table:
        """Solar System candidates found by Fink (``/api/v1/ssocand``).

        Parameters
        ----------
        kind : {'orbParams', 'lightcurves'}
            Orbital parameters of the candidate trajectories, or their alerts.
        ssoCandId : str, optional
            One trajectory; default all.
        start_date, stop_date : `~astropy.time.Time`, datetime or ISO str, optional
            With ``kind="lightcurves"``: the date range (server defaults 2019-11-01 and now).
        maxnumber : int, optional
            At most this many rows (server default 10,000; applied to light curves): an
            answer with that many rows was cut (`~astroquery.exceptions.MaxResultsWarning`).

        Returns
        -------
        table : `~astropy.table.Table`
            The rows in the server's order.
        """
        plan = self._ssocand_plan(kind, ssoCandId, start_date, stop_date, maxnumber,
                                  output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)

    query_ssocand_async = raw_twin(query_ssocand, "ssocand")

    def _ssoft_plan(self, sso_name, sso_number, flavor, version, schema,
                    output_format) -> Plan:
        payload: dict = {}
        if sso_name is not None and sso_number is not None:
            raise InvalidQueryError("Give sso_name or sso_number, not both")
        if sso_name is not None:
            if not isinstance(sso_name, str) or not sso_name.strip():
                raise InvalidQueryError(f"sso_name must be a name, not {shown(sso_name)}")
            payload["sso_name"] = sso_name.strip()
        if sso_number is not None:
            payload["sso_number"] = _validate.count(sso_number, "sso_number")
        _validate.choice(flavor, "flavor", endpoints.SSOFT_FLAVORS)
        payload["flavor"] = flavor
        if version is not None:
            if not isinstance(version, str) or not re.fullmatch(
                    r"[0-9]{4}\.(0[1-9]|1[0-2])", version):
                raise InvalidQueryError(
                    f"version must be 'YYYY.MM' (a month 01 to 12), not {shown(version)}")
            if version < "2023.07":
                raise InvalidQueryError(f"The SSOFT starts at version 2023.07, not {version}")
            payload["version"] = version
        if _validate.flag(schema, "schema"):
            payload["schema"] = True
        fmt = _validate.output_format(output_format)
        return Plan(endpoints.SSOFT, [payload], output_format=fmt)

    def get_ssoft(self, *, sso_name: str | None = None, sso_number: int | None = None,
                  flavor: str = "SHG1G2", version: str | None = None, schema: bool = False,
                  output_format: str | None = None, get_query_payload: bool = False,
                  cache: bool | None = None, timeout: float | None = None) -> Table | dict:
        """The Solar System Fink Table (SSOFT, ``/api/v1/ssoft``): phase-curve parameters.

        Parameters
        ----------
        sso_name : str, optional
            Only this object (IAU name or provisional designation).
        sso_number : int, optional
            Only this object (IAU number).
        flavor : {'SHG1G2', 'HG1G2', 'HG', 'SOCCA'}, optional
            The phase-curve model (server default SHG1G2).
        version : str, optional
            ``"YYYY.MM"``, from ``"2023.07"``; default the latest.
        schema : bool, optional
            Return the table's column descriptions (a dict) instead of the table.
        output_format : {None, 'parquet', 'json', 'csv', 'votable'}, optional
            Wire format. Default None: parquet (the server's default, fast for the whole
            table) when pyarrow is installed, else json.

        Returns
        -------
        table : `~astropy.table.Table` or dict
            One row per object; or ``{column: description}`` with ``schema=True``.
        """
        plan = self._ssoft_plan(sso_name, sso_number, flavor, version, schema, output_format)
        payload = plan.payloads[0]
        if self._unparsed(get_query_payload):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)
        if schema:
            return self._fetch(endpoints.SSOFT, payload,
                               lambda r: json_object(r.content, "/ssoft schema"),
                               cache=cache, timeout=timeout)
        return self._table(plan, cache=cache, timeout=timeout)

    get_ssoft_async = raw_twin(get_ssoft, "ssoft")

    def download_ssobulk(self, path: str | os.PathLike, *, progress: bool | None = None,
                         timeout: float | None = None) -> Path:
        """Download every SSO light curve Fink holds (``/api/v1/ssobulk``) to a parquet file.

        The file is large: it is streamed to ``path`` (never held in memory), which appears
        only once complete.

        Parameters
        ----------
        path : path-like
            Where to write the parquet file (replaced if it exists; a link is written
            through, to its target).
        progress : bool, optional
            Show a progress bar. Default: only in an interactive terminal.
        timeout : float, optional
            Seconds for the answer's headers, and for each 64 KiB of its body.

        Returns
        -------
        path : `pathlib.Path`
            The file written; read it with ``pandas.read_parquet(path)`` or
            ``pyarrow.parquet.read_table(path)``.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            ``path`` is a folder, a device, a FIFO or a socket, or its folder does not exist
            (before any request).
        OSError
            The file cannot be written (in the system's words, naming ``path``).
        """
        path = _validate.output_path(path)
        if progress is None:
            import sys
            progress = sys.stderr.isatty()
        progress = _validate.flag(progress, "progress")
        # a body is needed: the server reads request.json on POST
        return download(self, endpoints.SSOBULK.method, self._url(endpoints.SSOBULK),
                        {"output-format": "parquet"},
                        path, what=endpoints.SSOBULK.what, timeout=self._timeout(timeout),
                        progress=progress, check=check_parquet_file)

    # ------------------------------------------------------------------ tracklets
    def _tracklet_plan(self, id, date, columns, output_format) -> Plan:
        if (id is None) == (date is None):
            raise InvalidQueryError(
                "Give `id` (a tracklet ID such as 'TRCK_20211120_031428_00') or `date` (a "
                "prefix), one of them")
        payload = {}
        if id is not None:
            if not isinstance(id, str) or not checks.is_tracklet_id(id.strip()):
                raise InvalidQueryError(
                    f"Not a tracklet ID (TRCK_YYYYMMDD_HHMMSS_NN, or a leading part): {shown(id)}")
            payload["id"] = id.strip()
        else:
            payload["date"] = checks.tracklet_date(date)
        return _alerts_plan(endpoints.TRACKLET, payload, output_format, columns)

    def query_tracklet(self, id: str | None = None, *, date: _hints.DateLike | None = None,
                       columns: _hints.Columns | None = None,
                       output_format: str | None = None, get_query_payload: bool = False,
                       cache: bool | None = None, timeout: float | None = None) -> Table:
        """Alerts of fast-moving objects' tracklets (``/api/v1/tracklet``), newest first.

        Server: fink-object-api apps/routes/v1/ztf/tracklet/utils.py, a prefix scan of the
        table ``ztf.tracklet`` (a date becomes the prefix ``TRCK_YYYYMMDD_hhmmss``). With all
        columns it adds ``v:classification``, ``v:firstdate``, ``v:lastdate``, ``v:lapse``
        and ``v:constellation``, but no rate or colour columns.

        Parameters
        ----------
        id : str, optional
            A tracklet ID, ``TRCK_YYYYMMDD_HHMMSS_NN`` (or a leading part of one).
        date : str, `~astropy.time.Time`, datetime or date, optional
            Instead of ``id``: every tracklet of a night, hour, minute or second. Text is a
            prefix of ``"YYYY-MM-DD hh:mm:ss"`` (``"2021-11-20"``, ``"2021-11-20 03"``); a
            Time or datetime means that second, a date that day.
        columns : optional
            As in `query_object`.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert (``d:tracklet`` names its tracklet), sorted by ``i:jd``
            descending.
        """
        plan = self._tracklet_plan(id, date, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)

    query_tracklet_async = raw_twin(query_tracklet, "tracklet")

    # ------------------------------------------------------------------ resolver
    def _resolver_plan(self, name, resolver, reverse, nmax, output_format) -> Plan:
        if not isinstance(name, str):
            raise InvalidQueryError(f"name must be a string, not {shown(name)}")
        _validate.choice(resolver, "resolver", endpoints.RESOLVERS)
        reverse = _validate.flag(reverse, "reverse")
        if reverse and not checks.ZTF_ID.fullmatch(name.strip()) and not name.strip() \
                .startswith("ZTF") and resolver != "tns":
            raise InvalidQueryError(
                f"reverse=True resolves a ZTF object name (like 'ZTF21aaxtctv'), not {shown(name)}")
        if not name.strip() and resolver != "tns":
            raise InvalidQueryError("name is empty")
        nmax = _validate.count(nmax, "nmax")
        fmt = _validate.output_format(output_format)
        payload = {"resolver": resolver, "name": name.strip(), "nmax": nmax}
        if reverse:
            payload["reverse"] = True  # the server tests `is True`: JSON true
        # nmax caps neither Sesame, nor ssodnet's exact match, nor the names of a reverse
        # ssodnet lookup (nmax caps its scan of the alerts, not that of ztf.sso_resolver)
        uncapped = (resolver == "simbad" and not reverse) or (
            resolver == "ssodnet" and (reverse or nmax == 1))
        endpoint = endpoints.RESOLVER_UNCAPPED if uncapped else endpoints.RESOLVER
        return Plan(endpoint, [payload], output_format=fmt)

    def resolve(self, name: str, *, resolver: str, reverse: bool = False, nmax: int = 10,
                output_format: str | None = None, get_query_payload: bool = False,
                cache: bool | None = None, timeout: float | None = None) -> Table:
        """Resolve an object name with SIMBAD, SsODNet or TNS (``/api/v1/resolver``).

        Parameters
        ----------
        name : str
            The name: ``"Vega"`` (simbad), ``"Julienpeloton"`` or ``"33803"`` (ssodnet),
            ``"SN 2023vwy"`` (tns); with ``reverse=True``, a ZTF object name. ``""`` with
            tns gives the whole TNS table (``nmax`` rows).
        resolver : {'simbad', 'ssodnet', 'tns'}
            Which service.
        reverse : bool, optional
            From a ZTF object name to the other names.
        nmax : int, optional
            At most this many matches (server default 10); an answer with ``nmax`` rows was
            cut (`~astroquery.exceptions.MaxResultsWarning`). With ssodnet, ``nmax=1``
            asks for the exact name only.

        Returns
        -------
        table : `~astropy.table.Table`
            The matches, in the server's order, with the columns the service gives.
        """
        plan = self._resolver_plan(name, resolver, reverse, nmax, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)

    resolve_async = raw_twin(resolve, "resolver")

    # ------------------------------------------------------------------ sky maps
    def query_skymap(self, event_name: str | None = None, *,
                     bayestar: _hints.SkyMap | None = None, credible_level: float,
                     n_day_before: float | u.Quantity = 1,
                     n_day_after: float | u.Quantity = 6,
                     output_format: str | None = None, get_query_payload: bool = False,
                     cache: bool | None = None, timeout: float | None = None) -> Table:
        """Objects in a gravitational-wave sky map's credible region (``/api/v1/skymap``).

        The server keeps the objects whose last alert falls in the HEALPix pixels (nside 128)
        of the map's credible region, first detected from ``n_day_before`` days before the
        event to ``n_day_after`` days after that start (fink-object-api
        apps/routes/v1/ztf/skymap/utils.py).

        Parameters
        ----------
        event_name : str, optional
            A GraceDB event (``"S200219ac"``): the server downloads its bayestar map.
        bayestar : path-like, bytes or `~astropy.io.fits.HDUList`, optional
            Instead: a local sky map (FITS, gzipped or not), sent in the request body.
        credible_level : float
            The credible level, in (0, 1]: 0.1 keeps the most probable 10%.
        n_day_before, n_day_after : float or `~astropy.units.Quantity`, optional
            Days before the event, and after that start (server defaults 1 and 6; documented
            maxima 7 and 14, warned about but not refused as the server does not enforce
            them).
        output_format : {None, 'json', 'csv', 'votable', 'parquet'}, optional
            Wire format; default json (the server's answer for an unknown event cannot be
            read from parquet).

        Returns
        -------
        table : `~astropy.table.Table`
            One row per object (its last alert), sorted by ``i:jd`` descending, with
            ``v:jdstartgw`` (the event's JD).

        Warns
        -----
        astroquery.exceptions.MaxResultsWarning
            The answer has 10,000 rows or more: the server scans each pixel for at most
            10,000 alerts, then keeps one row per object, and the rows do not say their
            pixel, so a cut pixel cannot be told (a pixel of many alerts of few objects
            may also be cut with fewer rows). Lower ``credible_level`` or the days.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or no sky map from GraceDB for the event (the
            server answers its one-row ``status`` table, with GraceDB's words).
        """
        table = self._skymap_search(endpoints.SKYMAP, event_name, bayestar, credible_level,
                                    n_day_before, n_day_after, output_format,
                                    get_query_payload, cache, timeout)
        if isinstance(table, Table) and "v:jdstartgw" in table.colnames:
            table["v:jdstartgw"].unit = u.day
        return table

    query_skymap_async = raw_twin(query_skymap, "skymap")

    # ------------------------------------------------------------------ statistics
    def _statistics_plan(self, date, columns, schema, output_format) -> Plan:
        payload: dict = {"date": _sky.night(date)}
        schema = _validate.flag(schema, "schema")
        cols = None
        if columns is not None:
            cols = checks.statistics_columns(columns)
            payload.update(columns_argument(cols))
        if schema:
            payload["schema"] = True
        fmt = _validate.output_format(output_format)
        return Plan(endpoints.STATISTICS, [payload], output_format=fmt, columns=cols)

    def get_statistics(self, date: str = "", *, columns: _hints.Columns | None = None,
                       schema: bool = False, output_format: str | None = None,
                       get_query_payload: bool = False, cache: bool | None = None,
                       timeout: float | None = None) -> Table | list:
        """Nightly counts of the ZTF alert stream in Fink (``/api/v1/statistics``).

        Parameters
        ----------
        date : str, int, `~astropy.time.Time`, datetime or date, optional
            A night (``"20211120"``), a month (``"202111"``), a year (``"2021"``), or
            ``""`` for every night (default). A Time or datetime means its night (UTC date).
        columns : str or list of str, optional
            Counters to return, e.g. ``["basic:sci", "basic:raw"]``; default all. The row
            key ``key:key`` (``ztf_YYYYMMDD``), which dates the rows, always comes back.
        schema : bool, optional
            Return the names of the counters (a list) instead.

        Returns
        -------
        table : `~astropy.table.Table` or list of str
            One row per night, oldest first: ``time`` (a `~astropy.time.Time`, the night's
            UTC date, from the row key) then the counters (``basic:``, ``class:`` columns)
            as integers (the server sends them as text).
        """
        plan = self._statistics_plan(date, columns, schema, output_format)
        if self._unparsed(get_query_payload):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)
        if plan.payloads[0].get("schema"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoResultsWarning)
                table = self._table(plan, cache=cache, timeout=timeout)
            return answers.counter_names(table)
        table = self._table(plan, cache=cache, timeout=timeout)
        return answers.with_night_time(answers.counters(table))

    get_statistics_async = raw_twin(get_statistics, "statistics")

    # ------------------------------------------------------------------ anomalies
    def _anomaly_plan(self, n, start_date, stop_date, columns, output_format) -> Plan:
        n = _validate.count(n, "n")
        start, stop, _ = _sky.date_range(start_date, stop_date, None,
                                         names=("start_date", "stop_date", "window"))
        payload: dict = {"n": n}
        payload.update(_sky.date_arguments(start, stop, names=("start_date", "stop_date")))
        return _alerts_plan(endpoints.ANOMALY, payload, output_format, columns)

    def query_anomaly(self, *, n: int = 10, start_date: _hints.DateLike | None = None,
                      stop_date: _hints.DateLike | None = None,
                      columns: _hints.Columns | None = None,
                      output_format: str | None = None, get_query_payload: bool = False,
                      cache: bool | None = None, timeout: float | None = None) -> Table:
        """The latest alerts Fink's anomaly detection flagged (``/api/v1/anomaly``).

        Server: fink-object-api apps/routes/v1/ztf/anomaly/utils.py, the newest ``n`` rows of
        the table ``ztf.anomaly`` between the two dates, with the ``v:`` columns of
        `query_tracklet` when all columns are asked for.

        Parameters
        ----------
        n : int, optional
            The newest ``n`` alerts (server default 10); an answer with ``n`` rows was cut
            (`~astroquery.exceptions.MaxResultsWarning`).
        start_date, stop_date : `~astropy.time.Time`, datetime or ISO str, optional
            The date range (server defaults 2019-11-01 and now). The server adds one day to
            ``stop_date``, so that a date (``"2021-11-20"``) includes that whole day.
        columns : optional
            As in `query_object`.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert, sorted by ``i:jd`` descending.
        """
        plan = self._anomaly_plan(n, start_date, stop_date, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)

    query_anomaly_async = raw_twin(query_anomaly, "anomaly")


def _last_decimal(jd: float) -> float:
    """One unit of the last decimal of ``jd`` as the server's row keys write it (Spark's
    double-to-text, Python's repr for these values): 1e-7 for ``2459540.6867477``."""
    text = repr(float(jd))
    decimals = len(text.partition(".")[2]) if "e" not in text else 7
    return 10.0 ** -decimals


def _alerts_plan(endpoint, payload: dict, output_format, columns,
                 client_columns: tuple[str, ...] = ()) -> Plan:
    """One request of a search returning alerts, from the user's ``output_format`` and
    ``columns``: with all the alert columns (the schema's, also for an empty answer) unless
    ``columns`` selects some, completed with ``client_columns`` (see `with_columns`)."""
    fmt = _validate.output_format(output_format)
    cols, added = with_columns(endpoint, checks.column_list(columns), {}, client_columns)
    payload.update(columns_argument(cols))
    return Plan(endpoint, [payload], output_format=fmt, columns=cols or answers.all_columns(),
                added_columns=added)


Fink = FinkClass()
