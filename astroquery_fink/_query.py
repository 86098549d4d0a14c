# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The query machinery every Fink endpoint of both surveys shares.

validate (in the survey modules) -> `Plan` (IDs in batches, payloads) -> requests run
concurrently and retried (`_batch`, `_http`) -> parsed into typed Tables (`_tables`) ->
checked, merged, sorted and reported on (`_merge`). A public method is written once; its
``_async`` twin (`raw_twin`) runs the same code and returns the raw responses instead.
"""
import contextvars
import functools
import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
from astropy.table import Table
from astroquery.exceptions import (
    InvalidQueryError,
    NoResultsWarning,
    RemoteServiceError,
    TableParseError,
)
from astroquery.query import BaseQuery

from . import __version__, _merge, _sky, _validate, conf
from ._batch import run_all
from ._endpoint import Endpoint
from ._errors import shown, warn
from ._hints import RawAnswer
from ._http import Lanes, fetch, one_call, unreachable
from ._schema import SCHEMAS
from ._session import EnvironmentOnce, Session, when_logged
from ._tables import Decoded, build, combine, decode, typed_column
from ._validate import flag, server_url, timeout_seconds
from .exceptions import ErrorAnswerError, PartialResultError, TruncatedAnswerError

__all__: list[str] = []


# Set while an ``_async`` twin runs its Table method: `FinkQuery._answer` then sends the plan
# and returns the responses unparsed.
_RAW = contextvars.ContextVar("astroquery_fink_raw", default=False)

# Answers of at least this many rows are typed as they arrive (see `FinkQuery._table`).
_TYPED_AT_ONCE = 200


@dataclass
class Plan:
    """One call of a public method, ready to send: what to ask, and what to make of it.

    Attributes
    ----------
    endpoint : Endpoint
        The endpoint's declaration.
    payloads : list of dict
        One JSON body per request (several when IDs are sent in batches).
    batches : list of list
        The requested IDs of each payload (``[[]]`` for a request without IDs).
    output_format : str
        The wire format asked for (``json``, ``csv``, ``votable`` or ``parquet``), written
        into each payload as ``output-format``.
    prefix : bool
        IDs are prefixes (rows belong to the ID they start with).
    mixed_types : bool
        Some columns hold numbers as text in some rows (ZTF's upper-limit rows).
    columns : list of str, optional
        The ``columns`` selection sent (an empty answer gets these columns).
    added_columns : tuple of str
        Columns the client added to a ``columns`` selection for its own checks (row key,
        ID column), removed from the result.
    labels : list, optional
        One value per request, written in column ``label_column`` of that request's rows
        (e.g. the index of the input position of a cone search), as astroquery's xmatch does.
    label_column : str
        The name of that column.
    """

    endpoint: Endpoint
    payloads: list[dict]
    batches: list[list] = field(default_factory=lambda: [[]])
    output_format: str = "json"
    prefix: bool = False
    mixed_types: bool = False
    columns: list[str] | None = None
    added_columns: tuple[str, ...] = ()
    labels: list | None = None
    label_column: str = "input_index"

    def __post_init__(self):
        # the wire format travels in each body as the servers' ``output-format``, written
        # here only, so that a body and the parsing of its answer cannot disagree
        for payload in self.payloads:
            payload["output-format"] = self.output_format

    @property
    def ids(self) -> list:
        return [i for batch in self.batches for i in batch]

    def query_payload(self) -> dict | list[dict]:
        """``get_query_payload``: the body for one request, a list of bodies for several."""
        return self.payloads[0] if len(self.payloads) == 1 else list(self.payloads)


def batched(endpoint: Endpoint, ids: Sequence, payload: dict, *, size: int | None = None
            ) -> tuple[list[list], list[dict]]:
    """Split ``ids`` into batches of at most ``conf.<endpoint.batch_size>`` (or ``size``) and
    write each batch's payload: ``payload`` plus the batch's IDs joined by commas under
    ``endpoint.ids``.

    The batches are near equal (101 IDs at 50 -> 34, 34, 33, not 50, 50, 1), and when there
    are several their number is rounded up to a multiple of ``conf.max_workers`` (at most one
    batch per ID), so that every worker gets the same work and the query ends with the last
    of equal requests rather than one long request alone.
    """
    size = size if size is not None else _validate.count_setting(endpoint.batch_size)
    n = len(ids)
    count = -(-n // size)
    if count > 1:
        workers = _validate.count_setting("max_workers")
        count = min(n, -(-count // workers) * workers)
    # the first n % count batches take one ID more (as numpy's array_split)
    small, extra = divmod(n, count) if count else (0, 0)
    bounds = np.cumsum([0] + [small + (k < extra) for k in range(count)])
    batches = [list(ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    payloads = [{endpoint.ids: ",".join(map(str, batch)), **payload} for batch in batches]
    return batches, payloads


def columns_argument(columns: list[str] | None) -> dict:
    """The server's ``columns`` argument for a selection (comma-joined; none for all)."""
    return {} if columns is None else {"columns": ",".join(columns)}


def with_columns(endpoint: Endpoint, columns: list[str] | None, options: dict,
                 client_columns: Sequence[str] = ()) -> tuple[list[str] | None, tuple[str, ...]]:
    """A ``columns`` selection completed with what the server needs for the options on
    (kept in the result, as documented) and what the client needs for its checks (removed
    from the result); returns the selection and the names the client added for itself."""
    if columns is None:
        return None, ()
    selection = list(columns) + [c for c in endpoint.needed_columns(options)
                                 if c not in columns]
    if endpoint.ids and endpoint.id_column is None:
        # batched names whose rows say nothing of the name asked (Solar System names): two
        # names of one object give its rows twice, dropped by their row key
        client_columns = (*client_columns, *endpoint.row_key)
    if endpoint.scan_column:  # caps are counted per server scan
        client_columns = (*client_columns, endpoint.scan_column)
    if endpoint.ids:
        # the columns the rows are sorted by (the server sorts only when they come); every
        # row of a requested ID holds them, so the rows that come back stay the same
        client_columns = (*client_columns, *(c for c, _ in endpoint.sort
                                             if c[:2] in ("i:", "d:", "r:", "f:")))
    mine = tuple(dict.fromkeys(c for c in client_columns if c not in selection))
    return selection + list(mine), mine


# The keywords every query method shares, documented once: `FinkQuery.__init_subclass__`
# adds them to the Parameters of each public method that takes them and does not say more.
SHARED_PARAMETERS = {
    "output_format": ("{None, 'json', 'csv', 'votable', 'parquet'}, optional",
                      "Wire format (the server's ``output-format``); all give the same Table. "
                      "Default {default}."),
    "progress": ("bool, optional",
                 "Show a progress bar while several requests run. Default: only in an "
                 "interactive terminal."),
    "get_query_payload": ("bool, optional",
                          "Return the request body (a dict, or a list of dicts when several "
                          "requests would be sent) instead of sending it."),
    "cache": ("bool, optional",
              "Use astroquery's cache for this call; default: "
              "``astroquery.cache_conf.cache_active``. Answers live ``conf.cache_timeout`` "
              "seconds; empty and failed answers, and those of a server on this machine or "
              "a local network, are never cached."),
    "timeout": ("float, optional",
                "Seconds allowed for one whole HTTP request (default: the client's "
                "``timeout``, else ``conf.timeout``); the whole call, all its requests and "
                "their retries, takes at most ``conf.retry_total_time``."),
}


def _with_shared_parameters(method: Callable, shared: dict) -> None:
    """Add the ``shared`` parameters a method takes, and does not document, to its
    docstring's Parameters (made if missing), before its Returns."""
    missing = [name for name in inspect.signature(method).parameters if name in shared]
    lines = (method.__doc__ or "").split("\n")
    returns = [k for k, line in enumerate(lines) if line.strip() == "Returns"]
    if not missing or not returns:
        return
    indent = lines[returns[0]][:len(lines[returns[0]]) - len(lines[returns[0]].lstrip())]
    heads = [k for k, line in enumerate(lines) if line.strip() == "Parameters"]
    documented = {name.strip() for line in lines[heads[0] if heads else 0:returns[0]]
                  if line.startswith(indent) and not line.startswith(indent + " ")
                  for name in line.split(" : ")[0].split(",")}
    added = [] if heads else ["", f"{indent}Parameters", f"{indent}----------"]
    for name in (n for n in missing if n not in documented):
        kind, text = shared[name]
        added.append(f"{indent}{name} : {kind}")
        added += [indent + "    " + part for part in textwrap.wrap(text, 88 - len(indent))]
    if len(added) > (0 if heads else 3):
        at = returns[0] - 1  # the blank line before Returns
        method.__doc__ = "\n".join(lines[:at] + added + lines[at:])


def _bounded_in_time(method: Callable) -> Callable:
    """A public method as one call for ``conf.retry_total_time``, which bounds all of its
    requests together (`astroquery_fink._http.one_call`)."""
    @functools.wraps(method)
    def bounded(*args, **kwargs):
        with one_call():
            return method(*args, **kwargs)
    return bounded


# The constructor's arguments, documented once: `FinkQuery.__init_subclass__` appends them
# to each client class's docstring, with the survey's `conf` item and emulator command.
_CONSTRUCTOR_DOC = """
    Parameters
    ----------
    server : str, optional
        Base URL of a Fink API deployment for this survey, e.g. ``"http://127.0.0.1:5000"``
        for the bundled emulator (``{emulator}``). Defaults to
        ``astroquery_fink.conf.{server_conf}``, read at each call.
    timeout : float, optional
        Seconds allowed for one whole HTTP request (name lookup, connection, headers and
        body). Defaults to ``astroquery_fink.conf.timeout``.

    Raises
    ------
    astroquery.exceptions.InvalidQueryError
        If ``server`` is not an http(s) URL or ``timeout`` is not a positive number.
    """


#: What a client class declares about its survey (see `FinkQuery`).
_SURVEY_ATTRIBUTES = ("_server_conf", "_emulator", "_output_format_default")


class _CheckedSetting:
    """A client setting checked when set, also after construction (``Fink.server = ...``),
    as the constructor checks it; None stands for the ``conf`` setting."""

    def __init__(self, check: Callable, doc: str):
        self.check, self.__doc__ = check, doc

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_setting_" + name  # not "_" + name: _server() and _timeout() are methods

    def __get__(self, client, owner=None):
        return self if client is None else getattr(client, self.slot, None)

    def __set__(self, client, value) -> None:
        setattr(client, self.slot, None if value is None else self.check(client, value))


class FinkQuery(BaseQuery):
    """What every Fink client shares: server, time limits, cache switch, and `Plan` runs.

    A survey's client declares its survey in class attributes, required for a subclass (a
    forgotten one would send its queries to another survey's server):

    - ``_server_conf``: the `~astroquery_fink.conf` item naming its server, read at each call;
    - ``_emulator``: the command starting its bundled emulator, for the docs;
    - ``_output_format_default``: its default wire format and why, for the docs.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for attribute in _SURVEY_ATTRIBUTES:
            if not isinstance(getattr(cls, attribute, None), str):
                raise TypeError(f"{cls.__name__} must declare its survey's {attribute} (text)")
        if cls.__doc__ and "Parameters\n" not in cls.__doc__:
            # numpydoc's order: the summary, Parameters and Raises, then any Examples
            summary, examples, rest = cls.__doc__.rstrip().partition("\n    Examples\n")
            cls.__doc__ = summary.rstrip() + "\n" + _CONSTRUCTOR_DOC.format(
                emulator=cls._emulator, server_conf=cls._server_conf) + examples + rest
        kind, text = SHARED_PARAMETERS["output_format"]
        shared = {**SHARED_PARAMETERS, "output_format": (
            kind, text.replace("{default}", cls._output_format_default))}
        for name, member in list(vars(cls).items()):
            if inspect.isfunction(member) and not name.startswith("_"):
                if not name.endswith("_async"):
                    _with_shared_parameters(member, shared)
                setattr(cls, name, _bounded_in_time(member))

    def __init__(self, *, server: str | None = None, timeout: float | None = None):
        super().__init__()
        self.server = server
        self.timeout = timeout
        session, self._session = self._session, Session()  # see _session.py
        self._session.headers.update(session.headers)
        self._session.hooks = {event: [when_logged(hook) for hook in hooks]  # its debug log
                               for event, hooks in session.hooks.items()}
        session.close()
        self._session.headers["User-Agent"] += f" astroquery_fink/{__version__}"

    server = _CheckedSetting(
        lambda client, value: server_url(value, client._default_server()),
        "The base URL this client queries; None for its survey's ``conf`` setting.")
    timeout = _CheckedSetting(lambda client, value: timeout_seconds(value),
                              "Seconds one request may take; None for ``conf.timeout``.")

    # ------------------------------------------------------------------ settings
    def _server(self) -> str:
        return (self.server or server_url(getattr(conf, self._server_conf),
                                          self._default_server())).rstrip("/")

    def _default_server(self) -> str:
        """The survey's public server: its ``conf`` item's default."""
        return getattr(type(conf), self._server_conf).defaultvalue

    def _url(self, endpoint: Endpoint) -> str:
        return f"{self._server()}/api/v1/{endpoint.path}"

    def _timeout(self, timeout) -> float:
        if timeout is not None:
            return timeout_seconds(timeout)
        if self.timeout is not None:
            return self.timeout
        return timeout_seconds(conf.timeout, "astroquery_fink.conf.timeout")

    @staticmethod
    def _cache(cache) -> bool:
        # cache=None follows astroquery's global switch (astroquery.cache_conf.cache_active).
        if cache is None:
            from astroquery import cache_conf
            return bool(cache_conf.cache_active)
        return flag(cache, "cache")

    # ------------------------------------------------------------------ running plans
    @staticmethod
    def _unparsed(get_query_payload: bool) -> bool:
        """Whether the caller wants the payload or the raw responses, not the Table."""
        return flag(get_query_payload, "get_query_payload") or _RAW.get()

    def _answer(self, plan: Plan, get_query_payload: bool, *, cache=None, timeout=None,
                progress=None):
        """What the public method (or its ``_async`` twin) returns for a plan: the payload,
        the raw responses, or the Table. Every option is checked also when only the payload
        is asked for."""
        self._cache(cache)
        self._timeout(timeout)
        _check_progress(progress)
        if flag(get_query_payload, "get_query_payload"):
            return plan.query_payload()
        if _RAW.get():
            _RAW.set(False)  # used up: calls made meanwhile (a hook's own query) get Tables
            return self._responses(plan, cache=cache, timeout=timeout, progress=progress)
        return self._table(plan, cache=cache, timeout=timeout, progress=progress)

    def _fetch(self, endpoint: Endpoint, payload: dict | None, parse: Callable, *,
               cache=None, timeout=None):
        """One request to ``endpoint``; ``parse(response)`` is returned."""
        return fetch(self, endpoint.method, self._url(endpoint), payload, parse,
                     what=endpoint.what, cache=self._cache(cache),
                     timeout=self._timeout(timeout))

    def _responses(self, plan: Plan, *, cache=None, timeout=None, progress=None):
        """The raw responses of a plan (the ``_async`` methods): one, or a list for several
        requests; failures raise as in `_table` (a `PartialResultError` carries the rest)."""
        _check_progress(progress)
        schema = SCHEMAS[plan.endpoint.schema]()

        def parse(response):
            # read as the Table methods read it, so that a cut answer is tried again, and a
            # body they would refuse is returned as it came but not cached
            try:
                _merge.check_described(decode(response.content, plan.output_format,
                                              schema=schema, mixed_types=plan.mixed_types),
                                       plan.endpoint, plan.columns, schema)
            except TruncatedAnswerError:
                raise
            except (RemoteServiceError, TableParseError):
                return response, False
            return response, response.content.strip() not in (b"", b"[]")

        # one response per request of the plan (no halves of failed requests here: the
        # caller gets what get_query_payload shows)
        results, errors = self._run(plan, parse, cache, timeout, progress,
                                    empty=lambda result: not result[1])
        results = [None if r is None else r[0] for r in results]
        if errors:
            raise self._partial(plan, errors, Table(),
                                responses=[r for r in results if r is not None], raw=True)
        return results[0] if len(results) == 1 else results

    def _table(self, plan: Plan, *, cache=None, timeout=None, progress=None) -> Table:
        """The merged, typed Table of a plan, with meta and the warnings it deserves."""
        _check_progress(progress)
        endpoint = plan.endpoint
        schema = SCHEMAS[endpoint.schema]()

        def parse(response):
            # Small answers are only decoded, and typed once all together below (typing is
            # most of a small answer's cost); large ones are typed now, in this worker
            # thread, while the other requests wait on the server.
            decoded = decode(response.content, plan.output_format, schema=schema,
                             mixed_types=plan.mixed_types)
            return decoded.typed_now(schema) if len(decoded) >= _TYPED_AT_ONCE else decoded

        asked = plan
        plan, results, errors = self._run_isolating(plan, parse, cache, timeout, progress,
                                                    empty=lambda d: len(d) == 0, schema=schema)
        if plan.labels is not None:
            results = [d if d is None or not len(d) else
                       d.with_column(plan.label_column, np.full(len(d), label))
                       for label, d in zip(plan.labels, results, strict=True)]
        cut = []
        labels = ([f"{plan.label_column} {label}" for label in plan.labels]
                  if plan.labels is not None and len(plan.labels) > 1 else [None] * len(results))
        for batch, payload, part, label in zip(plan.batches, plan.payloads, results, labels,
                                               strict=True):
            if part is not None:
                cut += _merge.warn_if_cut(part, endpoint, batch, payload, prefix=plan.prefix,
                                          schema=schema, label=label)
        answers = [d for d in results if d is not None and len(d)]
        try:
            # one row per row key (answers may overlap), in the server's order
            table = build(combine(answers), schema, rows=lambda columns: _merge.server_rows(
                columns, endpoint, unique=len(answers) > 1))
        except (TableParseError, RemoteServiceError):
            raise
        except Exception as err:  # noqa: BLE001 - a value the schema's type cannot hold
            raise TableParseError(f"Fink's {endpoint.what} answers could not be typed: "
                                  f"{type(err).__name__}: {str(err)[:300]}") from err
        if not table.colnames and plan.columns:  # an empty answer: the columns asked for
            table = Table([typed_column(n, [], schema=schema) for n in plan.columns],
                          masked=True)
        if plan.labels is not None and plan.label_column not in table.colnames:
            # no row at all: the column still says where rows would come from
            table[plan.label_column] = np.zeros(len(table), dtype=np.int64)
        ids = [i for b, t in zip(plan.batches, results, strict=True) if t is not None for i in b]
        if endpoint.id_column is None:  # rows do not name the ID asked: batches without rows
            missing = [i for b, t in zip(plan.batches, results, strict=True)
                       if t is not None and not len(t) for i in b]
        else:
            missing = _merge.missing_ids(table, endpoint, ids, prefix=plan.prefix) if ids \
                else []
        rows = len(table)
        sent = str(plan.payloads[0].get("columns", "")).split(",")
        selected = [c for c in plan.columns or () if c not in plan.added_columns and c in sent]
        # selected names the rows lack: a column the schema knows has no value in any row
        # (HBase sends no cell for a missing value): it comes masked, and the rows stay;
        # a name it does not know the server ignores (warned about before the request)
        lacking = [c for c in selected if c not in table.colnames] if rows else []
        for name in lacking:
            if name in schema:
                table[name] = typed_column(name, [None] * rows, schema=schema)
        table.remove_columns([c for c in plan.added_columns if c in table.colnames])
        # rows came, but none of the selected names: they are all unknown (the rows may
        # keep only the columns every selection gets, e.g. i:ssnamenr and sso_name; where
        # the schema does not describe the columns, a name may also be one without values)
        always = endpoint.needed_columns({})
        chosen = [c for c in selected if c not in always]
        unmatched = bool(chosen) and rows > 0 and (not table.colnames or endpoint.described and
                                                   not any(c in table.colnames for c in chosen))
        if unmatched and not table.colnames:
            table = Table([typed_column(n, [], schema=schema) for n in selected], masked=True)
        table.meta.update({
            "server": self._server(), "endpoint": f"/api/v1/{endpoint.path}",
            "payload": asked.query_payload(),
            "query_time": datetime.now(UTC).isoformat(timespec="seconds"),
        })
        if ids:
            table.meta["missing_ids"] = missing
        if cut:
            table.meta["cut"] = cut
        if errors:
            raise self._partial(plan, errors, table)
        if unmatched:
            warn(
                f"Fink has rows for this {endpoint.what} query but none of the selected "
                f"columns ({', '.join(chosen)}): the server ignores names it does not know; "
                "check them (get_schema lists the columns) or leave columns out",
                NoResultsWarning)
        else:
            _warn_if_columns_lack(lacking, endpoint, schema)
        _warn_if_empty(rows, plan, missing)
        _warn_if_cells_empty(table, schema)
        return table

    # ------------------------------------------------------------------ shared searches
    def _skymap_search(self, endpoint: Endpoint, event_name, bayestar, credible_level,
                       n_day_before, n_day_after, output_format, get_query_payload, cache,
                       timeout):
        """A sky-map search (``/api/v1/skymap``), which both surveys' servers run alike
        (fink-object-api apps/routes/v1/{ztf,lsst}/skymap/utils.py): the arguments of
        `_sky.skymap_arguments`; json by default, as a GraceDB failure is answered as the
        one-row table ``{"status": <GraceDB's answer, bytes>}``, which parquet cannot carry
        as text; that failure raised as `InvalidQueryError` naming the event."""
        payload = _sky.skymap_arguments(event_name, bayestar, credible_level, n_day_before,
                                        n_day_after)
        fmt = "json" if output_format is None else _validate.output_format(output_format)
        plan = Plan(endpoint, [payload], output_format=fmt)
        if self._unparsed(get_query_payload):
            return self._answer(plan, get_query_payload, cache=cache, timeout=timeout)
        try:
            table = self._table(plan, cache=cache, timeout=timeout)
        except ErrorAnswerError as err:
            if event_name is None:
                raise
            raise InvalidQueryError(
                f"No sky map of {shown(event_name)} came from GraceDB (the server's answer: {err})"
            ) from None
        return table

    def _run(self, plan: Plan, parse, cache, timeout, progress, *, empty, schema=None):
        endpoint = plan.endpoint
        url, cache, timeout = self._url(endpoint), self._cache(cache), self._timeout(timeout)

        # At most conf.max_workers requests on the wire at once; twice as many threads, so
        # that parsing an answer does not hold back the next request.
        at_once = _validate.count_setting("max_workers")
        lanes = Lanes(at_once)
        environment = EnvironmentOnce(self._session)  # proxies etc. read once (_session.py)

        def one(k: int):
            def checked(response):
                result = parse(response)
                if isinstance(result, Decoded):  # is it this endpoint's answer at all?
                    _merge.check_described(result, endpoint, plan.columns, schema)
                if isinstance(result, Decoded) and plan.batches[k]:
                    _merge.check_rows_belong(result, endpoint, plan.batches[k],
                                             prefix=plan.prefix, schema=schema)
                if isinstance(result, Decoded):
                    _merge.check_rows_asked(result, endpoint, plan.payloads[k], schema)
                    _merge.check_row_counts(result, endpoint, plan.batches[k],
                                            plan.payloads[k], prefix=plan.prefix,
                                            schema=schema)
                return result

            with environment.applied():
                return fetch(self, endpoint.method, url, plan.payloads[k], checked,
                             what=endpoint.what, cache=cache, timeout=timeout,
                             is_empty=empty, lanes=lanes)

        def give_up(successes: int, failures: dict) -> Exception | None:
            # as many requests as run at once could not connect, and none got an answer:
            # the server is down or unreachable, and is not sent the rest (timeouts do not
            # count: a heavy batch may time out on a server that answers the others)
            if successes or len(failures) < at_once or not all(map(unreachable,
                                                                     failures.values())):
                return None
            return RemoteServiceError(
                f"not sent: Fink could not be reached by the first {len(failures)} "
                f"{endpoint.what} requests ({next(iter(failures.values()))})")

        return run_all(range(len(plan.payloads)), one, max_workers=2 * at_once,
                       progress=progress, label=f"Fink {endpoint.what}", cancel=lanes.cancel,
                       give_up=give_up)

    def _run_isolating(self, plan: Plan, parse, cache, timeout, progress, *, empty,
                       schema=None) -> tuple[Plan, list, dict]:
        """`_run`, then the IDs of each request the server failed on (HTTP 500, e.g. one
        object whose data it cannot serialise) asked again in halves, and so on, so that
        such an object does not lose the rows of the others sent with it.

        A server that fails whatever it is sent is sent few more: halving stops at a level
        of four requests or more of which none was answered while no request of the query
        was; and the halves of a query are at most 16 + twice its requests. Returns the
        plan as run (its batches and payloads, each failed request replaced by its halves,
        in the input's order), the results and the failures.
        """
        def run(part: Plan):
            return self._run(part, parse, cache, timeout, progress, empty=empty,
                             schema=schema)

        splittable = bool(plan.endpoint.ids) and plan.labels is None
        single = None
        try:
            results, errors = run(plan)
        except RemoteServiceError as err:  # a single request fails as itself
            if not (splittable and _failed_on_data(err) and len(plan.batches[0]) > 1):
                raise
            results, errors, single = [None], {0: err}, err
        if not splittable:
            return plan, results, errors
        groups = self._isolate(plan, results, errors, run, [16 + 2 * len(plan.payloads)],
                               answered=len(errors) < len(plan.payloads))
        if single is not None and all(error is not None for *_, error in groups[0]):
            raise single  # no half was answered either: the request's own failure
        flat = [request for group in groups for request in group]
        ran = replace(plan, batches=[b for b, *_ in flat], payloads=[p for _, p, *_ in flat])
        return ran, [r for _, _, r, _ in flat], {
            k: error for k, (*_, error) in enumerate(flat) if error is not None}

    def _isolate(self, plan: Plan, results: list, errors: dict, run, budget: list,
                 answered: bool) -> list[list[tuple]]:
        """For each request of ``plan``, the requests that stand for it as
        ``(batch, payload, result, error)``: itself, or its halves (and theirs).
        ``budget[0]`` is the number of halves still allowed."""
        groups = [[(plan.batches[k], plan.payloads[k], results[k], errors.get(k))]
                  for k in range(len(plan.payloads))]
        failing = [k for k in sorted(errors)
                   if len(plan.batches[k]) > 1 and _failed_on_data(errors[k])]
        if not answered and len(plan.payloads) >= 4:  # fails whatever it is sent
            return groups
        failing = failing[:budget[0] // 2]
        if not failing:
            return groups
        budget[0] -= 2 * len(failing)
        ids = plan.endpoint.ids
        halves = [half for k in failing for half in _halves(plan.batches[k])]
        payloads = [{**plan.payloads[k], ids: ",".join(map(str, half))}
                    for k in failing for half in _halves(plan.batches[k])]
        part = replace(plan, batches=halves, payloads=payloads)
        part_results, part_errors = run(part)  # two requests or more: failures returned
        answered = answered or len(part_errors) < len(payloads)
        part_groups = self._isolate(part, part_results, part_errors, run, budget, answered)
        for i, k in enumerate(failing):
            groups[k] = part_groups[2 * i] + part_groups[2 * i + 1]
        return groups

    def _partial(self, plan: Plan, errors: dict, table: Table, responses=(),
                 raw: bool = False) -> PartialResultError:
        failed_batches = sorted(errors)
        # what each failed request was for: its IDs, or its position's label (cone searches)
        keys = {k: plan.batches[k] if plan.batches[k] else
                [plan.labels[k]] if plan.labels is not None else [] for k in failed_batches}
        failed = [i for k in failed_batches for i in keys[k]]
        first = errors[failed_batches[0]]
        labelled = not plan.ids and plan.labels is not None
        what = plan.endpoint.items if failed else "requests"
        count = len(failed) if failed else len(failed_batches)
        total = len(plan.ids) if plan.ids else len(plan.payloads)
        table.meta["failed_ids"] = failed  # also in files written from the table
        error = PartialResultError(
            f"{count} of {total} {what} could not be fetched ({first}); "
            + (f"their {plan.label_column} values are in .failed_ids and " if labelled and
               failed else "their IDs are in .failed_ids and " if failed else "")
            + (f"the responses that arrived ({len(responses)}) are in .responses" if raw
               else f"the {len(table)} rows that arrived are in .table"),
            table=table, failed_ids=failed,
            errors={i: errors[k] for k in failed_batches for i in keys[k]},
            responses=responses)
        return error


def _warn_if_columns_lack(lacking: list, endpoint: Endpoint, schema) -> None:
    """Say which selected columns the rows lack: masked where the schema knows them (no
    row has a value); else absent (names the schema lacks were warned about before the
    request, where the schema describes the endpoint's columns)."""
    empty = [c for c in lacking if c in schema]
    unknown = [] if endpoint.described else [c for c in lacking if c not in schema]
    words = [f"no value in any row for {', '.join(empty)} (masked columns)"] if empty else []
    if unknown:
        words.append(f"no column {', '.join(unknown)}: the server sends none for a name it "
                     "does not know, nor where no row has a value; check the names "
                     "(get_schema lists the columns)")
    if words:
        warn(f"Fink's {endpoint.what} answer has " + "; and ".join(words), NoResultsWarning)


def _halves(batch: list) -> tuple[list, list]:
    return batch[:len(batch) // 2], batch[len(batch) // 2:]


def _failed_on_data(err: Exception) -> bool:
    """The server failed on the request's data (HTTP 500), which may be one object's."""
    return getattr(err, "status", None) == 500


def _warn_if_empty(rows: int, plan: Plan, missing: list) -> None:
    """Say that an answer has no rows at all, or which requested IDs have none."""
    ids, endpoint = plan.ids, plan.endpoint
    if rows == 0:
        if ids:
            shown = ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")
            warn(f"Fink has no {endpoint.rows} for {shown}", NoResultsWarning)
        else:
            hints = [endpoint.empty_hint] if endpoint.empty_hint else []
            if "columns" in plan.payloads[0]:
                # a search scan keeps only the rows holding a selected column: none, for
                # names the server does not know
                hints.append("or do its rows hold a value in the selected columns? the "
                             "server returns only those that do")
            hint = f" ({'; '.join(hints)})" if hints else ""
            warn(f"Fink's {endpoint.what} answer is empty{hint}", NoResultsWarning)
    elif missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        warn(f"{len(missing)} of {len(ids)} requested {endpoint.items} returned no "
             f"{endpoint.rows}: {shown} (all are in table.meta['missing_ids'])",
             NoResultsWarning)


def _warn_if_cells_empty(table: Table, schema) -> None:
    """Say which array cells (stamps) came empty: the server writes ``[]`` where it could
    not fetch a cutout (fink-object-api apps/utils/utils.py, download_cutout); such cells
    are masked, or have no pixel at all when no row has one. Upper-limit and bad-quality
    rows (``d:tag``) never have stamps: they are not counted."""
    # the rows to count, taken from the stamp columns only (a Table of every column is slow)
    valid = np.asarray(table["d:tag"]) == "valid" if "d:tag" in table.colnames else None
    empties = []
    for name in table.colnames:
        info = schema.get(name)
        if info is None or info.kind != "array" or table[name].ndim < 2:
            continue
        column = table[name] if valid is None else table[name][valid]
        if not len(column):
            continue
        if column.size == 0:
            empty = len(column)
        else:
            mask = np.ma.getmaskarray(column).reshape(len(column), -1)
            empty = int(mask.all(axis=1).sum())
        if empty:
            empties.append(f"{name} ({empty} of {len(column)} rows)")
    if empties:
        warn(f"Rows came without {', '.join(empties)}: the server could not fetch them; "
             "those cells are masked", NoResultsWarning)


def raw_twin(sync: Callable, path: str, *, several: bool = False) -> Callable:
    """The ``_async`` twin of a Table-returning method: the same arguments and checks, the
    same code run, but the raw responses returned (astroquery's ``_async`` convention).

    Parameters
    ----------
    sync : callable
        The Table-returning method; it ends in `FinkQuery._answer` (or tests
        `FinkQuery._unparsed` before parsing).
    path : str
        The endpoint's path after ``/api/v1/``.
    several : bool
        Whether one call may send several requests (IDs in batches, several positions).
    """
    many, some = (("requests", "response(s)") if several else ("request", "response"))
    bodies = "a dict, or a list of dicts for several requests" if several else "a dict"
    kinds = ("`requests.Response`, list of `requests.Response` or dict" if several
             else "`requests.Response` or dict")
    order = ("; one response when one request suffices, else a list, one per request in the "
             "order of the input" if several else "")
    partial = (" (`~astroquery_fink.exceptions.PartialResultError` keeps the responses that "
               "arrived in ``.responses``)" if several else "")
    name = sync.__name__
    signature = inspect.signature(sync)

    def twin(self, *args, **kwargs):
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as err:  # Python's message would name the Table method
            raise TypeError(f"{sync.__qualname__}_async(): {err}") from None
        token = _RAW.set(True)
        try:
            return sync(self, *args, **kwargs)
        finally:
            _RAW.reset(token)

    twin.__name__ = f"{name}_async"
    twin.__qualname__ = f"{sync.__qualname__}_async"
    twin.__module__ = sync.__module__
    twin.__signature__ = signature.replace(return_annotation=RawAnswer)
    twin.__doc__ = f"""Send the ``/api/v1/{path}`` {many} of `{name}`; return the raw {some}.

    Takes the arguments of `{name}`, and validates, batches and builds the payload exactly as
    it does (the same code runs); the answers are returned unparsed.

    Parameters
    ----------
    *args, **kwargs
        The arguments of `{name}`: the same names, defaults and checks.
    get_query_payload : bool, optional
        Return the request body ({bodies}) instead of sending it.

    Returns
    -------
    response : {kinds}
        The server's answer, unparsed{order}; retried on transient failures, failures
        raise as in `{name}`{partial}. The request body with ``get_query_payload=True``.
    """
    return twin


def _check_progress(progress) -> None:
    if progress is not None:
        flag(progress, "progress")
