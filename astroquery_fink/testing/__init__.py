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
import importlib
import importlib.util

__all__ = ["FinkEmulator", "Faults", "AlertFileError", "bundled_data_files", "make_alert_file"]

# What the emulator imports to read alert files (parquet, avro) and answer (cone searches):
# the modules of the emulator extra it cannot start without.
_MODULES = ("flask", "pandas", "pyarrow", "fastavro", "astropy_healpix")
#: What to do about a missing module of the emulator.
INSTALL_HINT = "install the emulator extra (pip install 'astroquery_fink[emulator]')"


def missing_modules() -> list[str]:
    """The modules of the emulator extra that are not installed (none: it can start)."""
    missing = []
    for module in _MODULES:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except ValueError:  # imported already, without a spec
            pass
    return missing

# Loaded when first used, so that `fink-emulator` (this package's __main__) can say which
# extra to install before the emulator's modules import flask, pandas or pyarrow.
_HOME = {"FinkEmulator": ".server", "Faults": ".faults", "AlertFileError": ".store",
         "bundled_data_files": ".store", "make_alert_file": ".synthetic"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    missing = missing_modules()
    if missing:
        raise ImportError(f"astroquery_fink.testing.{name} needs {', '.join(missing)}: "
                          f"{INSTALL_HINT}")
    value = getattr(importlib.import_module(_HOME[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
