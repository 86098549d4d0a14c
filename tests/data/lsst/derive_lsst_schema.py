"""Derive astroquery_fink/data/lsst_schema.json (run by hand, never at test time).

    python tests/data/lsst/derive_lsst_schema.py <alert_packet schema dir> <fink schema utils.py>

Reads field names, Avro types and docs from lsst/alert_packet
(python/lsst/alert/packet/schema/<M>/<m>/lsst.v<M>_<m>.<record>.avsc) and the Fink field
lists (names, types, docs) of fink-object-api apps/routes/v1/lsst/schema/utils.py; writes
only those facts (no .avsc file is shipped: alert_packet is GPL-3.0).
"""
import ast
import json
import sys
from pathlib import Path

VERSIONS = ("9.0", "10.0", "11.0")
# The order decides which record describes a shared name (the server's first-wins rule).
RECORDS = ("diaSource", "diaObject", "diaForcedSource", "ssSource", "mpc_orbits", "MPCORB")
ROOT = ("diaSourceId", "observation_reason", "target_name")


def fink_lists(path: Path) -> dict:
    tree = ast.parse(path.read_text())
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            name = node.targets[0].id
            if name.startswith("fink_"):
                out[name] = ast.literal_eval(node.value)
    return out


def main(schema_dir: str, utils: str) -> None:
    columns: dict[str, dict] = {}

    def add(name, ftype, doc, section, version):
        entry = columns.setdefault(name, {"type": ftype, "doc": doc, "sections": [],
                                          "versions": []})
        if section not in entry["sections"]:
            entry["sections"].append(section)
        if version not in entry["versions"]:
            entry["versions"].append(version)
        if isinstance(ftype, list) and not isinstance(entry["type"], list):
            entry["type"] = ftype  # nullable in some version: say so

    for version in VERSIONS:
        major, minor = version.split(".")
        base = Path(schema_dir) / version
        alert = json.loads((base / f"lsst.v{major}_{minor}.alert.avsc").read_text())
        for f in alert["fields"]:
            if f["name"] in ROOT:
                add(f"r:{f['name']}", f["type"], f.get("doc", ""), "alert", version)
            if f["name"].startswith("cutout"):
                add(f"b:{f['name']}", f["type"], f.get("doc", "FITS stamp"), "alert", version)
        for record in RECORDS:
            path = base / f"lsst.v{major}_{minor}.{record}.avsc"
            if not path.exists():
                continue
            for f in json.loads(path.read_text())["fields"]:
                add(f"r:{f['name']}", f["type"], f.get("doc", ""), record, version)
    fink = fink_lists(Path(utils))
    for key, section in (("fink_source_science", "fink_source"),
                         ("fink_object_science", "fink_object"),
                         ("fink_statistics", "fink_statistics")):
        for f in fink[key]:
            name = f"f:{f['name']}"
            if name in columns:  # f:is_sso etc.: the object flag describes the name
                columns[name]["sections"].append(section)
                continue
            columns[name] = {"type": f["type"], "doc": f.get("doc", ""),
                             "sections": [section], "versions": list(VERSIONS)}
    out = {
        "provenance": (
            "Derived for astroquery_fink (names, Avro types, docs only). Rubin fields: "
            "lsst/alert_packet commit 0e68e3ed403d7643d030b308f2b31b41e334f1c8, "
            "python/lsst/alert/packet/schema/{9,10,11}/0/lsst.v*_0.<record>.avsc "
            "(GPL-3.0; the files themselves are not shipped); a name in several records is "
            "described by the first of " + ", ".join(RECORDS) + ". Fink fields: "
            "astrolabsoftware/fink-object-api 3.5.0 (commit 17051ca), "
            "apps/routes/v1/lsst/schema/utils.py. Script: "
            "tests/data/lsst/derive_lsst_schema.py."),
        "versions": list(VERSIONS),
        "latest": "11.0",
        "columns": columns,
    }
    target = Path(__file__).parents[3] / "astroquery_fink" / "data" / "lsst_schema.json"
    target.write_text(json.dumps(out, indent=0, sort_keys=False) + "\n")
    print(f"{len(columns)} columns -> {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
