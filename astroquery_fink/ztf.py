# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`FinkClass`: the Fink ZTF API (https://api.ztf.fink-portal.org).

Each endpoint is an `Endpoint` declaration below plus a thin public method; validation lives
in `_validate`, the shared machinery (batches, retries, parsing, merging, warnings) in
`_query`. Server behaviour is cited from fink-object-api (apps/routes/v1/ztf/<name>/).
"""
import warnings
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astroquery.exceptions import InvalidQueryError, NoResultsWarning, RemoteServiceError

from . import _schema, _validate
from ._cutouts import CUTOUT_KINDS, fits_stamp, stamp_arrays, stamp_column, stamp_hdu
from ._endpoint import Endpoint
from ._merge import drop_covered_prefixes
from ._query import FinkQuery, Plan, batched, with_columns
from ._tables import loads_json

__all__ = ["Fink", "FinkClass"]

# The server keeps at most NLIMIT rows per requested ID and per table (alerts, upper limits,
# bad-quality points): fink-object-api apps/routes/v1/ztf/objects/utils.py.
_ROWS_PER_ID = 10_000

OBJECTS = Endpoint(
    "objects", "objects", items="objects", rows="alerts", ids="objectId", id_column="i:objectId",
    row_key=("i:objectId", "i:jd", "d:tag"), sort=(("i:jd", True),),
    tiebreak=("i:objectId", "i:candid"), rows_per_id=_ROWS_PER_ID, cap_group="d:tag",
    # withcutouts: the server reads each row's objectId and candid to fetch its stamps
    # (HTTP 500 without them); withupperlim: it sorts by i:jd (HTTP 500 without it).
    needs={"withcutouts": ("i:objectId", "i:candid"), "withupperlim": ("i:jd",)},
)
# the same route, batched by the smaller cutout batch size
OBJECTS_CUTOUTS = replace(OBJECTS, batch_size="batch_size_cutouts")
CUTOUTS = Endpoint("cutouts", "cutouts")
SCHEMA = Endpoint("schema", "schema", method="GET")


class FinkClass(FinkQuery):
    """Query the Fink alert broker's REST API (ZTF).

    Parameters
    ----------
    server : str, optional
        Base URL of a Fink API deployment, e.g. ``"http://127.0.0.1:5000"`` for the bundled
        emulator. Defaults to ``astroquery_fink.conf.server``, read at each call.
    timeout : float, optional
        Seconds allowed for one whole HTTP request (connection, headers and body). Defaults to
        ``astroquery_fink.conf.timeout``.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If ``server`` is not an http(s) URL or ``timeout`` is not a positive number.
    """

    _server_conf = "server"

    # ------------------------------------------------------------------ objects
    def _objects_plan(self, object_id, columns, withupperlim, withcutouts, cutout_kind,
                      output_format, prefix) -> Plan:
        prefix = _validate.flag(prefix, "prefix")
        ids = _validate.object_ids(object_id, prefix=prefix)
        if prefix:
            ids = drop_covered_prefixes(ids)
        withupperlim = _validate.flag(withupperlim, "withupperlim")
        withcutouts = _validate.flag(withcutouts, "withcutouts")
        kind = _validate.cutout_kind(cutout_kind)
        if cutout_kind is not None and not withcutouts:
            raise InvalidQueryError("cutout_kind is used only with withcutouts=True")
        fmt = _validate.output_format(output_format, withupperlim=withupperlim)
        if fmt == "parquet" and withupperlim:
            # The server fails (HTTP 500) writing this: upper-limit rows hold numbers as
            # strings, so columns mix types (fink-object-api apps/utils/utils.py,
            # send_tabular_data).
            raise InvalidQueryError(
                "The Fink server cannot write parquet with withupperlim=True: use "
                "output_format='json' (or leave it to the client: output_format=None)")
        endpoint = OBJECTS_CUTOUTS if withcutouts else OBJECTS
        options = {"withupperlim": withupperlim, "withcutouts": withcutouts}
        # The client reads the objectId of each row to attribute it to a requested ID
        # (missing IDs, row caps, stray rows) when there is more than one, or a prefix.
        mine = ("i:objectId",) if prefix or len(ids) > 1 else ()
        cols, added = with_columns(endpoint, _validate.column_list(columns), options, mine)
        payload = _validate.objects_payload(
            columns=cols, withupperlim=withupperlim, withcutouts=withcutouts,
            cutout_kind=kind, output_format=fmt)
        batches, payloads = batched(endpoint, ids, payload)
        return Plan(endpoint, payloads, batches, output_format=fmt, prefix=prefix,
                    mixed_types=withupperlim, columns=cols, added_columns=added)

    def query_object_async(self, object_id: str | Iterable[str], *,
                           columns: str | Iterable[str] | None = None, withupperlim: bool = False,
                           withcutouts: bool = False, cutout_kind: str | None = None,
                           output_format: str | None = None, prefix: bool = False,
                           progress: bool | None = None, get_query_payload: bool = False,
                           cache: bool | None = None, timeout: float | None = None):
        """Send the ``/api/v1/objects`` requests of `query_object`; return the raw responses.

        Takes the arguments of `query_object` and validates, batches and builds the payloads
        exactly as it does (see ``get_query_payload``).

        Returns
        -------
        response : `requests.Response` or list of `requests.Response`
            One response when the IDs fit in one request (``conf.batch_size`` IDs, or
            ``conf.batch_size_cutouts`` with ``withcutouts``); else a list, one per batch, in
            the order of the IDs. Each was retried on transient failures; failures raise as
            in `query_object` (`~astroquery_fink.exceptions.PartialResultError` keeps the
            responses that arrived in ``.responses``).
        """
        plan = self._objects_plan(object_id, columns, withupperlim, withcutouts, cutout_kind,
                                  output_format, prefix)
        if get_query_payload:
            return plan.query_payload()
        return self._responses(plan, cache=cache, timeout=timeout, progress=progress)

    def query_object(self, object_id: str | Iterable[str], *,
                     columns: str | Iterable[str] | None = None, withupperlim: bool = False,
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
            ``conf.batch_size`` (``conf.batch_size_cutouts`` with ``withcutouts``), at most
            ``conf.max_workers`` requests at once, each retried on transient failures.
        columns : str or list of str, optional
            Family-prefixed names to return, e.g. ``["i:jd", "i:magpsf"]``. Default: every
            column, including the ``v:`` columns the server computes (which cannot be
            selected). The columns the server needs for an option are added to the
            selection and returned: ``i:objectId`` and ``i:candid`` with ``withcutouts``
            (the server fails with HTTP 500 without them), ``i:jd`` with ``withupperlim``
            (likewise).
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
            fastest) when pyarrow is installed and the server can write it for this query
            (not with ``withupperlim``), else json.
        prefix : bool, optional
            Treat each ID as a prefix: the server then returns every object whose name starts
            with it, at most 10,000 rows per prefix (a `~astroquery.exceptions.MaxResultsWarning`
            says when a prefix reached that). Prefixes that another one covers are dropped.
            Off by default, so that a mistyped ID cannot return thousands of objects.
        progress : bool, optional
            Show a progress bar for multi-batch queries. Default: only in an interactive
            terminal.
        get_query_payload : bool, optional
            Return the request body (a dict, or a list of dicts when the IDs are sent in
            several batches) instead of querying.
        cache : bool, optional
            Use astroquery's cache for this call; default: ``astroquery.cache_conf.cache_active``.
            Answers live ``conf.cache_timeout`` seconds; empty and failed answers are never
            cached.
        timeout : float, optional
            Seconds allowed for one whole HTTP request (default ``conf.timeout``); all the
            tries of one request together take at most ``conf.retry_total_time``.

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
        if get_query_payload:
            return plan.query_payload()
        return self._table(plan, cache=cache, timeout=timeout, progress=progress)

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
        cache : bool, optional
            As in `query_object`.
        timeout : float, optional
            Seconds to wait for one HTTP answer.

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
                f"get_cutouts takes one ZTF object name, not {object_id!r}; loop over objects, "
                "or use query_object(..., withcutouts=True) for many")
        [oid] = _validate.object_ids(object_id)
        chosen = _validate.cutout_kind(kind)
        kinds = (chosen,) if chosen else CUTOUT_KINDS
        candid = None if candid is None else _validate.candid(candid)
        as_array = _validate.flag(as_array, "as_array")
        alert = self._alert(oid, candid, cache, timeout)
        base = {"objectId": oid, "candid": str(alert["i:candid"])}

        if as_array:
            payload = dict(base, kind=chosen or "All", **{"output-format": "array"})
            arrays = self._fetch(CUTOUTS, payload, lambda r: stamp_arrays(r.content),
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
            stamp = self._fetch(CUTOUTS, payload, lambda r: fits_stamp(r.content),
                                cache=cache, timeout=timeout)
            hdus.append(stamp_hdu(stamp, k, alert))
        for key, col in (("OBJECTID", "i:objectId"), ("CANDID", "i:candid"), ("JD", "i:jd"),
                         ("RA", "i:ra"), ("DEC", "i:dec")):
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
            raise InvalidQueryError(f"Fink has no alerts for {oid}, hence no cutouts")
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
        return {c: row[c].item() if hasattr(row[c], "item") else row[c] for c in rows.colnames}

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
        schema = self._fetch(SCHEMA, None, lambda r: _schema_answer(r.content),
                             cache=cache, timeout=timeout)
        known = _schema.columns()
        rows = []
        for category, fields in schema.items():
            family = _schema.CATEGORY_FAMILY.get(category, category.rsplit("(", 1)[-1][:1])
            for field, entry in fields.items():
                name = f"{family}:{field}"
                stype = entry.get("type")
                stype = "|".join(map(str, stype)) if isinstance(stype, list) else str(stype)
                unit = known[name].unit if name in known else None
                rows.append((name, family, stype, "" if unit is None else unit.to_string(),
                             str(entry.get("doc", ""))))
        table = Table(rows=rows, names=("name", "family", "type", "unit", "description"),
                      dtype=(str, str, str, str, str))
        table.sort("name")
        table.meta.update({"server": self._server(), "endpoint": "/api/v1/schema"})
        return table


def _schema_answer(content: bytes) -> dict:
    """``/api/v1/schema``: {category: {field: {"type": ..., "doc": ...}}}, else an error."""
    try:
        schema = loads_json(content)
    except ValueError:
        schema = None
    if not isinstance(schema, dict) or not all(
            isinstance(fields, dict) and all(isinstance(e, dict) for e in fields.values())
            for fields in schema.values()):
        raise RemoteServiceError(f"Unexpected /schema answer: {content[:200]!r}")
    return schema


Fink = FinkClass()
