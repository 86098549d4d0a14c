"""/cutouts: FITS, array and PNG against the stamps of the original alerts."""
import io
import json

import numpy as np
import pytest
from astropy.io import fits
from lsst_helpers import stamp
from PIL import Image

KINDS = ("Science", "Template", "Difference")


def _alert(alerts, sid):
    return next(a for a in alerts if a["diaSourceId"] == sid)


@pytest.mark.parametrize("sid", [170094456272322680, 170094456480989258])
def test_fits_has_the_three_hdus_of_the_stamp(lsst, processed, sid):
    alert = _alert(processed, sid)
    for kind in KINDS:
        r = lsst.get(f"/api/v1/cutouts?diaSourceId={sid}&kind={kind}&output-format=FITS")
        assert r.status_code == 200 and r.mimetype == "application/octet-stream"
        assert f"{sid}_{kind}.fits" in r.headers["Content-Disposition"]
        with fits.open(io.BytesIO(r.data)) as hdul:
            assert [h.name for h in hdul] == ["PRIMARY", "UNCERT", "PSFIMAGE"]
            assert hdul[0].header["BUNIT"] == "nJy"
            for i in range(3):
                np.testing.assert_array_equal(hdul[i].data, stamp(alert[f"cutout{kind}"], i))


def test_array_of_stamps_of_other_sizes(lsst, raw):
    sizes = set()
    for alert in raw:
        sid = alert["diaSourceId"]
        r = lsst.get(f"/api/v1/cutouts?diaSourceId={sid}&kind=All&output-format=array")
        assert r.status_code == 200
        body = json.loads(r.data)
        assert sorted(body) == ["b:cutoutDifference", "b:cutoutScience", "b:cutoutTemplate"]
        for kind in KINDS:
            expected = stamp(alert[f"cutout{kind}"])
            got = np.array(body[f"b:cutout{kind}"], dtype=float)
            np.testing.assert_array_equal(got, expected)  # NaN positions included
        sizes.add(expected.shape[0])
    assert min(sizes) == 30 and max(sizes) >= 67


def test_png(lsst, raw):
    alert = next(a for a in raw if a["diaSourceId"] == 169298433314652171)
    r = lsst.get("/api/v1/cutouts?diaSourceId=169298433314652171&kind=Difference")
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = np.array(Image.open(io.BytesIO(r.data)))
    assert image.shape == stamp(alert["cutoutDifference"]).shape
    assert image.dtype == np.uint8 and image.max() > image.min()
    r = lsst.get("/api/v1/cutouts?diaSourceId=169298433314652171&kind=Science&stretch=linear"
                 "&colormap=viridis&convolution_kernel=gauss")
    assert np.array(Image.open(io.BytesIO(r.data))).shape[-1] == 4  # RGBA


def test_cutout_errors(lsst):
    r = lsst.get("/api/v1/cutouts?diaSourceId=123456789&kind=Science&output-format=FITS")
    assert (r.status_code, r.data, r.mimetype) == (200, b"", "image/png")
    r = lsst.get("/api/v1/cutouts?diaSourceId=170094456272322680&kind=All&output-format=FITS")
    assert r.status_code == 400
    assert r.data.decode() == str({"status": "error", "text": "The option `kind=All` is only "
                                   "compatible with `output-format=array`.\n"})
    r = lsst.get("/api/v1/cutouts?diaSourceId=170094456272322680&kind=Science&output-format=x")
    assert r.status_code == 400 and b"output-format must be one of: PNG, FITS, or array." in r.data
    r = lsst.get("/api/v1/cutouts?diaSourceId=170094456272322680&kind=Sci")
    assert r.status_code == 500
    # kind=All without output-format: payload["output-format"] fails; a query string is a
    # werkzeug MultiDict (its KeyError is a 400), a JSON body a dict (500).
    r = lsst.get("/api/v1/cutouts?diaSourceId=170094456272322680&kind=All")
    assert r.status_code == 400 and json.loads(r.data)["message"]
    r = lsst.post("/api/v1/cutouts", json={"diaSourceId": "170094456272322680", "kind": "All"})
    assert r.status_code == 500
    r = lsst.post("/api/v1/cutouts", json={"diaSourceId": 170094456272322680, "kind": "Science"})
    assert r.status_code == 500  # a JSON number ID
    r = lsst.get("/api/v1/cutouts?kind=Science")
    assert r.status_code == 400 and b"A value for `diaSourceId` is required" in r.data
