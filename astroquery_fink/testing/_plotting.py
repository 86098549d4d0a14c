"""Image stretches of the ``/api/v1/cutouts`` PNG output.

As fink-object-api apps/utils/plotting.py.
"""
from __future__ import annotations

import io

import numpy as np


def sigmoid_normalizer(img: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """``(x - mean) / std`` then ``1 / (1 + exp(-x))``, scaled to [vmin, vmax]."""
    norm = (img - img.mean()) / img.std()
    return (vmax - vmin) / (1 + np.exp(-norm)) + vmin


def legacy_normalizer(data: np.ndarray, stretch: str = "asinh") -> np.ndarray:
    """Non-sigmoid stretches.

    vmin = min + 0.2 * MAD and vmax = central pixel override pmin/pmax (section 5: the
    percentile arguments have no visible effect).
    """
    from astropy.visualization import simple_norm

    size = len(data)
    vmax = data[int(size / 2), int(size / 2)]
    vmin = np.min(data) + 0.2 * np.median(np.abs(data - np.median(data)))
    if stretch == "arcsinh":
        stretch = "asinh"
    norm = simple_norm(data, stretch=stretch, power=2, asinh_a=10, vmin=vmin, vmax=vmax,
                       clip=False)
    return np.nan_to_num(np.ma.filled(norm(data, clip=True), 0))


def convolve(image: np.ndarray, smooth: int = 1, kernel: str = "gauss") -> np.ndarray:
    """Astropy convolution with a Gaussian or box kernel of size ``5 * smooth``."""
    from astropy.convolution import Box2DKernel, Gaussian2DKernel
    from astropy.convolution import convolve as astropy_convolve

    if kernel == "gauss":
        k = Gaussian2DKernel(smooth, x_size=smooth * 5, y_size=smooth * 5)
    else:
        k = Box2DKernel(smooth, x_size=smooth * 5, y_size=smooth * 5)
    return astropy_convolve(image, k, boundary="extend")


def render_png(array, args) -> bytes:
    """The ``/cutouts`` PNG of one stamp, as both surveys' servers draw it.

    NaN -> 0, the ``stretch`` (default sigmoid), the optional ``convolution_kernel`` and
    ``colormap``, then ``uint8(x * 255)`` (fink-object-api apps/utils/plotting.py). A kernel
    other than gauss or box (an ``assert`` there) and an unknown colormap are the server's 500.
    """
    from PIL import Image

    from .wire import ServerFailure, server_fails

    data = np.nan_to_num(np.array(array, dtype=float))
    stretch = args.get("stretch", "sigmoid")
    with np.errstate(all="ignore"):
        if stretch == "sigmoid":
            data = sigmoid_normalizer(data, 0, 1)
        elif stretch is not None:
            with server_fails(ValueError, TypeError):  # an unknown stretch name
                # read (float()) though they change nothing visible: text is the server's 500
                _ = [float(args[p]) for p in ("pmin", "pmax") if p in args]
                data = legacy_normalizer(data, stretch=stretch)
        if "convolution_kernel" in args:
            if args["convolution_kernel"] not in ("gauss", "box"):
                raise ServerFailure("convolution_kernel must be gauss or box")
            data = convolve(data, smooth=1, kernel=args["convolution_kernel"])
        if "colormap" in args:
            from matplotlib import colormaps

            with server_fails(KeyError, ValueError, TypeError):  # unknown colormap name
                data = colormaps[args["colormap"]](data)
        image = np.uint8(data * 255)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()
