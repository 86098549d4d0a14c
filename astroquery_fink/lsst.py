# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`FinkLSSTClass`: the Fink Rubin/LSST API (https://api.lsst.fink-portal.org)."""
from ._query import FinkQuery

__all__ = ["FinkLSST", "FinkLSSTClass"]


class FinkLSSTClass(FinkQuery):
    """Query the Fink alert broker's REST API for Rubin/LSST alerts.

    Parameters
    ----------
    server : str, optional
        Base URL of a Fink Rubin API deployment. Defaults to
        ``astroquery_fink.conf.server_lsst``, read at each call.
    timeout : float, optional
        Seconds allowed for one whole HTTP request. Defaults to ``astroquery_fink.conf.timeout``.
    """

    _server_conf = "server_lsst"


FinkLSST = FinkLSSTClass()
