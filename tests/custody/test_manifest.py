"""The customer's manifest as spreadsheets export it, and every way it can be malformed."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipestation.custody.manifest import (
    DuplicateEntriesError,
    ManifestError,
    load_manifest,
    parse_size,
)


def write(tmp_path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "manifest.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def error(tmp_path: Path, text: str, **kw: bool) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text, **kw))
    return info.value


def test_excel_export_bom_semicolons_crlf_quotes_blank_lines_trailing_columns(tmp_path):
    # What Excel's "CSV UTF-8" writes in a semicolon locale: BOM, CRLF, ';', trailing ';;'
    text = (
        "Serial Number;ASSET TAG;Model;Size;Note;Rack;;\n"
        'S6PYNX0T123456A;ACME-0001;"Samsung; 870 EVO";500GB;"boxed, with ""care""";R1;;\n'
        "\n"
        ";ACME-0002;;;;;;\n"
        '  WD-WCC4E1234567 ;ACME-0003;WDC WD10EZEX;1 TB;"two\nlines";;;\n'
        ";;;;;;;\n"
    )
    m = load_manifest(write(tmp_path, text, bom=True, crlf=True))
    assert [(e.line, e.serial, e.asset_tag) for e in m.entries] == [
        (2, "S6PYNX0T123456A", "ACME-0001"),
        (4, "", "ACME-0002"),
        (5, "WD-WCC4E1234567", "ACME-0003"),
    ]
    first = m.entries[0]
    assert first.model == "Samsung; 870 EVO"
    assert first.note == 'boxed, with "care"'
    assert first.size_bytes == 500 * 1000**3
    assert not first.size_exact
    assert m.entries[2].note == "two lines"
    assert len(m.sha256) == 64


def test_libreoffice_export_commas_no_bom_lf_asset_tags_only(tmp_path):
    m = load_manifest(write(tmp_path, 'asset_tag,note\nT-1,"rack 3, slot 2"\nT-2,\n'))
    assert [(e.asset_tag, e.note) for e in m.entries] == [("T-1", "rack 3, slot 2"), ("T-2", "")]
    assert all(e.serial == "" for e in m.entries)


def test_one_serial_twice_is_two_drives_when_model_or_size_tells_them_apart(tmp_path):
    m = load_manifest(
        write(
            tmp_path, "serial,model,size\n0000001,Kingston A400,120GB\n0000001,SanDisk Plus,240GB\n"
        )
    )
    assert len(m.entries) == 2


def test_sizes():
    assert parse_size("500 107 862 016") == (500107862016, True)
    assert parse_size("16MiB") == (16 * 2**20, False)
    assert parse_size("1,5 TB") == (1_500_000_000_000, False)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('serial,model\nS1,"Samsung\nS2,x\n', 2, 4, "quoted field never closed"),
        ('serial,model\nS1,Sam"sung\n', 2, 7, "quote inside an unquoted field"),
        ('serial,model\nS1,"Samsung"x\n', 2, 13, "after a closing quote"),
        ("model,size\nSamsung,500GB\n", 1, 1, "neither a 'serial' nor an 'asset_tag'"),
        ("serial,Serial\nS1,S2\n", 1, 8, "twice"),
        ("serial,model\nS1,x\nS2,y,,stray\n", 3, 7, "under no header"),
        ("serial;model\nS1;x\n;Samsung\n", 3, 1, "neither serial nor asset tag"),
        ("serial,size\nS1,big\n", 2, 4, "is not a size"),
        ("serial,size\nS1,500\n", 2, 4, "has no unit"),
        ("", 1, 1, "empty"),
        ("\n\n", 1, 1, "empty"),
    ],
)
def test_malformed_manifest_names_file_line_and_column(tmp_path, text, line, column, words):
    e = error(tmp_path, text)
    assert (e.line, e.column) == (line, column)
    assert words in str(e)
    assert str(e).startswith(f"{tmp_path / 'manifest.csv'}: line {line}, column {column}: ")


def test_a_fault_on_the_last_line_loads_nothing(tmp_path):
    rows = "".join(f"S{i},model\n" for i in range(500))
    e = error(tmp_path, f'serial,model\n{rows}S500,"open\n')
    assert e.line == 502


def test_not_utf8_names_the_line_and_column(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes("serial,model\nS1,Gr\xfcn\n".encode("latin-1"))
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert (info.value.line, info.value.column) == (2, 6)
    assert "not UTF-8" in str(info.value)


def test_crlf_error_positions_count_as_lines(tmp_path):
    e = error(tmp_path, 'serial,model\nS1,x\nS2,"y\n', crlf=True)
    assert (e.line, e.column) == (3, 4)


def test_duplicates_are_all_listed_with_their_lines_never_merged(tmp_path):
    text = "serial,asset_tag,model\nS1,A,m\nS2,B,m\ns1,C,M\nS4,a,m\nS1,E,m\n"
    with pytest.raises(DuplicateEntriesError) as info:
        load_manifest(write(tmp_path, text))
    msg = str(info.value)
    assert "serial 'S1'" in msg
    assert "lines 2, 4, 6" in msg
    assert "asset tag 'A'" in msg
    assert "lines 2, 5" in msg
    assert info.value.duplicates == [
        ("serial 'S1' (model/size do not tell them apart)", (2, 4, 6)),
        ("asset tag 'A'", (2, 5)),
    ]


def test_unreadable_file(tmp_path):
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "nope.csv")
