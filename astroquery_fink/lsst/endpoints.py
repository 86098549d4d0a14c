# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The Fink Rubin/LSST endpoints as `Endpoint` declarations, and the server's own constants.

Server behaviour is cited from fink-object-api 3.5.0 (apps/routes/v1/lsst/<name>/utils.py).
"""
import functools
from dataclasses import replace

from .._endpoint import FINK_START, Endpoint
from .._strays import (
                       of_several,
                       outside_cone,
                       outside_jd_range,
                       outside_number_prefix,
                       outside_prefix,
                       outside_tai_filters,
)

__all__: list[str] = []

# The server keeps at most NLIMIT rows per scan, i.e. per requested ID
# (fink-object-api config.yml NLIMIT, apps/utils/client.py).
ROWS_PER_ID = 10_000
# The largest cone-search radius (fink-object-api apps/routes/v1/lsst/conesearch/utils.py).
MAX_RADIUS_ARCSEC = 18_000.0

# Rows typed with the Rubin schema; the endpoints taking diaObjectIds (sent in batches, each
# row checked against the IDs asked for); the light curves' order and row key.
_rubin = functools.partial(Endpoint, schema="lsst")
_by_object = functools.partial(_rubin, items="objects", ids="diaObjectId",
                               id_column="r:diaObjectId")
_LIGHT_CURVE = dict(sort=(("r:midpointMjdTai", True),),
                    row_key=("r:diaObjectId", "r:midpointMjdTai"))

# midpointMjdTai is appended to the row key's prefix (<salt>_<diaObjectId>_<mjd>)
SOURCES = _by_object("sources", "sources", rows="sources", rows_per_id=ROWS_PER_ID,
                     tiebreak=("r:diaObjectId", "r:diaSourceId"), **_LIGHT_CURVE,
                     strays=(outside_number_prefix("r:midpointMjdTai", "midpointMjdTai"),))
# one row per object: rubin.diaObject keeps each object's latest state under its ID
OBJECTS = _by_object("objects", "objects", rows="objects", row_key=("r:diaObjectId",),
                     tiebreak=("r:diaObjectId",), rows_per_id=1, cut_at_rows_per_id=False)
FP = _by_object("fp", "forced photometry", rows="forced sources", rows_per_id=ROWS_PER_ID,
                tiebreak=("r:diaObjectId", "r:diaForcedSourceId"), **_LIGHT_CURVE)
# The server appends r:ra, r:dec, r:midpointMjdTai to a selection only when they are not
# *substrings* of it (so "r:raErr" hides "r:ra" and the request fails): the client always
# names them. A date filter needs f:firstDiaSourceMjdTaiFink in a selection (HTTP 400).
CONESEARCH = _rubin(
    "conesearch", "cone search", items="positions", rows="objects",
    row_key=("input_index", "r:diaObjectId"),
    sort=(("input_index", False), ("v:separation_degree", False)), tiebreak=("r:diaObjectId",),
    needs={"*": ("r:diaObjectId", "r:ra", "r:dec", "r:midpointMjdTai"),
           "dates": ("f:firstDiaSourceMjdTaiFink",)},
    # n (default 1000) caps each HEALPix pixel's scan of rubin.pixel1024, before the server
    # keeps one row per object (apps/routes/v1/lsst/conesearch/utils.py): a pixel with n
    # rows in the answer was cut for sure; one with fewer may have been, if its objects had
    # several alerts
    limit_arg="n", limit_default=1000, limit_per_scan=True, scan_column="f:pixel1024",
    strays=(outside_cone("r:ra", "r:dec"),
            outside_tai_filters("f:firstDiaSourceMjdTaiFink", "r:midpointMjdTai")))
CUTOUTS = _rubin("cutouts", "cutouts", items="alerts")
SCHEMA = _rubin("schema", "schema")


# one scan of rubin.diaSource_sso per packed designation that quaero gives the name (all its
# aliases: a packed designation asked may be a secondary one, its rows carry the primary),
# each row named by f:sso_name, the one name quaero resolved (apps/routes/v1/lsst/sso/utils.py)
SSO = _rubin("sso", "Solar System objects", items="names", rows="alerts", ids="n_or_d",
             row_key=("r:diaSourceId",), sort=(("r:midpointMjdTai", True),),
             tiebreak=("r:diaSourceId",), rows_per_id=ROWS_PER_ID,
             scan_column="r:packed_primary_provisional_designation",
             strays=(of_several("f:sso_name"),))
# nmax: 10 by default, passed to the scan's setLimit (apps/routes/v1/lsst/resolver/utils.py)
# its answers are other tables' rows (TNS, Sesame), not in the Rubin schema
RESOLVER = _rubin("resolver", "resolver", rows="matches", limit_arg="nmax", limit_default=10,
                  narrow_by="a longer name", described=False, schema="lsst_resolver")
# SIMBAD forward (CDS Sesame) and ssodnet forward (the server's own /sso) are not capped by
# nmax (apps/routes/v1/lsst/resolver/utils.py)
RESOLVER_UNCAPPED = replace(RESOLVER, limit_arg=None)
# one scan of rubin.pixel1024 per pixel of the region, each capped at 10,000 rows
# (apps/routes/v1/lsst/skymap/utils.py)
SKYMAP = _rubin("skymap", "sky map search", rows="alerts", sort=(("r:midpointMjdTai", True),),
                tiebreak=("r:diaObjectId",), rows_per_id=ROWS_PER_ID,
                scan_column="f:pixel1024")
STATISTICS = _rubin("statistics", "statistics", rows="nights", sort=(("f:night", False),),
                    schema="lsst_statistics",
                    strays=(outside_prefix("f:night", lambda p: str(p.get("date", ""))),))
# n: 10 by default (apps/routes/v1/lsst/tags/utils.py; the help text says 100)
# a range scan of the row keys <midpointMjdTai>_<diaObjectId> from the MJD of startdate to
# that of stopdate (dates the server reads as UTC: the client sends TAI dates)
TAGS = _rubin("tags", "tag search", rows="alerts", limit_arg="n", limit_default=10,
              tiebreak=("r:diaObjectId",), **_LIGHT_CURVE,
              strays=(outside_jd_range("r:midpointMjdTai", "startdate", "stopdate",
                                       default_start=FINK_START, mjd=True),))
TAG_LIST = _rubin("tags", "tag list", method="GET")
BLOCKS = _rubin("blocks", "block list", method="GET")

#: The ``endpoint`` values of ``/api/v1/schema`` (fink-object-api apps/routes/v1/lsst/schema).
SCHEMA_ENDPOINTS = ("sources", "objects", "fp", "conesearch", "cutouts", "sso", "statistics",
                    "tags")
RESOLVERS = ("tns", "simbad", "ssodnet")
SELECTABLE = ("r", "f")
VERSIONS = ("f:fink_broker_version", "f:fink_science_version", "f:lsst_schema_version")
