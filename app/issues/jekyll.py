"""Reading and writing Jekyll newsletter files (``_newsletters/YYYY-MM-DD-audience.md``).

Reading is tolerant: the real archive has files without front matter, an
unpadded day in a file name, slugs copied from other files and broken
Markdown. Every problem becomes a warning naming the file and line; only a
file that cannot be read at all raises :class:`JekyllError`.

The body is kept exactly as written (Jekyll variables such as
``{{ site.github.url }}`` included): rendering resolves site variables, and
export can then write the file back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from app.errors import InvalidInput
from app.subscribers.lists import slugify

__all__ = ["JekyllError", "JekyllFile", "parse_jekyll_text", "read_jekyll_file", "parse_filename"]

# 2018-01-05-client.md, 2019-12-4-public.md, 2019-11-14.md
FILENAME_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:-(.+?))?\.(?:md|markdown)$", re.IGNORECASE)
FENCE = "---"


class JekyllError(InvalidInput):
    """A file that could not be imported at all (unreadable)."""


@dataclass
class JekyllFile:
    filename: str
    body: str
    front_matter: dict[str, Any] = field(default_factory=dict)
    # The raw YAML between the fences (without them), None when the file has no front matter.
    # Export writes it back verbatim so files round-trip byte for byte.
    front_matter_text: str | None = None
    slug: str = ""
    filename_slug: str = ""
    issue_date: date | None = None
    audience: str | None = None
    # 1-based line number in the file of the body's first line (for warnings).
    body_first_line: int = 1
    warnings: list[str] = field(default_factory=list)

    def warn(self, line: int | None, message: str) -> None:
        where = f"{self.filename}:{line}" if line else self.filename
        self.warnings.append(f"{where}: {message}")


def parse_filename(filename: str) -> tuple[date | None, str | None, str | None]:
    """Return (issue date, audience, problem) for a Jekyll post file name."""
    match = FILENAME_RE.match(filename)
    if not match:
        return None, None, "file name is not YYYY-MM-DD-audience.md; no date or audience taken from it"
    year, month, day, audience = match.groups()
    try:
        issue_date = date(int(year), int(month), int(day))
    except ValueError:
        return None, audience, f"file name has an impossible date {year}-{month}-{day}"
    return issue_date, audience, None


def _decode(raw: bytes, doc: JekyllFile) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        doc.warn(line, "not valid UTF-8; read as Windows-1252")
        return raw.decode("cp1252", errors="replace")


def parse_jekyll_text(raw: bytes | str, filename: str) -> JekyllFile:
    """Parse one file's content; ``filename`` is its base name (date and audience come from it)."""
    doc = JekyllFile(filename=filename, body="")
    text = _decode(raw, doc) if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:  # not text (and PostgreSQL cannot store it)
        doc.warn(text[: text.index("\x00")].count("\n") + 1, "NUL characters removed")
        text = text.replace("\x00", "")

    lines = text.split("\n")
    if lines and lines[0].rstrip() == FENCE:
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in (FENCE, "...")), None)
        if end is None:
            doc.warn(1, "front matter is not closed by '---'; the whole file is taken as the body")
            doc.body = text
        else:
            doc.front_matter_text = "".join(line + "\n" for line in lines[1:end])
            doc.body = "\n".join(lines[end + 1 :])
            doc.body_first_line = end + 2
            doc.front_matter = _parse_front_matter(doc.front_matter_text, doc)
    else:
        doc.body = text

    doc.issue_date, doc.audience, problem = parse_filename(filename)
    if problem:
        doc.warn(None, problem)
    doc.filename_slug = slugify(Path(filename).stem, max_length=200) or "issue"
    doc.slug = doc.filename_slug
    wanted = doc.front_matter.get("slug")
    if isinstance(wanted, str) and wanted.strip():
        # A slug copied together with its file extension ("2020-03-23-client.md") drops it.
        safe = slugify(re.sub(r"\.(?:md|markdown)$", "", wanted.strip(), flags=re.IGNORECASE), max_length=200)
        if not safe:
            doc.warn(
                _key_line(doc, "slug"), f"front matter slug {wanted!r} has no letters or digits; the file name is used"
            )
        else:
            if safe != wanted.strip():
                doc.warn(_key_line(doc, "slug"), f"front matter slug {wanted!r} made URL-safe as {safe!r}")
            doc.slug = safe
    return doc


MAX_FRONT_MATTER = 16 * 1024


def _has_aliases(source: str) -> bool:
    """YAML anchors and aliases let 400 bytes expand into gigabytes ("billion
    laughs"); no newsletter's front matter needs them."""
    try:
        return any(isinstance(token, yaml.AliasToken | yaml.AnchorToken) for token in yaml.scan(source))
    except yaml.YAMLError:
        return False  # the parser below reports it


def _parse_front_matter(source: str, doc: JekyllFile) -> dict[str, Any]:
    if len(source) > MAX_FRONT_MATTER:
        doc.warn(2, f"front matter is longer than {MAX_FRONT_MATTER // 1024} KB; it is ignored")
        return {}
    if _has_aliases(source):
        doc.warn(2, "front matter uses YAML anchors or aliases (&, *), which are not accepted; it is ignored")
        return {}
    # BaseLoader keeps every scalar a string: ``slug: 2019-11-14`` must not become a date.
    try:
        data = yaml.load(source, Loader=yaml.BaseLoader)  # noqa: S506 (BaseLoader builds no objects)
    except yaml.YAMLError as exc:
        # The context mark points at the construct that was left open, which is what to fix.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        doc.warn(line, f"front matter is not valid YAML ({problem}); it is ignored")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        doc.warn(2, "front matter is not a mapping of keys to values; it is ignored")
        return {}
    return data


def _key_line(doc: JekyllFile, key: str) -> int | None:
    for number, line in enumerate((doc.front_matter_text or "").split("\n"), start=2):
        if line.startswith(f"{key}:"):
            return number
    return None


def read_jekyll_file(path: str | Path) -> JekyllFile:
    """Read a Jekyll newsletter file; raises :class:`JekyllError` only when it cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JekyllError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    return parse_jekyll_text(raw, path.name)
