"""Image stretches of the ``/api/v1/cutouts`` PNG output.

As fink-object-api apps/utils/plotting.py.
"""
from __future__ import annotations

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
