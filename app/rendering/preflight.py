"""Preflight: what must be fixed before an issue may be approved or sent.

Errors block approval, scheduling and sending; warnings are shown. Positions
are 1-based line/column in the Markdown body; problems of the subject or
preheader use line 0 (column within that field)."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from app.mail.message import header_is_unsafe
from app.rendering.context import IssueSource, RenderContext
from app.rendering.link_scan import blank_code_spans, bracketed
from app.rendering.markdown import SITE_VARIABLE, substitute_site_variables
from app.rendering.placeholders import scan, scan_line
from app.rendering.render import RenderedIssue, render_issue
from app.tokens import click_token

ERROR = "error"
WARNING = "warning"
GMAIL_CLIP_BYTES = 102 * 1024

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_TEMPLATE = re.compile(r"\{\{[^\n]{0,200}?\}\}|\{%[^\n]{0,200}?%\}")
_REF_DEF = re.compile(r"^\s{0,3}\[([^\]^][^\]]*)\]:\s*<?([^\s>]*)>?")
_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^([^\]]+)\]:")
# Every quantifier below is bounded: an unclosed construct repeated along a long
# line must not make each attempt walk to the line's end (see link_scan.py).
_AUTOLINK = re.compile(r"<((?:https?|javascript|data|vbscript):[^>\s]{0,2048})>", re.IGNORECASE)
_HTML_URL = re.compile(r"<(a|img)\b[^>]{0,1000}?\b(href|src)\s*=\s*[\"']?([^\"'\s>]{0,2048})", re.IGNORECASE)
_HTML_IMG = re.compile(r"<img\b[^>]{0,2000}>", re.IGNORECASE)
_HTML_ALT = re.compile(r"\balt\s*=\s*[\"']?\s*[^\"'\s>]", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)
_HANDLER = re.compile(r"<[a-z][^>]{0,1000}?\s(on[a-z]+)\s*=", re.IGNORECASE)
_SITE_MASK = "\x01"
_UNSAFE_SCHEME = re.compile(r"^\s*(javascript|data|vbscript):", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    line: int  # 1-based in the body; 0 for subject/preheader/whole message
    col: int
    code: str
    message: str

    def format(self) -> str:
        return f"{self.level} {self.line}:{self.col} {self.code} {self.message}"


def has_errors(problems: list[Problem]) -> bool:
    return any(problem.level == ERROR for problem in problems)


def _label(text: str) -> str:
    return " ".join(text.lower().split())


def _prose_lines(body: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code, code spans blanked out so
    ``a[i][j]`` in code is not taken for a reference link (columns kept)."""
    fence: str | None = None
    for number, line in enumerate(body.split("\n"), start=1):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1) == fence:
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        line = blank_code_spans(line)
        # Site variables contain spaces that would end a URL: mask them with a
        # same-length token (columns stay right), expanded in _expand().
        yield number, SITE_VARIABLE.sub(lambda m: _SITE_MASK + "\x02" * (len(m.group(0)) - 1), line)


def _expand(url: str, base: str) -> str:
    return re.sub(_SITE_MASK + "\x02*", lambda _m: base, url)


def run_preflight(issue: IssueSource, context: RenderContext) -> list[Problem]:
    body = (issue.body or "").replace("\r\n", "\n")
    problems = _header_problems(issue)
    problems += [
        Problem(ERROR, found.line, found.col, found.code, f"unfinished placeholder {found.text!r}")
        for found in scan(body)
    ]
    problems += _body_problems(body, context)
    problems += _content_problems(issue, context)
    problems += _size_problems(issue, context)
    if not context.brand.postal_address.strip():
        # CAN-SPAM and CASL require the sender's postal address in every bulk email;
        # test sends are not bulk mail and do not run preflight.
        problems.append(Problem(ERROR, 0, 0, "no-postal-address", "the newsletter has no postal address (Settings)"))
    return sorted(problems, key=lambda p: (p.line, p.col, p.code))


def _header_problems(issue: IssueSource) -> list[Problem]:
    problems = []
    subject = issue.subject or ""
    if not subject.strip():
        problems.append(Problem(ERROR, 0, 0, "empty-subject", "the subject is empty"))
    for field, value in (("subject", subject), ("preheader", issue.preheader or "")):
        if header_is_unsafe(value):  # also line breaks hidden in RFC 2047 encoded words
            problems.append(Problem(ERROR, 0, 0, "header-injection", f"the {field} contains a line break"))
        for found in scan_line(value, 0):
            problems.append(
                Problem(ERROR, 0, found.col, found.code, f"unfinished placeholder {found.text!r} in the {field}")
            )
    return problems


def _body_problems(body: str, context: RenderContext) -> list[Problem]:
    problems: list[Problem] = []
    base = context.base
    lines = list(_prose_lines(body))
    definitions: dict[str, str] = {}
    footnotes: set[str] = set()
    for _, line in lines:
        if match := _REF_DEF.match(line):
            definitions[_label(match.group(1))] = match.group(2)
        if match := _FOOTNOTE_DEF.match(line):
            footnotes.add(_label(match.group(1)))

    for number, line in lines:
        for match in _TEMPLATE.finditer(line):
            problems.append(
                Problem(
                    ERROR,
                    number,
                    match.start() + 1,
                    "template-variable",
                    f"unresolved template variable {match.group(0)!r}",
                )
            )
        for found in bracketed(line):
            col = found.start + 1
            if found.kind == "footnote":
                if _label(found.text) not in footnotes:
                    problems.append(
                        Problem(ERROR, number, col, "undefined-footnote", f"footnote [^{found.text}] has no definition")
                    )
            elif found.kind == "reference":
                label = _label(found.target or found.text)
                if label not in definitions:
                    problems.append(
                        Problem(
                            ERROR,
                            number,
                            col,
                            "undefined-reference",
                            f"reference [{found.target or found.text}] has no definition",
                        )
                    )
                elif found.image:
                    problems += _image_problems(definitions[label], found.text, number, col, context)
            elif found.kind == "inline":
                if found.image:
                    problems += _image_problems(found.target, found.text, number, col, context)
                else:
                    problems += _link_problems(found.target, number, col, base)
        if (definition := _REF_DEF.match(line)) and definition.group(2):
            problems += _link_problems(definition.group(2), number, definition.start(2) + 1, base)
        for match in _AUTOLINK.finditer(line):
            problems += _link_problems(match.group(1), number, match.start() + 1, base)
        for match in _HTML_URL.finditer(line):
            if match.group(1).lower() == "a":
                problems += _link_problems(match.group(3), number, match.start() + 1, base)
        for match in _HTML_IMG.finditer(line):
            src = re.search(r"\bsrc\s*=\s*[\"']?([^\"'\s>]*)", match.group(0), re.IGNORECASE)
            alt = "x" if _HTML_ALT.search(match.group(0)) else ""
            problems += _image_problems(src.group(1) if src else "", alt, number, match.start() + 1, context)
        for match in _SCRIPT.finditer(line):
            problems.append(
                Problem(
                    WARNING,
                    number,
                    match.start() + 1,
                    "script-removed",
                    "raw <script> will be removed from the email and the web page",
                )
            )
        for match in _HANDLER.finditer(line):
            problems.append(
                Problem(
                    WARNING,
                    number,
                    match.start(1) + 1,
                    "html-removed",
                    f"HTML attribute {match.group(1)} will be removed",
                )
            )
    return problems


def _link_problems(url: str, line: int, col: int, base: str) -> list[Problem]:
    url = _expand(url, base)
    if _UNSAFE_SCHEME.match(url):
        return [Problem(ERROR, line, col, "unsafe-url", f"link to {url[:40]!r} is not allowed")]
    if url.lower().startswith("http:"):
        return [Problem(WARNING, line, col, "insecure-url", f"link uses http instead of https: {url}")]
    return []


def _image_problems(src: str, alt: str, line: int, col: int, context: RenderContext) -> list[Problem]:
    base = context.base
    src = _expand(src, base)
    if _UNSAFE_SCHEME.match(src):
        return [Problem(ERROR, line, col, "unsafe-url", f"image source {src[:40]!r} is not allowed")]
    resolved = substitute_site_variables(src, base)
    if resolved and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", resolved):
        resolved = base + resolved if resolved.startswith("/") else f"{base}/{resolved}"
    ref = context.resolve_image(resolved) if resolved else None
    problems = []
    if ref is None:
        own = resolved.startswith(base + "/")
        if not resolved.lower().startswith("https://") or own:
            where = "in the media library" if own else "in the media library nor an absolute https URL"
            problems.append(Problem(ERROR, line, col, "image-unresolved", f"image {src or '(empty)'} is not {where}"))
        if not alt.strip():
            problems.append(Problem(WARNING, line, col, "image-alt", f"image {src} has no alt text"))
    elif not alt.strip() and not ref.alt_text.strip():
        problems.append(Problem(WARNING, line, col, "image-alt", f"image {src} has no alt text"))
    if resolved.lower().startswith("http:") and ref is None and not problems:
        problems.append(Problem(WARNING, line, col, "insecure-url", f"image uses http: {src}"))
    return problems


_TAG = re.compile(r"<[^>]*>")


def _content_problems(issue: IssueSource, context: RenderContext) -> list[Problem]:
    """An email with nothing between the masthead and the footer (an empty body,
    only comments, only an ``[[events]]`` line with no events) must not go out."""
    web_html = render_issue(issue, context).web_html  # cached: the size check renders it too
    if "<img" in web_html or _TAG.sub("", web_html).strip():
        return []
    return [Problem(ERROR, 0, 0, "empty-body", "the email has no content between its masthead and its footer")]


def _size_problems(issue: IssueSource, context: RenderContext) -> list[Problem]:
    rendered = render_issue(issue, context)
    # Measured as sent (quoted-printable), the larger and safer figure, with the
    # original links in their slots plus what click tracking would add.
    email_html = rendered.filled("email", {"unsubscribe": context.base + "/unsubscribe/" + "x" * 60}, html=True)
    size = len(binascii.b2a_qp(email_html.encode("utf-8"), istext=True))
    if context.track_clicks:
        size += _tracking_growth(rendered, context.base)
    if size > GMAIL_CLIP_BYTES:
        return [
            Problem(
                ERROR,
                0,
                0,
                "email-too-large",
                f"the email HTML is {size // 1024} KB as sent; Gmail clips messages over 102 KB "
                "and hides the unsubscribe footer",
            )
        ]
    return []


def _tracking_growth(rendered: RenderedIssue, base: str) -> int:
    """Bytes click tracking adds: each link slot becomes a signed ``/r/<token>``
    URL (about 140 bytes longer than the link), measured at the widest delivery id."""
    growth = 0
    for index, url in enumerate(rendered.links):
        occurrences = rendered.email_html.count(rendered.slot(f"l{index}"))
        tracked = f"{base}/r/{click_token(2**31 - 1, url, secret='length-only')}"  # noqa: S106 (not a secret: only the length counts)
        growth += occurrences * (len(escape(tracked, quote=True)) - len(escape(url, quote=True)))
    return max(growth, 0)
