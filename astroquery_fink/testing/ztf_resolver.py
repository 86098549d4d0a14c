"""Emulated ZTF ``/api/v1/resolver`` (fink-object-api ``apps/routes/v1/ztf/resolver``).

Answers are the raw HBase strings, not cast (the server decodes them with ``hbase_to_dict``
only). TNS rows come from the bundled ``tns_fixture.json`` (positions and types from the
loaded alerts), SIMBAD forward answers from ``sesame_fixture.json`` (standing for CDS Sesame),
``ssodnet`` from ``ztf.sso_resolver`` built from the SSO alerts and ``sso_names.json``; the
reverse resolvers read the alerts' cross-match fields.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from flask import Response

from ._hbase import prefix_scan, set_limit
from ._solar_data import SolarTables, fixture, frame, solar_tables
from .wire import Routes, ServerFailure, require, send_tabular, text

__all__ = ["ROUTES", "resolve_name", "identify", "ssnamenrs_of"]

_DOC_URL = "https://api.ztf.fink-portal.org"
#: The resolver route, registered by `app.create_app`.
ROUTES = Routes()


class ScanError(ServerFailure):
    """A scan the HBase client refuses (the server answers 500)."""


def _rows(table: dict, keys: list[str]) -> dict[str, dict]:
    return {k: table[k] for k in keys}


def _select(rows: dict[str, dict], columns: tuple[str, ...]) -> dict[str, dict]:
    return {k: {c: v for c, v in cells.items() if c in columns} for k, cells in rows.items()}


def resolve_name(tables: SolarTables, payload: Mapping, nlimit: int) -> pd.DataFrame:
    """What ``resolve_name`` of the server returns, before serialisation: rows indexed by
    their HBase keys, every cell a string (the calling convention: `ztf_solar`).

    Reads ``resolver``, ``name`` (required), ``reverse`` and ``nmax``. Fails wherever the
    server does (HTTP 500): an unknown resolver, a non-integer ``nmax``, ``nmax < 1`` for
    ``ssodnet``, a ``name`` that is not text, an empty reverse name.
    """
    resolver = payload["resolver"]
    name = payload["name"]
    nmax = payload.get("nmax", 10)
    # Only a JSON true enables reverse (`payload["reverse"] is True`).
    reverse = "reverse" in payload and payload["reverse"] is True

    if resolver == "tns":
        limit = set_limit(nmax)
        keys = tables.keys("tns")
        if name == "":
            found = keys[:limit]
        elif reverse:
            # ``key:key:_<name>:substring`` on ``fullname_internalname`` (lower-case keys;
            # the server's test finds ZTF23aaaahln with its capitals: case-insensitive).
            needle = f"_{name}".lower()
            found = [k for k in keys if needle in k][:limit]
        else:
            found = prefix_scan(keys, text(name, "name").lower(), limit)
        return frame(_rows(tables.tns, found), typed=False)
    if resolver == "simbad":
        if reverse:
            found = _main_scan(tables, name, set_limit(nmax))
            return frame(_select(_rows(tables.main, found), (
                "i:objectId", "d:cdsxmatch", "i:ra", "i:dec", "i:candid", "i:jd")), typed=False)
        # CDS Sesame, offline: names compared without case and spaces.
        records = fixture("sesame_fixture.json")["targets"].get(
            str(name).lower().replace(" ", ""), [])
        return pd.DataFrame(records) if records else pd.DataFrame()
    if resolver == "ssodnet":
        if reverse:
            found = _main_scan(tables, name, set_limit(nmax))
            pdf = frame(_select(_rows(tables.main, found), ("i:objectId", "i:ssnamenr")),
                        typed=False)
            if pdf.empty:
                return pdf
            rows = {}
            for ssnamenr in np.unique(pdf["i:ssnamenr"].to_numpy()):  # KeyError -> 500
                rows.update({k: v for k, v in tables.sso_resolver.items()
                             if v["i:ssnamenr"] == ssnamenr})
            return frame(dict(sorted(rows.items())), typed=False)
        if not isinstance(name, str):
            raise ScanError(f"name {name!r}: name.lower() needs text")
        if nmax == 1:
            # exact name: every ``name@n`` duplicate, scan limit left at its default
            found = prefix_scan(tables.keys("sso_resolver"), f"{name.lower()}@", nlimit)
        elif set_limit(nmax) > 1:  # a str nmax raises TypeError there
            found = prefix_scan(tables.keys("sso_resolver"), name.lower(), nmax)
        else:
            raise ScanError("nmax < 1: no scan defined (UnboundLocalError on the server)")
        return frame(_rows(tables.sso_resolver, found), typed=False)
    raise ScanError(f"unknown resolver {resolver!r} (UnboundLocalError on the server)")


def _main_scan(tables: SolarTables, name, limit: int) -> list[str]:
    if not isinstance(name, str) or name == "":
        # ``key:key:`` (or a non-text name) makes the HBase client raise -> 500
        raise ScanError(f"bad key prefix {name!r}")
    return prefix_scan(tables.keys("main"), name, limit)


def ssnamenrs_of(tables: SolarTables, sso_name, nlimit: int) -> list[str]:
    """``resolve_sso_name_to_ssnamenr``: the server asks its own resolver with ``nmax=1``.

    A failed inner request (e.g. a number given instead of a name) gives no ssnamenr.
    """
    try:
        pdf = resolve_name(tables, {"resolver": "ssodnet", "name": sso_name, "nmax": 1},
                           nlimit)
    except ServerFailure:
        return []
    if pdf.empty:
        return []
    return list(np.unique(pdf["i:ssnamenr"].to_numpy()))


def identify(tables: SolarTables, ident: str) -> tuple[str | None, int | float | None]:
    """Offline ``rocks.identify``: ``(name, number)``, or ``(None, nan)`` when unknown."""
    found = tables.names.get(ident.lower().replace(" ", ""))
    if found is None:
        return None, float("nan")
    return found


@ROUTES.route("/api/v1/resolver", "Resolve astronomical names to ZTF alert names, and vice-versa")
def _resolver(engine, payload) -> Response:
    require(payload, ["resolver", "name"], _DOC_URL)
    pdf = resolve_name(solar_tables(engine), payload, engine.nlimit)
    return send_tabular(pdf, payload.get("output-format", "json"))

