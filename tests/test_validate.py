"""Bad input is refused before any request, with a message that says what to do."""
import pytest
from astroquery.exceptions import InputWarning, InvalidQueryError
from hypothesis import given
from hypothesis import strategies as st

from astroquery_fink.ztf import checks


@pytest.fixture
def no_network(recorded):
    fink, rec = recorded([])
    yield fink
    assert rec.calls == []  # nothing was sent


@pytest.mark.parametrize(("object_id", "match"), [
    ("ZTF21aaxtc", "use prefix=True"),
    ("ztf21aaxtctv", "names are case-sensitive: 'ZTF21aaxtctv'"),
    ("ZTF21AAXTCTV", "names are case-sensitive: 'ZTF21aaxtctv'"),
    ("ZTF21aaxtctv,", "''"),            # an empty element would make the server fail (500)
    ("", "''"),
    ([], "object_id is empty"),
    (["ZTF21aaxtctv", "ZTF21aaxtctv ", "nope"], "'nope'"),
    (42, "not int"),
    ([42], "must be strings"),
])
def test_bad_ids_are_refused(no_network, object_id, match):
    with pytest.raises(InvalidQueryError, match=match):
        no_network.query_object(object_id)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cutout_kind": "Sky", "withcutouts": True}, "cutout_kind='Sky' is not a cutout kind"),
    ({"cutout_kind": "Science"}, "only with withcutouts=True"),
    ({"output_format": "xls"}, "output_format='xls' is unknown"),
    ({"columns": ["v:classification"]}, "v: columns only when all columns"),
    ({"columns": "i:jd,b:cutoutScience_stampData"}, "withcutouts=True"),
    ({"columns": ["magpsf"]}, "write it as 'i:magpsf'"),
    ({"columns": 3}, "columns must be names like"),
    ({"columns": b"i:jd"}, "columns must be names like"),
    ({"columns": {"i:jd": 1}}, "columns must be names like"),
    ({"columns": []}, "columns is empty"),
    ({"withupperlim": "True"}, "withupperlim must be True or False"),
    ({"withcutouts": 1}, "withcutouts must be True or False"),
    ({"output_format": "parquet", "withupperlim": True, "columns": ["i:jd"]},
     "cannot write parquet"),
])
def test_bad_options_are_refused(no_network, kwargs, match):
    with pytest.raises(InvalidQueryError, match=match):
        no_network.query_object("ZTF21aaxtctv", **kwargs)


def test_bad_cutout_arguments_are_refused(no_network):
    with pytest.raises(InvalidQueryError, match="kind='Sky' is not a cutout kind: choose among "
                       "Science, Template, Difference or All"):
        no_network.get_cutouts("ZTF21aaxtctv", kind="Sky")
    with pytest.raises(InvalidQueryError, match="candid must be an integer"):
        no_network.get_cutouts("ZTF21aaxtctv", candid=1.5)
    with pytest.raises(InvalidQueryError, match="Not ZTF object names"):
        no_network.get_cutouts("ZTF21")


def test_unknown_column_warns_but_is_sent(recorded):
    fink, _ = recorded([])
    with pytest.warns(InputWarning, match="d:not_a_field"):
        payload = fink.query_object("ZTF21aaxtctv", columns=["i:jd", "d:not_a_field"],
                                    get_query_payload=True)
    assert payload["columns"] == "i:jd,d:not_a_field,i:objectId"  # objectId: the client's


def test_numpy_booleans_are_flags(recorded):
    import numpy as np
    fink, _ = recorded([])
    payload = fink.query_object("ZTF21aaxtctv", withupperlim=np.bool_(True),
                                get_query_payload=True)
    assert payload["withupperlim"] is True


def test_payload_uses_server_names_and_exact_true():
    payload = checks.options_payload(
        columns=["i:jd"], cutout_kind="Science",
        flags={"withupperlim": True, "withcutouts": True, "withEphem": False})
    assert payload == {"columns": "i:jd", "withupperlim": True, "withcutouts": True,
                       "cutout-kind": "Science"}


def test_withcutouts_adds_the_columns_the_server_needs(recorded):
    fink, _ = recorded([])
    payload = fink.query_object("ZTF21aaxtctv", columns=["i:jd"], withcutouts=True,
                                get_query_payload=True)
    assert payload["columns"] == "i:jd,i:objectId,i:candid"


def test_withupperlim_adds_i_jd_which_the_server_sorts_by(recorded):
    fink, _ = recorded([])
    payload = fink.query_object("ZTF21aaxtctv", columns=["i:magpsf"], withupperlim=True,
                                get_query_payload=True)
    assert payload["columns"] == "i:magpsf,i:jd,i:objectId"


def test_ids_are_deduplicated_in_order_and_comma_strings_split():
    ids = checks.object_ids("ZTF21aaxtctv, ZTF20abfcszi,ZTF21aaxtctv")
    assert ids == ["ZTF21aaxtctv", "ZTF20abfcszi"]


def test_a_name_wrong_only_in_case_is_refused_with_its_spelling():
    # the server's keys are case-sensitive: no silent fix, but the right name is given
    with pytest.raises(InvalidQueryError) as err:
        checks.object_ids(["ZTF20abfcszi", " ztf21Aaxtctv", "ZTF21aax"])
    assert str(err.value).endswith("' ztf21Aaxtctv', 'ZTF21aax' "
                                   "(names are case-sensitive: 'ZTF21aaxtctv'?)")
    with pytest.raises(InvalidQueryError) as err:
        checks.object_ids("ZTF21aax")
    assert "case-sensitive" not in str(err.value)


def test_prefix_only_when_asked():
    assert checks.object_ids("ZTF21aax", prefix=True) == ["ZTF21aax"]
    with pytest.raises(InvalidQueryError):
        checks.object_ids("ZTF21aax")
    with pytest.raises(InvalidQueryError):
        checks.object_ids("XYZ", prefix=True)


ztf_ids = st.from_regex(r"ZTF[0-9]{2}[a-z]{7}", fullmatch=True)  # ASCII digits only


@given(st.lists(ztf_ids, min_size=1, max_size=30))
def test_valid_id_lists_round_trip(ids):
    out = checks.object_ids(ids)
    assert out == list(dict.fromkeys(ids))
    assert checks.object_ids(",".join(ids)) == out


@given(st.text(max_size=20))
def test_any_text_is_accepted_only_if_it_is_a_ztf_name(text):
    names = [p.strip() for p in (text.split(",") if "," in text else [text])]
    if all(checks.ZTF_ID.fullmatch(n) for n in names):
        assert checks.object_ids(text) == list(dict.fromkeys(names))
    else:
        with pytest.raises(InvalidQueryError):
            checks.object_ids(text)


@given(st.lists(st.one_of(ztf_ids, st.just(""), st.just("ZTF1"), st.integers()), min_size=1))
def test_mixed_lists_fail_as_a_whole_and_name_the_bad_entries(items):
    bad = [i for i in items if not (isinstance(i, str) and checks.ZTF_ID.fullmatch(i))]
    if not bad:
        assert checks.object_ids(items)
        return
    with pytest.raises(InvalidQueryError) as info:
        checks.object_ids(items)
    message = str(info.value)
    if any(not isinstance(i, str) for i in items):
        assert "must be strings" in message
    else:
        assert all(repr(b) in message for b in bad)


@pytest.mark.parametrize(("survey", "columns", "match"), [
    ("ztf", "magpsf", "no family prefix: write it as 'i:magpsf' or 'd:magpsf'"),
    ("ztf", ["i:jd", "v:classification"], "computes v: columns only when all"),
    ("ztf", "b:cutoutScience_stampData", "withcutouts=True"),
    ("ztf", "x:jd", "unknown family 'x' \\(use i: or d:\\)"),
    ("lsst", "psfFlux", "write it as 'r:psfFlux' or 'f:psfFlux'"),
    ("lsst", "v:g-r", "selects r: and f: columns only"),
    ("lsst", ["r:psfFlux", 3], "3 is not a name"),
    ("ztf", ["i:jd", "*"], "'\\*' means all columns: give it alone"),
    ("ztf", "i:", "'i:' has no name after its family prefix"),
    ("lsst", ["r:psfFlux", "r: "], "'r:' has no name"),
])
def test_column_selections_refused_before_any_request(survey, columns, match):
    from astroquery_fink.lsst import checks as lsst_checks
    check = (checks if survey == "ztf" else lsst_checks).column_list
    with pytest.raises(InvalidQueryError, match=match):
        check(columns)


def test_column_selection_keeps_order_drops_repeats_and_warns_unknown_names():
    from astroquery_fink.lsst import checks as lsst_checks
    assert checks.column_list(" i:jd, i:magpsf,i:jd ") == ["i:jd", "i:magpsf"]
    assert checks.column_list("*") is None and lsst_checks.column_list(None) is None
    with pytest.warns(InputWarning, match="'r:notAField' is not in the Rubin/Fink schema"):
        assert lsst_checks.column_list(["r:psfFlux", "r:notAField"]) == [
            "r:psfFlux", "r:notAField"]


def _table():
    from astropy.table import Table

    return Table({"i:objectId": ["ZTF20abfcszi"] * 30, "i:jd": list(range(30))})


@pytest.mark.parametrize(("survey", "call"), [
    ("ztf", lambda f: f.get_cutouts(["ZTF20abfcszi"] * 10_000)),
    ("ztf", lambda f: f.get_cutouts(_table()[0])),
    ("ztf", lambda f: f.query_object("ZTF20abfcszi", columns={str(i): i for i in range(10_000)})),
    ("ztf", lambda f: f.query_region("10 10", _table())),
    ("ztf", lambda f: f.query_class("SN candidate", startdate=_table())),
    ("lsst", lambda f: f.query_object({i: i for i in range(10_000)})),
    ("lsst", lambda f: f.get_statistics("", columns=[7] * 5000)),
])
def test_messages_show_a_users_value_briefly(recorded, lsst_recorded, survey, call):
    # a Table, a Row or 10,000 entries in the input: one short line, not the whole repr
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)([])
    with pytest.raises(InvalidQueryError) as info:
        call(fink)
    text = str(info.value)
    assert "\n" not in text and len(text) < 400, text
    assert rec.calls == []


def test_shown_keeps_short_values_as_their_repr():
    from astroquery_fink._errors import shown

    assert [shown(v) for v in ("ZTF20abfcszi", 7, [1, 2], None)] == [
        "'ZTF20abfcszi'", "7", "[1, 2]", "None"]
    assert shown(list(range(10_000))) == "[0, 1, 2, 3, 4, ...]"
    assert len(shown("x" * 10_000)) <= 80


@pytest.mark.parametrize("version", ["2024.13", "2024.00", "2024.1", "2024-10"])
def test_an_ssoft_version_that_is_not_a_month_is_refused(recorded, version):
    fink, rec = recorded([])
    with pytest.raises(InvalidQueryError, match=r"version must be 'YYYY.MM' \(a month 01 to "
                                                r"12\)"):
        fink.get_ssoft(version=version)
    assert rec.calls == []
    assert fink.get_ssoft(version="2024.12", get_query_payload=True)["version"] == "2024.12"


@pytest.mark.parametrize(("survey", "call"), [
    ("ztf", lambda f: f.query_class("SN candidate", n=10**5000)),
    ("ztf", lambda f: f.query_class("SN candidate", startdate=10**5000)),
    ("ztf", lambda f: f.query_region("10 10", 10**5000)),
    ("lsst", lambda f: f.query_object(10**5000)),
    ("lsst", lambda f: f.query_object("9" * 5000)),
    ("ztf", lambda f: f.query_object([f"bad{i}" for i in range(10_000)])),
    ("ztf", lambda f: f.query_object("x" * 10_000)),
    ("ztf", lambda f: f.query_object("ZTF20abfcszi", columns=["q" * 10_000])),
    ("ztf", lambda f: f.query_class("SN candidate", startdate="1" * 5000)),
])
def test_huge_values_are_refused_in_short_messages(recorded, lsst_recorded, survey, call):
    # integers beyond Python's 4300 digits of text made int() and f-strings raise ValueError
    fink, rec = (recorded if survey == "ztf" else lsst_recorded)([])
    with pytest.raises(InvalidQueryError) as info:
        call(fink)
    assert len(str(info.value)) < 400 and rec.calls == []


def test_a_star_among_column_names_is_refused():
    from astroquery_fink import FinkClass, FinkLSSTClass

    with pytest.raises(InvalidQueryError, match="'\\*' means all columns"):
        FinkClass(server="http://127.0.0.1:9").query_object("ZTF20abfcszi", columns=["i:*"])
    with pytest.raises(InvalidQueryError, match="'\\*' means all columns"):
        FinkLSSTClass(server="http://127.0.0.1:9").get_statistics("", columns=["f:alerts", "f:*"])
