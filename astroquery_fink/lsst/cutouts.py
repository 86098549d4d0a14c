# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Rubin cutouts -> HDUs: the server's three-HDU FITS (image in nJy with its WCS,
uncertainty, PSF) renamed per kind, with the alert's IDs, time and position in the headers."""

import math

from astropy.io import fits
from astroquery.exceptions import RemoteServiceError

from .._cutouts import read_fits, stamp_arrays
from .._http import body_delimited
from ..exceptions import NoAlertsError, TruncatedAnswerError

__all__: list[str] = []


def no_alert(sid) -> NoAlertsError:
    return NoAlertsError(
        f"Fink has no alert with diaSourceId {sid} (the server's answer is empty), "
        "hence no cutouts; diaSourceIds are in query_object's r:diaSourceId")


#: The HDUs of a Rubin cutout after its image (the primary HDU), by EXTNAME: the
#: uncertainty and the PSF (fink-object-api apps/routes/v1/lsst/cutouts/utils.py writes the
#: alert's HDUList).
STAMP_EXTENSIONS = ("UNCERT", "PSFIMAGE")


def fits_stamp(response, sid) -> fits.HDUList:
    """The server's cutout (a `requests.Response`) as its three 2-D images, in the order
    image, uncertainty, PSF (found by EXTNAME; by position in a file that names none); a
    whole file without them is a `RemoteServiceError` at once. A file cut inside an HDU is
    cut (`read_fits`), and so is one with fewer HDUs whose length the server did not say
    (it may have been cut between two): `TruncatedAnswerError`, tried again."""
    content = response.content
    if not content.strip():
        raise no_alert(sid)
    hdul = read_fits(content)
    wanted = 1 + len(STAMP_EXTENSIONS)
    named = [name for name in STAMP_EXTENSIONS if name in hdul]
    if len(named) == len(STAMP_EXTENSIONS):
        hdus = [hdul[0], *(hdul[name] for name in STAMP_EXTENSIONS)]
    elif len(hdul) < wanted and not body_delimited(response):
        raise TruncatedAnswerError(
            f"Fink's cutout ends after {len(hdul)} of the {wanted} HDUs of a Rubin cutout "
            "where its connection did, with no length said: cut on the way")
    elif len(hdul) < wanted:
        # a whole file (its HDUs and the Content-Length say so) without them: the server's
        # answer, not a cut one to try again
        raise RemoteServiceError(
            f"Fink's cutout has {len(hdul)} of the {wanted} HDUs of a Rubin cutout (image, "
            f"uncertainty, PSF): {', '.join(hdu.name or '(unnamed)' for hdu in hdul)}")
    elif not any(hdu.name for hdu in hdul[1:]):
        hdus = list(hdul[:wanted])
    else:
        raise RemoteServiceError(
            f"Fink's cutout has no {' and '.join(set(STAMP_EXTENSIONS) - set(named))} HDU: "
            f"{', '.join(hdu.name or '(unnamed)' for hdu in hdul)}")
    flat = [f"HDU {hdul.index(hdu)} {hdu.name}".rstrip() for hdu in hdus
            if hdu.data is None or hdu.data.ndim != 2 or 0 in hdu.data.shape]
    if flat:
        raise RemoteServiceError(f"Fink's cutout holds no 2-D image in {', '.join(flat)}")
    return fits.HDUList(hdus)


def stamp_arrays_of(content: bytes, sid) -> dict:
    if not content.strip():
        raise no_alert(sid)
    return stamp_arrays(content)


_SUFFIX = ("", "_UNCERT", "_PSF")


def renamed(stamp: fits.HDUList, kind: str, sid: int) -> list[fits.ImageHDU]:
    """The server's PRIMARY / UNCERT / PSFIMAGE HDUs as KIND, KIND_UNCERT, KIND_PSF."""
    out = []
    for k, hdu in enumerate(stamp[:3]):
        header = hdu.header.copy()
        for card in ("SIMPLE", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME"):
            header.remove(card, ignore_missing=True, remove_all=True)
        name = kind.upper() + (_SUFFIX[k] if k < len(_SUFFIX) else f"_{k}")
        image = fits.ImageHDU(data=hdu.data, header=header, name=name)
        image.header["DIASRCID"] = (int(sid), "Rubin diaSourceId of the alert")
        image.header["CUTOUT"] = (kind, "Fink cutout kind")
        if k:
            image.header["SRCEXT"] = (hdu.name, "EXTNAME in the alert's cutout")
        out.append(image)
    return out


def alert_cards(header: fits.Header, alert: dict) -> None:
    """The alert's IDs, time, position and band as header cards; a value a FITS header
    cannot hold (not a finite number, text that is not printable ASCII) is left out."""
    header["DIASRCID"] = (int(alert["r:diaSourceId"]), "Rubin diaSourceId of the alert")
    if "r:diaObjectId" in alert:
        header["DIAOBJID"] = (int(alert["r:diaObjectId"]), "Rubin diaObjectId")
    if _finite(alert.get("r:midpointMjdTai")):
        header["MJD-AVG"] = (float(alert["r:midpointMjdTai"]), "[d] midpointMjdTai of the alert")
        header["TIMESYS"] = ("TAI", "time scale of MJD-AVG")
    for key, name, comment in (("RA", "r:ra", "[deg] diaSource right ascension (ICRS)"),
                               ("DEC", "r:dec", "[deg] diaSource declination (ICRS)")):
        if _finite(alert.get(name)):
            header[key] = (float(alert[name]), comment)
    band = alert.get("r:band")
    if isinstance(band, str) and band.isascii() and band.isprintable():
        header["BAND"] = (band, "Rubin band")


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False
