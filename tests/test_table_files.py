"""Writing Tables to files: nothing lost silently (fink-query -o)."""
import pytest
from astropy.table import MaskedColumn, Table

from astroquery_fink._table_files import TABLE_FORMATS, write_table

SUFFIXES = [".ecsv", ".csv", ".vot", ".fits", ".parquet"]
ODD = ["y\u2028z", "e\x85f", "cr\rx", "a\x01b"]  # control characters, line separators
VOT_NAMES = ("VOTable: names such as 'i:jd' are kept as the FIELD names; their IDs are 'i_jd': "
             "read the file with Table.read(..., use_names_over_ids=True) to get the names back")


def table(values):
    return Table({"i:jd": list(range(len(values))), "d:name": values,
                  "d:other": MaskedColumn(["ok"] * len(values),
                                          mask=[k % 2 == 0 for k in range(len(values))])})


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_plain_text_writes_without_notes_and_reads_back(tmp_path, suffix):
    values = ["SN candidate", "Boötes" if suffix != ".fits" else "Bootes", "a,b", '"q"', "#c"]
    path = tmp_path / f"t{suffix}"
    # VOTable keeps 'i:jd' as a FIELD name, with an ID 'i_jd': said, with how to read it
    assert write_table(table(values), path, TABLE_FORMATS[suffix]) == ([VOT_NAMES] if
                                                                      suffix == ".vot" else [])
    back = Table.read(path, **({"use_names_over_ids": True} if suffix == ".vot" else {}))
    assert [str(v) for v in back["d:name"]] == values
    # a missing text is missing, or empty where the format writes both alike (VOTable)
    other = back["d:other"]
    mask = getattr(other, "mask", [False] * len(other))
    got = ["" if m else str(v) for v, m in zip(other, mask, strict=True)]
    assert got == ["", "ok", "", "ok", ""]


@pytest.mark.parametrize("suffix", [".ecsv", ".csv", ".vot"])
def test_control_characters_keep_the_rows_and_are_said(tmp_path, suffix):
    # astropy's text readers split rows at U+2028 and NEL; XML cannot hold \x01
    values = ["plain", *ODD]
    path = tmp_path / f"t{suffix}"
    notes = write_table(table(values), path, TABLE_FORMATS[suffix])
    back = Table.read(path)
    assert len(back) == 5 and list(back["i:jd" if suffix != ".vot" else "i_jd"]) == [0, 1, 2, 3, 4]
    name = back.colnames[1]
    assert [str(v) for v in back[name]] == ["plain", "y\ufffdz", "e\ufffdf", "cr\ufffdx",
                                            "a\ufffdb"]
    assert notes[0] == ("d:name: 4 values hold control characters or line separators, "
                        "written as U+FFFD (e.g. 'y\\u2028z'); .parquet would keep them")


@pytest.mark.parametrize(("suffix", "note"), [
    (".ecsv", "d:name: 2 distinct values are not read back from .ecsv as written "
              "(e.g. ' lead' as 'lead'); .parquet would keep them"),
    (".csv", "d:name: 2 distinct values are not read back from .csv as written "
             "(e.g. ' lead' as 'lead'); .parquet would keep them"),
    (".fits", "d:name: 1 distinct values are not read back from .fits as written "
              "(e.g. 'trail ' as 'trail'); .parquet would keep them"),
])
def test_text_the_format_changes_is_named(tmp_path, suffix, note):
    notes = write_table(table(["plain", " lead", "trail "]), tmp_path / f"t{suffix}",
                        TABLE_FORMATS[suffix])
    assert notes == [note]


def test_parquet_nul_is_named(tmp_path):
    notes = write_table(table(["a\x00b", "c"]), tmp_path / "t.parquet", "parquet")
    assert notes == ["d:name: 1 distinct values are not read back from .parquet as written "
                     "(e.g. 'a\\x00b' as 'a'); .fits would keep them"]


def test_fits_transliteration_names_the_formats_that_keep_the_text(tmp_path):
    notes = write_table(table(["Boötes", "x"]), tmp_path / "t.fits", "fits")
    assert notes == ["d:name: FITS text is ASCII, 1 values written transliterated "
                     "(e.g. 'Boötes' -> 'Bootes'); .ecsv, .vot, .parquet, .csv would "
                     "keep them"]
    assert Table.read(tmp_path / "t.fits")["d:name"].tolist() == ["Bootes", "x"]


def test_time_columns_in_votable_as_their_values(tmp_path):
    from astropy.time import Time
    t = Table({"time": Time(["2021-11-22", "2021-11-23"]), "n": [1, 2]})
    notes = write_table(t, tmp_path / "t.vot", "votable")
    assert notes == ["time: VOTable holds no Time column, written as its values (iso, UTC)"]
    back = Table.read(tmp_path / "t.vot")
    assert back["time"].tolist() == ["2021-11-22 00:00:00.000", "2021-11-23 00:00:00.000"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_lone_surrogates_and_xml_non_characters_are_replaced_in_every_format(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    notes = write_table(table(["a\ud800b", "c\uffffd", "plain"]), path, TABLE_FORMATS[suffix])
    back = Table.read(path, **({"use_names_over_ids": True} if suffix == ".vot" else {}))
    got = [str(v) for v in back["d:name"]]
    assert got[2] == "plain" and len(back) == 3
    assert "\ud800" not in got[0] and got[0][0] == "a" and got[0][-1] == "b"
    assert notes and "d:name" in notes[0]


@pytest.mark.parametrize(("suffix", "name", "written"), [
    (".fits", "d:naïve", "d:naive"), (".ecsv", "d:a\nb", "d:a\ufffdb"),
    (".vot", "d:a\nb", "d:a\ufffdb"), (".fits", "d:a\nb", "d:a?b"),
])
def test_column_names_a_format_cannot_hold_are_renamed_and_said(tmp_path, suffix, name,
                                                                written):
    t = Table({"i:jd": [1.5], name: ["x"]})
    path = tmp_path / f"t{suffix}"
    notes = write_table(t, path, TABLE_FORMATS[suffix])
    back = Table.read(path, **({"use_names_over_ids": True} if suffix == ".vot" else {}))
    assert back.colnames == ["i:jd", written] and str(back[written][0]) == "x"
    assert notes[0] == f"column {name!r} written as {written!r}: a name {suffix} cannot hold"
    assert notes[1:] == ([VOT_NAMES] if suffix == ".vot" else [])


def test_csv_type_guessing_is_probed_per_column(tmp_path):
    t = Table({"i:jd": [1.5, 2.5], "d:code": ["007", "12"], "d:words": ["a b", "c"]})
    notes = write_table(t, tmp_path / "t.csv", "ascii.csv")
    assert notes == ["d:code: 1 distinct values are not read back from .csv as written "
                     "(e.g. '007' as '7'); .ecsv, .fits, .vot, .parquet would keep them"]


def test_array_shapes_a_format_flattens_are_said(tmp_path):
    import numpy as np
    t = Table({"i:jd": [1.5, 2.5], "b:stamp": np.ones((2, 4, 3))})
    assert write_table(t, tmp_path / "t.fits", "fits") == []
    assert write_table(t, tmp_path / "t.parquet", "parquet") == [
        "b:stamp: each row's 4x3 array is read back from .parquet with shape (12,) "
        "(reshape it, or use .ecsv, .fits, which keep it)"]


def test_a_missing_time_stays_missing_in_votable(tmp_path):
    import numpy as np
    from astropy.time import Time
    times = Time(["2021-11-22", "2021-11-23"], scale="utc")
    times.format = "mjd"
    times[1] = np.ma.masked
    write_table(Table({"n": [1, 2], "time": times}), tmp_path / "t.vot", "votable")
    back = Table.read(tmp_path / "t.vot")["time"]
    assert back[0] == 59540.0 and back.mask.tolist() == [False, True]


def test_a_gzipped_fits_table(tmp_path):
    assert TABLE_FORMATS[".fits.gz"] == "fits"
    path = tmp_path / "t.fits.gz"
    assert write_table(table(["a", "b"]), path, "fits") == []
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert [str(v) for v in Table.read(path)["d:name"]] == ["a", "b"]


def test_votable_keeps_square_images_and_says_how_to_read_names(tmp_path):
    import numpy as np
    stamps = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3)  # stamps are square
    t = Table({"i:jd": [1.5, 2.5], "b:stamp": stamps})
    assert write_table(t, tmp_path / "t.vot", "votable") == [VOT_NAMES]
    back = Table.read(tmp_path / "t.vot", use_names_over_ids=True)
    assert np.array_equal(back["b:stamp"], stamps)
    # astropy reads a 4x3 image back as 3x4 from VOTable: said, with the formats keeping it
    t["b:stamp"] = np.ones((2, 4, 3))
    assert write_table(t, tmp_path / "t.vot", "votable") == [
        VOT_NAMES, "b:stamp: each row's 4x3 array is read back from .vot with shape (3, 4) "
                   "(reshape it, or use .ecsv, .fits, which keep it)"]


def test_the_votable_note_names_a_column_of_the_table(tmp_path):
    # a Rubin table: the note's example is one of its own names, with astropy's ID for it
    rubin = Table({"r:psfFlux": [1.0], "v:sigma(rate)": [2.0]})
    notes = write_table(rubin, tmp_path / "rubin.vot", TABLE_FORMATS[".vot"])
    assert [n for n in notes if n.startswith("VOTable: names")] == [
        "VOTable: names such as 'r:psfFlux' are kept as the FIELD names; their IDs are "
        "'r_psfFlux': read the file with Table.read(..., use_names_over_ids=True) to get the "
        "names back"]


def test_the_shape_probe_writes_no_meta(tmp_path, caplog):
    # a query's meta (a dict payload, long keys) made the probe's FITS writer warn on stderr
    import warnings

    import numpy as np
    t = Table({"i:jd": [1.5, 2.5], "b:stamp": np.ones((2, 4, 3))})
    t.meta.update({"payload": {"objectId": "ZTF25aauurnj"}, "query_time": "2026-12-01"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes = write_table(t, tmp_path / "t.parquet", "parquet")
    assert [str(w.message) for w in caught] == [] and "WARNING" not in caplog.text
    assert notes == ["b:stamp: each row's 4x3 array is read back from .parquet with shape (12,) "
                     "(reshape it, or use .ecsv, .fits, which keep it)"]
