"""Helpers shared by the client tests: real responses and a stand-in `_request`."""
import json
from pathlib import Path

import requests

DATA = Path(__file__).parent / "data"


def make_response(content, *, status=200, content_type="application/json", url="http://f/x",
                  headers=None):
    """A real `requests.Response`, as the server would send it."""
    response = requests.Response()
    response.status_code = status
    response._content = content.encode() if isinstance(content, str) else content
    response.headers["Content-Type"] = content_type
    response.headers.update(headers or {})
    response.url = url
    response.encoding = "utf-8"
    response.request = requests.Request("POST", url).prepare()
    return response


class Recorder:
    """Stands in for `_request`: answers from a queue or a function, and records calls."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers(url, kwargs.get("json")) if callable(self.answers) \
            else self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def recorded_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def recorded_json(name: str):
    return json.loads(recorded_bytes(name))


def rows_answer(rows: list[dict], body: dict | None):
    """``rows`` written in the request's ``output-format`` (json if none) as the server writes
    them with pandas (fink-object-api apps/utils/utils.py send_tabular_data)."""
    import pandas as pd

    fmt = (body or {}).get("output-format", "json")
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        return make_response(frame.to_csv(index=False), content_type="application/csv")
    if fmt == "parquet":
        return make_response(frame.to_parquet(), content_type="application/octet-stream")
    assert fmt == "json", fmt
    return make_response(frame.to_json(orient="records"))
