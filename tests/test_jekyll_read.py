"""Tolerant reading of single Jekyll files (no database needed)."""

from datetime import date

import pytest

from app.issues.jekyll import JekyllError, parse_jekyll_text, read_jekyll_file
from tests.conftest import CORPUS, needs_corpus


@needs_corpus
def test_reads_real_file_with_unpadded_day() -> None:
    doc = read_jekyll_file(CORPUS / "ffl/published/2019-12-4-public.md")
    assert doc.issue_date == date(2019, 12, 4)
    assert doc.audience == "public"
    assert doc.slug == "2019-12-4-public"
    assert doc.front_matter["layout"] == "newsletter"
    assert doc.body_first_line == 5 and not doc.warnings


def test_bom_crlf_and_bad_yaml_are_warnings() -> None:
    raw = "\ufeff---\r\nslug: [unclosed\r\n---\r\n# Hello\r\nworld\r\n".encode()
    doc = parse_jekyll_text(raw, "2018-1-05-client.md")
    assert doc.body == "# Hello\nworld\n"
    assert doc.front_matter == {} and doc.front_matter_text == "slug: [unclosed\n"
    assert doc.issue_date == date(2018, 1, 5) and doc.slug == "2018-1-05-client"
    assert len(doc.warnings) == 1 and doc.warnings[0].startswith("2018-1-05-client.md:")
    assert "YAML" in doc.warnings[0]


def test_no_front_matter_and_odd_name() -> None:
    doc = parse_jekyll_text(b"## Title\n", "notes.md")
    assert doc.front_matter_text is None and doc.body == "## Title\n"
    assert doc.issue_date is None and doc.slug == "notes"
    assert any("file name" in w for w in doc.warnings)


def test_unreadable_file_is_an_error(tmp_path) -> None:
    with pytest.raises(JekyllError):
        read_jekyll_file(tmp_path / "missing.md")
