"""Command line: ``python -m astroquery_fink.testing`` / ``fink-emulator``."""
from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from dataclasses import fields

from . import INSTALL_HINT, missing_modules
from .faults import Faults

_LIST_FIELDS = ("error_statuses", "fail_ids")
def _port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port: give 0 to 65535 (0: any free port)")
    return port


def _faults(specs: Sequence[str]) -> Faults:
    """``["error_rate=0.1", "error_statuses=502,503"]`` -> `Faults` (ValueError if invalid)."""
    types = {f.name: f.type for f in fields(Faults)}
    kwargs: dict = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in types:
            raise ValueError(f"--fault {spec!r}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(types)}")
        kind = "whole number" if name in ("seed", "retry_after", "error_statuses") \
            else "number"
        try:
            if name in _LIST_FIELDS:
                items = [v.strip() for v in value.split(",") if v.strip()]
                kwargs[name] = [int(v) for v in items] if name == "error_statuses" else items
            elif name in ("seed", "retry_after"):
                kwargs[name] = int(value)
            else:
                kwargs[name] = float(value)
        except ValueError:
            several = " or a comma-separated list of them" if name in _LIST_FIELDS else ""
            raise ValueError(f"--fault {spec!r}: {name} takes a {kind}{several}") from None
    return Faults(**kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the Fink emulator until Ctrl-C.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``): ``--data FILE_OR_DIR ...``, ``--host``,
        ``--port``, ``--fault NAME=VALUE`` (repeatable, see `Faults`), ``--quiet``.

    Returns
    -------
    int
        0 after Ctrl-C, 1 when a module of the emulator extra is missing, 2 when an argument
        is invalid (a data path that is not an alert file, a fault, a port).
    """
    parser = argparse.ArgumentParser(
        prog="fink-emulator",
        description="Offline emulator of the Fink REST APIs: ZTF, or Rubin/LSST with --survey "
                    "lsst.")
    parser.add_argument("--data", nargs="+", metavar="FILE_OR_DIR",
                        help="alert files or directories (default: the bundled sample)")
    parser.add_argument("--survey", choices=("ztf", "lsst"), default="ztf",
                        help="which Fink API to emulate (default ztf)")
    parser.add_argument("--ids-as", choices=("number", "string"),
                        help="Rubin only: 64-bit IDs as JSON numbers (default) or strings")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=5000,
                        help="port, 0 to 65535 (default 5000; 0: any free port)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                        help="inject faults, e.g. --fault error_rate=0.1 --fault latency=0.05 "
                             "--fault error_statuses=502,503 (fields of Faults; repeatable)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    if args.ids_as is not None and args.survey != "lsst":
        parser.error("--ids-as is for the Rubin emulator (--survey lsst) only")
    missing = missing_modules()
    if missing:
        print(f"fink-emulator: error: the emulator needs {', '.join(missing)}: "
              f"{INSTALL_HINT}", file=sys.stderr)
        return 1
    from .server import FinkEmulator  # flask and pandas: after the check above
    from .store import AlertFileError

    try:
        faults = _faults(args.fault)
        emu = FinkEmulator(args.data, host=args.host, port=args.port, faults=faults,
                           quiet=args.quiet, survey=args.survey,
                           ids_as=args.ids_as or "number")
    except (AlertFileError, ValueError, TypeError) as exc:
        print(f"fink-emulator: error: {exc}", file=sys.stderr)
        return 2

    def ready() -> None:
        # Printed once bound, so that --port 0 shows the port really listened on.
        print(f"Fink emulator ({args.survey}): {len(emu.object_ids)} objects, "
              f"{emu.n_alerts} alerts on {emu.url} (Ctrl-C to stop)", flush=True)
        if faults.active:
            print(f"Injecting {faults}", flush=True)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            emu.serve_forever(ready)
    except OSError as exc:  # the address: in use, or a host this machine does not have
        print(f"fink-emulator: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
