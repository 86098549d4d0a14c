# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The Fink Rubin/LSST endpoints as `Endpoint` declarations, and the server's own constants.

Server behaviour is cited from fink-object-api 3.5.0 (apps/routes/v1/lsst/<name>/utils.py).
"""
from .._endpoint import Endpoint

__all__: list[str] = []

# The server keeps at most NLIMIT rows per scan, i.e. per requested ID
# (fink-object-api config.yml NLIMIT, apps/utils/client.py).
ROWS_PER_ID = 10_000
# The largest cone-search radius (fink-object-api apps/routes/v1/lsst/conesearch/utils.py).
MAX_RADIUS_ARCSEC = 18_000.0

_LIGHT_CURVE = dict(
    sort=(("r:midpointMjdTai", True),), row_key=("r:diaObjectId", "r:midpointMjdTai"),
    schema="lsst")

SOURCES = Endpoint(
    "sources", "sources", items="objects", rows="sources", ids="diaObjectId",
    id_column="r:diaObjectId", tiebreak=("r:diaObjectId", "r:diaSourceId"),
    rows_per_id=ROWS_PER_ID, **_LIGHT_CURVE)
OBJECTS = Endpoint(
    "objects", "objects", items="objects", rows="objects", ids="diaObjectId",
    id_column="r:diaObjectId", row_key=("r:diaObjectId",), tiebreak=("r:diaObjectId",),
    schema="lsst")
FP = Endpoint(
    "fp", "forced photometry", items="objects", rows="forced sources", ids="diaObjectId",
    id_column="r:diaObjectId", tiebreak=("r:diaObjectId", "r:diaForcedSourceId"),
    rows_per_id=ROWS_PER_ID, **_LIGHT_CURVE)
# The server appends r:ra, r:dec, r:midpointMjdTai to a selection only when they are not
# *substrings* of it (so "r:raErr" hides "r:ra" and the request fails): the client always
# names them. A date filter needs f:firstDiaSourceMjdTaiFink in a selection (HTTP 400).
CONESEARCH = Endpoint(
    "conesearch", "cone search", items="positions", rows="objects",
    row_key=("input_index", "r:diaObjectId"),
    sort=(("input_index", False), ("v:separation_degree", False)), tiebreak=("r:diaObjectId",),
    needs={"*": ("r:diaObjectId", "r:ra", "r:dec", "r:midpointMjdTai"),
           "dates": ("f:firstDiaSourceMjdTaiFink",)},
    schema="lsst")
CUTOUTS = Endpoint("cutouts", "cutouts", items="alerts", schema="lsst")
SCHEMA = Endpoint("schema", "schema", schema="lsst")
SSO = Endpoint(
    "sso", "Solar System objects", items="names", rows="alerts", ids="n_or_d",
    row_key=("r:diaSourceId",), sort=(("r:midpointMjdTai", True),), tiebreak=("r:diaSourceId",),
    schema="lsst")
# nmax: 10 by default, passed to the scan's setLimit (apps/routes/v1/lsst/resolver/utils.py)
RESOLVER = Endpoint("resolver", "resolver", rows="matches", limit_arg="nmax", limit_default=10,
                    schema="lsst")
SKYMAP = Endpoint(
    "skymap", "sky map search", rows="alerts", sort=(("r:midpointMjdTai", True),),
    tiebreak=("r:diaObjectId",), schema="lsst")
STATISTICS = Endpoint("statistics", "statistics", rows="nights", sort=(("f:night", False),),
                      schema="lsst_statistics")
# n: 10 by default (apps/routes/v1/lsst/tags/utils.py; the help text says 100)
TAGS = Endpoint(
    "tags", "tag search", rows="alerts", limit_arg="n", limit_default=10,
    tiebreak=("r:diaObjectId",), **_LIGHT_CURVE)
TAG_LIST = Endpoint("tags", "tag list", method="GET", schema="lsst")
BLOCKS = Endpoint("blocks", "block list", method="GET", schema="lsst")

#: The ``endpoint`` values of ``/api/v1/schema`` (fink-object-api apps/routes/v1/lsst/schema).
SCHEMA_ENDPOINTS = ("sources", "objects", "fp", "conesearch", "cutouts", "sso", "statistics",
                    "tags")
RESOLVERS = ("tns", "simbad", "ssodnet")
SELECTABLE = ("r", "f")
VERSIONS = ("f:fink_broker_version", "f:fink_science_version", "f:lsst_schema_version")
