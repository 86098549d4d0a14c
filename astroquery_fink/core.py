# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`FinkClass`: the public query methods. Payloads, parsing and transport live in helpers."""
import io
import sys
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

import numpy as np
from astropy.io import fits
from astropy.table import Table, vstack
from astroquery.exceptions import (
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
    RemoteServiceError,
)
from astroquery.query import BaseQuery

from . import __version__, _schema, _validate, conf
from ._http import fetch
from ._tables import loads_json, parse_objects
from .cutouts import _stamp_hdu
from .exceptions import PartialResultError

__all__ = ["Fink", "FinkClass"]


class FinkClass(BaseQuery):
    """Query the Fink alert broker's REST API (ZTF).

    Parameters
    ----------
    server : str, optional
        Base URL of a Fink API deployment, e.g. ``"http://127.0.0.1:5000"`` for the bundled
        emulator. Defaults to ``astroquery_fink.conf.server``, read at each call.
    timeout : float, optional
        Seconds to wait for one HTTP answer. Defaults to ``astroquery_fink.conf.timeout``.
    """

    def __init__(self, *, server: str | None = None, timeout: float | None = None):
        super().__init__()
        self.server = server
        self.timeout = timeout
        self._session.headers["User-Agent"] += f" astroquery_fink/{__version__}"

    # ------------------------------------------------------------------ plumbing
    def _url(self, endpoint: str) -> str:
        return f"{(self.server or conf.server).rstrip('/')}/api/v1/{endpoint}"

    def _timeout(self, timeout):
        return float(timeout if timeout is not None else self.timeout or conf.timeout)

    @staticmethod
    def _cache(cache):
        # cache=None follows astroquery's global switch (astroquery.cache_conf.cache_active).
        if cache is None:
            from astroquery import cache_conf
            return bool(cache_conf.cache_active)
        return bool(cache)

    def _objects_args(self, object_id, columns, withupperlim, withcutouts, cutout_kind,
                      output_format, prefix):
        ids = _validate.object_ids(object_id, prefix=_validate.flag(prefix, "prefix"))
        withupperlim = _validate.flag(withupperlim, "withupperlim")
        withcutouts = _validate.flag(withcutouts, "withcutouts")
        cols = _validate.column_list(columns, withcutouts=withcutouts)
        kind = _validate.cutout_kind(cutout_kind)
        if cutout_kind is not None and not withcutouts:
            raise InvalidQueryError("cutout_kind is used only with withcutouts=True")
        fmt = _validate.output_format(output_format, withupperlim=withupperlim)
        if fmt == "parquet" and withupperlim:
            # The server fails (HTTP 500) writing this: upper-limit rows hold numbers as
            # strings, so columns mix types, and with all columns the index does too
            # (FINK_API.md 1.3 and 2.2).
            raise InvalidQueryError(
                "The Fink server cannot write parquet with withupperlim=True: use "
                "output_format='json' (or leave it to the client: output_format=None)")
        options = dict(columns=cols, withupperlim=withupperlim, withcutouts=withcutouts,
                       cutout_kind=kind, output_format=fmt)
        return ids, options

    # ------------------------------------------------------------------ objects
    def query_object_async(self, object_id: str | Iterable[str], *,
                           columns: str | Iterable[str] | None = None, withupperlim: bool = False,
                           withcutouts: bool = False, cutout_kind: str | None = None,
                           output_format: str | None = None, prefix: bool = False,
                           get_query_payload: bool = False, cache: bool | None = None,
                           timeout: float | None = None):
        """Send one ``/api/v1/objects`` request for all the given IDs; return the response.

        Takes the arguments of `query_object`, but sends every ID in a single request (no
        batching) and returns the raw `requests.Response` (retried on transient failures;
        failures raise as in `query_object`).
        """
        ids, options = self._objects_args(object_id, columns, withupperlim, withcutouts,
                                          cutout_kind, output_format, prefix)
        payload = _validate.objects_payload(ids, **options)
        if get_query_payload:
            return payload
        fmt = options["output_format"]
        response = fetch(self, "POST", self._url("objects"), payload, lambda r: r, what="objects",
                            cache=self._cache(cache), timeout=self._timeout(timeout),
                            is_empty=lambda r: len(parse_objects(r.content, fmt)) == 0)
        return response

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
            string. Duplicates are dropped.
        columns : str or list of str, optional
            Family-prefixed names to return, e.g. ``["i:jd", "i:magpsf"]``. Default: every
            column, including the ``v:`` columns the server computes (which cannot be
            selected). With ``withcutouts``, ``i:objectId`` and ``i:candid`` are added.
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
            with it. Off by default, so that a mistyped ID cannot return thousands of objects.
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
            Seconds to wait for one HTTP answer (default ``conf.timeout``).

        Returns
        -------
        table : `~astropy.table.Table`
            One row per alert (and per upper limit), sorted by ``i:jd`` descending, with units
            and descriptions. ``meta`` records the server, the payloads and the query time.

        Raises
        ------
        astroquery.exceptions.InvalidQueryError
            Bad input (before any request), or the server rejected the query.
        astroquery.exceptions.RemoteServiceError
            The server failed; `~astroquery_fink.exceptions.PartialResultError` (a subclass)
            when only some batches failed, carrying the rows that arrived.
        """
        ids, options = self._objects_args(object_id, columns, withupperlim, withcutouts,
                                          cutout_kind, output_format, prefix)
        if progress is not None:
            _validate.flag(progress, "progress")
        size = int(conf.batch_size_cutouts if withcutouts else conf.batch_size)
        batches = [ids[i:i + max(size, 1)] for i in range(0, len(ids), max(size, 1))]
        payloads = [_validate.objects_payload(b, **options) for b in batches]
        if get_query_payload:
            return payloads[0] if len(payloads) == 1 else payloads

        fmt = options["output_format"]
        tables, errors = self._run_batches(batches, payloads, fmt, withupperlim, progress,
                                           cache, timeout)
        table = _merge(tables, options["columns"])
        table.meta.update({
            "server": (self.server or conf.server), "endpoint": "/api/v1/objects",
            "payload": payloads[0] if len(payloads) == 1 else payloads,
            "query_time": datetime.now(UTC).isoformat(timespec="seconds"),
        })
        _warn_if_capped(table)
        if errors:
            errors.sort(key=lambda item: ids.index(item[0][0]))  # in the order asked
            failed = [i for b, e in errors for i in b]
            raise PartialResultError(
                f"{len(failed)} of {len(ids)} objects could not be fetched "
                f"({_first_error(errors)}); their IDs are in .failed_ids and the "
                f"{len(table)} rows that arrived are in .table",
                table=table, failed_ids=failed,
                errors={i: e for b, e in errors for i in b})
        if len(table) == 0:
            warnings.warn(f"Fink has no alerts for {', '.join(ids[:5])}"
                          f"{' ...' if len(ids) > 5 else ''}", NoResultsWarning, stacklevel=2)
        return table

    def _run_batches(self, batches, payloads, fmt, mixed, progress, cache, timeout):
        """Fetch every batch with bounded concurrency; keep results in batch order."""
        url, cache, timeout = self._url("objects"), self._cache(cache), self._timeout(timeout)

        def one(payload):
            def parse(response):
                return parse_objects(response.content, fmt, mixed_types=mixed)

            table = fetch(self, "POST", url, payload, parse,
                             what="objects", cache=cache, timeout=timeout,
                             is_empty=lambda t: len(t) == 0)
            return table

        results, errors = [None] * len(batches), []
        if len(batches) == 1:
            results[0] = one(payloads[0])  # errors propagate as they are
            return results, errors
        bar = _progress_bar(len(batches), progress)
        workers = max(1, min(int(conf.max_workers), len(batches)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(one, p): k for k, p in enumerate(payloads)}
            for future in as_completed(futures):
                k = futures[future]
                try:
                    results[k] = future.result()
                except Exception as err:  # noqa: BLE001 - every failure is reported with its IDs
                    errors.append((batches[k], err))
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return [r for r in results if r is not None], errors

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
        """
        if not isinstance(object_id, str) or "," in object_id:
            raise InvalidQueryError(
                f"get_cutouts takes one ZTF object name, not {object_id!r}; loop over objects, "
                "or use query_object(..., withcutouts=True) for many")
        [oid] = _validate.object_ids(object_id)
        chosen = _validate.cutout_kind(kind)
        kinds = (chosen,) if chosen else _validate.CUTOUT_KINDS
        if candid is not None:
            candid = _validate.candid(candid)
        alert = self._alert(oid, candid, cache, timeout)
        cache, timeout = self._cache(cache), self._timeout(timeout)
        url = self._url("cutouts")
        base = {"objectId": oid, "candid": str(alert["i:candid"])}

        if as_array:
            payload = dict(base, kind=chosen or "All", **{"output-format": "array"})
            arrays = fetch(self, "POST", url, payload, lambda r: _cutout_arrays(r.content),
                              what="cutouts", cache=cache, timeout=timeout)
            out = {k: arrays[f"b:cutout{k}_stampData"] for k in kinds}
            return out[chosen] if chosen else out

        hdus = [fits.PrimaryHDU()]
        for k in kinds:
            payload = dict(base, kind=k, **{"output-format": "FITS"})
            stamp = fetch(self, "POST", url, payload, lambda r: _fits_from(r.content),
                             what="cutouts", cache=cache, timeout=timeout)
            hdus.append(_stamp_hdu(stamp, k, alert))
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
        payload = {}
        schema = fetch(self, "GET", self._url("schema"), payload, lambda r: loads_json(r.content),
                       what="schema", cache=self._cache(cache), timeout=self._timeout(timeout))
        if not isinstance(schema, dict) or not all(
                isinstance(fields, dict) and all(isinstance(e, dict) for e in fields.values())
                for fields in schema.values()):
            raise RemoteServiceError(f"Unexpected /schema answer: {str(schema)[:200]}")
        known = _schema.columns()
        rows = []
        for category, fields in schema.items():
            family = _schema.CATEGORY_FAMILY.get(category, category.rsplit("(", 1)[-1][:1])
            for field, entry in fields.items():
                name = f"{family}:{field}"
                stype = entry.get("type")
                stype = "|".join(stype) if isinstance(stype, list) else str(stype)
                unit = known[name].unit if name in known else None
                rows.append((name, family, stype, "" if unit is None else unit.to_string(),
                             entry.get("doc", "")))
        table = Table(rows=rows, names=("name", "family", "type", "unit", "description"),
                      dtype=(str, str, str, str, str))
        table.sort("name")
        table.meta.update({"server": self.server or conf.server, "endpoint": "/api/v1/schema"})
        return table


def _merge(tables, columns) -> Table:
    tables = [t for t in tables if len(t)]
    if not tables:
        names = columns or []
        from ._tables import typed_column
        return Table([typed_column(n, []) for n in names], masked=True)
    table = tables[0] if len(tables) == 1 else vstack(tables, join_type="outer",
                                                      metadata_conflicts="silent")
    if len(tables) > 1:
        table = _unique_rows(table)
    if "i:jd" in table.colnames:
        # The server's order: i:jd descending over all objects. Its order among equal jds
        # is undefined; ours is fixed (objectId, then candid), so that a query gives the same
        # Table however its IDs were batched.
        keys = [np.ma.filled(table["i:jd"].astype(float), -np.inf) * -1]
        for name in ("i:objectId", "i:candid"):
            if name in table.colnames:
                keys.insert(0, np.ma.filled(table[name]))
        table = table[np.lexsort(keys)]
    return table


def _unique_rows(table) -> Table:
    """One row per server row key: batches of overlapping prefixes can repeat objects.

    The server keys a row by objectId and jd, in its alert table and in each of its
    upper-limit and bad-quality tables (FINK_API.md 2.4), so the key here includes d:tag.
    """
    key_names = [n for n in ("i:objectId", "i:jd", "d:tag") if n in table.colnames]
    if len(key_names) < 2:
        return table
    keys = [tuple(row) for row in zip(*(np.ma.filled(table[n]).tolist() for n in key_names),
                                      strict=True)]
    first = list({k: i for i, k in reversed(list(enumerate(keys)))}.values())
    return table if len(first) == len(table) else table[sorted(first)]


# The server keeps at most this many alert rows per requested ID (FINK_API.md 1.1, NLIMIT).
_SERVER_ROW_LIMIT = 10_000


def _warn_if_capped(table) -> None:
    """Say so when an object hit the server's row cap: its oldest rows only came back."""
    if "i:objectId" not in table.colnames or len(table) < _SERVER_ROW_LIMIT:
        return
    names = np.asarray(table["i:objectId"])
    if "d:tag" in table.colnames:  # each kind of row has its own cap
        names = np.char.add(names, np.char.add("/", np.asarray(table["d:tag"].filled(""))
                                               if hasattr(table["d:tag"], "filled")
                                               else np.asarray(table["d:tag"])))
    uniq, counts = np.unique(names, return_counts=True)
    capped = sorted({u.split("/")[0] for u in uniq[counts >= _SERVER_ROW_LIMIT]})
    if capped:
        warnings.warn(
            f"{', '.join(capped)} reached the server's limit of {_SERVER_ROW_LIMIT} rows per "
            "object: only the oldest rows came back; use Fink's Data Transfer service for "
            "complete histories", MaxResultsWarning, stacklevel=3)


def _first_error(errors) -> str:
    return str(errors[0][1])


def _progress_bar(total, progress):
    if progress is None:
        progress = total > 1 and sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        from astropy.utils.console import ProgressBar
        return _AstropyBar(ProgressBar(total, ipython_widget=False, file=sys.stderr))
    return tqdm(total=total, unit="batch", desc="Fink objects", file=sys.stderr)


class _AstropyBar:
    def __init__(self, bar):
        self._bar = bar

    def update(self, n):
        self._bar.update()

    def close(self):
        self._bar.__exit__(None, None, None)


def _fits_from(content: bytes):
    try:
        hdul = fits.open(io.BytesIO(content), ignore_missing_simple=True)
        hdul.verify("silentfix")
        return hdul[0]
    except OSError as err:
        raise RemoteServiceError(f"Fink's cutout is not a FITS file: {content[:100]!r}") from err


def _cutout_arrays(content: bytes) -> dict:
    data = loads_json(content)
    if isinstance(data, list) and len(data) == 1:
        data = data[0]  # the answer's layout before 2024-11-25 (FINK_API.md 5)
    if not isinstance(data, dict):
        raise RemoteServiceError(f"Unexpected /cutouts answer: {str(data)[:200]}")
    return {k: np.array(v, dtype=np.float32) for k, v in data.items()}


Fink = FinkClass()
