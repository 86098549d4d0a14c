# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The Fink ZTF endpoints as `Endpoint` declarations, and the server's own constants.

Server behaviour is cited from fink-object-api (apps/routes/v1/ztf/<name>/utils.py).
"""
from dataclasses import replace

from .._endpoint import FINK_START, Endpoint
from .._strays import (
    against_trend,
    other_than,
    outside_cone,
    outside_jd_range,
    outside_prefix,
    outside_start_window,
)

__all__: list[str] = []

# The server keeps at most NLIMIT rows per requested ID and per table (alerts, upper limits,
# bad-quality points): fink-object-api apps/routes/v1/ztf/objects/utils.py.
ROWS_PER_ID = 10_000

OBJECTS = Endpoint(
    "objects", "objects", items="objects", rows="alerts", ids="objectId", id_column="i:objectId",
    row_key=("i:objectId", "i:jd", "d:tag"), sort=(("i:jd", True),),
    tiebreak=("i:objectId", "i:candid"), rows_per_id=ROWS_PER_ID, cap_group="d:tag",
    # withcutouts: the server reads each row's objectId and candid to fetch its stamps
    # (HTTP 500 without them); withupperlim: it sorts by i:jd (HTTP 500 without it).
    needs={"withcutouts": ("i:objectId", "i:candid"), "withupperlim": ("i:jd",)},
)
# the same route, batched by the smaller cutout batch size
OBJECTS_CUTOUTS = replace(OBJECTS, batch_size="batch_size_cutouts")
# with upper limits, one object per request by default: the server drops the bad-quality
# points whose i:jd is that of a valid alert of *any* object of the request
# (apps/routes/v1/ztf/objects/utils.py), so a result would depend on the batching
OBJECTS_UPPERLIM = replace(OBJECTS, batch_size="batch_size_upperlim")
CUTOUTS = Endpoint("cutouts", "cutouts")
SCHEMA = Endpoint("schema", "schema", method="GET")


# What the searches' checks read from a request (Endpoint.strays, filtered_after_limit).
def _tracklet_prefix(payload: dict) -> str | None:
    """The server's key prefix: the ``id``, or ``TRCK_`` and the ``date``'s digits
    ("2021-11-20 03" -> TRCK_20211120_03; apps/routes/v1/ztf/tracklet/utils.py)."""
    if "id" in payload:
        return str(payload["id"])
    date = payload.get("date")
    return None if date is None else \
        "TRCK_" + str(date).replace("-", "").replace(":", "").replace(" ", "_")


def _class_thinning(payload: dict) -> str | None:
    """How the class search thins its newest n alerts (apps/routes/v1/ztf/latests/utils.py):
    by ``trend``, or to one alert per object for the grouped classes."""
    if "trend" in payload:
        return f"keeps the alerts of trend {payload['trend']}"
    if payload.get("class") in GROUPED_CLASSES:
        return "keeps one alert per object"
    return None


# Cone search: one row per object (its last alert), nearest first
# (fink-object-api apps/routes/v1/ztf/conesearch/utils.py). The rows of several positions are
# labelled with the position's index and kept apart: an object near two positions is in both.
CONESEARCH = Endpoint(
    "conesearch", "cone search", items="positions", rows="objects",
    sort=(("input_index", False), ("v:separation_degree", False)), tiebreak=("i:objectId",),
    # n caps each HEALPix pixel's scan of ztf.pixel128, whose rows do not name their pixel
    limit_arg="n", limit_per_scan=True, narrow_by="a smaller radius",
    # with a `columns` selection the server keeps one alert per object only when both are
    # selected (apps/utils/decoding.py, format_hbase_output: group_alerts)
    needs={"*": ("i:objectId", "i:jd")},
    strays=(outside_cone("i:ra", "i:dec"), outside_start_window("i:jdstarthist")),
)
# Class search: the newest alerts of a class, newest first: a reversed range scan on keys
# <class>_<jd> (apps/routes/v1/ztf/latests/utils.py).
LATESTS = Endpoint("latests", "class search", rows="alerts", sort=(("i:jd", True),),
                   tiebreak=("i:objectId",), row_key=("i:objectId", "i:jd"), limit_arg="n",
                   strays=(outside_jd_range("i:jd", "startdate", "stopdate",
                                            default_start=FINK_START),
                           against_trend("d:mag_rate", "trend", {"rising": -1, "fading": 1})),
                   filtered_after_limit=_class_thinning,
                   # the server answers an unknown class name with no rows, as an empty range
                   empty_hint="or is the class name one of get_classes()?")
CLASSES = Endpoint("classes", "class list", method="GET")
SSO = Endpoint(
    "sso", "solar system objects", items="objects", rows="alerts", ids="n_or_d",
    sort=(("i:jd", True),), tiebreak=("i:objectId",), row_key=("i:objectId", "i:jd"),
    # one scan of ztf.ssnamenr per object a name resolves to (apps/routes/v1/ztf/sso)
    rows_per_id=ROWS_PER_ID, scan_column="i:ssnamenr",
    # apps/routes/v1/ztf/sso/utils.py answers HTTP 400 without the cutouts' columns, adds
    # i:ssnamenr to every selection itself, and reads without checking them the columns
    # fink-utils' get_miriade_data needs (withEphem: "could not obtain the ephemerides", a 400)
    # and those of the sHG1G2 fit (withResiduals)
    # a number names one ssnamenr, whose rows carry it as sso_number
    strays=(other_than("sso_number", "n_or_d", when=str.isdigit),),
    needs={"*": ("i:ssnamenr",), "withcutouts": ("i:objectId", "i:candid"),
           "withEphem": ("i:jd", "i:magpsf"),
           "withResiduals": ("i:jd", "i:magpsf", "i:sigmapsf", "i:fid", "i:ra", "i:dec")},
)
# orbParams: one prefix scan of cand_<ssoCandId> (the client's default limit); lightcurves:
# ssoCandId equal, limited by maxnumber (apps/routes/v1/ztf/ssocand/utils.py)
SSOCAND = Endpoint("ssocand", "SSO candidates", rows="rows", described=False,
                   rows_per_id=ROWS_PER_ID,
                   strays=(outside_prefix("d:ssoCandId", lambda p: p.get("ssoCandId")),))
SSOCAND_LIGHTCURVES = replace(SSOCAND, limit_arg="maxnumber", rows_per_id=None)
# the table's rows of sso_name or sso_number, when asked (apps/routes/v1/ztf/ssoft/utils.py)
SSOFT = Endpoint("ssoft", "SSO Fink table", rows="objects", schema="ztf_ssoft",
                 strays=(other_than("sso_name", "sso_name"),
                         other_than("sso_number", "sso_number")))
SSOBULK = Endpoint("ssobulk", "SSO light curves")
# one prefix scan of ztf.tracklet (apps/routes/v1/ztf/tracklet/utils.py)
TRACKLET = Endpoint("tracklet", "tracklet", rows="alerts", sort=(("i:jd", True),),
                    tiebreak=("i:objectId",), rows_per_id=ROWS_PER_ID,
                    strays=(outside_prefix("d:tracklet", _tracklet_prefix),))
RESOLVER = Endpoint("resolver", "name resolver", rows="matches", limit_arg="nmax",
                    narrow_by="a longer name",
                    schema="ztf_resolver", described=False)
# SIMBAD forward (CDS Sesame) and ssodnet with nmax=1 (exact match) are not capped by nmax
# (apps/routes/v1/ztf/resolver/utils.py)
RESOLVER_UNCAPPED = replace(RESOLVER, limit_arg=None)
# one scan of ztf.pixel128 per pixel of the credible region, each capped at 10,000 alerts
# before the rows are grouped per object (apps/routes/v1/ztf/skymap/utils.py); the rows do
# not say their pixel
SKYMAP = Endpoint("skymap", "sky map search", rows="objects", sort=(("i:jd", True),),
                  tiebreak=("i:objectId",), rows_per_id=ROWS_PER_ID, limit_per_scan=True)
STATISTICS = Endpoint("statistics", "statistics", rows="nights", sort=(("key:key", False),),
                      described=False,
                      strays=(outside_prefix("key:key", lambda p: f"ztf_{p.get('date', '')}"),))
# one key-range scan of ztf.anomaly from start_date to stop_date + 1 day
# (apps/routes/v1/ztf/anomaly/utils.py)
ANOMALY = Endpoint("anomaly", "anomaly search", rows="alerts", sort=(("i:jd", True),),
                   tiebreak=("i:objectId",), limit_arg="n",
                   strays=(outside_jd_range("i:jd", "start_date", "stop_date", stop_days=1,
                                            default_start=FINK_START),))

# The columns of ztf.pixel128, which the cone search reads (fink-broker
# load_ztf_crossmatch_cols and the classification; apps/routes/v1/ztf/conesearch/utils.py)
CONE_COLUMNS = (
    "i:objectId", "i:candid", "i:magpsf", "i:sigmapsf", "i:jd", "i:jdstarthist",
    "d:cdsxmatch", "i:drb", "i:ra", "i:dec", "i:fid", "i:distnr", "d:nalerthist",
    "d:classification",
)
# The largest cone-search radius (fink-object-api apps/routes/v1/ztf/conesearch/utils.py).
MAX_RADIUS_ARCSEC = 18_000.0
#: The Fink classifiers (fink-object-api assets/fink_types.csv).
FINK_CLASSES = (
    "Early SN Ia candidate", "Kilonova candidate", "SN candidate", "SLSN candidate",
    "Microlensing candidate", "Tracklet", "Solar System MPC", "Solar System candidate",
    "Ambiguous", "(CTA) Blazar low state", "(CTA) Blazar high state",
)
# Classes whose table the server groups to one alert per object after the scan, so that a
# cut answer may hold fewer than n rows (apps/routes/v1/ztf/latests/utils.py).
GROUPED_CLASSES = ("(CTA) Blazar low state", "(CTA) Blazar high state", "SLSN candidate")
TRENDS = ("rising", "fading", "low_state", "new_low_state")

RESOLVERS = ("simbad", "ssodnet", "tns")
SSOFT_FLAVORS = ("SHG1G2", "HG1G2", "HG", "SOCCA")
TRACKLET_ID_SHAPE = "TRCK_00000000_000000_00"  # 0 stands for any digit
