"""Import Jekyll newsletter files as issues (CLI ``import-jekyll`` and the admin upload).

Rules (issue 4):
- slug from the front matter, else from the file name; when two files claim one slug,
  the file whose name is that slug keeps it, the other gets its file-name slug, and a
  warning names both;
- issue date and audience from the file name; the audience maps to a list (created when
  missing); front matter ``title``/``subject``/``preheader``/``lists`` (written by our own
  export) override what is derived;
- the body is stored as written: ``{{ site.github.url }}`` stays in the source and is
  resolved to the base URL by rendering, so export gives the file back unchanged;
- a file seen before (same file name) is updated only when something differs, so
  importing a folder twice changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from app.auth.models import User
from app.db import db
from app.issues.jekyll import JekyllError, JekyllFile, parse_jekyll_text, read_jekyll_file
from app.issues.models import Issue, IssueStatus
from app.issues.notifications import sync_assignments
from app.issues.service import TEXT_FIELDS, record_revision
from app.media.service import MediaError, import_file
from app.rendering.placeholders import scan
from app.rendering.summary import SUBJECT_LIMIT, first_sentence, is_greeting, shorten, without_greeting
from app.subscribers.lists import ListError, get_or_create_list
from app.subscribers.models import MailingList

__all__ = ["ImportReport", "derive_title", "expected_fields", "import_jekyll", "import_paths", "sources_from_upload"]

STATUSES = ("auto", "draft", "sent")
IMAGE_RE = re.compile(r"""(?:\{\{\s*site\.(?:github\.url|url|baseurl)\s*\}\})?/?(images/[^\s)"'<>]+)""")


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    images: set[str] = field(default_factory=set)
    events: int | None = None
    slugs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
            f"warnings {len(self.warnings)}, errors {len(self.errors)}"
        )

    def lines(self) -> list[str]:
        """One line per problem, then the summary."""
        out = [f"error: {e}" for e in self.errors] + [f"warning: {w}" for w in self.warnings]
        if self.images:
            out.append(f"images in the media library: {len(self.images)}")
        if self.events is not None:
            out.append(f"events created from bullets: {self.events}")
        return [*out, self.summary()]


_INLINE_MARKUP = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), ""),
    (re.compile(r"\[\^[^\]]*\]"), ""),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"[*_`]+"), ""),
    (re.compile(r"\{\{[^}]*\}\}"), ""),
]
_HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_IMAGE_LINE = re.compile(r"^\s*(?:!\[|<img\b)", re.IGNORECASE)
_NOT_PROSE = ("---", "***", "<", "!", "|", ">", "```", "~~~", "{%", "[^")
_CODE_INDENT = ("    ", "\t")
_LIST_MARKER = re.compile(r"^(?:[*+-]|[0-9]+\.)[ \t]+")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:")


def _plain(text: str) -> str:
    for pattern, repl in _INLINE_MARKUP:
        text = pattern.sub(repl, text)
    return " ".join(text.replace("\u200b", "").split())


def _outside_code(body: str) -> list[tuple[int, str]]:
    """(index, line) of the lines that are not in fenced code."""
    lines, fence = [], None
    for index, line in enumerate(body.split("\n")):
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1) == fence):
            fence = None if fence else opening.group(1)
        elif fence is None:
            lines.append((index, line))
    return lines


def _is_caption(lines: list[tuple[int, str]], position: int) -> bool:
    """A ##### (or ######) line next to an image: the archive's image caption."""
    neighbours = [line for _, line in (lines[position - 1 : position] + lines[position + 1 : position + 2])]
    return lines[position][1].startswith("#####") and any(_IMAGE_LINE.match(line) for line in neighbours)


def derive_title(body: str, fallback: str) -> str:
    """The first real heading, else the first sentence of prose; never an image, an
    image caption or a greeting; at most 78 characters (see app.rendering.summary)."""
    lines = [(index, line) for index, line in _outside_code(body) if line.strip()]
    for position, (_, line) in enumerate(lines):
        match = _HEADING.match(line)
        if match and not _is_caption(lines, position):
            text = _plain(match.group(1))
            if len(text) >= 3 and not is_greeting(text):
                return shorten(text, SUBJECT_LIMIT)
    for _, line in lines:
        if line.startswith(_CODE_INDENT) or _HEADING.match(line) or _DEFINITION.match(line):
            continue
        stripped = line.strip()
        if stripped.startswith(_NOT_PROSE):
            continue
        text = without_greeting(_plain(_LIST_MARKER.sub("", stripped)))
        if len(text) >= 3:
            return shorten(first_sentence(text), SUBJECT_LIMIT)
    return fallback


def expected_fields(doc: JekyllFile) -> dict[str, object]:
    """What an import of ``doc`` stores, before slug clash resolution."""
    fm = doc.front_matter
    given, subject, preheader = fm.get("title"), fm.get("subject"), fm.get("preheader")
    title = given if isinstance(given, str) and given.strip() else derive_title(doc.body, doc.filename_slug)
    subject = subject if isinstance(subject, str) else title
    preheader = preheader if isinstance(preheader, str) else ""
    if isinstance(fm.get("lists"), list):
        lists = [str(name) for name in fm["lists"] if str(name).strip()]
    else:
        lists = [doc.audience] if doc.audience else []
    return {"title": title[:300], "subject": subject[:300], "preheader": preheader[:300], "lists": lists}


def _resolve_slugs(docs: list[JekyllFile], report: ImportReport) -> dict[str, str]:
    """filename -> final slug, applying the "file name decides" rule on clashes."""
    by_slug: dict[str, list[JekyllFile]] = defaultdict(list)
    for doc in docs:
        by_slug[doc.slug].append(doc)
    final: dict[str, str] = {}
    for slug, claimants in by_slug.items():
        if len(claimants) == 1:
            final[claimants[0].filename] = slug
            continue
        owner = next((d for d in claimants if d.filename_slug == slug), None)
        for doc in claimants:
            if doc is owner:
                final[doc.filename] = slug
                continue
            final[doc.filename] = doc.filename_slug
            keeper = f"{owner.filename} keeps it (its file name)" if owner else "no file name matches it"
            others = ", ".join(d.filename for d in claimants if d is not doc)
            doc.warn(
                None,
                f"slug {slug!r} is also claimed by {others}; {keeper}, so this file gets "
                f"{doc.filename_slug!r} from its file name",
            )
    return final


def _free_slug(slug: str, filename: str, taken: set[str], report: ImportReport) -> str:
    """Keep slugs unique against other issues already in the database."""
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    report.warnings.append(f"{filename}: slug {slug!r} belongs to another issue; using {slug}-{number}")
    return f"{slug}-{number}"


def _has_placeholders(body: str) -> bool:

    return bool(scan(body))


def _lists_for(names: list[str], doc: JekyllFile, cache: dict[str, MailingList]) -> list[MailingList]:
    lists = []
    for name in names:
        try:
            if name not in cache:  # one lookup per audience, not per file
                cache[name] = get_or_create_list(name, commit=False)
            lists.append(cache[name])
        except ListError as exc:
            doc.warn(None, f"audience {name!r} ignored: {exc}")
    return lists


def _import_one(
    doc: JekyllFile,
    slug: str,
    existing: Issue | None,
    status: str,
    user: User | None,
    report: ImportReport,
    list_cache: dict[str, MailingList],
) -> Issue:
    fields = expected_fields(doc)
    lists = _lists_for(list(fields["lists"]), doc, list_cache)  # type: ignore[call-overload]
    values = {
        "title": fields["title"],
        "subject": fields["subject"],
        "preheader": fields["preheader"],
        "body": doc.body,
        "slug": slug,
        "issue_date": doc.issue_date,
        "source_filename": doc.filename,
        "front_matter": doc.front_matter,
        "front_matter_text": doc.front_matter_text,
    }
    if existing is None:
        if status == "auto":
            future = doc.issue_date is not None and doc.issue_date > date.today()
            status = "draft" if future or _has_placeholders(doc.body) else "sent"
        # An archive issue imported as sent keeps exactly its content: no events section.
        issue = Issue(
            status=status,
            version=1,
            excluded_event_ids=[],
            auto_events=status != "sent",
            updated_by_id=user.id if user else None,
            created_by_id=user.id if user else None,
            **values,
        )
        if status == "sent" and doc.issue_date:
            issue.sent_at = datetime.combine(doc.issue_date, time(9, 0))
        issue.lists = lists
        db.session.add(issue)
        db.session.flush()
        record_revision(issue, user, note=f"imported {doc.filename}", number=1)
        if issue.status == "draft":
            sync_assignments(issue, user)
        report.imported += 1
        return issue
    same = all(getattr(existing, k) == v for k, v in values.items())
    if same and {m.id for m in existing.lists} == {m.id for m in lists}:
        report.unchanged += 1
        return existing
    if existing.status not in ("draft", "approved"):
        doc.warn(None, f"differs from issue {existing.slug!r}, which is {existing.status}; not changed")
        report.unchanged += 1
        return existing
    for key, value in values.items():
        setattr(existing, key, value)
    existing.lists = lists
    existing.version += 1
    existing.status, existing.approved_by_id, existing.approved_at = IssueStatus.DRAFT, None, None
    existing.updated_by_id = user.id if user else None
    record_revision(
        existing, user, note=f"imported {doc.filename}", texts={name: getattr(existing, name) for name in TEXT_FIELDS}
    )
    report.updated += 1
    return existing


def _import_images(doc: JekyllFile, images_dir: Path, report: ImportReport) -> None:

    for offset, line in enumerate(doc.body.split("\n")):
        for match in IMAGE_RE.finditer(line):
            key = match.group(1).rstrip(".,;")
            # --images may name the images/ folder itself or the site root holding it.
            source = images_dir / key.removeprefix("images/")
            if not source.is_file() and (images_dir / key).is_file():
                source = images_dir / key
            where = f"{doc.filename}:{doc.body_first_line + offset}"
            if not source.is_file():
                report.warnings.append(f"{where}: image {key} not found in {images_dir}")
                continue
            try:
                if key not in report.images:
                    import_file(key, source.read_bytes())
                report.images.add(key)
            except (MediaError, OSError) as exc:
                report.warnings.append(f"{where}: image {key} not imported: {exc}")


def import_jekyll(
    sources: Iterable[tuple[str, bytes | Path]],
    *,
    images_dir: Path | None = None,
    status: str = "auto",
    user: User | None = None,
) -> ImportReport:
    """Import (file name, content or path) pairs; commits once per round.

    One file name given several times (the same draft from several commits) is imported in
    rounds, in the order given, so the later versions become revisions of one issue.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    report = ImportReport()
    sources = _skip_versions_already_in(list(sources))
    rounds: list[list[tuple[str, bytes | Path]]] = []
    seen: dict[str, int] = {}
    for name, content in sources:
        index = seen.get(name, 0)
        seen[name] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append((name, content))
    for batch in rounds:
        _import_round(batch, report, images_dir, status, user)
    return report


def _skip_versions_already_in(sources: list[tuple[str, bytes | Path]]) -> list[tuple[str, bytes | Path]]:
    """For a file name given several times whose last version is already stored, keep only
    that last version: importing the same set again then changes nothing."""
    last: dict[str, int] = {}
    counts: dict[str, int] = {}
    for index, (name, _) in enumerate(sources):
        last[name] = index
        counts[name] = counts.get(name, 0) + 1
    repeated = [name for name, count in counts.items() if count > 1]
    if not repeated:
        return sources
    stored = {
        i.source_filename: i for i in db.session.scalars(select(Issue).where(Issue.source_filename.in_(repeated)))
    }
    settled: set[str] = set()
    for name in repeated:
        content = sources[last[name]][1]
        try:
            doc = read_jekyll_file(content) if isinstance(content, Path) else parse_jekyll_text(content, name)
        except JekyllError:
            continue
        issue = stored.get(name)
        if issue is not None and (issue.body, issue.front_matter_text) == (doc.body, doc.front_matter_text):
            settled.add(name)
    return [pair for index, pair in enumerate(sources) if pair[0] not in settled or index == last[pair[0]]]


def _import_round(
    sources: list[tuple[str, bytes | Path]],
    report: ImportReport,
    images_dir: Path | None,
    status: str,
    user: User | None,
) -> None:
    docs: list[JekyllFile] = []
    for name, content in sorted(sources, key=lambda pair: pair[0]):
        try:
            docs.append(read_jekyll_file(content) if isinstance(content, Path) else parse_jekyll_text(content, name))
        except JekyllError as exc:
            report.errors.append(str(exc))
    slugs = _resolve_slugs(docs, report)
    known = (
        {
            issue.source_filename: issue
            for issue in db.session.scalars(select(Issue).where(Issue.source_filename.in_([d.filename for d in docs])))
        }
        if docs
        else {}
    )
    owner_of = dict(db.session.execute(select(Issue.slug, Issue.id)).all())
    list_cache: dict[str, MailingList] = {}
    for doc in docs:
        existing = known.get(doc.filename)
        taken = {s for s, i in owner_of.items() if existing is None or i != existing.id}
        slug = _free_slug(slugs[doc.filename], doc.filename, taken, report)
        issue = _import_one(doc, slug, existing, status, user, report, list_cache)
        owner_of[issue.slug] = issue.id
        report.slugs.append(issue.slug)
        if images_dir is not None:
            _import_images(doc, images_dir, report)
        report.warnings.extend(doc.warnings)
    db.session.commit()


def import_paths(paths: Iterable[Path], **kwargs: object) -> ImportReport:
    """Import files and folders (a folder contributes its ``*.md``/``*.markdown`` files)."""
    files: list[tuple[str, bytes | Path]] = []
    empty: list[str] = []
    for path in paths:
        if path.is_dir():
            found = [(p.name, p) for p in sorted(path.iterdir()) if p.suffix.lower() in (".md", ".markdown")]
            if not found:
                empty.append(f"{path}: no .md files in this folder (sub-folders are not searched)")
            files.extend(found)
        else:
            files.append((path.name, path))
    report = import_jekyll(files, **kwargs)  # type: ignore[arg-type]
    report.warnings[:0] = empty
    return report


MAX_UPLOAD_FILES = 2000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def sources_from_upload(uploads: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Turn uploaded files (``.md`` files and/or ``.zip`` archives of them) into import sources.

    Raises ValueError with a user-facing message for anything that is neither, and
    refuses archives that unpack to more than 50 MB or 2000 files.
    """
    import io
    import zipfile

    sources: list[tuple[str, bytes]] = []
    total = 0
    for name, data in uploads:
        base = Path(name or "").name
        if base.lower().endswith((".md", ".markdown")):
            sources.append((base, data))
            total += len(data)
        elif base.lower().endswith(".zip"):
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
                members = [
                    m
                    for m in archive.infolist()
                    if not m.is_dir()
                    and m.filename.lower().endswith((".md", ".markdown"))
                    and "__MACOSX" not in m.filename
                ]
                if sum(m.file_size for m in members) + total > MAX_UPLOAD_BYTES:
                    raise ValueError(f"{base} unpacks to more than {MAX_UPLOAD_BYTES // 2**20} MB.")
                for member in members:
                    sources.append((Path(member.filename).name, archive.read(member)))
                    total += member.file_size
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise ValueError(f"{base} is not a readable zip archive ({exc}).") from exc
        elif base:
            raise ValueError(f"{base}: upload .md files or a .zip of them.")
        if len(sources) > MAX_UPLOAD_FILES or total > MAX_UPLOAD_BYTES:
            raise ValueError("That upload is too big; import large archives with `pressroom import-jekyll`.")
    if not sources:
        raise ValueError("Choose at least one .md file or a .zip of them.")
    return sources
