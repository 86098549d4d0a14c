"""Offline emulator of the Fink REST APIs (ZTF, and Rubin/LSST with ``survey="lsst"``).

Serve recorded alerts (Fink-processed parquet, raw ZTF avro; Rubin avro or parquet) on a
local port, answering every data endpoint (objects, cutouts, schema, cone search, class
search, solar system, tracklets, resolver, sky maps, statistics, anomalies; for Rubin also
sources, forced photometry, tags and blocks) as the real service does.

>>> from astroquery_fink.testing import FinkEmulator
>>> with FinkEmulator() as emu:
...     print(emu.url)  # doctest: +ELLIPSIS
http://127.0.0.1:...

The layers follow the moto pattern: `store` (files -> stored rows), `engine` (query
semantics, no HTTP), `app` (Flask: arguments and serialisation), `faults` (explicit fault
injection around the app: `Faults`), `server` (`FinkEmulator`). `make_alert_file` writes a
file of many objects derived from the bundled sample.
"""
from .faults import Faults
from .server import FinkEmulator
from .store import AlertFileError, bundled_data_files
from .synthetic import make_alert_file

__all__ = ["FinkEmulator", "Faults", "AlertFileError", "bundled_data_files", "make_alert_file"]
