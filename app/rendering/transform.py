"""Shaping the Markdown output on the parsed tree, before it is sanitised.

Links become absolute, images get their library URL, alt text and size,
``#####`` lines under an image become captions, and the email variant gets
its inline styles and per-reader link slots. All of it happens here, on an
lxml tree of the *unsanitised* fragment; :func:`app.rendering.sanitize.sanitize`
runs on the result and nothing edits its output (see that module)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from app.rendering.context import ImageRef
from app.rendering.email_styles import COLUMN_WIDTH, IMAGE_MAX_WIDTH, body_styles

__all__ = [
    "COLUMN_WIDTH",
    "IMAGE_MAX_WIDTH",
    "LinkSlots",
    "email_fragment",
    "image_sources",
    "parse_dimension",
    "web_fragment",
]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DIMENSION = re.compile(r"[0-9]{1,5}")  # ASCII digits only: "²" or "٣" are no width
MAX_DIMENSION = 10_000
_SHOWN_ADDRESS = re.compile(r"(?:https?://|www\.)\S", re.IGNORECASE)


def parse_dimension(value: str | None) -> int | None:
    """A pixel size from an HTML attribute, or None: ``str.isdigit()`` accepts
    "²" and int() then fails, and a 30-digit width would overflow everything after."""
    value = (value or "").strip().removesuffix("px")
    if not _DIMENSION.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_DIMENSION else None


def _parse(fragment: str) -> lxml_html.HtmlElement:
    return lxml_html.fragment_fromstring(fragment or "", create_parent="div")


def _serialize(root: lxml_html.HtmlElement) -> str:
    parts = [html.escape(root.text or "", quote=False)]
    parts += [lxml_html.tostring(child, encoding="unicode", method="html") for child in root]
    return "".join(parts)


def absolute(url: str, base: str, page_url: str) -> str:
    """``url`` resolved against the site: ``#x`` -> the issue page, ``/x`` and
    ``x`` -> the base URL, ``//host`` -> https; other schemes stay."""
    url = url.strip()
    if url.startswith("#"):
        return page_url + url
    if url.startswith("//"):
        return "https:" + url
    if _SCHEME.match(url):
        return url
    return base + url if url.startswith("/") else f"{base}/{url}"


def image_sources(fragment: str, base: str) -> list[str]:
    """Every image URL the fragment shows, absolute (for the render cache key
    and the library lookup)."""
    found = []
    for image in _parse(fragment).iter("img"):
        src = (image.get("src") or "").strip()
        if src:
            found.append(absolute(src, base, base))
    return sorted(set(found))


def _figures(root: lxml_html.HtmlElement, *, email: bool) -> None:
    """An image paragraph directly followed by a ``#####`` line is a figure and
    its caption (the archive's convention)."""
    for paragraph in list(root.iter("p")):
        children = list(paragraph)
        caption = paragraph.getnext()
        if (
            len(children) != 1
            or children[0].tag != "img"
            or (paragraph.text or "").strip()
            or (children[0].tail or "").strip()
            or caption is None
            or caption.tag != "h5"
            or (paragraph.tail or "").strip()
        ):
            continue
        figure = etree.Element("div", {"class": "figure"}) if email else etree.Element("figure")
        figure.append(children[0])
        caption.tag = "p" if email else "figcaption"
        caption.attrib.clear()
        if email:
            caption.set("class", "caption")
        figure.tail = caption.tail
        caption.tail = None
        paragraph.addprevious(figure)
        figure.append(caption)
        paragraph.getparent().remove(paragraph)


@dataclass
class LinkSlots:
    """Per-reader link slots of the email: each http(s) link's href becomes
    ``prefix + "l<n>"``; the message builder puts the reader's (tracked or
    original) URL there. ``links[n]`` is the original URL."""

    prefix: str
    links: list[str]

    def slot(self, url: str) -> str:
        if url not in self.links:
            self.links.append(url)
        return f"{self.prefix}l{self.links.index(url)}"


def _links(
    root: lxml_html.HtmlElement, base: str, page_url: str, *, keep_fragments: bool, slots: LinkSlots | None
) -> None:
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if href is None:
            continue
        if keep_fragments and href.strip().startswith("#"):
            continue
        url = absolute(href, base, page_url)
        # A link whose text is itself an address keeps its own href: tracked, the
        # text would name one site and the link lead to ours, which is what phishing
        # looks like (SpamAssassin's HTTPS_HTTP_MISMATCH) and what readers distrust.
        shows_address = _SHOWN_ADDRESS.match(anchor.text_content().strip())
        if slots is not None and url.lower().startswith(("http://", "https://")) and not shows_address:
            url = slots.slot(url)
        anchor.set("href", url)


def _unavailable(image: lxml_html.HtmlElement, alt: str) -> None:
    """An image of this site that the media library does not have (an archive
    issue whose picture was never imported): its description in a quiet box,
    not a broken-image icon on the web page."""
    box = lxml_html.Element("span")
    box.set("class", "image-unavailable")
    box.text = f"Image unavailable: {alt}" if alt else "Image unavailable"
    box.tail = image.tail
    parent = image.getparent()
    if parent is not None:
        parent.replace(image, box)


def _images(
    root: lxml_html.HtmlElement,
    base: str,
    resolve: Callable[[str], ImageRef | None],
    *,
    email: bool,
    boxes: bool = False,
) -> None:
    own = tuple(f"{base.rstrip('/')}/{folder}/" for folder in ("images", "media"))
    for image in list(root.iter("img")):
        src = absolute(image.get("src") or "", base, base) if (image.get("src") or "").strip() else ""
        ref = resolve(src) if src else None
        alt = (image.get("alt") or "").strip() or (ref.alt_text if ref else "")
        if boxes and ref is None and src.startswith(own):
            _unavailable(image, alt)
            continue
        width = ref.width if ref else parse_dimension(image.get("width"))
        title = image.get("title")
        image.attrib.clear()
        image.set("src", (ref.email_url if email else ref.url) if ref else src)
        image.set("alt", alt)
        if email:
            # A width attribute only when the size is known (Outlook needs one, and
            # a guessed one stops the column from shrinking on a phone).
            if width:
                image.set("width", str(min(width, IMAGE_MAX_WIDTH)))
        elif width:
            image.set("width", str(width))
            if ref:
                image.set("height", str(ref.height))
        if title:
            image.set("title", title)


def _styles(root: lxml_html.HtmlElement, accent: str) -> None:
    """Inline the email's body styles (what a stylesheet would do; most mail
    clients ignore <style>). An author's own style comes after ours and wins."""
    styles = body_styles(accent)
    for element in root.iter():
        if not isinstance(element.tag, str) or element is root:
            continue
        classes = (element.get("class") or "").split()
        if element.tag in ("td", "th") and any(
            "md" in (table.get("class") or "").split() for table in element.iterancestors("table")
        ):
            classes = [*classes, "md"]
        rule = next(
            (styles[f"{element.tag}.{name}"] for name in classes if f"{element.tag}.{name}" in styles),
            styles.get(element.tag),
        )
        if rule:
            own = element.get("style")
            element.set("style", rule + (f";{own}" if own else ""))


def email_fragment(
    fragment: str, *, base: str, page_url: str, resolve: Callable[[str], ImageRef | None], slots: LinkSlots, accent: str
) -> str:
    """The email variant of the Markdown output (unsanitised: sanitise it next)."""
    root = _parse(fragment)
    _figures(root, email=True)
    for table in root.iter("table"):
        table.set("class", " ".join([*(table.get("class") or "").split(), "md"]))
    _links(root, base, page_url, keep_fragments=False, slots=slots)
    _images(root, base, resolve, email=True)
    _styles(root, accent)
    return _serialize(root)


def web_fragment(
    fragment: str, *, base: str, page_url: str, resolve: Callable[[str], ImageRef | None], boxes: bool = False
) -> str:
    """The web variant: in-page links (footnotes) stay, figures are <figure>;
    with ``boxes``, a site image the library lacks is a box with its alt text."""
    root = _parse(fragment)
    _figures(root, email=False)
    _links(root, base, page_url, keep_fragments=True, slots=None)
    _images(root, base, resolve, email=False, boxes=boxes)
    return _serialize(root)
