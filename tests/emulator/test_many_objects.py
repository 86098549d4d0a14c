"""`make_alert_file`: many objects derived from the bundled sample, served by the emulator."""
import re
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest
import requests

from astroquery_fink.testing import FinkEmulator, make_alert_file

N = 1000
ZTF_NAME = re.compile(r"ZTF\d{2}[a-z]{7}")


def fingerprint(rows):
    """What a copy keeps of its source object: the alerts' times, bands, magnitudes, places."""
    return tuple(sorted((r["candidate"]["jd"], r["candidate"]["fid"], r["candidate"]["magpsf"],
                         r["candidate"]["ra"], r["candidate"]["dec"]) for r in rows))


def by_object(rows):
    out = defaultdict(list)
    for r in rows:
        out[r["objectId"]].append(r)
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    path = tmp_path_factory.mktemp("many") / "many.parquet"
    ids = make_alert_file(path, n_objects=N)
    return path, ids


@pytest.fixture(scope="module")
def written(made):
    """The file as read directly with pyarrow, independently of the emulator."""
    return pq.read_table(made[0], use_threads=False).to_pylist()


@pytest.fixture(scope="module")
def sources(raw_alerts, written):
    """new objectId -> the bundled objectId it copies (matched on the alerts' contents)."""
    bundled = {fingerprint(rows): oid for oid, rows in by_object(raw_alerts).items()}
    assert len(bundled) == len(by_object(raw_alerts))  # fingerprints tell objects apart
    return {oid: bundled[fingerprint(rows)] for oid, rows in by_object(written).items()}


@pytest.fixture(scope="module")
def many(made):
    with FinkEmulator(made[0], strict=True) as emu:
        yield emu


def objects(emu, **payload):
    r = requests.post(emu.url + "/api/v1/objects", json=payload, timeout=30)
    assert r.status_code == 200
    return r.json()


def test_ids_are_valid_distinct_and_sorted(made):
    _, ids = made
    assert len(ids) == len(set(ids)) == N
    assert ids == sorted(ids)
    assert all(ZTF_NAME.fullmatch(i) and i.startswith("ZTF99") for i in ids)
    assert ids[:3] == ["ZTF99aaaaaaa", "ZTF99aaaaaab", "ZTF99aaaaaac"]  # base 26 from the seed


def test_every_object_copies_one_bundled_object(made, written, sources, raw_alerts):
    assert sorted(sources) == made[1]
    # each bundled object is copied N / n_bundled times, give or take one
    uses = Counter(sources.values())
    assert set(uses) == set(by_object(raw_alerts))
    assert max(uses.values()) - min(uses.values()) <= 1
    # same number of alerts as the source, with their histories
    raw = by_object(raw_alerts)
    for oid, rows in by_object(written).items():
        src = raw[sources[oid]]
        assert len(rows) == len(src)
        assert sorted(len(r["prv_candidates"] or []) for r in rows) == \
            sorted(len(r["prv_candidates"] or []) for r in src)


def test_candids_are_new_and_unique(written, raw_alerts):
    candids = [r["candid"] for r in written]
    assert all(r["candidate"]["candid"] == r["candid"] for r in written)
    # one candid per alert (an alert present in two bundled files is one alert)
    alerts = {(r["objectId"], r["candidate"]["jd"]) for r in written}
    assert len(set(candids)) == len(alerts)
    assert not set(candids) & {r["candid"] for r in raw_alerts}


def test_no_stamps_by_default(written):
    assert all(r["cutoutScience"] is None and r["cutoutDifference"] is None for r in written)


def test_emulator_loads_all_objects(many, made, sources, emu):
    assert many.object_ids == made[1]
    assert many.n_alerts == sum(len(emu.store.alerts[s]) for s in sources.values())


@pytest.mark.parametrize("k", [0, 1, 2, 137, 500, 999])
def test_rows_are_the_source_rows_under_new_names(many, emu, made, sources, k):
    oid = made[1][k]
    got, want = objects(many, objectId=oid), objects(emu, objectId=sources[oid])
    assert len(got) == len(want) > 0
    assert {r["i:objectId"] for r in got} == {oid}
    assert len({r["i:candid"] for r in got}) == len(got)
    strip = ("i:objectId", "i:candid")
    assert [{c: v for c, v in r.items() if c not in strip} for r in got] == \
        [{c: v for c, v in r.items() if c not in strip} for r in want]
    assert len(objects(many, objectId=oid, withupperlim="True")) == \
        len(objects(emu, objectId=sources[oid], withupperlim="True"))


def test_fifty_objects_at_once(many, emu, made, sources):
    ids = made[1][100:150]
    rows = objects(many, objectId=",".join(ids), columns="i:objectId,i:jd")
    assert {r["i:objectId"] for r in rows} == set(ids)
    assert len(rows) == sum(len(emu.store.alerts[sources[i]]) for i in ids)


def test_cutouts_without_stamps_answer_as_a_missing_alert(many, made):
    def cutout(oid):
        return requests.post(many.url + "/api/v1/cutouts", timeout=30, json={
            "objectId": oid, "kind": "Science", "output-format": "array"})

    r = cutout(made[1][0])
    assert (r.status_code, r.text) == (cutout("ZTF98zzzzzzz").status_code, cutout(
        "ZTF98zzzzzzz").text) == (500, '{"message": "Internal Server Error"}\n')
    rows = objects(many, objectId=made[1][0], withcutouts="True", **{"cutout-kind": "Science"})
    assert all(row["b:cutoutScience_stampData"] == [] for row in rows)


def test_with_cutouts_keeps_the_stamps(tmp_path, emu, raw_alerts):
    path = tmp_path / "stamps.parquet"
    ids = make_alert_file(path, n_objects=3, seed=2, with_cutouts=True)
    rows = by_object(pq.read_table(path, use_threads=False).to_pylist())
    bundled = {fingerprint(rows): oid for oid, rows in by_object(raw_alerts).items()}
    with FinkEmulator(path, strict=True) as small:
        for oid in ids:
            source = bundled[fingerprint(rows[oid])]
            payload = {"kind": "All", "output-format": "array"}
            got = requests.post(small.url + "/api/v1/cutouts", timeout=30,
                                json={"objectId": oid, **payload})
            want = requests.post(emu.url + "/api/v1/cutouts", timeout=30,
                                 json={"objectId": source, **payload})
            assert got.status_code == 200 and got.content == want.content


def test_seeds_give_disjoint_ids_and_same_seed_same_file(tmp_path, made):
    again = make_alert_file(tmp_path / "again.parquet", n_objects=N)
    assert again == made[1]
    assert (tmp_path / "again.parquet").read_bytes() == made[0].read_bytes()
    other = make_alert_file(tmp_path / "other.parquet", n_objects=N, seed=1)
    assert not set(other) & set(made[1])
    # both files can be served together
    with FinkEmulator([made[0], tmp_path / "other.parquet"], strict=True) as both:
        assert len(both.object_ids) == 2 * N


@pytest.mark.parametrize("kwargs", [{"n_objects": 0}, {"n_objects": 10**6 + 1},
                                    {"n_objects": 2.5}, {"seed": -1}, {"seed": 10**5}])
def test_invalid_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError, match="whole number"):
        make_alert_file(tmp_path / "x.parquet", **kwargs)
