"""Writing Tables to files: nothing lost silently (fink-query -o)."""
import pytest
from astropy.table import MaskedColumn, Table

from astroquery_fink._table_files import TABLE_FORMATS, write_table

SUFFIXES = [".ecsv", ".csv", ".vot", ".fits", ".parquet"]
ODD = ["y\u2028z", "e\x85f", "cr\rx", "a\x01b"]  # control characters, line separators


def table(values):
    return Table({"i:jd": list(range(len(values))), "d:name": values,
                  "d:other": MaskedColumn(["ok"] * len(values),
                                          mask=[k % 2 == 0 for k in range(len(values))])})


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_plain_text_writes_without_notes_and_reads_back(tmp_path, suffix):
    values = ["SN candidate", "Boötes" if suffix != ".fits" else "Bootes", "a,b", '"q"', "#c"]
    path = tmp_path / f"t{suffix}"
    assert write_table(table(values), path, TABLE_FORMATS[suffix]) == []
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
