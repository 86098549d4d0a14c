"""Rebuild the recorded ZTF answers tests/data/ztf_* from the bundled alert files.

Each answer is written in the Fink server's shape (fink-object-api apps/utils/utils.py,
send_tabular_data: ``DataFrame.to_json(orient="records")`` or ``to_parquet``), computed here
with pandas and astropy from the alerts, independently of the emulator. Run from the
repository root: ``python tests/data/ztf_make_recorded.py``.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.time import Time

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).parent
ALERTS = sorted((ROOT / "astroquery_fink" / "testing" / "data").glob("*.parquet"))

#: the cone-search positions and radius of the recorded answers
CONES = [(23.5, 30.7), (23.62, 30.95), (60.0, 25.0)]
RADIUS_ARCSEC = 1_800.0
CONE_COLUMNS = ["i:objectId", "i:jd", "i:candid", "i:magpsf", "i:jdstarthist"]


def alerts() -> pd.DataFrame:
    frames = []
    for path in ALERTS:
        df = pd.read_parquet(path)
        cand = pd.json_normalize(df["candidate"].tolist())
        frame = pd.DataFrame({f"i:{c}": cand[c] for c in cand.columns})
        frame["i:objectId"] = df["objectId"].to_numpy()
        frame["d:cdsxmatch"] = df["cdsxmatch"].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def cone(pdf: pd.DataFrame, ra: float, dec: float) -> pd.DataFrame:
    """The server's cone search: last alert per object, within the radius, nearest first."""
    last = pdf.loc[pdf.groupby("i:objectId")["i:jd"].idxmax()]
    sep = SkyCoord(ra, dec, unit="deg").separation(
        SkyCoord(last["i:ra"].to_numpy(), last["i:dec"].to_numpy(), unit="deg")).deg
    out = last[CONE_COLUMNS + ["i:ra", "i:dec"]].copy()
    out["v:separation_degree"] = sep
    out = out.sort_values("v:separation_degree")
    return out[out["v:separation_degree"] <= RADIUS_ARCSEC / 3600]


def statistics(pdf: pd.DataFrame) -> pd.DataFrame:
    """Per-night counters in the shape of the statistics_class table (row key ztf_<date>)."""
    nights = Time(pdf["i:jd"].to_numpy(), format="jd").strftime("%Y%m%d")
    rows = []
    for night in sorted(set(nights)):
        sel = pdf[nights == night]
        row = {"key:key": f"ztf_{night}", "basic:date": night, "basic:sci": len(sel),
               "basic:raw": len(sel)}
        for label, count in sel["d:cdsxmatch"].value_counts().items():
            row[f"class:{label}"] = int(count)
        rows.append(row)
    return pd.DataFrame(rows)


SOLAR = ROOT / "astroquery_fink" / "testing" / "data" / "solar"
#: the columns asked for in the recorded solar-system, tracklet and anomaly answers
ALERT_COLUMNS = ["i:objectId", "i:jd", "i:candid", "i:magpsf", "i:ra", "i:dec"]


def alert_rows(path: Path, extra: dict) -> pd.DataFrame:
    """Alerts of one file as the server writes them (``i:`` candidate fields and the given
    ``d:`` fields), newest first (format_hbase_output sorts by i:jd descending)."""
    df = pd.read_parquet(path)
    cand = pd.json_normalize(df["candidate"].tolist())
    frame = pd.DataFrame({c: cand[c.split(":")[1]] for c in ALERT_COLUMNS if c != "i:objectId"})
    frame.insert(0, "i:objectId", df["objectId"].to_numpy())
    frame["i:ssnamenr"] = cand["ssnamenr"]
    for name, field in extra.items():
        frame[name] = df[field].to_numpy()
    return frame.sort_values("i:jd", ascending=False, kind="stable")


def solar_answers() -> dict:
    """The /sso answer for the numbered objects of the bundled solar-system night (each
    named by its number: no offline name), the /tracklet answer of its tracklet night,
    the /anomaly answer (the alerts scored by the anomaly module) and /ssocand orbParams."""
    sso = alert_rows(SOLAR / "sso_2022-08-04.parquet", {})
    sso = sso[sso["i:ssnamenr"].str.fullmatch(r"\d+")]
    sso["sso_name"] = sso["i:ssnamenr"]
    sso["sso_number"] = sso["i:ssnamenr"].astype(int)
    tracklet = alert_rows(SOLAR / "tracklet_2021-06-04.parquet", {"d:tracklet": "tracklet"})
    tracklet = tracklet[tracklet["d:tracklet"].str.startswith("TRCK_20210604")]
    anomaly = alert_rows(ROOT / "astroquery_fink" / "testing" / "data"
                         / "regular_2025-06.parquet", {"d:anomaly_score": "anomaly_score"})
    orbits = pd.DataFrame(json.loads((SOLAR / "ssocand_fixture.json").read_text())["orbParams"])
    return {"sso": sso, "tracklet": tracklet, "anomaly": anomaly, "ssocand_orbParams": orbits}


def skymap_answer(pdf: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """The /skymap answer for the bundled sky map (event EMU250610a) at ``level``: the last
    alert of each object in a pixel of credible level <= ``level`` whose history starts in
    the server's default window (1 day before the event, 6 after), with ``v:jdstartgw``."""
    import gzip

    import astropy.units as u
    from astropy.io import fits
    from astropy_healpix import HEALPix, npix_to_nside

    path = ROOT / "astroquery_fink" / "testing" / "data" / "skymap_EMU250610a.fits.gz"
    with fits.open(gzip.open(path)) as hdul:
        prob = np.array(hdul[1].data["PROB"], dtype=float)
        order, t0 = hdul[1].header["ORDERING"].lower(), Time(hdul[1].header["DATE-OBS"]).jd
    rank = np.argsort(prob)[::-1]
    levels = np.empty_like(prob)
    levels[rank] = np.cumsum(prob[rank])
    grid = HEALPix(nside=npix_to_nside(len(prob)), order=order)
    last = pdf.loc[pdf.groupby("i:objectId")["i:jd"].idxmax()]
    pix = grid.lonlat_to_healpix(last["i:ra"].to_numpy() * u.deg, last["i:dec"].to_numpy() * u.deg)
    start = t0 - 1
    keep = (levels[pix] <= level) & (last["i:jdstarthist"] >= start) \
        & (last["i:jdstarthist"] < start + 6) & (last["i:jd"] - last["i:jdstarthist"] <= 6)
    out = last.loc[keep.to_numpy(), ALERT_COLUMNS].copy()
    out["v:jdstartgw"] = t0
    return out.sort_values("i:jd", ascending=False)


def simbad_reverse_answer(pdf: pd.DataFrame, oid: str = "ZTF20abfcszi",
                          nmax: int = 25) -> pd.DataFrame:
    """The /resolver answer for ``resolver="simbad", reverse=True``: the object's alerts
    with their SIMBAD cross-match, the first ``nmax`` of the scan (row key, jd ascending)."""
    rows = pdf[pdf["i:objectId"] == oid].sort_values("i:jd").head(nmax)
    return rows[["i:objectId", "d:cdsxmatch", "i:ra", "i:dec", "i:candid", "i:jd"]]


def main() -> None:
    (OUT / "ztf_resolver_simbad_reverse.json").write_text(
        simbad_reverse_answer(alerts()).to_json(orient="records"))
    for name, answer in solar_answers().items():
        (OUT / f"ztf_{name}.json").write_text(answer.to_json(orient="records"))
    # /ssobulk: the light curves of every known solar-system object, one parquet file
    solar_answers()["sso"].to_parquet(OUT / "ztf_ssobulk.parquet", index=False)
    pdf = alerts()
    (OUT / "ztf_skymap.json").write_text(skymap_answer(pdf).to_json(orient="records"))
    for k, (ra, dec) in enumerate(CONES):
        answer = cone(pdf, ra, dec)
        (OUT / f"ztf_conesearch_{k}.json").write_text(answer.to_json(orient="records"))
        answer.to_parquet(OUT / f"ztf_conesearch_{k}.parquet")
    stats = statistics(pdf)
    (OUT / "ztf_statistics_all.json").write_text(stats.to_json(orient="records"))
    classes = {
        "Fink classifiers": sorted(["Early SN Ia candidate", "SN candidate", "Ambiguous"],
                                   key=str.lower),
        "Cross-match with TNS": ["(TNS) SN Ia", "(TNS) TDE"],
        "Cross-match with SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?"
        "data=otypes)": ["(SIMBAD) Galaxy", "(SIMBAD) QSO"],
    }
    (OUT / "ztf_classes.json").write_text(json.dumps(classes))
    # the alerts a class search sees, for a stand-in server in the tests
    night = pdf[["i:objectId", "i:jd", "i:candid", "i:magpsf", "d:cdsxmatch"]]
    night = night.sort_values("i:jd", ascending=False)
    night.to_parquet(OUT / "ztf_latests_alerts.parquet")
    print("counts:", [len(cone(pdf, ra, dec)) for ra, dec in CONES], len(stats),
          np.unique(night["d:cdsxmatch"], return_counts=True)[1].max())


if __name__ == "__main__":
    main()
