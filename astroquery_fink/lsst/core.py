# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`FinkLSSTClass`: the Fink Rubin/LSST API (https://api.lsst.fink-portal.org).

Each endpoint is a declaration in `endpoints` plus a thin public method here; the Rubin
input checks live in `checks`, the cutout HDUs in `cutouts`, the column schema in `schema`,
and the shared machinery (batches, retries, parsing, merging, warnings) in ``_query``.
Server behaviour is cited from fink-object-api 3.5.0 (apps/routes/v1/lsst/<name>/).
Keywords are the server's argument names (``output-format`` written ``output_format``),
except the first, positional, argument of each method.

Rubin IDs (``diaObjectId``, ``diaSourceId``, ...) are 64-bit integers above 2**53: they are
sent as text and read as exact int64 in every wire format, never through a float; 0 means
"no ID" and is masked.
"""
import inspect
import numbers
import warnings
from collections.abc import Callable

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Row, Table
from astropy.time import Time
from astroquery.exceptions import InvalidQueryError, NoResultsWarning, RemoteServiceError

from .. import _cutouts, _hints, _sky, _validate
from .._cutouts import CUTOUT_KINDS
from .._errors import shown, warn
from .._query import FinkQuery, Plan, batched, columns_argument, raw_twin, with_columns
from .._tables import json_object, schema_table
from . import answers, checks, cutouts, endpoints, schema

__all__ = ["FinkLSST", "FinkLSSTClass"]


def _object_table_method(endpoint, name: str, doc: str) -> Callable:
    """The public method ``name`` of a per-object endpoint whose only arguments are the
    diaObjectIds, a column selection and the shared keywords (``objects``, ``fp``): one
    definition for their common signature."""
    def method(self, object_id: _hints.DiaObjectIds, *, columns: _hints.Columns | None = None,
               output_format: str | None = None, progress: bool | None = None,
               get_query_payload: bool = False, cache: bool | None = None,
               timeout: float | None = None) -> Table:
        plan = self._ids_plan(endpoint, object_id, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    method.__name__ = name
    method.__qualname__ = f"FinkLSSTClass.{name}"
    method.__doc__ = inspect.cleandoc(doc)
    return method


class FinkLSSTClass(FinkQuery):
    """Query the Fink alert broker's REST API for Rubin/LSST alerts.

    Examples
    --------
    On the bundled emulator (with the live service: ``FinkLSST.query_object(...)``); the
    64-bit Rubin IDs come back exact:

    >>> from astroquery_fink import FinkLSSTClass
    >>> from astroquery_fink.testing import FinkEmulator
    >>> with FinkEmulator(survey="lsst") as emu:
    ...     lc = FinkLSSTClass(server=emu.url).query_object(170028485706776685)
    >>> len(lc), lc["r:psfFlux"].unit, int(lc["r:diaObjectId"][0])
    (346, Unit("nJy"), 170028485706776685)
    """

    _server_conf = "server_lsst"
    _emulator = "fink-emulator --survey lsst"
    _output_format_default = ("csv: exact (full-precision floats, 64-bit IDs), where the "
                              "server's JSON rounds floats to 10 decimals and its parquet "
                              "writer fails on some answers")

    # ------------------------------------------------------------------ light curves
    def _ids_plan(self, endpoint, object_id, columns, output_format, extra=None) -> Plan:
        ids = checks.dia_ids(object_id)
        fmt = checks.output_format(output_format)
        # the ID of each row: missing IDs, stray rows, and unknown selected names told apart
        mine = (endpoint.id_column,)
        cols, added = with_columns(endpoint, checks.column_list(columns), {}, mine)
        payload = {}
        payload.update(columns_argument(cols))
        payload.update(extra or {})
        batches, payloads = batched(endpoint, ids, payload)
        return Plan(endpoint, payloads, batches, output_format=fmt, columns=cols,
                    added_columns=added)

    def _sources_plan(self, object_id, midpointMjdTai, columns, output_format) -> Plan:  # noqa: N803
        extra = {}
        if midpointMjdTai is not None:
            if len(checks.dia_ids(object_id)) != 1:
                # the server ignores it for a list (apps/routes/v1/lsst/sources/utils.py)
                raise InvalidQueryError("midpointMjdTai works with one diaObjectId only")
            extra["midpointMjdTai"] = checks.mjd_tai(midpointMjdTai, "midpointMjdTai")
        return self._ids_plan(endpoints.SOURCES, object_id, columns, output_format, extra)

    def query_object(self, object_id: _hints.DiaObjectIds, *,
                     midpointMjdTai: float | Time | None = None,  # noqa: N803
                     columns: _hints.Columns | None = None,
                     output_format: str | None = None, progress: bool | None = None,
                     get_query_payload: bool = False, cache: bool | None = None,
                     timeout: float | None = None) -> Table:
        """The light curve (every diaSource) of one or more Rubin objects (``/api/v1/sources``).

        The Rubin counterpart of `FinkClass.query_object <astroquery_fink.FinkClass.query_object>`
        (ZTF ``/api/v1/objects``). Server: fink-object-api apps/routes/v1/lsst/sources/.

        Parameters
        ----------
        object_id : int, str or list
            One ``diaObjectId`` (int, numpy int or digits, e.g. ``313897383979122767``), a
            list of them, or a comma-separated text; duplicates dropped. Sent as text
            (server ``diaObjectId``), in batches of ``conf.batch_size`` run concurrently.
        midpointMjdTai : float or `~astropy.time.Time`, optional
            Only the source observed at this time (MJD, TAI), one object only. The server
            matches it as a *prefix* of its row key, so give the full-precision value, as
            the default csv answers carry it (JSON answers round it to 10 decimals, and a
            rounded value may match nothing).
        columns : str or list of str, optional
            ``r:`` (Rubin) and ``f:`` (Fink) names, e.g. ``["r:midpointMjdTai", "r:psfFlux",
            "r:band"]``. Default: all (131 columns for schema 10.0, slower).
            ``r:diaObjectId`` is added for several objects (to attribute rows) and removed.
            Columns come in the server's order, not the order given: ``t[names]`` reorders.
        output_format : {None, 'json', 'csv', 'votable', 'parquet'}, optional
            Wire format (``output-format``); all give the same Table (but for the server's
            JSON, which rounds floats to 10 decimals). Default csv (exact).

        Returns
        -------
        table : `~astropy.table.Table`
            One row per diaSource, sorted by ``r:midpointMjdTai`` descending (ties by
            ``r:diaObjectId``, ``r:diaSourceId``). Fluxes in nJy (see `flux_to_mag`), times
            in days (MJD, TAI: see `to_time`), IDs exact int64 (0 masked), flags booleans
            (missing masked). ``meta`` holds the server, endpoint, payload(s), query time
            and ``missing_ids``.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or the server refused the query.
        astroquery.exceptions.RemoteServiceError
            The server failed; `~astroquery_fink.exceptions.PartialResultError` when some
            batches did, with the rows that arrived.

        Warns
        -----
        astroquery.exceptions.NoResultsWarning
            No source at all, or none for some IDs (Solar System alerts have no diaObject:
            use `query_sso`).
        astroquery.exceptions.MaxResultsWarning
            An object reached the server's 10,000 rows per scan.
        """
        plan = self._sources_plan(object_id, midpointMjdTai, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    query_object_async = raw_twin(query_object, "sources", several=True)

    get_object_summary = _object_table_method(endpoints.OBJECTS, "get_object_summary", """
        The latest diaObject record of one or more objects (``/api/v1/objects``).

        One row per object: Rubin's per-band flux statistics (``r:g_psfFluxMean``, ...),
        ``r:nDiaSources``, the position, and Fink's object-level fields (``f:is_sso``,
        ``f:is_cataloged``, ``f:main_label_classifier``, ``f:firstDiaSourceMjdTaiFink``).
        Note that ``/api/v1/objects`` is a *light curve* on ZTF, a *summary* here. Server:
        fink-object-api apps/routes/v1/lsst/objects/.

        Parameters
        ----------
        object_id : int, str or list
            One ``diaObjectId`` or several, as in `query_object`.
        columns : str or list of str, optional
            ``r:`` and ``f:`` names of the object table (91 columns for schema 10.0, e.g.
            ``["r:nDiaSources", "f:main_label_classifier"]``). Default: all.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per object found, sorted by ``r:diaObjectId`` (the server's order is
            unspecified).
        """)

    get_object_summary_async = raw_twin(get_object_summary, "objects", several=True)

    query_forced_photometry = _object_table_method(endpoints.FP, "query_forced_photometry", """
        Forced photometry (diaForcedSources) of one or more objects (``/api/v1/fp``).

        Rubin measures forced photometry at the object position in each visit; Fink keeps
        it for objects with at least 2 detections, from alerts since 2026-02-17. There are
        no upper limits on Rubin: this is what replaces them. Server: fink-object-api
        apps/routes/v1/lsst/fp/.

        Parameters
        ----------
        object_id : int, str or list
            One ``diaObjectId`` or several, as in `query_object`.
        columns : str or list of str, optional
            ``r:`` names of the forced-source table (15 columns, e.g. ``["r:psfFlux",
            "r:band"]``). Default: all.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per forced source (``r:diaForcedSourceId``, ``r:psfFlux``,
            ``r:psfFluxErr``, ``r:scienceFlux``, ``r:band``, ``r:midpointMjdTai``, ...),
            sorted by ``r:midpointMjdTai`` descending.
        """)

    query_forced_photometry_async = raw_twin(query_forced_photometry, "fp", several=True)

    # ------------------------------------------------------------------ cone search
    def _region_plan(self, coordinates, radius, n, startdate, stopdate, window, kind, columns,
                     output_format) -> Plan:
        coords = _sky.positions(coordinates)
        arcsec = _sky.radius_arcsec(radius, maximum=endpoints.MAX_RADIUS_ARCSEC)
        start, stop, days = _sky.date_range(startdate, stopdate, window)
        fmt = checks.output_format(output_format)
        payload: dict = {"radius": arcsec}
        if n is not None:
            payload["n"] = _validate.count(n, "n")
        payload.update(_sky.date_arguments(start, stop, scale="tai"))
        if days is not None:
            payload["window"] = days
        if kind is not None:
            payload["kind"] = _validate.choice(kind, "kind", ("within", "across"))
        dates = start is not None or stop is not None
        cols, added = with_columns(endpoints.CONESEARCH, checks.column_list(columns),
                                   {"dates": dates})
        payload.update(columns_argument(cols))
        payloads = _sky.position_payloads(coords, payload)
        return Plan(endpoints.CONESEARCH, payloads, [[] for _ in payloads], output_format=fmt,
                    columns=cols, added_columns=added, labels=list(range(len(payloads))))

    def query_region(self, coordinates: _hints.Coordinates, radius: _hints.AngleLike, *,
                     n: int | None = None, startdate: _hints.DateLike | None = None,
                     stopdate: _hints.DateLike | None = None,
                     window: _hints.Duration | None = None,
                     kind: str | None = None, columns: _hints.Columns | None = None,
                     output_format: str | None = None, progress: bool | None = None,
                     get_query_payload: bool = False, cache: bool | None = None,
                     timeout: float | None = None) -> Table:
        """Rubin objects within ``radius`` of one or more positions (``/api/v1/conesearch``).

        Server: fink-object-api apps/routes/v1/lsst/conesearch/utils.py (HEALPix nside 1024
        pixels scanned, one row per object: its latest alert).

        Parameters
        ----------
        coordinates : `~astropy.coordinates.SkyCoord`, str, tuple or list
            One or more positions (a SkyCoord array, texts such as ``"63.34963 -47.18076"``
            in degrees, or ``(ra * u.deg, dec * u.deg)``). Each is one request (``ra``,
            ``dec`` in degrees, ICRS).
        radius : `~astropy.units.Quantity` or str
            An angle, e.g. ``5 * u.arcsec`` (server ``radius``, arcseconds, at most 18,000).
        n : int, optional
            The server's row limit *per HEALPix pixel scanned* (default 1000), not a limit
            on the whole answer.
        startdate, stopdate : `~astropy.time.Time`, datetime or ISO text, optional
            Keep objects first detected (``f:firstDiaSourceMjdTaiFink``) at or after
            ``startdate``, and whose latest alert is at or before ``stopdate``. Sent as the
            TAI calendar date, which the server reads as TAI.
        window : `~astropy.units.Quantity`, optional
            A duration (e.g. ``2 * u.day``) after ``startdate``: latest alert at or before
            ``startdate + window``.
        kind : {'within', 'across'}, optional
            Passed on; not read by the server at fink-object-api 3.5.0.
        columns : str or list of str, optional
            A selection; ``r:diaObjectId``, ``r:ra``, ``r:dec``, ``r:midpointMjdTai`` (and
            ``f:firstDiaSourceMjdTaiFink`` with dates) are added, as the server needs them.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per object and position: ``input_index`` (the position's index in
            ``coordinates``), ``v:separation_degree`` (deg) and the alert's columns; sorted
            by position, then separation.
        """
        plan = self._region_plan(coordinates, radius, n, startdate, stopdate, window, kind,
                                 columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    query_region_async = raw_twin(query_region, "conesearch", several=True)

    # ------------------------------------------------------------------ tags
    def _tags_plan(self, tag, n, startdate, stopdate, columns, output_format) -> Plan:
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidQueryError(f"tag must be a tag name (see get_tags()), not {shown(tag)}")
        start, stop, _ = _sky.date_range(startdate, stopdate)
        fmt = checks.output_format(output_format)
        payload: dict = {"tag": tag.strip()}
        if n is not None:
            payload["n"] = _validate.count(n, "n")
        payload.update(_sky.date_arguments(start, stop, scale="tai"))
        cols = checks.column_list(columns)
        payload.update(columns_argument(cols))
        return Plan(endpoints.TAGS, [payload], output_format=fmt, columns=cols)

    def query_tags(self, tag: str, *, n: int | None = None,
                   startdate: _hints.DateLike | None = None,
                   stopdate: _hints.DateLike | None = None,
                   columns: _hints.Columns | None = None, output_format: str | None = None,
                   get_query_payload: bool = False, cache: bool | None = None,
                   timeout: float | None = None) -> Table:
        """The latest alerts carrying a Fink tag (``/api/v1/tags``): Rubin's class search.

        Tags are Fink's user filters (``get_tags`` lists them); an alert can have several.
        Server: fink-object-api apps/routes/v1/lsst/tags/utils.py.

        Parameters
        ----------
        tag : str
            A tag with API support, e.g. ``"extragalactic_new_candidate"``.
        n : int, optional
            How many of the latest alerts (server default 10). An answer with exactly ``n``
            rows may have been cut: a `~astroquery.exceptions.MaxResultsWarning` says so.
        startdate, stopdate : `~astropy.time.Time`, datetime or ISO text, optional
            Time window (server defaults: 2019-11-01 and now). Sent as the TAI calendar date,
            the scale of the ``r:midpointMjdTai`` the server compares it with.
        columns
            As in `query_object`.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert (the ``/sources`` columns), newest first; with a ``columns``
            selection, only when it holds ``r:midpointMjdTai`` (the server sorts by it when
            it comes, else answers oldest first; adding it would also bring the alerts
            holding none of the selected columns).
        """
        plan = self._tags_plan(tag, n, startdate, stopdate, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)

    query_tags_async = raw_twin(query_tags, "tags")

    def get_tags(self, *, cache: bool | None = None, timeout: float | None = None) -> Table:
        """The Fink tags (``GET /api/v1/tags``), the names `query_tags` takes.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per tag, sorted by name: ``tag``, ``description``, ``api_support``
            (False: the tag exists only in Fink's live streams, `query_tags` refuses it).
        """
        table = self._fetch(endpoints.TAG_LIST, None, lambda r: answers.tag_list(r.content),
                            cache=cache, timeout=timeout)
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/tags"})
        return table

    def get_blocks(self, *, cache: bool | None = None, timeout: float | None = None) -> Table:
        """The building blocks of Fink's tag filters (``GET /api/v1/blocks``).

        Returns
        -------
        table : `~astropy.table.Table`
            One row per block, sorted by name: ``block`` and ``description``.
        """
        table = self._fetch(endpoints.BLOCKS, None, lambda r: answers.block_list(r.content),
                            cache=cache, timeout=timeout)
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/blocks"})
        return table

    # ------------------------------------------------------------------ Solar System
    def _sso_plan(self, n_or_d, withEphem, withResiduals, columns,  # noqa: N803
                  output_format) -> Plan:
        names = checks.sso_names(n_or_d)
        withEphem = _validate.flag(withEphem, "withEphem")
        withResiduals = _validate.flag(withResiduals, "withResiduals")
        if withResiduals and len(names) > 1:
            raise InvalidQueryError("withResiduals works with one object only")
        fmt = checks.output_format(output_format)
        payload: dict = {}
        if withEphem:
            payload["withEphem"] = True
        if withResiduals:
            payload["withResiduals"] = True
        cols, added = with_columns(endpoints.SSO, checks.column_list(columns), {})
        payload.update(columns_argument(cols))
        batches, payloads = batched(endpoints.SSO, names, payload, size=1)
        return Plan(endpoints.SSO, payloads, batches, output_format=fmt, columns=cols,
                    added_columns=added)

    def query_sso(self, n_or_d: _hints.SolarSystemNames, *, withEphem: bool = False,  # noqa: N803
                  withResiduals: bool = False, columns: _hints.Columns | None = None,  # noqa: N803
                  output_format: str | None = None, progress: bool | None = None,
                  get_query_payload: bool = False, cache: bool | None = None,
                  timeout: float | None = None) -> Table:
        """Alerts of Solar System objects (``/api/v1/sso``).

        Server: fink-object-api apps/routes/v1/lsst/sso/utils.py (names resolved by IMCCE
        quaero to packed designations; a name it does not know is an error, HTTP 400).

        Parameters
        ----------
        n_or_d : str, int or list
            Number, name or (packed) provisional designation (``"2004 JQ12"``, ``"K04J12Q"``,
            ``8467``), a list of them or a comma-separated text (server ``n_or_d``). Each
            name is sent in its own request (``conf.max_workers`` at once): the server
            resolves and scans names one by one anyway, and so a name without alerts can be
            named.
        withEphem : bool, optional
            Add Miriade ephemerides as extra (unprefixed) columns.
        withResiduals : bool, optional
            Residuals to the sHG1G2 model (one object only; implies ``withEphem``).
        columns
            As in `query_object`.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert, newest first, with ``f:sso_name`` and
            ``r:packed_primary_provisional_designation``; ``r:diaObjectId`` is masked
            (Solar System alerts have none).
        """
        plan = self._sso_plan(n_or_d, withEphem, withResiduals, columns, output_format)
        return self._answer(plan, get_query_payload, cache=cache, timeout=timeout,
                            progress=progress)

    query_sso_async = raw_twin(query_sso, "sso", several=True)

    # ------------------------------------------------------------------ resolver
    def _resolver_plan(self, name_or_id, resolver, reverse, nmax, output_format) -> Plan:
        _validate.choice(resolver, "resolver", endpoints.RESOLVERS)
        reverse = _validate.flag(reverse, "reverse")
        if reverse:
            kind = "ssObjectId" if resolver == "ssodnet" else "diaObjectId"
            ids = checks.dia_ids(name_or_id, kind)
            if len(ids) != 1:
                raise InvalidQueryError(f"resolve takes one {kind}, not {len(ids)}")
            value = str(ids[0])
        else:
            if not isinstance(name_or_id, str | numbers.Integral) or \
                    isinstance(name_or_id, bool):
                raise InvalidQueryError(f"name_or_id must be a name, not {shown(name_or_id)}")
            value = str(name_or_id).strip()
            if not value and resolver != "tns":
                # ssodnet: the server posts it to its own /sso, whose error it cannot read
                # (HTTP 500); simbad: Sesame has nothing to resolve (tns lists its table)
                raise InvalidQueryError("name_or_id is empty")
        fmt = checks.output_format(output_format)
        payload: dict = {"resolver": resolver, "name_or_id": value}
        if reverse:
            payload["reverse"] = True
        if nmax is not None:
            payload["nmax"] = _validate.count(nmax, "nmax")
        capped = reverse or resolver == "tns"
        endpoint = endpoints.RESOLVER if capped else endpoints.RESOLVER_UNCAPPED
        return Plan(endpoint, [payload], output_format=fmt)

    def resolve(self, name_or_id: str | int, *, resolver: str, reverse: bool = False,
                nmax: int | None = None, output_format: str | None = None,
                get_query_payload: bool = False, cache: bool | None = None,
                timeout: float | None = None) -> Table:
        """Resolve names to Rubin IDs, or IDs to names (``/api/v1/resolver``).

        Server: fink-object-api apps/routes/v1/lsst/resolver/utils.py: TNS names from Fink's
        TNS table, SIMBAD names through CDS Sesame, Solar System names through the server's
        own ``/sso``; the reverse lookups read Fink's alert and object tables.

        Parameters
        ----------
        name_or_id : str or int
            A name (``"SN 2022and"`` for TNS, ``"M31"`` for SIMBAD, ``"2015 BC557"`` for
            SSODNet), or with ``reverse=True`` a ``diaObjectId`` (tns, simbad) or an
            ``ssObjectId`` (ssodnet). The server argument is ``name_or_id`` (``name`` on ZTF).
        resolver : {'tns', 'simbad', 'ssodnet'}
        reverse : bool, optional
            ID -> names. Sent as a JSON ``true`` (the server ignores a text "True").
        nmax : int, optional
            Most matches (server default 10).

        Returns
        -------
        table : `~astropy.table.Table`
            The resolver's rows (columns depend on the resolver: ``f:fullname``,
            ``f:internalname``, ``r:diaObjectId``, ...); empty, with a
            `~astroquery.exceptions.NoResultsWarning`, when nothing matches.
        """
        plan = self._resolver_plan(name_or_id, resolver, reverse, nmax, output_format)
        try:
            answer = self._answer(plan, get_query_payload, cache=cache, timeout=timeout)
        except RemoteServiceError as err:
            if resolver != "ssodnet" or reverse or getattr(err, "status", None) != 500:
                raise
            # the server asks its own /sso and cannot read its refusal of an unknown name
            raise RemoteServiceError(
                f"{err} (the server answers so also for a name its /sso does not know: "
                f"check {shown(plan.payloads[0]['name_or_id'])} with query_sso)") from None
        if isinstance(answer, Table) and resolver == "tns" and plan.payloads[0].get("reverse") \
                and len(answer) and "f:xm_tns_fullname" not in answer.colnames:
            return _without_tns_name(answer, plan.payloads[0]["name_or_id"])
        return answer

    resolve_async = raw_twin(resolve, "resolver")

    # ------------------------------------------------------------------ sky maps
    def query_skymap(self, event_name: str | None = None, *, bayestar: _hints.SkyMap | None = None,
                     credible_level: float, n_day_before: float | u.Quantity | None = None,
                     n_day_after: float | u.Quantity | None = None,
                     output_format: str | None = None,
                     get_query_payload: bool = False, cache: bool | None = None,
                     timeout: float | None = None) -> Table:
        """Rubin alerts inside a gravitational-wave sky map (``/api/v1/skymap``).

        Server: fink-object-api apps/routes/v1/lsst/skymap/utils.py: the HEALPix pixels
        (nside 1024) inside the credible region, and every alert stored under them.

        Parameters
        ----------
        event_name : str, optional
            A GraceDB superevent (e.g. ``"S230518h"``): the server downloads its
            ``bayestar.fits.gz``.
        bayestar : str, path, bytes or `~astropy.io.fits.HDUList`, optional
            Or a local sky map: a file (gzipped FITS or FITS), its bytes, or an HDUList. Sent
            gzipped as the text the server reads (server ``bayestar``).
        credible_level : float
            Credible-region threshold in (0, 1], e.g. 0.9.
        n_day_before, n_day_after : float or `~astropy.units.Quantity`, optional
            Days before / after the event (documented maxima 7 and 14, warned about); passed
            on but ignored by the server at fink-object-api 3.5.0 (its time filter is
            disabled).

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert in the region, with ``v:startgwMjdTai``; newest first.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or no sky map from GraceDB for the event (the
            server answers its one-row ``status`` table, with GraceDB's words).
        """
        return self._skymap_search(endpoints.SKYMAP, event_name, bayestar, credible_level,
                                   n_day_before, n_day_after, output_format,
                                   get_query_payload, cache, timeout)

    query_skymap_async = raw_twin(query_skymap, "skymap")

    # ------------------------------------------------------------------ statistics
    def _statistics_plan(self, date, columns, output_format) -> Plan:
        fmt = checks.output_format(output_format)
        payload: dict = {"date": _sky.night(date)}
        cols = None if columns is None else checks.statistics_columns(columns)
        payload.update(columns_argument(cols))
        return Plan(endpoints.STATISTICS, [payload], output_format=fmt, columns=cols)

    def get_statistics(self, date: str = "", *, columns: _hints.Columns | None = None,
                       output_format: str | None = None, get_query_payload: bool = False,
                       cache: bool | None = None, timeout: float | None = None) -> Table:
        """Nightly counts of the Rubin alert stream at Fink (``/api/v1/statistics``).

        Parameters
        ----------
        date : str, int, `~astropy.time.Time` or datetime, optional
            ``YYYYMMDD`` (a night), ``YYYYMM`` (a month), ``YYYY`` (a year), or ``""``
            (default: every night). A Time or datetime means its night (UTC date).
        columns : str or list of str, optional
            ``f:`` names, e.g. ``["f:night", "f:alerts"]``.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per night, oldest first: ``time`` (a `~astropy.time.Time`, the night's
            UTC date, as on ZTF), ``f:night`` (the integer YYYYMMDD), then the counters as
            integers.
        """
        plan = self._statistics_plan(date, columns, output_format)
        if self._unparsed(get_query_payload):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)
        return answers.with_night_time(self._table(plan, cache=cache, timeout=timeout))

    get_statistics_async = raw_twin(get_statistics, "statistics")

    # ------------------------------------------------------------------ schema
    def get_schema(self, endpoint: str = "sources", *, major_version: int | None = None,
                   minor_version: int | None = None, cache: bool | None = None,
                   timeout: float | None = None) -> Table:
        """The columns the server describes for one endpoint (``/api/v1/schema``).

        Parameters
        ----------
        endpoint : str, optional
            ``"sources"`` (default), ``"objects"``, ``"fp"``, ``"conesearch"``, ``"cutouts"``,
            ``"sso"``, ``"statistics"`` or ``"tags"`` (``"/api/v1/sources"`` also works).
        major_version, minor_version : int, optional
            A Rubin alert schema version (e.g. 10, 0); both or neither (the server's latest).

        Returns
        -------
        table : `~astropy.table.Table`
            ``name`` (prefixed: ``r:psfFlux``), ``family``, ``type`` (Avro; unions written
            ``null|float``), ``unit`` (as this client attaches it) and ``description``.
        """
        # "sources" or "/api/v1/sources", nothing else ("foo/fp" is not an endpoint)
        short = (endpoint.removeprefix("/api/v1/") if isinstance(endpoint, str) else None)
        if short not in endpoints.SCHEMA_ENDPOINTS:
            raise InvalidQueryError(
                f"endpoint must be one of {', '.join(endpoints.SCHEMA_ENDPOINTS)}, "
                f"not {shown(endpoint)}")
        payload: dict = {"endpoint": f"/api/v1/{short}"}
        if (major_version is None) != (minor_version is None):
            raise InvalidQueryError(
                "Give major_version and minor_version together (the server ignores one alone)")
        if major_version is not None:
            payload["major_version"] = _validate.count(major_version, "major_version")
            if payload["major_version"] < 10:
                # the server reads the mpc_orbits record too, which Rubin's alert schemas
                # have from 10.0 on (fink-object-api apps/routes/v1/lsst/schema/utils.py)
                raise InvalidQueryError(
                    f"The server builds schemas from version 10.0 on (it fails for "
                    f"{payload['major_version']}.x, which has no mpc_orbits record)")
            if isinstance(minor_version, bool) or not isinstance(minor_version, numbers.Integral) \
                    or minor_version < 0:
                raise InvalidQueryError(f"minor_version must be an integer >= 0, not "
                                        f"{shown(minor_version)}")
            payload["minor_version"] = int(minor_version)
        answer = self._fetch(endpoints.SCHEMA, payload,
                             lambda r: json_object(r.content, "/schema", nested=True),
                             cache=cache, timeout=timeout)
        table = schema_table(answer, schema.columns())
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/schema",
                           "payload": payload})
        return table

    # ------------------------------------------------------------------ cutouts
    def get_cutouts(self, source: int | str | Row, *, kind: str = "All",
                    object_id: int | str | None = None, as_array: bool = False,
                    cache: bool | None = None, timeout: float | None = None
                    ) -> fits.HDUList | np.ndarray | dict:
        """The cutouts of one Rubin alert (``/api/v1/cutouts``), by its ``diaSourceId``.

        Server: fink-object-api apps/routes/v1/lsst/cutouts/utils.py (the stamps of the
        alert packet, sent as FITS or as arrays). Stamps are at least 30 x 30 pixels and vary
        (up to 71 x 71 and more; templates are sometimes larger).

        Parameters
        ----------
        source : int, str or `~astropy.table.Row`
            The ``diaSourceId`` of the alert, or a row of `query_object` (its
            ``r:diaSourceId``, and ``r:diaObjectId``, ``r:midpointMjdTai``, ``r:ra``,
            ``r:dec``, ``r:band`` when present, written in the headers).
        kind : {'All', 'Science', 'Template', 'Difference'}, optional
            Which stamp(s); default the three.
        object_id : int or str, optional
            The alert's ``diaObjectId``: its light curve is then read to write the alert's
            time, position and band in the headers (and to check that the source is one of
            its alerts).
        as_array : bool, optional
            Return the image pixels (nJy) as float32 arrays: one array for one kind, a dict
            ``{"Science": array, ...}`` for ``kind="All"`` (one request: ``kind=All``).

        Returns
        -------
        hdulist : `~astropy.io.fits.HDUList`
            An empty primary HDU with ``DIASRCID`` (and ``DIAOBJID``, ``MJD-AVG`` with
            ``TIMESYS='TAI'``, ``RA``, ``DEC``, ``BAND`` when known), then for each kind the
            server's three HDUs renamed: ``SCIENCE`` (image in nJy, ``BUNIT``, the stamp's
            WCS keywords), ``SCIENCE_UNCERT`` (its uncertainty) and ``SCIENCE_PSF`` (the
            PSF image); likewise ``TEMPLATE*`` and ``DIFFERENCE*``. Each keeps its header,
            plus ``DIASRCID`` and ``CUTOUT``. Pixels keep the FITS order (row 0 is the
            bottom row): show them with ``origin="lower"``. The stamps' FITS WCS is known to
            be unreliable (fink docs "data issues"): use it with care.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or no alert with that ``diaSourceId`` (the
            server answers an empty body).
        """
        chosen = _cutouts.cutout_kind(kind)
        kinds = CUTOUT_KINDS if chosen is None else (chosen,)
        as_array = _validate.flag(as_array, "as_array")
        alert = self._alert_of(source, object_id, cache, timeout)
        sid = alert["r:diaSourceId"]

        if as_array:
            payload = {"diaSourceId": str(sid), "kind": chosen or "All",
                       "output-format": "array"}
            arrays = self._fetch(endpoints.CUTOUTS, payload,
                                 lambda r: cutouts.stamp_arrays_of(r.content, sid),
                                 cache=cache, timeout=timeout)
            missing = [k for k in kinds if f"b:cutout{k}" not in arrays]
            if missing:
                raise RemoteServiceError(
                    f"Fink's cutouts answer has no {', '.join(missing)} stamp: "
                    f"{sorted(arrays)[:5]}")
            out = {k: arrays[f"b:cutout{k}"] for k in kinds}
            return out if chosen is None else out[chosen]

        primary = fits.PrimaryHDU()
        cutouts.alert_cards(primary.header, alert)
        hdus = [primary]
        for k in kinds:
            payload = {"diaSourceId": str(sid), "kind": k, "output-format": "FITS"}
            stamp = self._fetch(endpoints.CUTOUTS, payload,
                                lambda r: cutouts.fits_stamp(r, sid),
                                cache=cache, timeout=timeout)
            hdus += cutouts.renamed(stamp, k, sid)
        return fits.HDUList(hdus)

    def _alert_of(self, source, object_id, cache, timeout) -> dict:
        """The alert's IDs (and time, position, band when known) from the user's input."""
        alert: dict = {}
        if isinstance(source, Row):
            for name in ("r:diaSourceId", "r:diaObjectId", "r:midpointMjdTai", "r:ra",
                         "r:dec", "r:band"):
                if name in source.colnames and not np.ma.is_masked(source[name]):
                    value = source[name]
                    if isinstance(value, Time):
                        value = value.tai.mjd
                    alert[name] = value.item() if hasattr(value, "item") else value
            if "r:diaSourceId" not in alert:
                raise InvalidQueryError(
                    "This row has no r:diaSourceId: cutouts belong to detections, the rows of "
                    "query_object, query_region or query_sso (select r:diaSourceId if a "
                    "columns selection left it out); summary and forced-photometry rows "
                    "have none")
            # the row's IDs pass the checks typed IDs pass (a float ID has lost digits)
            for name, what in (("r:diaSourceId", "diaSourceId"), ("r:diaObjectId", "diaObjectId")):
                if name in alert:
                    alert[name] = checks.one_id(alert[name], what)
        else:
            [alert["r:diaSourceId"]] = checks.single(checks.dia_ids(source, "diaSourceId"),
                                                     "diaSourceId")
        if object_id is not None:
            [oid] = checks.single(checks.dia_ids(object_id), "diaObjectId")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoResultsWarning)
                rows = self.query_object(
                    oid, columns=["r:diaSourceId", "r:diaObjectId", "r:midpointMjdTai",
                                  "r:ra", "r:dec", "r:band"], cache=cache, timeout=timeout)
            if len(rows) and "r:diaSourceId" not in rows.colnames:
                raise RemoteServiceError(
                    f"Fink's sources of diaObjectId {oid} lack r:diaSourceId: the alert "
                    "cannot be found among them")
            match = np.nonzero(np.asarray(rows["r:diaSourceId"]) == alert["r:diaSourceId"])[0] \
                if len(rows) else []
            if not len(match):
                raise InvalidQueryError(
                    f"diaSourceId {alert['r:diaSourceId']} is not an alert of diaObjectId "
                    f"{oid} ({len(rows)} sources)")
            row = rows[int(match[0])]
            for name in rows.colnames:
                if not np.ma.is_masked(row[name]):
                    alert[name] = row[name].item() if hasattr(row[name], "item") else row[name]
        return alert


FinkLSST = FinkLSSTClass()


# What the server reads for a reverse TNS lookup (apps/routes/v1/lsst/resolver/utils.py).
_TNS_REVERSE_COLUMNS = ("r:diaObjectId", "f:xm_tns_fullname", "f:xm_tns_type",
                        "f:xm_tns_redshift")


def _without_tns_name(answer: Table, dia_object_id: str) -> Table:
    """A reverse TNS answer without ``f:xm_tns_fullname``: the object's alerts hold no TNS
    name, and the server answers what they hold of the columns it reads, i.e. their
    ``r:diaObjectId`` (fink-object-api apps/routes/v1/lsst/resolver/utils.py): no match,
    said so. Any other answer is not the resolver's."""
    other = [c for c in answer.colnames if c not in _TNS_REVERSE_COLUMNS]
    ids = answer["r:diaObjectId"] if "r:diaObjectId" in answer.colnames else None
    if other or ids is None or any(str(i) != dia_object_id for i in ids):
        columns = ", ".join(answer.colnames[:5]) + (" ..." if len(answer.colnames) > 5 else "")
        raise RemoteServiceError(
            f"Fink's reverse TNS answer for diaObjectId {dia_object_id} is not one: it has no "
            f"f:xm_tns_fullname and holds {columns}")
    warn(f"Fink knows no TNS name for diaObjectId {dia_object_id}", NoResultsWarning)
    return answer[:0]
