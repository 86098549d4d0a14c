"""/api/v1/skymap of the emulator: bundled stand-in event, uploaded maps, errors."""
import gzip
import io

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from emu_helpers import rows_of

astropy_healpix = pytest.importorskip("astropy_healpix")

EVENT = "EMU250610a"
FIXTURE = "skymap_EMU250610a.fits.gz"


def skymap(client, **payload):
    return client.post("/api/v1/skymap", json=payload)




@pytest.fixture(scope="module")
def fixture_bytes():
    from importlib import resources

    return resources.files("astroquery_fink.testing").joinpath(f"data/{FIXTURE}").read_bytes()


@pytest.fixture(scope="module")
def latest(latest_candidates):
    return latest_candidates


def expected_objects(fits_gz, latest, level, before=1, after=6):
    """Objects whose latest alert lies in a map pixel of credible level <= ``level`` (read
    here with astropy only, at the map's own resolution) and dated as the server does."""
    with fits.open(io.BytesIO(gzip.decompress(fits_gz))) as hdul:
        prob = np.array(hdul[1].data["PROB"], dtype=float)
        header = hdul[1].header
        order = header["ORDERING"].lower()
        t0 = Time(header["DATE-OBS"]).jd
    order_idx = np.argsort(prob)[::-1]
    levels = np.empty_like(prob)
    levels[order_idx] = np.cumsum(prob[order_idx])
    hp = astropy_healpix.HEALPix(nside=astropy_healpix.npix_to_nside(len(prob)), order=order)
    out = set()
    for oid, c in latest.items():
        pix = hp.lonlat_to_healpix(c["ra"] * u.deg, c["dec"] * u.deg)
        start = t0 - before
        if levels[pix] <= level and start <= c["jdstarthist"] < start + after \
                and c["jd"] - c["jdstarthist"] <= after:
            out.add(oid)
    return out, t0


def test_bundled_event(client, latest, fixture_bytes):
    pdf = rows_of(skymap(client, event_name=EVENT, credible_level=0.9))
    expected, t0 = expected_objects(fixture_bytes, latest, 0.9)
    assert expected == {"ZTF25aaugqpe", "ZTF25aauurnj"}
    assert set(pdf["i:objectId"]) == expected
    assert np.allclose(pdf["v:jdstartgw"], t0)
    assert t0 == Time("2025-06-10T00:00:00").jd
    # the last alert of each object, the pixel128 columns
    for row in pdf.to_dict("records"):
        assert row["i:candid"] == latest[row["i:objectId"]]["candid"]
    assert "d:classification" in pdf.columns
    assert list(pdf["i:jd"]) == sorted(pdf["i:jd"], reverse=True)


def test_windows(client, latest, fixture_bytes):
    for before, after in ((1, 1), (0, 6), (6, 14)):
        pdf = rows_of(skymap(client, event_name=EVENT, credible_level=0.9,
                             n_day_before=before, n_day_after=after))
        expected, _ = expected_objects(fixture_bytes, latest, 0.9, before, after)
        assert set(pdf.get("i:objectId", [])) == expected
    # a string from a GET query fails in the server's arithmetic
    r = client.get(f"/api/v1/skymap?event_name={EVENT}&credible_level=0.9&n_day_before=1")
    assert r.status_code == 500


def test_uploaded_maps_ring_and_nested(client, fixture_bytes):
    ref = rows_of(skymap(client, event_name=EVENT, credible_level=0.9))
    up = rows_of(skymap(client, bayestar=str(fixture_bytes), credible_level=0.9))
    assert up.equals(ref)
    # the same map in NESTED order
    with fits.open(io.BytesIO(gzip.decompress(fixture_bytes))) as hdul:
        prob = np.array(hdul[1].data["PROB"], dtype=float)
        header = hdul[1].header.copy()
    hp = astropy_healpix.HEALPix(nside=header["NSIDE"], order="nested")
    nested = prob[hp.nested_to_ring(np.arange(len(prob)))]
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="PROB", format="D", array=nested)])
    for key in ("PIXTYPE", "COORDSYS", "NSIDE", "INDXSCHM", "OBJECT", "DATE-OBS"):
        hdu.header[key] = header[key]
    hdu.header["ORDERING"] = "NESTED"
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    nest = rows_of(skymap(client, bayestar=str(gzip.compress(buf.getvalue())),
                          credible_level=0.9))
    assert nest.equals(ref)
    # a tiny credible region around the most probable pixel holds no object
    assert skymap(client, event_name=EVENT, credible_level=1e-4).get_data(as_text=True) \
        == "[]"


def test_errors(client):
    r = rows_of(skymap(client, event_name="S200219ac", credible_level=0.1))
    assert list(r.columns) == ["status"] and len(r) == 1  # GraceDB's answer, offline: 404
    assert skymap(client, event_name=EVENT).status_code == 500  # no credible_level
    assert skymap(client, credible_level=0.1).status_code == 500  # no map at all
    assert skymap(client, bayestar="b'not a map'", credible_level=0.1).status_code == 500
    assert skymap(client, bayestar="__import__('os')", credible_level=0.1).status_code == 500


def test_separations_sanity(client, latest):
    # the lobes of the stand-in map are centred near the two objects it finds
    pdf = rows_of(skymap(client, event_name=EVENT, credible_level=0.9))
    c = SkyCoord(pdf["i:ra"].to_numpy(), pdf["i:dec"].to_numpy(), unit="deg")
    lobes = SkyCoord([281.0, 235.5], [15.0, -10.0], unit="deg")
    assert np.all(c.separation(lobes[:, None]).deg.min(axis=0) < 3)
