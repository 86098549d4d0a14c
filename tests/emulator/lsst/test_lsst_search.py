"""/conesearch, /sso, /resolver, /statistics, /tags, /blocks and /schema."""
import datetime
import json

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord


def _get(client, query, status=200):
    r = client.get(query)
    assert r.status_code == status, r.data
    return json.loads(r.data) if status == 200 else r.data.decode()


def _latest_by_object(alerts):
    latest = {}
    for a in alerts:
        oid = a["diaSource"]["diaObjectId"]
        if oid and (oid not in latest or a["diaSource"]["midpointMjdTai"]
                    > latest[oid]["diaSource"]["midpointMjdTai"]):
            latest[oid] = a
    return latest


@pytest.mark.parametrize("radius", [5.0, 100.0, 1800.0])
def test_conesearch_membership(lsst, raw, processed, radius):
    centre = SkyCoord(10.024, -44.64, unit="deg")
    latest = _latest_by_object(raw + processed)
    pos = SkyCoord([a["diaSource"]["ra"] for a in latest.values()],
                   [a["diaSource"]["dec"] for a in latest.values()], unit="deg")
    sep = centre.separation(pos).to(u.arcsec).value
    expected = {oid for oid, s in zip(latest, sep, strict=True) if s <= radius}
    rows = _get(lsst, f"/api/v1/conesearch?ra=10.024&dec=-44.64&radius={radius}"
                      "&columns=r:diaObjectId")
    assert {r["r:diaObjectId"] for r in rows} == expected
    assert len(expected) >= {5.0: 1, 100.0: 2, 1800.0: 3}[radius]
    if rows:
        assert set(rows[0]) == {"r:diaObjectId", "r:ra", "r:dec", "r:midpointMjdTai",
                                "v:separation_degree"}
        seps = [r["v:separation_degree"] for r in rows]
        assert seps == sorted(seps)
        np.testing.assert_allclose(sorted(seps), sorted(s / 3600 for s in sep if s <= radius),
                                   atol=1e-9)


def test_conesearch_formats_and_all_columns(lsst, processed):
    alert = processed[0]
    ra, dec = alert["diaSource"]["ra"], alert["diaSource"]["dec"]
    (row,) = _get(lsst, f"/api/v1/conesearch?ra={ra}&dec={dec}&radius=5")
    assert row["r:diaObjectId"] == alert["diaSource"]["diaObjectId"]
    assert row["r:diaSourceId"] == alert["diaSourceId"]
    assert row["f:clf_cats_class"] == alert["clf"]["cats_class"]
    assert row["r:nDiaSources"] == alert["diaObject"]["nDiaSources"]
    assert row["v:separation_degree"] < 1e-6
    # sexagesimal input is the same place
    c = SkyCoord(ra, dec, unit="deg")
    text = c.to_string("hmsdms", sep=":").split()
    rows = _get(lsst, f"/api/v1/conesearch?ra={text[0]}&dec={text[1]}&radius=5")
    assert [r["r:diaObjectId"] for r in rows] == [row["r:diaObjectId"]]
    assert _get(lsst, "/api/v1/conesearch?ra=0&dec=80&radius=1") == []


def test_conesearch_dates_and_errors(lsst, processed):
    alert = processed[0]
    ra, dec = alert["diaSource"]["ra"], alert["diaSource"]["dec"]
    first = alert["misc"]["firstDiaSourceMjdTaiFink"]
    base = f"/api/v1/conesearch?ra={ra}&dec={dec}&radius=5"
    assert len(_get(lsst, f"{base}&startdate={first - 1}")) == 1
    assert _get(lsst, f"{base}&startdate={first + 1}") == []
    assert _get(lsst, f"{base}&startdate={first - 10}&window=1") == []
    body = _get(lsst, f"{base}&startdate={first}&columns=r:diaObjectId", 400)
    assert body == str({"status": "error", "text": "You need to specify "
                        "f:firstDiaSourceMjdTaiFink in the columns to filter on dates.\n"})
    body = _get(lsst, "/api/v1/conesearch?ra=0&dec=0&radius=18001", 400)
    assert "cannot be bigger than 18,000 arcseconds" in body
    body = _get(lsst, "/api/v1/conesearch?ra=kfdlkj&dec=0&radius=1", 400)
    assert body.startswith("{'status': 'error', 'text': ValueError(")
    # r:raErr hides r:ra from the appended columns: KeyError on the server -> 500
    assert lsst.get(f"{base}&columns=r:raErr").status_code == 500


def test_sso(lsst, processed):
    sso = [a for a in processed if a["mpc_orbits"]["packed_primary_provisional_designation"]]
    assert len(sso) == 2
    for alert in sso:
        orbit = alert["mpc_orbits"]
        for name in (orbit["unpacked_primary_provisional_designation"],
                     orbit["packed_primary_provisional_designation"]):
            rows = _get(lsst, f"/api/v1/sso?n_or_d={name}")
            assert len(rows) == 1 and len(rows[0]) == 140
            assert rows[0]["r:diaSourceId"] == alert["diaSourceId"]
            assert rows[0]["r:ssObjectId"] == alert["diaSource"]["ssObjectId"]
            assert rows[0]["f:sso_name"] == orbit["unpacked_primary_provisional_designation"]
    rows = _get(lsst, "/api/v1/sso?n_or_d=K04J12Q,2020_SJ88&columns=r:midpointMjdTai")
    assert {r["f:sso_name"] for r in rows} == {"2004 JQ12", "2020 SJ88"}
    assert set(rows[0]) == {"r:midpointMjdTai", "r:packed_primary_provisional_designation",
                            "f:sso_name"}
    body = _get(lsst, "/api/v1/sso?n_or_d=kdflsjffld", 400)
    assert "kdflsjffld is not a valid name or number according to quaero." in body
    body = _get(lsst, "/api/v1/sso?n_or_d=K04J12Q,K20S88J&withResiduals=True", 400)
    assert "You cannot request residuals for a list object names." in body


def test_resolver(lsst, processed):
    alert = processed[0]
    oid = alert["diaSource"]["diaObjectId"]
    r = lsst.post("/api/v1/resolver", json={"resolver": "simbad", "name_or_id": str(oid),
                                            "reverse": True})
    (row,) = json.loads(r.data)
    # the raw HBase text, not cast (resolver/utils.py: hbase_to_dict only)
    assert row["r:diaObjectId"] == str(oid) and set(row) == {
        "r:diaObjectId", "r:ra", "r:dec"}  # main_label_crossmatch is null in these alerts
    sso = next(a for a in processed if not a["diaSource"]["diaObjectId"])
    r = lsst.post("/api/v1/resolver", json={"resolver": "ssodnet", "reverse": True,
                                            "name_or_id": str(sso["diaSource"]["ssObjectId"])})
    (row,) = json.loads(r.data)
    assert row["r:diaSourceId"] == str(sso["diaSourceId"])  # raw HBase text
    assert row["r:packed_primary_provisional_designation"] == sso["mpc_orbits"][
        "packed_primary_provisional_designation"]
    # a query-string reverse=True is text, not True: a forward TNS search, here empty
    assert _get(lsst, f"/api/v1/resolver?resolver=tns&name_or_id={oid}&reverse=True") == []
    assert lsst.get("/api/v1/resolver?resolver=foo&name_or_id=x").status_code == 500


def test_statistics(lsst, processed, raw):
    rows = _get(lsst, "/api/v1/statistics?date=")
    assert [r["f:night"] for r in rows] == ["20250906", "20260306"]
    (row,) = _get(lsst, "/api/v1/statistics?date=20260306")
    assert len(row) == 22
    assert row["f:alerts"] == str(len(processed))
    assert row["f:alerts_i"] == str(sum(a["diaSource"]["band"] == "i" for a in processed))
    assert row["f:is_sso"] == str(sum(a["pred"]["is_sso"] for a in processed))
    assert row["f:visits"] == str(len({a["diaSource"]["visit"] for a in processed}))
    assert row["f:fink_science_version"] == processed[0]["fink_science_version"]
    (row,) = _get(lsst, "/api/v1/statistics?date=2025&columns=f:night,f:alerts")
    assert row == {"f:night": "20250906", "f:alerts": str(len(raw))}
    (row,) = _get(lsst, "/api/v1/statistics?date=2025&columns=f:visits, f:alerts")
    assert row == {"f:night": "20250906",
                   "f:visits": str(len({a["diaSource"]["visit"] for a in raw}))}
    day = (datetime.datetime(1858, 11, 17)
           + datetime.timedelta(days=raw[0]["diaSource"]["midpointMjdTai"]))
    assert day.strftime("%Y%m%d") == "20250906"
    assert _get(lsst, "/api/v1/statistics?date=1999") == []


def test_tags_and_blocks(lsst):
    tags = _get(lsst, "/api/v1/tags")
    assert len(tags) == 9 and list(tags) == sorted(tags)
    assert tags["in_tns"]["API support"] is True
    assert tags["uniform_sample"]["API support"] is False
    assert _get(lsst, "/api/v1/tags?tag=in_tns&n=10") == []  # no TNS counterpart in the data
    assert "cataloged is not a valid tag" in _get(lsst, "/api/v1/tags?tag=cataloged", 400)
    body = _get(lsst, "/api/v1/tags?tag=uniform_sample", 400)
    assert "only available from the Livestream service" in body
    blocks = _get(lsst, "/api/v1/blocks")
    assert len(blocks) == 15 and list(blocks) == sorted(blocks)
    assert blocks["b_is_solar_system"] == "Return alerts that are asteroids according to Rubin"
    r = lsst.post("/api/v1/blocks", json={})
    assert r.status_code == 405 and "message" in json.loads(r.data)


def test_schema(lsst):
    r = lsst.get("/api/v1/schema")
    assert r.data.decode() == "Retrieve the data schema for a given endpoint for Fink/Rubin API"
    body = _get(lsst, "/api/v1/schema?endpoint=/api/v1/sources")
    assert list(body) == ["LSST original fields (r:)", "Fink science module outputs (f:)"]
    r_fields, f_fields = body.values()
    assert len(r_fields) == 100 and list(r_fields) == sorted(r_fields)
    assert r_fields["diaObjectId"]["type"] == ["null", "long"]
    assert r_fields["psfFlux"]["doc"]
    assert len(f_fields) == 32 and "xm_spicy_SPICY" in f_fields
    assert f_fields["clf_cats_class"]["type"] == "int"
    fp = _get(lsst, "/api/v1/schema?endpoint=/api/v1/fp&major_version=10&minor_version=0")
    assert len(fp["LSST original fields (r:)"]) == 14
    stats = _get(lsst, "/api/v1/schema?endpoint=/api/v1/statistics")
    assert len(stats["Fink science module outputs (f:)"]) == 22
    cut = _get(lsst, "/api/v1/schema?endpoint=/api/v1/cutouts")
    assert sorted(cut["LSST original cutouts (b:)"]) == [
        "cutoutDifference", "cutoutScience", "cutoutTemplate"]
    assert _get(lsst, "/api/v1/schema?endpoint=/api/v1/foo", 404) == (
        "/api/v1/foo is not a valid endpoint")
    r = lsst.get("/api/v1/schema?endpoint=/api/v1/sources&major_version=9&minor_version=0")
    assert r.status_code == 500  # 9.0 has no mpc_orbits schema


def test_skymap(lsst, raw):
    """A GW map centred on the LSSTCam field: the alerts inside its 90% region."""
    import gzip
    import io

    from astropy.io import fits

    HEALPix = pytest.importorskip("astropy_healpix").HEALPix  # optional: skymap needs it
    hp = HEALPix(nside=64, order="nested")
    lon, lat = hp.healpix_to_lonlat(np.arange(hp.npix))
    centre = SkyCoord(10.0, -44.6, unit="deg")
    dist = centre.separation(SkyCoord(lon, lat)).deg
    prob = np.exp(-0.5 * (dist / 0.5) ** 2)
    prob /= prob.sum()
    hdu = fits.BinTableHDU.from_columns([fits.Column("PROB", "D", array=prob)])
    hdu.header.update(ORDERING="NESTED", NSIDE=64, **{"DATE-OBS": "2025-09-06T07:00:00"})
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    payload = {"credible_level": 0.9, "bayestar": str(gzip.compress(buf.getvalue()))}
    r = lsst.post("/api/v1/skymap", json=payload)
    assert r.status_code == 200, r.data
    rows = json.loads(r.data)
    # credible level of each pixel, then of each static raw alert's pixel
    order = np.argsort(prob)[::-1]
    level = np.empty_like(prob)
    level[order] = np.cumsum(prob[order])
    static = [a for a in raw if a["diaSource"]["diaObjectId"]]
    pix = hp.lonlat_to_healpix([a["diaSource"]["ra"] for a in static] * u.deg,
                               [a["diaSource"]["dec"] for a in static] * u.deg)
    expected = {a["diaSourceId"] for a, p in zip(static, pix, strict=True) if level[p] <= 0.9}
    assert expected and {row["r:diaSourceId"] for row in rows} == expected
    # DATE-OBS (UTC) as a TAI MJD: 37 s later than the UTC MJD
    assert [row["v:startgwMjdTai"] for row in rows] == [
        pytest.approx(60924.0 + 7 / 24 + 37 / 86400, abs=1e-8)] * len(rows)
    r = lsst.post("/api/v1/skymap", json={"credible_level": 0.9, "event_name": "S230518h"})
    assert r.status_code == 200 and list(json.loads(r.data)[0]) == ["status"]


def test_conesearch_pixels_and_cap(lsst, raw):
    """Keys <pixel1024>_<firstDiaSourceMjdTaiFink>_<diaObjectId>, ``n`` rows per pixel scan."""
    hp = pytest.importorskip("astropy_healpix").HEALPix(nside=1024, order="ring")
    centre = SkyCoord(10.024, -44.64, unit="deg")
    latest = _latest_by_object(raw)
    ra = np.array([a["diaSource"]["ra"] for a in latest.values()])
    dec = np.array([a["diaSource"]["dec"] for a in latest.values()])
    pix = hp.lonlat_to_healpix(ra * u.deg, dec * u.deg)
    rows = _get(lsst, "/api/v1/conesearch?ra=10.024&dec=-44.64&radius=1800"
                      "&columns=r:diaObjectId,f:pixel1024")
    assert {r["r:diaObjectId"]: r["f:pixel1024"] for r in rows} == {
        oid: int(p) for oid, p, s in zip(latest, pix, centre.separation(
            SkyCoord(ra, dec, unit="deg")).arcsec, strict=True) if s <= 1800}
    # n=1: the first key of each pixel (smallest first detection, then ID) within the radius
    first = {}
    for a, p in zip(latest.values(), pix, strict=True):
        mjd = min([a["diaSource"]["midpointMjdTai"],
                   *(s["midpointMjdTai"] for s in a["prvDiaSources"] or [])])
        key = (repr(mjd), str(a["diaSource"]["diaObjectId"]))
        first[p] = min(first.get(p, key), key)
    capped = _get(lsst, "/api/v1/conesearch?ra=10.024&dec=-44.64&radius=1800&n=1"
                        "&columns=r:diaObjectId")
    expected = {int(k[1]) for k in first.values()} & {r["r:diaObjectId"] for r in rows}
    assert {r["r:diaObjectId"] for r in capped} == expected
    assert len(capped) < len(rows)  # some pixels hold several objects


def test_conesearch_without_healpix(monkeypatch, processed):
    """Without astropy-healpix: candidates by distance, the same objects."""
    from lsst_helpers import PROCESSED

    from astroquery_fink.testing.lsst import create_app, load_store, models, store

    monkeypatch.setattr(store, "healpix1024", lambda: None)
    monkeypatch.setattr(models, "healpix1024", lambda: None)
    client = create_app(load_store([PROCESSED]), strict=True).test_client()
    for alert in processed:
        if alert["diaSource"]["diaObjectId"]:
            ra, dec = alert["diaSource"]["ra"], alert["diaSource"]["dec"]
            rows = _get(client, f"/api/v1/conesearch?ra={ra}&dec={dec}&radius=2")
            assert [r["r:diaObjectId"] for r in rows] == [alert["diaSource"]["diaObjectId"]]
            assert "f:pixel1024" not in rows[0]


def test_tags_scan_as_lomikel_does():
    # n <= 0: no row (the loop stops at i >= limit); dates in either order; the newest n,
    # sorted by time only when r:midpointMjdTai comes (else in key order, oldest first)
    from astroquery_fink.testing.lsst import create_app, load_store
    from astroquery_fink.testing.lsst.store import Table

    store = load_store()
    table = Table("rubin.tag_in_tns", dict(store.sources.columns))
    for key in store.sources.keys()[:5]:
        row = store.sources.rows[key]
        table.put(f"{row['r:midpointMjdTai']!r}_{row['r:diaObjectId']}", row)
    store.tags["in_tns"] = table
    client = create_app(store, strict=True).test_client()

    def ask(**args):
        answer = client.post("/api/v1/tags", json={"tag": "in_tns", **args})
        assert answer.status_code == 200, answer.data
        return json.loads(answer.data)

    times = sorted(store.sources.rows[k]["r:midpointMjdTai"] for k in store.sources.keys()[:5])
    assert [ask(n=n, stopdate="2027-01-01") for n in (0, -1)] == [[], []]
    newest = ask(n=3, stopdate="2027-01-01", columns="r:midpointMjdTai")
    assert [r["r:midpointMjdTai"] for r in newest] == pytest.approx(times[::-1][:3], abs=1e-9)
    both = ask(n=3, stopdate="2027-01-01", columns="r:psfFlux,r:midpointMjdTai")
    fluxes = ask(n=3, stopdate="2027-01-01", columns="r:psfFlux")
    # the same rows, oldest first
    assert [r["r:psfFlux"] for r in fluxes] == [r["r:psfFlux"] for r in both][::-1]
    assert len(ask(startdate="2027-01-01", stopdate="2019-11-01", n=10)) == 5
