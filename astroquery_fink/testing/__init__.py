"""Offline emulator of the Fink ZTF REST API.

Serve recorded alerts (Fink-processed parquet, raw ZTF avro) on a local port, answering
``/api/v1/objects``, ``/api/v1/cutouts`` and ``/api/v1/schema`` as the real service does.

>>> from astroquery_fink.testing import FinkEmulator
>>> with FinkEmulator() as emu:  # doctest: +SKIP
...     print(emu.url)

The layers follow the moto pattern: `store` (files -> stored rows), `engine` (query
semantics, no HTTP), `app` (Flask: arguments and serialisation), `server` (`FinkEmulator`).
"""
from .server import FinkEmulator
from .store import AlertFileError, bundled_data_files

__all__ = ["FinkEmulator", "AlertFileError", "bundled_data_files"]
