"""Command line: ``python -m astroquery_fink.testing`` / ``fink-emulator``."""
from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

from .server import FinkEmulator
from .store import AlertFileError


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the Fink emulator until Ctrl-C.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``): ``--data FILE_OR_DIR ...``, ``--host``,
        ``--port``.

    Returns
    -------
    int
        0 after Ctrl-C, 2 when a data path is not an alert file.
    """
    parser = argparse.ArgumentParser(
        prog="fink-emulator", description="Offline emulator of the Fink ZTF REST API.")
    parser.add_argument("--data", nargs="+", metavar="FILE_OR_DIR",
                        help="alert files or directories (default: the bundled sample)")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    args = parser.parse_args(argv)
    try:
        emu = FinkEmulator(args.data, host=args.host, port=args.port)
    except AlertFileError as exc:
        print(f"fink-emulator: error: {exc}", file=sys.stderr)
        return 2
    print(f"Fink emulator: {len(emu.object_ids)} objects, {emu.n_alerts} alerts "
          f"on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
