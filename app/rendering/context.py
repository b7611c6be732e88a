"""What rendering needs besides the Markdown: plain data handed in by the caller.

Rendering never queries anything. The issues domain builds a
:class:`RenderContext` (settings, the events the section lists, an image
resolver over the media library) and passes it in, so the same issue and the
same context always give the same email, and a preview, a test send and the
approved rendering differ only where their contexts do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Brand", "EventView", "ImageRef", "IssueSource", "RenderContext", "no_images"]


@dataclass(frozen=True)
class ImageRef:
    """What the media library knows about an image an issue shows."""

    url: str  # absolute public URL of the original
    email_url: str  # absolute URL of the email-sized copy (== url when none)
    width: int  # pixel width of the email copy
    height: int
    alt_text: str  # library alt text, used when the Markdown has none


@dataclass(frozen=True)
class EventView:
    """One line of the upcoming-events section, already formatted for readers."""

    title: str
    url: str
    when: str  # e.g. "Mon 12 Sep 2026, 14:00 CEST" in the reader time zone
    location: str = ""
    speakers: str = ""


class IssueSource(Protocol):
    """The parts of an issue rendering reads (an Issue row, or an unsaved one).
    Read-only, so a row whose columns are never None fits as well."""

    @property
    def slug(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def preheader(self) -> str | None: ...
    @property
    def body(self) -> str | None: ...


def no_images(src: str) -> ImageRef | None:  # noqa: ARG001 - the resolver signature
    return None


@dataclass(frozen=True)
class Brand:
    """The newsletter's own look in every email: the masthead and the footer
    (the settings of the same names; the logo already resolved to a URL)."""

    newsletter_name: str = "Pressroom Newsletter"
    postal_address: str = ""
    logo_url: str = ""
    accent_color: str = "#0b57d0"
    footer_text: str = ""
    description: str = ""


@dataclass(frozen=True)
class RenderContext:
    base_url: str
    brand: Brand = field(default_factory=Brand)
    # Maps an absolute image URL (site variables resolved) to the library item, or None.
    resolve_image: Callable[[str], ImageRef | None] = no_images
    events: tuple[EventView, ...] = ()
    events_heading: str = "Upcoming events"
    # Without an ``[[events]]`` line the section goes before the sign-off, but
    # only for issues written in Pressroom: an imported archive issue keeps its content.
    auto_events: bool = True
    test_banner: bool = False
    track_opens: bool = False  # the email gets a per-reader open pixel slot
    track_clicks: bool = False  # links will be tracked (preflight measures the growth)
    # Opens the web version of an issue sent only to private lists (app/tokens.py).
    web_key: str = ""
    # The public page of an archive issue: a site image the library lacks becomes
    # a box with its alt text (previews keep the <img>, preflight names it).
    missing_images_as_boxes: bool = False
    # The language of the email's own words (masthead link, footer): its lists'.
    language: str = "en"

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    def web_url(self, slug: str | None) -> str:
        page = f"{self.base}/issues/{slug or 'preview'}"
        return f"{page}?k={self.web_key}" if self.web_key and slug else page
