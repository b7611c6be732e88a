"""What an issue looks like to readers: the rendering context built from the
settings, the events section and the media library, and the calls every
caller uses to render, preview and preflight an issue.

Rendering itself is pure (:mod:`app.rendering`); this is where the data it
needs is looked up, in one place, so a preview, a test send and the approved
rendering are built the same way."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from flask import current_app

from app.db import db, utcnow
from app.events.display import event_views, zone_or_utc
from app.events.models import Event
from app.events.service import section_events as events_in_window
from app.issues.models import Issue, Rendering
from app.media.lookup import resolve_image
from app.rendering.context import Brand, RenderContext
from app.rendering.events_section import events_markdown, has_marker
from app.rendering.preflight import Problem, run_preflight
from app.rendering.render import RenderedIssue, render_issue
from app.settings import get_setting
from app.tokens import issue_view_key

__all__ = [
    "brand",
    "context_for",
    "freeze",
    "frozen",
    "preflight",
    "reference_time",
    "render",
    "readers_view",
    "section_events",
    "section_heading",
    "section_markdown",
    "web_html",
]


def reference_time(issue: Issue, now: datetime | None = None) -> datetime:
    """The moment an issue reaches readers, for choosing its upcoming events:
    when it was sent, else the start of its issue date in the reader time zone,
    else now. An issue not yet sent never looks earlier than now, so past
    events never appear in what is about to go out."""
    now = now or utcnow()
    reference: datetime | None = issue.sent_at
    if reference is None and issue.issue_date is not None:
        start_of_day = datetime.combine(issue.issue_date, time(0, 0), tzinfo=zone_or_utc(_reader_timezone()))
        reference = start_of_day.astimezone(UTC).replace(tzinfo=None)
    if issue.status != "sent" and issue.sent_at is None:
        reference = max(reference or now, now)
    return reference or now


def _reader_timezone() -> str:
    return str(get_setting("reader_timezone") or "UTC")


def section_events(issue: Issue, *, now: datetime | None = None) -> list[Event]:
    """The events the issue's section lists (excluded ones removed)."""
    return events_in_window(
        after=reference_time(issue, now),
        days=int(get_setting("events_window_days") or 60),
        list_ids={lst.id for lst in issue.lists},
        excluded={int(i) for i in (issue.excluded_event_ids or [])},
    )


def section_heading(issue: Issue) -> str:
    return (issue.events_heading or get_setting("events_heading") or "Upcoming events").strip()


def section_markdown(issue: Issue, *, now: datetime | None = None) -> str:
    """The Markdown of the issue's events section as it would render now ("" without events)."""
    return events_markdown(
        event_views(section_events(issue, now=now), zone_or_utc(_reader_timezone())), section_heading(issue)
    )


def brand() -> Brand:
    logo = str(get_setting("logo") or "").strip()
    logo_ref = resolve_image(f"{current_app.config['BASE_URL'].rstrip('/')}/{logo.lstrip('/')}") if logo else None
    return Brand(
        newsletter_name=str(get_setting("newsletter_name")),
        postal_address=str(get_setting("postal_address") or ""),
        logo_url=logo_ref.email_url if logo_ref else "",
        accent_color=str(get_setting("accent_color") or "#0b57d0"),
        footer_text=str(get_setting("footer_text") or ""),
        description=str(get_setting("site_description") or ""),
    )


def _language(issue: Issue) -> str:
    """The email's own words speak its lists' language when they agree on one."""
    languages = {getattr(m, "language", None) or "en" for m in (getattr(issue, "lists", None) or [])}
    return languages.pop() if len(languages) == 1 else "en"


def context_for(
    issue: Issue, *, test_banner: bool = False, now: datetime | None = None, track_opens: bool | None = None
) -> RenderContext:
    """The context an issue renders with today. ``track_opens`` defaults to the
    setting (a real send's pixel); previews and test sends pass False."""
    auto = getattr(issue, "auto_events", None)
    return RenderContext(
        base_url=current_app.config["BASE_URL"],
        brand=brand(),
        resolve_image=resolve_image,
        events=event_views(section_events(issue, now=now), zone_or_utc(_reader_timezone()), _language(issue)),
        events_heading=section_heading(issue),
        auto_events=True if auto is None else bool(auto),
        test_banner=test_banner,
        track_opens=bool(get_setting("track_opens")) if track_opens is None else track_opens,
        web_key=issue_view_key(issue.slug) if issue.slug else "",
        language=_language(issue),
        track_clicks=bool(get_setting("track_clicks")),
    )


def render(issue: Issue, *, test_banner: bool = False, track_opens: bool | None = None) -> RenderedIssue:
    """``issue`` rendered with today's context (see :func:`context_for`)."""
    return render_issue(issue, context_for(issue, test_banner=test_banner, track_opens=track_opens))


def freeze(issue: Issue, user_id: int | None = None) -> Rendering:
    """Render ``issue`` with today's context and keep the result: from now on
    this is what readers get (sends and the web version use it), whatever
    changes later in events, media or settings. The caller commits."""
    listed = section_events(issue)
    rendered = render(issue)
    row = Rendering(
        issue_id=issue.id,
        issue_version=issue.version,
        nonce=rendered.nonce,
        key=rendered.key,
        subject=rendered.subject,
        preheader=rendered.preheader,
        email_html=rendered.email_html,
        text=rendered.text,
        web_html=rendered.web_html,
        web_url=rendered.web_url,
        links=list(rendered.links),
        created_by_id=user_id,
        events=[[e.id, e.starts_at.isoformat(), e.title] for e in listed] if rendered_events(issue) else [],
    )
    db.session.add(row)
    db.session.flush()
    issue.approved_rendering = row
    return row


def rendered_events(issue: Issue) -> bool:
    """Whether the issue shows an events section at all (a marker, or placed automatically)."""
    return bool(getattr(issue, "auto_events", True)) or has_marker(issue.body or "")


def frozen(row: Rendering, slug: str) -> RenderedIssue:
    """A stored rendering as the message builder takes it."""
    return RenderedIssue(
        slug=slug,
        subject=row.subject,
        preheader=row.preheader,
        email_html=row.email_html,
        text=row.text,
        web_html=row.web_html,
        web_url=row.web_url,
        nonce=row.nonce,
        links=tuple(row.links or ()),
        key=row.key,
    )


def readers_view(issue: Issue) -> RenderedIssue:
    """What readers get (or will get): the frozen rendering of an approved,
    scheduled or sent issue, else the draft rendered now (no open pixel)."""
    if issue.approved_rendering is not None:
        return frozen(issue.approved_rendering, issue.slug)
    return render(issue, track_opens=False)


def web_html(issue: Issue) -> str:
    """The web version readers see: the approved (frozen) rendering when the
    issue has one, else a rendering with today's context (imported archive issues)."""
    if issue.approved_rendering is not None:
        return issue.approved_rendering.web_html
    # An archive issue: an image never imported shows as a box with its alt text.
    context = replace(context_for(issue, track_opens=False), missing_images_as_boxes=True)
    return render_issue(issue, context).web_html


def preflight(issue: Issue) -> list[Problem]:
    return run_preflight(issue, context_for(issue, track_opens=False))
