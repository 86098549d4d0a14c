"""The Rubin client against answers in the Fink/LSST server's shape, built here from the real
alert files of tests/data/lsst with fastavro and pandas (as fink-object-api
apps/utils/decoding.py format_lsst_hbase_output and apps/utils/utils.py send_tabular_data
write them), not by the emulator."""
import ast
import gzip
import io
import json
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from _helpers import Recorder, make_response
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import (
    InvalidQueryError,
    MaxResultsWarning,
    NoResultsWarning,
    RemoteServiceError,
)

from astroquery_fink import FinkLSSTClass
from astroquery_fink.lsst import flux_to_mag, to_time
from astroquery_fink.lsst.schema import columns as lsst_columns

fastavro = pytest.importorskip("fastavro")
pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data" / "lsst"
PROCESSED = DATA / "part-2-918301.avro"
BIG = 170028485706776685          # 346 diaSources, 395 forced sources
OTHER = 313897383979122767        # 320 diaSources
CONTENT_TYPES = {"json": "application/json", "csv": "application/csv", "votable": "text/xml",
                 "parquet": "parquet"}


@pytest.fixture(scope="module")
def alerts():
    with open(PROCESSED, "rb") as fh:
        return list(fastavro.reader(fh))


def alert_of(alerts, oid):
    return next(a for a in alerts if a["diaSource"]["diaObjectId"] == oid)


def source_rows(alert):
    """The /sources rows of one object: current diaSource, then its history (r: and f:)."""
    fink = {f"f:xm_{k}": v for k, v in alert["xm"].items()}
    fink.update({f"f:clf_{k}": v for k, v in alert["clf"].items()})
    rows = []
    for k, src in enumerate([alert["diaSource"], *alert["prvDiaSources"]]):
        row = {f"r:{n}": v for n, v in src.items()}
        row["r:observation_reason"] = alert["observation_reason"]
        row["r:target_name"] = alert["target_name"]
        row.update({n: (v if k == 0 else None) for n, v in fink.items()})
        rows.append(row)
    return rows


def server_frame(rows):
    """Rows -> the server's DataFrame: Int64 IDs, flags as text then True/False ("nan" where
    missing in a column that has values), sorted by r:midpointMjdTai descending."""
    pdf = pd.DataFrame(rows)
    known = lsst_columns()
    for name in pdf.columns:
        info = known.get(name)
        if info is not None and info.kind == "int":
            pdf[name] = pdf[name].astype("Int64")
        elif info is not None and info.kind == "bool":
            text = pdf[name].map(lambda v: None if v is None else str(v).lower())
            pdf[name] = text.astype(str).replace({"true": True, "false": False, "None": "nan"})
    if "r:midpointMjdTai" not in pdf.columns:
        return pdf
    return pdf.sort_values("r:midpointMjdTai", ascending=False)


def wire(pdf, fmt) -> bytes:
    if fmt == "json":
        return pdf.to_json(orient="records").encode()
    if fmt == "csv":
        return pdf.to_csv(index=False).encode()
    if fmt == "parquet":
        return pdf.to_parquet()
    buf = io.BytesIO()
    from astropy.io.votable import from_table, writeto
    from astropy.io.votable.exceptions import VOWarning

    with warnings.catch_warnings():  # names sanitised into IDs ('r:ra' -> 'r_ra'), as served
        warnings.simplefilter("ignore", VOWarning)
        writeto(from_table(Table.from_pandas(pdf)), buf)
    return buf.getvalue()


def client(monkeypatch, answers):
    fink = FinkLSSTClass(server="http://fink.test")
    recorder = Recorder(answers)
    monkeypatch.setattr(fink, "_request", recorder)
    return fink, recorder


def answer(body: bytes, fmt="json"):
    return make_response(body, content_type=CONTENT_TYPES.get(fmt, "application/json"))


def served(frames):
    """Answers written in each request's ``output-format``, as the server writes them:
    ``frames`` is a list of DataFrames (one per request, in order) or a function
    ``(url, body) -> DataFrame``."""
    queue = None if callable(frames) else list(frames)

    def answers(url, body):
        pdf = frames(url, body) if queue is None else queue.pop(0)
        fmt = body.get("output-format", "json")
        return answer(wire(pdf, fmt), fmt)

    return answers


# ----------------------------------------------------------------------------- light curves

@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "votable"])
def test_light_curve_rows_fluxes_and_exact_ids(monkeypatch, alerts, fmt):
    alert = alert_of(alerts, BIG)
    cols = ["r:diaObjectId", "r:diaSourceId", "r:ssObjectId", "r:midpointMjdTai", "r:psfFlux",
            "r:psfFluxErr", "r:band", "r:isDipole", "f:clf_cats_class"]
    pdf = server_frame(source_rows(alert))[cols]
    fink, rec = client(monkeypatch, [answer(wire(pdf, fmt), fmt)])
    t = fink.query_object(str(BIG), columns=cols, output_format=fmt)
    body = rec.calls[0][2]["json"]
    assert body["diaObjectId"] == "170028485706776685" and body["output-format"] == fmt
    sources = [alert["diaSource"], *alert["prvDiaSources"]]
    assert len(t) == len(sources) == 346
    assert np.all(np.diff(t["r:midpointMjdTai"]) <= 0)
    assert t["r:diaObjectId"].dtype == np.int64 and set(t["r:diaObjectId"]) == {BIG}
    by_id = {s["diaSourceId"]: s for s in sources}
    assert set(t["r:diaSourceId"].tolist()) == set(by_id)
    for row in t[:50]:
        src = by_id[int(row["r:diaSourceId"])]
        assert row["r:psfFlux"] == pytest.approx(src["psfFlux"], rel=1e-6)
        assert row["r:band"] == src["band"]
    assert t["r:psfFlux"].unit == u.nJy and t["r:midpointMjdTai"].unit == u.day
    # ssObjectId 0 ("not a Solar System object") is masked, and flags are booleans
    assert np.all(np.ma.getmaskarray(t["r:ssObjectId"]))
    assert t["r:isDipole"].dtype == bool
    assert int(t["f:clf_cats_class"][0]) == alert["clf"]["cats_class"] == 11
    assert np.ma.getmaskarray(t["f:clf_cats_class"])[1:].all()


def test_all_columns_have_schema_types_units_and_descriptions(monkeypatch, alerts):
    pdf = server_frame(source_rows(alert_of(alerts, OTHER)))
    fink, rec = client(monkeypatch, served([pdf]))
    t = fink.query_object(OTHER)
    assert rec.calls[0][2]["json"]["output-format"] == "csv"  # the default
    assert len(t) == 320
    known = lsst_columns()
    kinds = {"int": "i", "float": "f", "bool": "b", "str": "U"}
    for name in t.colnames:
        assert name in known, name
        assert t[name].dtype.kind == kinds[known[name].kind], name
    assert t["r:ra"].unit == u.deg and t["r:scienceFluxErr"].unit == u.nJy
    assert "Flux for Point Source model" in t["r:psfFlux"].description


def test_text_nan_is_missing_for_flags_and_text(monkeypatch):
    rows = [{"r:diaObjectId": 313761043604045880, "r:midpointMjdTai": 61105.5,
             "r:isDipole": True, "f:xm_simbad_otype": "Star"},
            {"r:diaObjectId": 313761043604045880, "r:midpointMjdTai": 61104.5,
             "r:isDipole": "nan", "f:xm_simbad_otype": "nan"},
            {"r:diaObjectId": 313761043604045880, "r:midpointMjdTai": 61103.5,
             "r:isDipole": False, "f:xm_simbad_otype": None}]
    for fmt in ("json", "csv"):
        body = wire(pd.DataFrame(rows), fmt)
        fink, _ = client(monkeypatch, [answer(body, fmt)])
        t = fink.query_object(313761043604045880, output_format=fmt)
        assert t["r:isDipole"].dtype == bool
        assert t["r:isDipole"].mask.tolist() == [False, True, False]
        assert t["r:isDipole"].filled(False).tolist() == [True, False, False]
        assert t["f:xm_simbad_otype"].mask.tolist() == [False, True, True]


@pytest.mark.parametrize("as_text", [False, True])
def test_ids_above_2_53_exact_with_nulls_in_json_numbers_or_strings(monkeypatch, as_text):
    ids = [313761043604045880, 170094456272322680, 313699514821640259]
    cell = (lambda v: f'"{v}"') if as_text else str
    body = "[" + ",".join(
        f'{{"r:diaObjectId":{cell(ids[0])},"r:diaSourceId":{cell(sid)},'
        f'"r:parentDiaSourceId":{"null" if k % 2 else cell(sid)},'
        f'"r:ssObjectId":{cell(0)},"r:midpointMjdTai":{61000 + k}}}'
        for k, sid in enumerate(ids)) + "]"
    fink, _ = client(monkeypatch, [answer(body.encode())])
    t = fink.query_object(ids[0], output_format="json")
    assert t["r:diaSourceId"].dtype == np.int64
    assert sorted(t["r:diaSourceId"].tolist()) == sorted(ids)
    assert 313761043604045880 in t["r:diaSourceId"].tolist()  # not ...888 (float64)
    assert t["r:parentDiaSourceId"].mask.tolist() == [False, True, False]
    assert np.all(t["r:ssObjectId"].mask)  # 0 = no ID


def test_large_json_answer_keeps_ids_exact(monkeypatch):
    # above 1 MiB the parser reads JSON with pyarrow: IDs must stay exact there too
    n = 6000
    first = 313761043604045880
    rows = [{"r:diaObjectId": first, "r:diaSourceId": first + k,
             "r:ssObjectId": None if k % 3 else 21164719644750924,
             "r:midpointMjdTai": 61000 + k / 1000, "r:band": "g",
             "r:target_name": "x" * 150} for k in range(n)]
    body = json.dumps(rows).replace(", ", ",").replace(": ", ":").encode()
    assert len(body) > 1 << 20
    fink, _ = client(monkeypatch, [answer(body)])
    t = fink.query_object(first, output_format="json")
    assert len(t) == n and t["r:diaSourceId"].dtype == np.int64
    assert set(t["r:diaSourceId"].tolist()) == {first + k for k in range(n)}
    assert set(t["r:ssObjectId"].compressed().tolist()) == {21164719644750924}


def test_several_objects_batched_merged_sorted(monkeypatch, alerts):
    frames = {oid: server_frame(source_rows(alert_of(alerts, oid)))[
        ["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai", "r:psfFlux"]]
        for oid in (BIG, OTHER)}

    def answers(url, body):
        ids = [int(i) for i in body["diaObjectId"].split(",")]
        pdf = pd.concat([frames[i] for i in ids]).sort_values("r:midpointMjdTai",
                                                              ascending=False)
        return pdf

    fink, rec = client(monkeypatch, served(answers))
    from astroquery_fink import conf
    with conf.set_temp("batch_size", 1):
        t = fink.query_object([BIG, np.int64(OTHER), str(BIG)],
                              columns=["r:midpointMjdTai", "r:psfFlux"])
    assert len(rec.calls) == 2
    assert len(t) == 346 + 320 and t.colnames == ["r:diaObjectId", "r:diaSourceId",
                                                    "r:midpointMjdTai", "r:psfFlux"] \
        or set(t.colnames) >= {"r:midpointMjdTai", "r:psfFlux"}
    assert np.all(np.diff(t["r:midpointMjdTai"]) <= 0)
    assert t.meta["missing_ids"] == []


def test_unknown_object_warns_and_is_empty(monkeypatch):
    fink, _ = client(monkeypatch, served([pd.DataFrame()]))  # "\n" in csv, [] in JSON
    with pytest.warns(NoResultsWarning, match="170000000000000001"):
        t = fink.query_object(170000000000000001, columns=["r:psfFlux"])
    assert len(t) == 0 and t.colnames == ["r:psfFlux"]


@pytest.mark.parametrize("bad", [3.1376104360404588e17, 0, -5, "31376104x", True, 2**64,
                                 np.float64(1.0), None, [], "  "])
def test_bad_ids_are_refused_before_any_request(monkeypatch, bad):
    fink, rec = client(monkeypatch, [])
    with pytest.raises(InvalidQueryError):
        fink.query_object(bad)
    assert rec.calls == []


def test_ids_sent_as_exact_text_and_midpoint_full_precision():
    fink = FinkLSSTClass(server="http://fink.test")
    body = fink.query_object(np.uint64(313761043604045880), midpointMjdTai=61105.093643486834,
                             get_query_payload=True)
    assert body["diaObjectId"] == "313761043604045880"
    assert body["midpointMjdTai"] == "61105.093643486834"
    t = Time(61105.093643486834, format="mjd", scale="tai").utc
    assert float(fink.query_object(1234, midpointMjdTai=t, get_query_payload=True)
                 ["midpointMjdTai"]) == pytest.approx(61105.093643486834, abs=1e-9)
    with pytest.raises(InvalidQueryError, match="one diaObjectId"):
        fink.query_object([1234, 5678], midpointMjdTai=61105.0)
    many = fink.query_object("313761043604045880, 170028485706776685",
                             get_query_payload=True)
    assert many["diaObjectId"] == "313761043604045880,170028485706776685"


def test_summary_and_forced_photometry(monkeypatch, alerts):
    alert = alert_of(alerts, BIG)
    obj = {f"r:{k}": v for k, v in alert["diaObject"].items()}
    obj.update({f"f:{k}": v for k, v in alert["pred"].items()})
    obj["f:firstDiaSourceMjdTaiFink"] = alert["misc"]["firstDiaSourceMjdTaiFink"]
    fp = [{f"r:{k}": v for k, v in f.items()} for f in alert["prvDiaForcedSources"]]
    fink, rec = client(monkeypatch, served([server_frame([obj]), server_frame(fp)]))
    s = fink.get_object_summary(BIG)
    assert len(s) == 1 and s["r:nDiaSources"][0] == alert["diaObject"]["nDiaSources"] == 346
    assert s["f:is_cataloged"].dtype == bool and bool(s["f:is_cataloged"][0]) is True
    assert s["f:firstDiaSourceMjdTaiFink"][0] == pytest.approx(61090.04758412875)
    assert s["r:g_psfFluxMean"].unit == u.nJy
    f = fink.query_forced_photometry(BIG)
    assert len(f) == len(alert["prvDiaForcedSources"]) == 395
    assert f["r:diaForcedSourceId"].dtype == np.int64
    assert set(f["r:diaForcedSourceId"].tolist()) == {
        x["diaForcedSourceId"] for x in alert["prvDiaForcedSources"]}
    assert [c[1].rsplit("/", 1)[-1] for c in rec.calls] == ["objects", "fp"]


# ----------------------------------------------------------------------------- cone search

def test_cone_search_payloads_columns_quirk_and_dates():
    fink = FinkLSSTClass(server="http://fink.test")
    bodies = fink.query_region(SkyCoord([63.34963, 10.0], [-47.18076, -44.0], unit="deg"),
                               5 * u.arcsec, columns=["r:raErr"], n=50,
                               startdate=Time("2026-03-01T00:00:00", scale="tai"),
                               window=2 * u.day, get_query_payload=True)
    assert len(bodies) == 2
    b = bodies[0]
    assert (b["ra"], b["dec"], b["radius"], b["n"]) == (63.34963, -47.18076, 5.0, 50)
    # r:raErr hides r:ra from the server's substring test: the client names it
    cols = b["columns"].split(",")
    assert {"r:ra", "r:dec", "r:midpointMjdTai", "f:firstDiaSourceMjdTaiFink"} <= set(cols)
    assert b["startdate"] == "2026-03-01 00:00:00.000" and b["window"] == 2.0
    with pytest.raises(InvalidQueryError, match="maximum"):
        fink.query_region("10 -44", 5.1 * u.deg)
    with pytest.raises(InvalidQueryError, match="unit"):
        fink.query_region("10 -44", 5)


def test_cone_search_several_positions_labelled(monkeypatch):
    def answers(url, body):
        rows = [{"r:diaObjectId": 169298432755761181 + int(body["ra"]), "r:ra": body["ra"],
                 "r:dec": body["dec"], "r:midpointMjdTai": 60924.33,
                 "v:separation_degree": 0.0}]
        return pd.DataFrame(rows)

    fink, rec = client(monkeypatch, served(answers))
    t = fink.query_region(["10 -44", "11 -45"], 3 * u.arcsec)
    assert t["input_index"].tolist() == [0, 1]
    assert t["v:separation_degree"].unit == u.deg
    assert t["r:diaObjectId"].tolist() == [169298432755761191, 169298432755761192]


# ----------------------------------------------------------------------------- cutouts

def fits_bytes(stamp: bytes) -> bytes:
    buf = io.BytesIO()
    fits.open(io.BytesIO(stamp)).writeto(buf)
    return buf.getvalue()


def test_cutouts_hdulist_from_fits_answers(monkeypatch):
    with open(DATA / "169298432755761181_169298432755761181.avro", "rb") as fh:
        [alert] = list(fastavro.reader(fh))
    sid = alert["diaSourceId"]

    def answers(url, body):
        assert body["diaSourceId"] == str(sid) and body["output-format"] == "FITS"
        return make_response(fits_bytes(alert[f"cutout{body['kind']}"]),
                             content_type="application/octet-stream")

    fink, rec = client(monkeypatch, answers)
    hdul = fink.get_cutouts(sid)
    assert [h.name for h in hdul] == [
        "PRIMARY", "SCIENCE", "SCIENCE_UNCERT", "SCIENCE_PSF", "TEMPLATE", "TEMPLATE_UNCERT",
        "TEMPLATE_PSF", "DIFFERENCE", "DIFFERENCE_UNCERT", "DIFFERENCE_PSF"]
    assert hdul[0].header["DIASRCID"] == sid == 169298432755761181
    for kind in ("Science", "Template", "Difference"):
        with fits.open(io.BytesIO(alert[f"cutout{kind}"])) as ref:
            np.testing.assert_array_equal(hdul[kind.upper()].data, ref[0].data)
            np.testing.assert_array_equal(hdul[kind.upper() + "_UNCERT"].data, ref[1].data)
            np.testing.assert_array_equal(hdul[kind.upper() + "_PSF"].data, ref[2].data)
    assert hdul["SCIENCE"].data.shape == (71, 71)
    assert hdul["SCIENCE"].header["BUNIT"].strip() == "nJy"
    assert hdul["SCIENCE"].header["CRVAL1"] == pytest.approx(10.026495, abs=1e-3)


def test_cutouts_arrays_and_empty_answer(monkeypatch):
    data = {"b:cutoutDifference": [[1.5, float("nan")], [3.0, 4.0]],
            "b:cutoutScience": [[1.0, 2.0], [3.0, 4.0]], "b:cutoutTemplate": [[0.0] * 2] * 2}
    body = json.dumps(data).encode()  # NaN written as the bare token, as jsonify does
    fink, rec = client(monkeypatch, [answer(body), make_response(b"", content_type="image/png")])
    arrays = fink.get_cutouts("170094456272322680", as_array=True)
    assert rec.calls[0][2]["json"] == {"diaSourceId": "170094456272322680", "kind": "All",
                                       "output-format": "array"}
    assert arrays["Difference"].dtype == np.float32 and np.isnan(arrays["Difference"][0, 1])
    with pytest.raises(InvalidQueryError, match="no alert with diaSourceId 123"):
        fink.get_cutouts(123, kind="science")
    with pytest.raises(InvalidQueryError):
        fink.get_cutouts(1.7e17)


# ----------------------------------------------------------------------------- the rest

@pytest.mark.parametrize("fmt", [None, "json"])
def test_statistics_counters_are_integers(monkeypatch, fmt):
    # counters written as text or as numbers (JSON keeps the difference, csv does not)
    rows = [{"f:night": "20251102", "f:alerts": "1348", "f:is_sso": "12",
             "f:lsst_schema_version": "lsst.v9_0"},
            {"f:night": "20251101", "f:alerts": 900, "f:is_sso": 3,
             "f:lsst_schema_version": "lsst.v9_0"}]
    fink, rec = client(monkeypatch, served([pd.DataFrame(rows)]))
    t = fink.get_statistics(202511, output_format=fmt)
    assert rec.calls[0][2]["json"]["date"] == "202511"
    assert rec.calls[0][2]["json"]["output-format"] == (fmt or "csv")
    assert t["f:night"].tolist() == [20251101, 20251102]
    assert t["f:alerts"].tolist() == [900, 1348] and t["f:is_sso"].dtype.kind == "i"
    # the same nights as on ZTF: dashes allowed, impossible dates refused
    assert fink.get_statistics("2025-11", get_query_payload=True)["date"] == "202511"
    with pytest.raises(InvalidQueryError, match="date must be a date"):
        fink.get_statistics("2025-13")


def test_tags_blocks_schema_sso_resolver_skymap_payloads(monkeypatch, tmp_path):
    fink = FinkLSSTClass(server="http://fink.test")
    body = fink.query_tags("in_tns", n=5, startdate="2026-01-01", get_query_payload=True)
    assert body["tag"] == "in_tns" and body["n"] == 5
    assert body["startdate"] == "2026-01-01 00:00:37.000"  # UTC midnight, written in TAI
    # one request per name: the server resolves and scans them one by one anyway
    assert fink.query_sso(["2004 JQ12", 8467], withEphem=True, get_query_payload=True) == [
        {"n_or_d": "2004 JQ12", "output-format": "csv", "withEphem": True},
        {"n_or_d": "8467", "output-format": "csv", "withEphem": True}]
    with pytest.raises(InvalidQueryError, match="one object"):
        fink.query_sso("a,b", withResiduals=True)
    assert fink.resolve(170028485706776685, resolver="simbad", reverse=True,
                        get_query_payload=True)["reverse"] is True
    with pytest.raises(InvalidQueryError):
        fink.resolve("x", resolver="ned")
    sky = tmp_path / "map.fits"
    fits.HDUList([fits.PrimaryHDU()]).writeto(sky)
    payload = fink.query_skymap(bayestar=sky, credible_level=0.1, get_query_payload=True)
    assert payload["bayestar"].startswith("b'\\x1f\\x8b")
    raw = ast.literal_eval(payload["bayestar"])  # the client's own text, read back
    assert gzip.decompress(raw)[:6] == b"SIMPLE"

    tags = {"in_tns": {"API support": True, "description": "TNS"},
            "uniform_sample": {"API support": False, "description": "u"}}
    schema = {"LSST original fields (r:)": {"psfFlux": {"type": ["null", "float"],
                                                         "doc": "Flux [nJy]."}}}
    fink, rec = client(monkeypatch, [answer(json.dumps(tags).encode()),
                                     answer(b'{"b_is_new": "New"}'),
                                     answer(json.dumps(schema).encode())])
    t = fink.get_tags()
    assert t["tag"].tolist() == ["in_tns", "uniform_sample"]
    assert t["api_support"].tolist() == [True, False]
    assert rec.calls[0][0] == "GET"
    assert fink.get_blocks()["block"].tolist() == ["b_is_new"]
    s = fink.get_schema("/api/v1/fp", major_version=10, minor_version=0)
    assert rec.calls[2][2]["json"] == {"endpoint": "/api/v1/fp", "major_version": 10,
                                       "minor_version": 0}
    assert s["name"][0] == "r:psfFlux" and s["unit"][0] == "nJy"
    assert s["type"][0] == "null|float"


@pytest.mark.parametrize("endpoint", ["foo/fp", "api/v1/fp", "/api/v2/fp", "fp/", ""])
def test_schema_endpoint_other_than_name_or_path_refused(monkeypatch, endpoint):
    fink, rec = client(monkeypatch, [])
    with pytest.raises(InvalidQueryError, match="endpoint must be one of sources"):
        fink.get_schema(endpoint)
    assert rec.calls == []


def test_tag_answer_of_exactly_n_rows_warns(monkeypatch):
    rows = [{"r:diaObjectId": 313761043604045880 + k, "r:midpointMjdTai": 61000.0 + k}
            for k in range(3)]
    fink, _ = client(monkeypatch, served([pd.DataFrame(rows)]))
    with pytest.warns(MaxResultsWarning, match="n=3"):
        t = fink.query_tags("in_tns", n=3)
    assert t["r:midpointMjdTai"].tolist() == [61002.0, 61001.0, 61000.0]


def test_flux_to_mag_and_time_helpers(monkeypatch, alerts):
    alert = alert_of(alerts, BIG)
    src = next(s for s in [alert["diaSource"], *alert["prvDiaSources"]] if s["psfFlux"] > 0)
    t = Table({"r:psfFlux": [src["psfFlux"], -5.0] * u.nJy,
               "r:psfFluxErr": [src["psfFluxErr"], 1.0] * u.nJy})
    mag, err = flux_to_mag(t)
    # AB: m = -2.5 log10(f / (erg s-1 cm-2 Hz-1)) - 48.60; 1 nJy = 1e-32 erg s-1 cm-2 Hz-1
    expected = -2.5 * np.log10(src["psfFlux"] * 1e-32) - 48.60
    assert mag[0].value == pytest.approx(expected, abs=1e-6) and mag.unit == u.ABmag
    assert err[0].value == pytest.approx(1.0857362 * src["psfFluxErr"] / src["psfFlux"],
                                         rel=1e-6)
    assert np.isnan(mag[1].value)  # a negative difference flux has no magnitude
    assert flux_to_mag(3631 * u.Jy).value == pytest.approx(0.0, abs=1e-3)
    when = to_time([alert["diaSource"]["midpointMjdTai"]])
    assert when.scale == "tai" and when.utc.iso[0].startswith("2026-03-06 02:14")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (to_time(Table({"r:midpointMjdTai": [61105.0] * u.day})).mjd == 61105.0).all()


def test_bundled_schema_names_every_field_of_the_real_alerts(alerts):
    known = lsst_columns()
    a = alerts[0]
    for section in ("diaSource", "diaObject", "ssSource", "mpc_orbits"):
        missing = [k for k in a[section] if f"r:{k}" not in known]
        assert not missing, (section, missing)
    assert not [k for k in a["prvDiaForcedSources"][0] if f"r:{k}" not in known]
    for section, prefix in (("xm", "f:xm_"), ("clf", "f:clf_"), ("pred", "f:")):
        assert not [k for k in a[section] if f"{prefix}{k}" not in known]


@pytest.mark.parametrize("fmt", [None, "json", "parquet", "votable"])
def test_tns_resolver_text_cells_stay_text_in_every_format(monkeypatch, fmt):
    # rubin.tns_resolver cells come as stored, text (apps/routes/v1/lsst/resolver/utils.py);
    # csv (the default) read them as numbers, json as text
    rows = pd.DataFrame({"f:declination": ["-45.2441148"], "f:discoverydate": [
        "2026-03-06 00:00:00.000"], "f:fullname": ["AT 2026abc"], "f:internalname": [
        "170028485706776685"], "f:ra": ["10.3714985"], "f:redshift": ["0.07"],
        "f:salt": ["c"], "f:type": ["nan"]}, index=["c_at 2026abc_170028485706776685"])
    fink, _ = client(monkeypatch, served([rows]))
    t = fink.resolve("AT 2026abc", resolver="tns", output_format=fmt)
    assert t.colnames == list(rows.columns)
    for name in t.colnames:
        assert t[name].dtype.kind == "U", name
    assert list(t["f:ra"]) == ["10.3714985"] and list(t["f:redshift"]) == ["0.07"]
    assert list(t["f:internalname"]) == ["170028485706776685"]


@pytest.mark.parametrize(("rows", "words"), [
    ([{"r:diaObjectId": "313853237411037209", "f:fullname": "AT 2026abc"}], "holds r:diaObjectId, "
     "f:fullname"),  # a forward lookup's columns
    ([{"r:diaObjectId": "313853237411037999"}], "holds r:diaObjectId"),  # another object
    ([{"message": "x", "status": "y", "text": "z", "code": 1}], "holds message, status"),
])
def test_a_reverse_tns_answer_without_a_name_is_no_match_only_in_the_servers_shape(
        lsst_recorded, rows, words):
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(rows)))
    with pytest.raises(RemoteServiceError) as info:
        fink.resolve(313853237411037209, resolver="tns", reverse=True, output_format="json")
    assert str(info.value).startswith("Fink's reverse TNS answer for diaObjectId "
                                      "313853237411037209 is not one: it has no "
                                      f"f:xm_tns_fullname and {words}")
    # the server's shape: the object's ID, once per distinct row of the columns it reads
    fink, _ = lsst_recorded(lambda url, body: make_response(json.dumps(
        [{"r:diaObjectId": "313853237411037209"}])))
    with pytest.warns(NoResultsWarning, match="no TNS name for diaObjectId 313853237411037209"):
        t = fink.resolve(313853237411037209, resolver="tns", reverse=True, output_format="json")
    assert len(t) == 0


@pytest.mark.parametrize(("name", "resolver"), [("", "ssodnet"), ("  ", "ssodnet"),
                                                ("", "simbad")])
def test_an_empty_name_is_refused_before_any_request(lsst_recorded, name, resolver):
    # ssodnet: the server posts the name to its own /sso and fails reading the error (500)
    fink, rec = lsst_recorded([])
    with pytest.raises(InvalidQueryError, match="name_or_id is empty"):
        fink.resolve(name, resolver=resolver)
    assert rec.calls == []
    assert fink.resolve("", resolver="tns", get_query_payload=True)["name_or_id"] == ""


def test_schemas_before_10_are_refused_before_any_request(lsst_recorded):
    fink, rec = lsst_recorded([])
    with pytest.raises(InvalidQueryError, match=r"from version 10.0 on \(it fails for 9.x"):
        fink.get_schema("sources", major_version=9, minor_version=0)
    assert rec.calls == []


def test_an_ssodnet_name_the_server_fails_on_is_explained(lsst_recorded):
    from _helpers import make_response

    fink, _ = lsst_recorded([make_response(b'{"message": "Internal Server Error"}',
                                           status=500)])
    with pytest.raises(RemoteServiceError, match=r"a name its /sso does not know: check "
                                                 r"'kdflsjffld' with query_sso"):
        fink.resolve("kdflsjffld", resolver="ssodnet")


def test_cutouts_of_a_summary_row_say_where_cutouts_are(lsst_recorded):
    from astropy.table import Table

    fink, rec = lsst_recorded([])
    row = Table({"r:diaObjectId": [170028485706776685], "r:nDiaSources": [3]})[0]
    with pytest.raises(InvalidQueryError, match="cutouts belong to detections, the rows of "
                                                "query_object"):
        fink.get_cutouts(row)
    assert rec.calls == []
