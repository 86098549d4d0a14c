# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Cutout stamps -> FITS HDUs, and the orientation convention.

Convention, the same for `~astropy.io.fits.HDUList` data, `numpy` arrays and the 3-D cutout
columns of `~astroquery_fink.FinkClass.query_object`: pixels are kept in the FITS order of the
ZTF stamp (row 0 is the bottom row of the image). Displayed with ``origin="lower"``, they show
the sky as Fink shows it; the Fink documentation's ``data[::-1]`` is the same picture for
matplotlib's default ``origin="upper"``.
"""
from astropy.io import fits

__all__: list[str] = []

_EXTNAMES = {"Science": "SCIENCE", "Template": "TEMPLATE", "Difference": "DIFFERENCE"}


def _stamp_hdu(stamp: fits.PrimaryHDU, kind: str, alert: dict) -> fits.ImageHDU:
    """One stamp as an image extension named after its kind, keeping the stamp's header.

    Parameters
    ----------
    stamp : `~astropy.io.fits.PrimaryHDU`
        The stamp as the server sends it (``/api/v1/cutouts`` with ``output-format=FITS``).
    kind : {'Science', 'Template', 'Difference'}
        Which stamp it is.
    alert : dict
        ``i:objectId``, ``i:candid`` and ``i:jd`` of the alert, written as OBJECTID, CANDID, JD.

    Returns
    -------
    hdu : `~astropy.io.fits.ImageHDU`
    """
    header = stamp.header.copy()
    for card in ("SIMPLE", "EXTEND"):  # primary-only keywords
        header.remove(card, ignore_missing=True)
    hdu = fits.ImageHDU(data=stamp.data, header=header, name=_EXTNAMES[kind])
    hdu.header["OBJECTID"] = (alert["i:objectId"], "ZTF object name")
    hdu.header["CANDID"] = (int(alert["i:candid"]), "ZTF alert (candidate) id")
    hdu.header["JD"] = (float(alert["i:jd"]), "Julian date of the alert exposure start")
    hdu.header["CUTOUT"] = (kind, "Fink cutout kind")
    return hdu
