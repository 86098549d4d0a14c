"""Offline emulator of the Fink Rubin/LSST REST API (``https://api.lsst.fink-portal.org``).

Used through ``FinkEmulator(survey="lsst")``: `load_store` turns Rubin alert files (Fink-processed
or raw Avro, Parquet of alert packets) into the tables the server reads, and `create_app` serves
the twelve ``/api/v1`` namespaces of the Fink/LSST server on them.

>>> from astroquery_fink.testing import FinkEmulator
>>> import requests
>>> with FinkEmulator(survey="lsst") as emu:
...     r = requests.post(emu.url + "/api/v1/sources",
...                       json={"diaObjectId": "170028485706776685",
...                             "columns": "r:midpointMjdTai,r:psfFlux"})
>>> r.status_code, len(r.json())
(200, 346)

Layers: `store` (files -> tables), `models` (one function per endpoint, no HTTP), `routes`
(Flask handlers, with the HTTP conventions of ``astroquery_fink.testing.wire``).
"""
from .routes import create_app
from .store import LsstStore, bundled_lsst_files, load_store

__all__ = ["LsstStore", "bundled_lsst_files", "create_app", "load_store"]
