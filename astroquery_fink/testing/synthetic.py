"""Alert files with many objects, derived from the bundled sample (for scale tests, benchmarks)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .store import bundled_data_files

__all__ = ["make_alert_file"]

#: Prefix of the synthetic object IDs: year "99" is never a real ZTF year.
_PREFIX = "ZTF99"
_LETTERS = 7
_PER_SEED = 1_000_000  # IDs reserved per seed
_MAX_SEED = 26**_LETTERS // _PER_SEED - 1
#: Synthetic candids: 9e18 + 1000 * (ID number) + index of the alert in its object.
_CANDID_BASE = 9 * 10**18
_PER_OBJECT = 1000


def _name(number: int) -> str:
    """``ZTF99`` + ``number`` written with 7 base-26 letters (``a`` = 0)."""
    letters = []
    for _ in range(_LETTERS):
        number, digit = divmod(number, 26)
        letters.append(chr(ord("a") + digit))
    return _PREFIX + "".join(reversed(letters))


def make_alert_file(path: str | os.PathLike, n_objects: int = 1000, *, seed: int = 0,
                    with_cutouts: bool = False) -> list[str]:
    """Write a Fink-processed parquet alert file with ``n_objects`` distinct objects.

    Each new object is a copy of one object of the bundled sample (`bundled_data_files`): all
    its alerts, with their histories (``prv_candidates``) and Fink fields, under a new object
    ID and new candids. The source objects are taken in random order (drawn from ``seed``),
    each once before any is taken again, so the copies are spread evenly over the sample.

    Parameters
    ----------
    path : path-like
        The parquet file to write (overwritten if it exists).
    n_objects : int
        Number of objects, 1 to 1 000 000 (default 1000).
    seed : int
        Chooses the IDs and the order of the source objects, 0 to 8030 (default 0). The
        object IDs are ``ZTF99`` followed by the 7 base-26 letters (``a`` = 0) of
        ``seed * 1_000_000 + i`` for ``i`` in ``range(n_objects)``, so files made with
        different seeds share no ID and can be served together. ``ZTF99`` is not a real ZTF
        year: the IDs never collide with real objects.
    with_cutouts : bool
        Keep the stamps (default False: they are set to null, which keeps the file about
        20 times smaller). Without stamps, ``/api/v1/cutouts`` answers for these objects as
        for a missing alert (HTTP 500), and ``withcutouts=True`` gives empty cells.

    Returns
    -------
    list of str
        The object IDs written, sorted.

    Raises
    ------
    ValueError
        If ``n_objects`` or ``seed`` is out of range.

    Notes
    -----
    The new candids are ``9 * 10**18 + 1000 * (seed * 1_000_000 + i) + k`` for the ``k``-th
    alert (by ``jd``) of object ``i``; they replace the alert's ``candid``,
    ``candidate.candid`` and the ``candid`` of the history entries that are alerts of the same
    object. Everything else, sky position included, is the source object's.

    Examples
    --------
    >>> from astroquery_fink.testing import FinkEmulator, make_alert_file
    >>> ids = make_alert_file("many.parquet", n_objects=1000)
    >>> ids[:2]
    ['ZTF99aaaaaaa', 'ZTF99aaaaaab']
    >>> with FinkEmulator("many.parquet") as emu:
    ...     len(emu.object_ids)
    1000
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(n_objects, bool) or int(n_objects) != n_objects \
            or not 1 <= n_objects <= _PER_SEED:
        raise ValueError(f"n_objects={n_objects!r}: give a whole number from 1 to {_PER_SEED}")
    if isinstance(seed, bool) or int(seed) != seed or not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed={seed!r}: give a whole number from 0 to {_MAX_SEED}")
    n_objects, seed = int(n_objects), int(seed)

    # use_threads=False: threaded reads with this pyarrow build sometimes abort the interpreter.
    tables = [pq.read_table(p, use_threads=False) for p in bundled_data_files()
              if p.suffix == ".parquet"]
    # Files of different schema versions: absent fields become nulls, which the loader skips.
    table = pa.concat_tables(tables, promote_options="permissive")
    if not with_cutouts:
        for name in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
            if name in table.schema.names:
                i = table.schema.get_field_index(name)
                table = table.set_column(i, table.schema.field(name),
                                         pa.nulls(len(table), table.schema.field(name).type))
    by_object: dict[str, list[dict]] = {}
    for row in table.to_pylist():
        by_object.setdefault(row["objectId"], []).append(row)
    sources = sorted(by_object)
    for rows in by_object.values():
        rows.sort(key=lambda r: (r["candidate"]["jd"], r["candidate"]["candid"]))

    rng = np.random.default_rng(seed)
    order: list[str] = []
    while len(order) < n_objects:
        order.extend(sources[j] for j in rng.permutation(len(sources)))

    out: list[dict] = []
    ids: list[str] = []
    for i, source in enumerate(order[:n_objects]):
        number = seed * _PER_SEED + i
        object_id = _name(number)
        ids.append(object_id)
        rows = by_object[source]
        new = {r["candidate"]["candid"]: _CANDID_BASE + _PER_OBJECT * number + k
               for k, r in enumerate(rows)}
        for row in rows:
            candid = new[row["candidate"]["candid"]]
            prv = row.get("prv_candidates")
            if prv is not None:
                prv = [e if e.get("candid") not in new else {**e, "candid": new[e["candid"]]}
                       for e in prv]
            out.append({**row, "objectId": object_id, "candid": candid,
                        "candidate": {**row["candidate"], "candid": candid},
                        "prv_candidates": prv})
    pq.write_table(pa.Table.from_pylist(out, schema=table.schema), Path(path))
    return ids
