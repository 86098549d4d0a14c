"""Z3 (both surveys): GET-only routes answer restx's JSON 405; GET / and /swagger.json exist."""
import json

import pytest

_405 = {"message": "The method is not allowed for the requested URL."}
ZTF_PATHS = {f"/api/v1/{n}" for n in (
    "objects", "cutouts", "schema", "conesearch", "latests", "classes", "anomaly", "statistics",
    "skymap", "sso", "ssocand", "ssoft", "ssobulk", "tracklet", "resolver")}
LSST_PATHS = {f"/api/v1/{n}" for n in (
    "sources", "objects", "fp", "conesearch", "cutouts", "schema", "sso", "resolver", "skymap",
    "statistics", "tags", "blocks")}


@pytest.mark.parametrize("path", ["/api/v1/classes", "/api/v1/schema"])
def test_post_on_get_only_routes(client, path):
    r = client.post(path, json={})
    assert (r.status_code, r.mimetype, json.loads(r.data)) == (405, "application/json", _405)
    assert "GET" in r.headers["Allow"] and "POST" not in r.headers["Allow"]
    assert client.get(path).status_code == 200


def test_lsst_blocks_post(lsst):
    r = lsst.post("/api/v1/blocks", json={})
    assert (r.status_code, json.loads(r.data)) == (405, _405)


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_swagger(client, lsst, survey):
    app = client if survey == "ztf" else lsst
    title = {"ztf": "Fink/ZTF object API", "lsst": "Fink/LSST object API"}[survey]
    r = app.get("/")
    assert r.status_code == 200 and title in r.get_data(as_text=True)
    spec = app.get("/swagger.json").get_json()
    assert spec["swagger"] == "2.0" and spec["info"]["title"] == title
    assert set(spec["paths"]) == (ZTF_PATHS if survey == "ztf" else LSST_PATHS)
    methods = {p: set(ops) for p, ops in spec["paths"].items()}
    assert methods["/api/v1/schema"] == ({"get"} if survey == "ztf" else {"get", "post"})
    assert methods["/api/v1/objects"] == {"get", "post"}
