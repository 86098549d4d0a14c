"""Rebuild the recorded Fink answers in tests/data from the bundled real alerts.

Independent of the emulator on purpose: a direct pandas transcription of what the Fink server
does for the few queries the offline parser tests replay (FINK_API.md 1.3, 2.2, 5), so that a
bug shared by the emulator and the client cannot hide. Run from the project root:

    python tools/record_responses.py
"""
import gzip
import io
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.io.votable import from_table
from astropy.table import Table

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "astroquery_fink" / "testing" / "data"
OUT = ROOT / "tests" / "data"
COLUMNS = ["i:objectId", "i:candid", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim",
           "i:ra", "i:dec", "d:cdsxmatch", "d:roid", "d:rf_snia_vs_nonia"]


def alerts(oid: str, filename: str) -> pd.DataFrame:
    df = pq.read_table(SRC / filename).to_pandas()
    return df[df["objectId"] == oid]


def valid_rows(df: pd.DataFrame) -> pd.DataFrame:
    rows = pd.DataFrame({f"i:{k}": df["candidate"].map(lambda c, k=k: c[k])
                         for k in ("candid", "jd", "fid", "magpsf", "sigmapsf", "diffmaglim",
                                   "ra", "dec")})
    rows.insert(0, "i:objectId", df["objectId"].values)
    rows["d:cdsxmatch"] = df["cdsxmatch"].values
    rows["d:roid"] = df["roid"].values
    rows["d:rf_snia_vs_nonia"] = df["rf_snia_vs_nonia"].values
    for c in ("i:candid", "i:fid", "d:roid"):
        rows[c] = rows[c].astype("Int64")
    return rows[COLUMNS].sort_values("i:jd", ascending=False).reset_index(drop=True)


def main():
    tde = valid_rows(alerts("ZTF20abfcszi", "ztf20abfcszi_tde_2020-08.parquet"))
    cols = ",".join(COLUMNS)
    (OUT / "objects_ZTF20abfcszi_columns.json").write_text(tde.to_json(orient="records"))
    (OUT / "objects_ZTF20abfcszi_columns.csv").write_text(tde.to_csv(index=False))
    # With `columns`, the server's index is the HBase row key, written as a parquet column.
    keyed = tde.set_index(tde["i:objectId"] + "_" + tde["i:jd"].astype(str))
    keyed.to_parquet(OUT / "objects_ZTF20abfcszi_columns.parquet")
    buf = io.BytesIO()
    from_table(Table.from_pandas(tde)).to_xml(buf)
    (OUT / "objects_ZTF20abfcszi_columns.votable").write_bytes(buf.getvalue())

    # withupperlim: valid rows (tag valid) + upper-limit rows built from the HBase string maps,
    # so their fields are strings in JSON (FINK_API.md 2.2).
    night = alerts("ZTF21acqdcyb", "night_2021-11-20_part2.parquet")
    valid = valid_rows(night)
    valid["d:tag"] = "valid"
    uppers = []
    seen = set()
    for prv in night["prv_candidates"]:
        if prv is None or len(prv) == 0 or prv[-1]["magpsf"] is not None:
            continue
        for p in prv:
            if p["magpsf"] is None and p["jd"] not in seen:
                seen.add(p["jd"])
                uppers.append({"i:objectId": "ZTF21acqdcyb", "i:jd": p["jd"],
                               "i:fid": str(p["fid"]), "i:diffmaglim": str(p["diffmaglim"]),
                               "i:candid": -1, "d:tag": "upperlim"})
    both = pd.concat([valid, pd.DataFrame(uppers)], ignore_index=True)
    both["i:jd"] = both["i:jd"].astype(float)
    both = both.sort_values("i:jd", ascending=False)
    (OUT / "objects_ZTF21acqdcyb_withupperlim.json").write_text(both.to_json(orient="records"))

    # Cutouts of the latest ZTF20abfcszi alert: FITS (rewritten by astropy) and array JSON.
    raw = alerts("ZTF20abfcszi", "ztf20abfcszi_tde_2020-08.parquet")
    last = raw.loc[raw["candidate"].map(lambda c: c["jd"]).idxmax()]
    arrays = {}
    for kind in ("Science", "Template", "Difference"):
        hdu = fits.open(io.BytesIO(gzip.decompress(last[f"cutout{kind}"]["stampData"])))
        out = io.BytesIO()
        fits.PrimaryHDU(hdu[0].data, hdu[0].header).writeto(out)
        (OUT / f"cutout_ZTF20abfcszi_{kind}.fits").write_bytes(out.getvalue())
        arrays[f"b:cutout{kind}_stampData"] = hdu[0].data.astype(float).tolist()
    import json
    text = json.dumps(dict(sorted(arrays.items())), separators=(",", ":"))
    (OUT / "cutout_ZTF20abfcszi_All.json").write_text(text)
    (OUT / "cutout_ZTF20abfcszi_candid.txt").write_text(str(last["candid"]))
    print("columns:", cols)


if __name__ == "__main__":
    main()
