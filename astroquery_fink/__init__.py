# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Astroquery-style access to the Fink alert broker REST API.

``from astroquery_fink import Fink`` gives the ready-to-use query object;
``astroquery_fink.testing`` holds an offline emulator of the Fink API.
"""
from astropy import config as _config

__version__ = "0.1.dev0"


class Conf(_config.ConfigNamespace):
    """Configuration parameters for `astroquery_fink`."""

    server = _config.ConfigItem(
        "https://api.ztf.fink-portal.org",
        "Base URL of the Fink ZTF REST API (read at call time, so set_temp works).",
        cfgtype="string",
    )
    server_lsst = _config.ConfigItem(
        "https://api.lsst.fink-portal.org",
        "Base URL of the Fink Rubin/LSST REST API (read at call time, so set_temp works).",
        cfgtype="string",
    )
    timeout = _config.ConfigItem(
        180, "Time limit in seconds for one HTTP request to the Fink server.", cfgtype="float"
    )
    cache_timeout = _config.ConfigItem(
        3600,
        "Lifetime in seconds of cached answers (Fink data grow every night; inf: no expiry). "
        "Caching itself follows astroquery.cache_conf.cache_active or the methods' cache= "
        "argument.",
        cfgtype="float",
    )
    batch_size = _config.ConfigItem(
        50, "Most object IDs sent in one /objects request by query_object.", cfgtype="integer"
    )
    batch_size_cutouts = _config.ConfigItem(
        2,
        "Most object IDs in one request when withcutouts=True (the server spends about "
        "0.25 s per cutout, and stops a request after 180 s).",
        cfgtype="integer",
    )
    batch_size_upperlim = _config.ConfigItem(
        1,
        "Most object IDs in one request when withupperlim=True: the server drops a "
        "bad-quality point at the time of a valid alert of any object of the request, so "
        "objects observed together lose each other's points when sent together.",
        cfgtype="integer",
    )
    max_workers = _config.ConfigItem(
        4, "Requests run at once by a multi-batch query (be polite: keep it small).",
        cfgtype="integer",
    )
    max_retries = _config.ConfigItem(
        5, "Retries of one request after a transient failure (0 disables retrying).",
        cfgtype="integer",
    )
    retry_base_delay = _config.ConfigItem(
        0.5, "First back-off ceiling in seconds; it doubles at each retry.", cfgtype="float"
    )
    retry_max_delay = _config.ConfigItem(
        30, "Longest back-off between two tries, in seconds.", cfgtype="float"
    )
    retry_total_time = _config.ConfigItem(
        300, "Time budget in seconds for one whole call: all its requests and their retries "
        "(0: no budget). Raise it for queries of many thousands of objects.", cfgtype="float"
    )


conf = Conf()

from .lsst import FinkLSST, FinkLSSTClass  # noqa: E402  (Conf must exist before these)
from .ztf import Fink, FinkClass  # noqa: E402

__all__ = ["Fink", "FinkClass", "FinkLSST", "FinkLSSTClass", "Conf", "conf", "__version__"]
