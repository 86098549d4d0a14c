# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`Endpoint`: what the client knows of one server endpoint, as a declaration.

Each survey module (`astroquery_fink.ztf`, `astroquery_fink.lsst`) declares its endpoints
with this class; the shared machinery (`astroquery_fink._query`) reads the declarations to
batch IDs, add the columns a query needs, merge, de-duplicate, sort and warn about the
server's limits. A new endpoint is one declaration plus one thin public method.
"""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__: list[str] = []

#: The start of Fink's operations: both servers' default start of a date range
#: (fink-object-api apps/routes/v1/ztf/latests/utils.py, lsst/tags/utils.py).
FINK_START = "2019-11-01 00:00:00"


@dataclass(frozen=True)
class Endpoint:
    """One server endpoint of a Fink API.

    Parameters
    ----------
    path : str
        The path after ``/api/v1/``, e.g. ``"objects"``.
    what : str
        Its name in messages (``"objects"``, ``"cone search"``).
    items : str
        What its IDs are, in messages (``"objects"``, ``"positions"``).
    rows : str
        What its rows are, in messages (``"alerts"``).
    method : str
        ``"POST"`` (a JSON body) or ``"GET"`` (no argument).
    ids : str, optional
        The wire argument taking a comma-separated list of IDs; such requests are sent in
        batches of ``conf.<batch_size>`` IDs, run concurrently and merged.
    batch_size : str
        Name of the `~astroquery_fink.Conf` item giving the IDs per request.
    id_column : str, optional
        The answer's column naming the ID each row belongs to: used to report the IDs that
        returned nothing, to refuse rows of IDs that were not asked for, and to count rows
        per ID against ``rows_per_id``.
    row_key : tuple of str
        Columns that identify a row on the server (its row key): one row per key is kept
        when batches overlap.
    sort : tuple of (str, bool)
        The server's order: ``(column, descending)`` pairs, applied after merging batches.
    tiebreak : tuple of str
        Columns ordering rows the server leaves tied, so that a result does not depend on
        how its IDs were batched.
    rows_per_id : int, optional
        The most rows the server gives per requested ID and per ``cap_group`` value (HBase
        scan limit): an ID that reaches it was cut, and a
        `~astroquery.exceptions.MaxResultsWarning` says so; an answer with more is refused.
    cut_at_rows_per_id : bool
        Whether an ID reaching ``rows_per_id`` was cut (a scan limit); False where that many
        is what every ID has (one summary row per object).
    cap_group : str, optional
        A column splitting the rows of one ID into separately capped scans (``d:tag``).
    scan_column : str, optional
        Where rows are not attributed to requested IDs (no ``id_column``): the column naming
        the server scan each row comes from (``i:ssnamenr`` for the objects that Solar
        System names resolve to); each scan is capped at ``rows_per_id``. Without it either,
        the whole answer is one scan.
    limit_arg : str, optional
        The argument capping the number of rows of an answer (``n``): an answer with exactly
        that many rows was cut, and a warning says so; one with more is refused.
    limit_default : int, optional
        The server's value of ``limit_arg`` when the request leaves it out.
    narrow_by : str
        How to narrow a query cut at ``limit_arg``, in the warning (``"a smaller radius"``).
    limit_per_scan : bool
        ``limit_arg`` (else ``rows_per_id``) caps each server scan (rows of one
        ``scan_column`` value), not the whole answer (Rubin's cone search, one scan per
        HEALPix pixel). Without a ``scan_column`` the rows do not say their scan (ZTF's cone
        search and sky map search): an answer of that many rows or more may be cut, and any
        number of rows may come.
    needs : mapping
        Option name -> columns the server needs in a ``columns`` selection for that option
        to work (``"*"`` for every query with a selection).
    schema : str
        Which column schema types the answer (a key of `astroquery_fink._schema.SCHEMAS`).
    filtered_after_limit : callable, optional
        ``reason(payload)``: how the server thins the rows after cutting at ``limit_arg``
        for that request (None if it does not), so that an answer with fewer rows than the
        limit may be cut too, and a warning says so.
    empty_hint : str, optional
        What to check when the answer has no row at all (e.g. the class name), added to the
        warning.
    strays : tuple of callable
        For rows not attributed to requested IDs: checks ``check(answer, payload, schema)``
        telling which rows of one answer its request did not ask for
        (`astroquery_fink._strays`); such an answer is refused.
    described : bool
        The schema describes the answer's columns, so that rows with none of them (all
        columns asked for) are not this endpoint's answer; False where the server's columns
        are not in it (statistics counters, name resolvers, SSO candidates).
    """

    path: str
    what: str
    items: str = "IDs"
    rows: str = "rows"
    method: str = "POST"
    ids: str | None = None
    batch_size: str = "batch_size"
    id_column: str | None = None
    row_key: tuple[str, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    tiebreak: tuple[str, ...] = ()
    rows_per_id: int | None = None
    cut_at_rows_per_id: bool = True
    cap_group: str | None = None
    scan_column: str | None = None
    limit_arg: str | None = None
    limit_default: int | None = None
    narrow_by: str = "a shorter date range"
    limit_per_scan: bool = False
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    schema: str = "ztf"
    described: bool = True
    strays: tuple[Callable, ...] = ()
    filtered_after_limit: Callable | None = None
    empty_hint: str | None = None

    def needed_columns(self, options: Mapping[str, object]) -> tuple[str, ...]:
        """The columns a selection must hold for the options that are on."""
        out: list[str] = list(self.needs.get("*", ()))
        for option, columns in self.needs.items():
            if option != "*" and options.get(option):
                out += columns
        return tuple(dict.fromkeys(out))
