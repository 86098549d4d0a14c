"""Gravitational-wave sky maps for ``/api/v1/skymap``: reading, credible region, fixtures.

As fink-object-api ``apps/routes/v1/ztf/skymap/utils.py``: the map is a gzipped *flat*
HEALPix FITS table (``PROB`` column of HDU 1, RING or NESTED), the credible levels are the
cumulative probability of pixels sorted by decreasing probability, degraded (mean of the
children, as ``healpy.ud_grade``) or upgraded to nside 128, and the pixels with a level at
most ``credible_level`` are searched. Multi-order maps (``UNIQ``/``PROBDENSITY``) have no
``PROB`` column and fail there (HTTP 500), as on the server.

``event_name`` makes the real server download ``bayestar.fits.gz`` from GraceDB. The emulator
is offline: it serves bundled stand-in maps (`FIXTURE_EVENTS`), made by `make_fixture_map`
around alerts of the bundled sample; any other name answers as GraceDB's 404 does.
"""
from __future__ import annotations

import ast
import gzip
import io
from functools import cache
from importlib import resources

import numpy as np

from .wire import server_fails

__all__ = ["FIXTURE_EVENTS", "GRACEDB_NOT_FOUND", "credible_pixels", "fixture_map",
           "make_fixture_map", "read_bayestar", "read_flat_map", "ud_grade_ring"]

#: Offline stand-ins for GraceDB events: name -> bundled file (not real GW events).
FIXTURE_EVENTS = {"EMU250610a": "skymap_EMU250610a.fits.gz"}
#: Body of GraceDB's answer for an unknown superevent (Django REST framework's 404).
GRACEDB_NOT_FOUND = b'{"detail":"Not found."}'
_NSIDE_SEARCH = 128


def _healpix(npix: int):
    """HEALPix grid of a map of ``npix`` pixels (astropy-healpix)."""
    from astropy_healpix import HEALPix, npix_to_nside

    return HEALPix(nside=npix_to_nside(npix))


def read_flat_map(fits_gz: bytes) -> tuple[np.ndarray, str]:
    """``PROB`` in RING order and ``DATE-OBS`` of a gzipped flat HEALPix FITS map.

    Parameters
    ----------
    fits_gz : bytes
        The gzipped FITS file.

    Returns
    -------
    prob : numpy.ndarray
        Probability per pixel, RING order.
    date_obs : str
        The event time (header ``DATE-OBS``).

    Raises
    ------
    KeyError, OSError, ValueError
        Not a gzipped flat HEALPix map (the server fails alike: HTTP 500).
    """
    from astropy.io import fits

    with gzip.open(io.BytesIO(fits_gz), "rb") as fh, fits.open(io.BytesIO(fh.read())) as hdul:
        prob = np.asarray(hdul[1].data["PROB"], dtype=float).ravel()
        header = hdul[1].header
        ordering, date_obs = header["ORDERING"], header["DATE-OBS"]
    if ordering == "NESTED":
        prob = prob[_healpix(len(prob)).ring_to_nested(np.arange(len(prob)))]
    return prob, date_obs


def read_bayestar(bayestar: str) -> tuple[np.ndarray, str]:
    """`read_flat_map` of the ``bayestar`` argument of both surveys: ``str(bytes)`` of the file.

    Read with `ast.literal_eval` (the servers evaluate it). Not a bytes literal, or not a gzipped
    flat HEALPix map: the server fails alike (`.wire.ServerFailure`, HTTP 500).
    """
    with server_fails(ValueError, SyntaxError, TypeError, KeyError, OSError, IndexError):
        return read_flat_map(ast.literal_eval(bayestar))


def ud_grade_ring(values: np.ndarray, nside_out: int) -> np.ndarray:
    """``healpy.ud_grade`` of a RING map: NESTED children averaged or repeated, back to RING."""
    grid_in = _healpix(len(values))
    nside_in = grid_in.nside
    nest = values[grid_in.nested_to_ring(np.arange(len(values)))]
    if nside_in > nside_out:
        nest = nest.reshape(-1, (nside_in // nside_out) ** 2).mean(axis=1)
    elif nside_in < nside_out:
        nest = np.repeat(nest, (nside_out // nside_in) ** 2)
    npix = 12 * nside_out**2
    return nest[_healpix(npix).ring_to_nested(np.arange(npix))]


def credible_pixels(bayestar: str, credible_level: float) -> tuple[np.ndarray, str]:
    """Nside-128 RING pixels of the credible region of a map sent as ``str(bytes)``.

    Parameters
    ----------
    bayestar : str
        The ``bayestar`` argument: the Python text of the file's bytes (``str(data)``). It is
        read with `ast.literal_eval` (the server evaluates it).
    credible_level : float
        Threshold on the credible level (0 = most probable pixel).

    Returns
    -------
    pixels : numpy.ndarray of int
    date_obs : str
    """
    prob, date_obs = read_bayestar(bayestar)
    order = np.flipud(np.argsort(prob))
    levels = np.empty_like(prob)
    levels[order] = np.cumsum(prob[order])
    levels128 = ud_grade_ring(levels, _NSIDE_SEARCH)
    return np.flatnonzero(levels128 <= credible_level), date_obs


@cache
def fixture_map(event_name: str) -> bytes | None:
    """Bytes of the bundled stand-in map of ``event_name`` (None if there is none)."""
    name = FIXTURE_EVENTS.get(event_name)
    if name is None:
        return None
    return resources.files(__package__).joinpath(f"data/{name}").read_bytes()


def make_fixture_map(lobes, date_obs: str, object_name: str, nside: int = 64) -> bytes:
    """Write a gzipped flat HEALPix map (RING, ``PROB``) made of Gaussian lobes.

    How the bundled stand-in maps were made (``EMU250610a``: lobes on ZTF25aaugqpe and
    ZTF25aauurnj of ``regular_2025-06.parquet``)::

        make_fixture_map([(281.0, 15.0, 3.0, 0.6), (235.5, -10.0, 4.0, 0.4)],
                         "2025-06-10T00:00:00.000", "EMU250610a")

    Parameters
    ----------
    lobes : iterable of (ra, dec, sigma, weight)
        Centres and widths in degrees; each lobe is cut to zero beyond 5 sigma.
    date_obs : str
        ISO time of the event (header ``DATE-OBS``).
    object_name : str
        Header ``OBJECT``.
    nside : int
        Resolution of the map.

    Returns
    -------
    bytes
        The gzipped FITS file.
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy_healpix import HEALPix

    hp = HEALPix(nside=nside, order="ring")
    lon, lat = hp.healpix_to_lonlat(np.arange(hp.npix))
    pix = SkyCoord(lon, lat)
    prob = np.zeros(hp.npix)
    for ra, dec, sigma, weight in lobes:
        sep = pix.separation(SkyCoord(ra * u.deg, dec * u.deg)).deg
        lobe = np.where(sep <= 5 * sigma, np.exp(-0.5 * (sep / sigma) ** 2), 0.0)
        prob += weight * lobe / lobe.sum()
    prob /= prob.sum()
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="PROB", format="D", array=prob)])
    for key, value in (("PIXTYPE", "HEALPIX"), ("ORDERING", "RING"), ("COORDSYS", "C"),
                       ("NSIDE", nside), ("INDXSCHM", "IMPLICIT"), ("OBJECT", object_name),
                       ("DATE-OBS", date_obs)):
        hdu.header[key] = value
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return gzip.compress(buf.getvalue(), mtime=0)
