"""Z3 (both surveys): GET-only routes answer restx's JSON 405; GET / and /swagger.json exist."""
import json

import pytest

_405 = {"message": "The method is not allowed for the requested URL."}
ZTF_PATHS = {f"/api/v1/{n}" for n in (
    "objects", "cutouts", "schema", "conesearch", "latests", "classes", "anomaly", "statistics",
    "skymap", "sso", "ssocand", "ssoft", "ssobulk", "tracklet", "resolver")}
# in the order fink-object-api's app_lsst.py adds the namespaces
LSST_ORDER = ["sources", "objects", "fp", "conesearch", "cutouts", "schema", "sso", "resolver",
              "skymap", "statistics", "tags", "blocks"]
LSST_PATHS = {f"/api/v1/{n}" for n in LSST_ORDER}


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
    if survey == "lsst":  # Swagger UI lists the namespaces as the server adds them
        assert [t["name"] for t in spec["tags"]] == [f"api/v1/{n}" for n in LSST_ORDER]
    methods = {p: set(ops) for p, ops in spec["paths"].items()}
    assert methods["/api/v1/schema"] == ({"get"} if survey == "ztf" else {"get", "post"})
    assert methods["/api/v1/objects"] == {"get", "post"}


@pytest.mark.parametrize("path,payload", [
    ("/api/v1/objects", {"objectId": 1}),
    ("/api/v1/objects", {"objectId": "ZTF20abfcszi", "columns": 1}),
    ("/api/v1/cutouts", {"objectId": 1, "kind": "Science"}),
    ("/api/v1/conesearch", {"ra": None, "dec": 1, "radius": 1}),
    ("/api/v1/latests", {"class": 1}),
    ("/api/v1/tracklet", {"date": 1}),
    ("/api/v1/resolver", {"resolver": "tns", "name": 1}),
])
def test_ztf_non_text_arguments_are_the_servers_500(client, path, payload):
    """JSON values where the server calls str methods: its 500 (strict mode: not a bug)."""
    r = client.post(path, json=payload)
    assert (r.status_code, r.data) == (500, b'{"message": "Internal Server Error"}\n')


@pytest.mark.parametrize("path,payload", [
    ("/api/v1/sources", {"diaObjectId": "1", "columns": 1}),
    ("/api/v1/conesearch", {"ra": [1], "dec": [1], "radius": 1}),
    ("/api/v1/resolver", {"resolver": "simbad", "name_or_id": 1, "reverse": True}),
    # `"f:night" in cols` on a number (a number date is formatted into the key: fine)
    ("/api/v1/statistics", {"date": "2026", "columns": 1}),
    ("/api/v1/tags", {"tag": [1]}),
    ("/api/v1/schema", {"endpoint": [1]}),
])
def test_lsst_non_text_arguments_are_the_servers_500(lsst, path, payload):
    r = lsst.post(path, json=payload)
    assert (r.status_code, r.data) == (500, b'{"message": "Internal Server Error"}\n')


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
@pytest.mark.parametrize("path", ["/api/v1/objects", "/api/v1/conesearch"])
def test_methods_no_route_defines_are_restx_json_405s(client, method, path):
    r = getattr(client, method)(path, json={})
    assert (r.status_code, r.mimetype, json.loads(r.data)) == (405, "application/json", _405)
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


@pytest.mark.parametrize("path", ["/api/v1/objects", "/api/v1/schema", "/api/v1/classes"])
def test_head_answers_as_get_without_body(client, path):
    """flask-restx dispatches HEAD to the resource's get (flask_restx/resource.py)."""
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200 and len(get.data) > 0
    assert head.mimetype == get.mimetype and head.data == b""


@pytest.mark.parametrize("path,allow", [
    ("/api/v1/sources", "GET, HEAD, OPTIONS, POST"), ("/api/v1/tags", "GET, HEAD, OPTIONS, POST"),
    ("/api/v1/blocks", "GET, HEAD, OPTIONS"),  # blocks/api.py defines get only
])
def test_lsst_head_and_options(lsst, path, allow):
    assert lsst.head(path).status_code == lsst.get(path).status_code == 200
    r = lsst.options(path)
    assert r.status_code == 200 and r.headers["Allow"] == allow


def test_cutout_percentiles_are_read_as_numbers(client):
    """cutouts/utils.py: float(pmin) for the stretches other than sigmoid (no effect seen)."""
    base = {"objectId": "ZTF20abfcszi", "kind": "Science", "stretch": "linear"}
    assert client.post("/api/v1/cutouts", json={**base, "pmin": "1"}).status_code == 200
    r = client.post("/api/v1/cutouts", json={**base, "pmin": "abc"})
    assert (r.status_code, r.data) == (500, b'{"message": "Internal Server Error"}\n')
    assert client.post("/api/v1/cutouts", json={**base, "stretch": "sigmoid",
                                                 "pmax": "abc"}).status_code == 200
