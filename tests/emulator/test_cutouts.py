"""/api/v1/cutouts of the emulator."""
import io
import json

import numpy as np
import pytest
import requests
from astropy.io import fits
from emu_helpers import stamp_pixels
from PIL import Image

TDE = "ZTF20abfcszi"


def get(emu, **params):
    return requests.get(emu.url + "/api/v1/cutouts", params=params, timeout=30)


@pytest.fixture(scope="module")
def tde(raw_alerts):
    return sorted((a for a in raw_alerts if a["objectId"] == TDE),
                  key=lambda a: a["candidate"]["jd"])


def test_array_latest_alert_by_default(emu, tde):
    r = get(emu, objectId=TDE, kind="Science", **{"output-format": "array"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    data = json.loads(r.text)
    assert list(data) == ["b:cutoutScience_stampData"]
    want = stamp_pixels(tde[-1]["cutoutScience"]["stampData"])
    np.testing.assert_array_equal(np.array(data["b:cutoutScience_stampData"]), want)


def test_array_all_sorted_keys_and_candid(emu, tde):
    alert = tde[3]
    r = requests.post(emu.url + "/api/v1/cutouts", json={
        "objectId": TDE, "kind": "All", "output-format": "array",
        "candid": alert["candidate"]["candid"]}, timeout=30)
    data = json.loads(r.text)
    assert list(data) == ["b:cutoutDifference_stampData", "b:cutoutScience_stampData",
                          "b:cutoutTemplate_stampData"]
    assert r.text.index("b:cutoutDifference") < r.text.index("b:cutoutScience")
    for kind in ("Science", "Template", "Difference"):
        np.testing.assert_array_equal(np.array(data[f"b:cutout{kind}_stampData"]),
                                      stamp_pixels(alert[f"cutout{kind}"]["stampData"]))


def test_array_nan_is_bare_token(client, raw_alerts):
    # ZTF18aapgymv's stamps have NaN pixels: array JSON writes the bare NaN token (section 5)
    alert = next(a for a in raw_alerts if a["objectId"] == "ZTF18aapgymv")
    r = client.get("/api/v1/cutouts?objectId=ZTF18aapgymv&kind=Science&output-format=array")
    text = r.get_data(as_text=True)
    assert "NaN" in text and "null" not in text
    got = np.array(json.loads(text)["b:cutoutScience_stampData"])
    want = stamp_pixels(alert["cutoutScience"]["stampData"])
    assert np.isnan(want).any()
    np.testing.assert_array_equal(got, want)
    # ... and /objects withcutouts writes those pixels as null (section 2.3)
    r = client.post("/api/v1/objects", json={"objectId": "ZTF18aapgymv", "withcutouts": True,
                                             "cutout-kind": "Science"})
    cell = r.get_json()[0]["b:cutoutScience_stampData"]
    flat = [v for line in cell for v in line]
    assert flat.count(None) == int(np.isnan(want).sum())


def test_fits(emu, tde):
    alert = tde[0]
    r = get(emu, objectId=TDE, kind="Difference", candid=alert["candidate"]["candid"],
            **{"output-format": "FITS"})
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"] == f"attachment; filename={TDE}_Difference.fits"
    with fits.open(io.BytesIO(r.content), ignore_missing_simple=True) as hdul:
        assert len(hdul) == 1 and hdul[0].data.shape == (63, 63)
        np.testing.assert_array_equal(hdul[0].data,
                                      stamp_pixels(alert["cutoutDifference"]["stampData"]))


def test_png_default_grayscale(emu):
    r = get(emu, objectId=TDE, kind="Science")
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"] == f"attachment; filename={TDE}_Science.png"
    image = Image.open(io.BytesIO(r.content))
    assert image.mode == "L" and image.size == (63, 63)


def test_png_colormap_stretch_convolution(emu):
    r = get(emu, objectId=TDE, kind="Template", colormap="viridis", stretch="linear",
            convolution_kernel="box")
    image = Image.open(io.BytesIO(r.content))
    assert r.status_code == 200 and image.mode == "RGBA"


def test_png_sigmoid_values(emu, tde):
    r = get(emu, objectId=TDE, kind="Science")
    x = np.nan_to_num(stamp_pixels(tde[-1]["cutoutScience"]["stampData"]))
    want = np.uint8(1 / (1 + np.exp(-(x - x.mean()) / x.std())) * 255)
    np.testing.assert_array_equal(np.array(Image.open(io.BytesIO(r.content))), want)


# The live URL below is only text inside the server's error body; nothing
# here talks to it: every request goes to the loopback emulator.
@pytest.mark.parametrize(("params", "status", "body"), [
    ({"kind": "Science"}, 400,
     "{'status': 'error', 'text': 'A value for `objectId` is required. "
     "See https://api.ztf.fink-portal.org \\n'}"),
    ({"objectId": TDE}, 400,
     "{'status': 'error', 'text': 'A value for `kind` is required. "
     "See https://api.ztf.fink-portal.org \\n'}"),
    ({"objectId": TDE, "kind": "Science", "output-format": "jpg"}, 400,
     "{'status': 'error', 'text': 'output-format must be one of: PNG, FITS, or array.\\n'}"),
    ({"objectId": TDE, "kind": "All", "output-format": "FITS"}, 400,
     "{'status': 'error', 'text': 'The option `kind=All` is only compatible with "
     "`output-format=array`.\\n'}"),
    ({"objectId": TDE, "kind": "Sci"}, 500, '{"message": "Internal Server Error"}\n'),
    ({"objectId": TDE, "kind": "All"}, 500, '{"message": "Internal Server Error"}\n'),
    ({"objectId": "ZTF99zzzzzzz", "kind": "Science"}, 500,
     '{"message": "Internal Server Error"}\n'),
    ({"objectId": TDE, "kind": "Science", "candid": "123"}, 500,
     '{"message": "Internal Server Error"}\n'),
    ({"objectId": TDE, "kind": "Science", "convolution_kernel": "x"}, 500,
     '{"message": "Internal Server Error"}\n'),
])
def test_errors(emu, params, status, body):
    # POST JSON: a missing key raises KeyError (500), as in section 5
    r = requests.post(emu.url + "/api/v1/cutouts", json=params, timeout=30)
    assert (r.status_code, r.text) == (status, body)


def test_get_without_query_string(emu):
    r = requests.get(emu.url + "/api/v1/cutouts", timeout=30)
    assert r.status_code == 200 and r.text == "Get cutout data based on ZTF ID"


def test_kind_checked_first(client):
    """The kind ``assert`` runs right after the required arguments
    (fink-object-api apps/routes/v1/ztf/cutouts/api.py): before the format checks and the
    lookup, so a bad kind is a 500 also with a bad format or an unknown object."""
    for args in ({"objectId": "ZTF20abfcszi", "output-format": "jpg"},
                 {"objectId": "ZTF20abfcszi", "output-format": "FITS"},
                 {"objectId": "ZTF99zzzzzzz"}):
        r = client.post("/api/v1/cutouts", json={**args, "kind": "Sci"})
        assert (r.status_code, r.data) == (500, b'{"message": "Internal Server Error"}\n')
    r = client.post("/api/v1/cutouts", json={"objectId": "ZTF20abfcszi", "kind": "Science",
                                             "output-format": "jpg"})
    assert (r.status_code, r.data.decode()) == (400, str(
        {"status": "error", "text": "output-format must be one of: PNG, FITS, or array.\n"}))
