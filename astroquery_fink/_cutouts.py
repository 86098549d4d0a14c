# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Cutout stamps -> FITS HDUs, and the orientation convention (the three kinds are the same
for ZTF and Rubin; the Rubin HDUs are built in ``lsst/cutouts.py``).

Convention, the same for `~astropy.io.fits.HDUList` data, `numpy` arrays and the 3-D cutout
columns of `~astroquery_fink.FinkClass.query_object`: pixels are kept in the FITS order of the
ZTF stamp (row 0 is the bottom row of the image). Displayed with ``origin="lower"``, they show
the sky as Fink shows it; the Fink documentation's ``data[::-1]`` is the same picture for
matplotlib's default ``origin="upper"``.
"""
import io
import numbers

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning
from astroquery.exceptions import InvalidQueryError, RemoteServiceError

from ._errors import shown
from ._tables import json_answer, not_an_answer
from .exceptions import TruncatedAnswerError

__all__: list[str] = []

#: The three ZTF stamps, in Fink's order (the ``kind`` / ``cutout-kind`` values).
CUTOUT_KINDS = ("Science", "Template", "Difference")
#: Kind -> EXTNAME of its HDU in `~astroquery_fink.FinkClass.get_cutouts`.
EXTNAMES = {kind: kind.upper() for kind in CUTOUT_KINDS}


def cutout_kind(kind, *, allow_all: bool = True, name: str = "kind") -> str | None:
    """'Science', 'Template', 'Difference' (any case) or None/'All' for the three; ``name``
    is the argument's, for the message."""
    if kind is None:
        return None
    if isinstance(kind, str):
        for known in CUTOUT_KINDS + (("All",) if allow_all else ()):
            if kind.lower() == known.lower():
                return None if known == "All" else known
    choices = ", ".join(CUTOUT_KINDS) + (" or All" if allow_all else "")
    raise InvalidQueryError(f"{name}={shown(kind)} is not a cutout kind: choose among {choices}")


def stamp_column(kind: str) -> str:
    """The ``/objects`` column holding a kind's stamp (``b:cutoutScience_stampData``)."""
    return f"b:cutout{kind}_stampData"


def stamp_hdu(stamp: fits.PrimaryHDU, kind: str, alert: dict) -> fits.ImageHDU:
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
    hdu = fits.ImageHDU(data=stamp.data, header=header, name=EXTNAMES[kind])
    hdu.header["OBJECTID"] = (alert["i:objectId"], "ZTF object name")
    hdu.header["CANDID"] = (int(alert["i:candid"]), "ZTF alert (candidate) id")
    hdu.header["JD"] = (float(alert["i:jd"]), "Julian date of the alert exposure start")
    hdu.header["CUTOUT"] = (kind, "Fink cutout kind")
    return hdu


def read_fits(content: bytes) -> fits.HDUList:
    """A FITS answer read whole, headers and pixels, while it is parsed: a file cut short
    raises `~astroquery_fink.exceptions.TruncatedAnswerError` (retried, never cached), an
    answer that is not FITS `~astroquery.exceptions.RemoteServiceError` with the server's
    words. Whether every HDU has its bytes is found before astropy reads the file, which
    would otherwise warn (a process-wide warning, not ours to silence in threads)."""
    if not content.startswith(b"SIMPLE  ="):
        raise not_an_answer(content, "a FITS file")
    # bytes after the last HDU (padding some writers add) are not read: astropy would warn
    content = content[:_check_whole(content)]
    if len(content) % 2880:
        # a last block without its padding (zeros, never read) is complete
        content = content + bytes(2880 - len(content) % 2880)
    try:
        # ZTF stamps write "SIMPLE  =  T" (not in the standard's column 30)
        hdul = fits.open(io.BytesIO(content), ignore_missing_simple=True, lazy_load_hdus=False)
        hdul.verify("silentfix")
        for hdu in hdul:
            _ = hdu.data
    except (OSError, ValueError, TypeError, IndexError, AstropyUserWarning) as err:
        raise RemoteServiceError(f"Fink's cutout could not be read as FITS: {err}") from None
    return hdul


def _check_whole(content: bytes) -> int:
    """Where the last HDU of ``content`` ends; `TruncatedAnswerError` unless every HDU's
    header and data are there (only the padding of the last block may be missing). An HDU
    after the first starts with XTENSION; other bytes after an HDU are trailing padding.
    Data sizes follow the FITS standard (4.0, section 4.4.1.1): |BITPIX|/8 x GCOUNT x
    (PCOUNT + NAXIS1 x ... x NAXISn)."""
    stream, end = io.BytesIO(content), len(content)
    last = 0
    while stream.tell() < end:
        start = stream.tell()
        if start and not content.startswith(b"XTENSION", start):
            break
        try:
            header = fits.Header.fromfile(stream, padding=True)
        except (OSError, EOFError, ValueError) as err:
            raise TruncatedAnswerError(
                f"Fink's cutout was cut short: the header at byte {start} ends early ({err})"
            ) from None
        naxis = int(header.get("NAXIS", 0))
        size = 0
        if naxis:
            size = abs(int(header["BITPIX"])) // 8 * int(header.get("GCOUNT", 1)) * (
                int(header.get("PCOUNT", 0))
                + int(np.prod([int(header[f"NAXIS{k}"]) for k in range(1, naxis + 1)])))
        data_end = stream.tell() + size
        if data_end > end:
            raise TruncatedAnswerError(
                f"Fink's cutout was cut short: {end} bytes, its HDUs need {data_end}")
        last = min(end, data_end + (-data_end) % 2880)
        stream.seek(last)
    return last


def fits_stamp(content: bytes) -> fits.PrimaryHDU:
    """A ``/cutouts`` FITS answer -> its primary HDU, a 2-D image (else not a stamp)."""
    stamp = read_fits(content)[0]
    if stamp.data is None or stamp.data.ndim != 2 or 0 in stamp.data.shape:
        shape = None if stamp.data is None else stamp.data.shape
        raise RemoteServiceError(f"Fink's cutout holds no 2-D image (its data: {shape})")
    return stamp


def stamp_arrays(content: bytes) -> dict[str, np.ndarray]:
    """A ``/cutouts`` ``output-format=array`` answer -> stamp column name -> float32 image
    (2-D; anything else is not a stamp)."""
    data = json_answer(content, "/cutouts", "the cutouts' JSON arrays")
    if isinstance(data, list) and len(data) == 1:
        data = data[0]  # the answer's layout before 2024-11-25
    if not isinstance(data, dict):
        raise RemoteServiceError(f"Unexpected /cutouts answer: {str(data)[:200]}")
    try:
        # numbers only: numpy would also read text ("1") and flags as pixel values
        arrays = {k: np.array(v) for k, v in data.items()}
    except (TypeError, ValueError) as err:
        raise RemoteServiceError(f"Unexpected /cutouts answer: {str(data)[:200]}") from err
    for k, a in arrays.items():
        # null pixels (NaN written by a JSON encoder that has no NaN token) are NaN
        if a.dtype.kind == "O" and all(
                x is None or isinstance(x, int | float) and not isinstance(x, bool)
                for x in a.ravel()):
            arrays[k] = np.array(a.tolist(), dtype=np.float64)
    wrong = [k for k, a in arrays.items() if a.dtype.kind not in "iuf"]
    if wrong:
        raise RemoteServiceError(f"Fink's /cutouts answer holds no numbers for "
                                 f"{', '.join(wrong)}: {str(data)[:200]}")
    try:
        with np.errstate(over="raise"):
            arrays = {k: a.astype(np.float32) for k, a in arrays.items()}
    except FloatingPointError as err:
        raise RemoteServiceError("Fink's /cutouts answer holds values beyond float32, which "
                                 "stamps are") from err
    flat = {k: a.shape for k, a in arrays.items() if a.ndim != 2 or 0 in a.shape}
    if flat:
        raise RemoteServiceError(
            f"Fink's /cutouts answer holds no 2-D image for {', '.join(flat)}: shapes "
            f"{', '.join(map(str, flat.values()))}")
    return arrays


def image_stretch(stretch):
    """A stretch name (or an astropy stretch) -> the astropy stretch used to show stamps."""
    from astropy import visualization as vis

    if isinstance(stretch, vis.BaseStretch):
        return stretch
    stretches = {"asinh": vis.AsinhStretch, "linear": vis.LinearStretch,
                 "sqrt": vis.SqrtStretch, "log": vis.LogStretch, "sinh": vis.SinhStretch,
                 "squared": vis.SquaredStretch}
    if stretch not in stretches:
        raise InvalidQueryError(
            f"stretch={shown(stretch)} is unknown: choose among {', '.join(stretches)} "
            "or pass an astropy.visualization stretch")
    return stretches[stretch]()


def image_interval(interval):
    """An interval name, a percentile (or an astropy interval) -> the astropy interval used
    to show stamps."""
    from astropy import visualization as vis

    if isinstance(interval, vis.BaseInterval):
        return interval
    if interval == "zscale":
        return vis.ZScaleInterval()
    if interval == "minmax":
        return vis.MinMaxInterval()
    if isinstance(interval, numbers.Real) and 0 < interval <= 100:
        return vis.PercentileInterval(float(interval))
    raise InvalidQueryError(
        f"interval={shown(interval)} is unknown: use 'zscale', 'minmax', a percentile "
        "(e.g. 99.5) or an astropy.visualization interval")
