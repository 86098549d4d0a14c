"""A loopback server replaying recorded answers, with a set server time per request and per ID.

    python benchmarks/_replay.py DIR LATENCY PER_ID

DIR holds ``<key>.body`` and ``<key>.type`` files (answer bytes and Content-Type), ``<key>``
being the SHA-1 of the request's JSON body written with sorted keys. Each POST is answered
``LATENCY + PER_ID * <number of comma-separated objectId or diaObjectId values>`` seconds
after its request line arrived (reading, hashing and looking up the body happen within that
time), with the recorded bytes (404 if none): a server whose only work is the time it is
told to spend, so that a benchmark measures the client, not the emulator's own CPU time nor
this script's.
Prints its URL once bound.
"""
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def id_list(payload: dict) -> list[str]:
    """The requested object IDs of a body (ZTF ``objectId`` or Rubin ``diaObjectId``)."""
    value = payload.get("objectId", payload.get("diaObjectId", ""))
    return [i for i in str(value).split(",") if i.strip()]


def body_key(body: bytes) -> str:
    """The file name of the answer to a JSON request body."""
    canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True)
    return hashlib.sha1(canonical.encode()).hexdigest()


def _handler(answers: dict, latency: float, per_id: float):
    class Replay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back ~40 ms on a kept-alive connection
        disable_nagle_algorithm = True

        def parse_request(self):
            self.arrived = time.perf_counter()  # the request line is in: the clock starts
            return super().parse_request()

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = body_key(body)
            spend = latency + per_id * len(id_list(json.loads(body or b"{}")))
            data, ctype = answers.get(key, (b'{"message": "not recorded"}', "application/json"))
            time.sleep(max(0.0, self.arrived + spend - time.perf_counter()))
            self.send_response(200 if key in answers else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Replay


def main(argv: list) -> None:
    folder, latency, per_id = Path(argv[1]), float(argv[2]), float(argv[3])
    answers = {p.stem: (p.read_bytes(), p.with_suffix(".type").read_text())
               for p in folder.glob("*.body")}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answers, latency, per_id))
    server.daemon_threads = True
    print(f"replaying {len(answers)} answers on http://127.0.0.1:{server.server_port}",
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
