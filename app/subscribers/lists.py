"""Lists (audiences): creation and lookup by name or slug."""

from __future__ import annotations

import email.policy
import re
import unicodedata

from sqlalchemy import or_, select

from app.db import db
from app.errors import InvalidInput
from app.i18n import LANGUAGES
from app.subscribers.models import MailingList


class ListError(InvalidInput):
    """A user-facing problem with a list."""


def slugify(text: str, max_length: int = 100) -> str:
    normalised = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", normalised.lower()).strip("-")
    return slug[:max_length].strip("-")


def find_list(name_or_slug: str) -> MailingList | None:
    value = name_or_slug.strip()
    return db.session.scalar(
        select(MailingList).where(or_(MailingList.name == value, MailingList.slug == slugify(value)))
    )


def public_lists() -> list[MailingList]:
    """The lists a reader can sign up for, by name."""
    return list(db.session.scalars(select(MailingList).where(MailingList.public.is_(True)).order_by(MailingList.name)))


def _clean_name(name: str) -> str:
    # str.split() splits on every Unicode line break too (U+2028, U+0085...): a
    # list name is one line, as confirmation mails show it.
    return " ".join(name.split())


def create_list(
    name: str, *, public: bool = False, description: str = "", from_address: str | None = None, commit: bool = True
) -> MailingList:
    name = _clean_name(name)
    slug = slugify(name)
    if not name or not slug:
        raise ListError("A list needs a name with at least one letter or digit.")
    if len(name) > 200:
        raise ListError("List names are limited to 200 characters.")
    if find_list(name) or db.session.scalar(select(MailingList.id).where(MailingList.slug == slug)):
        raise ListError(f"A list named {name!r} already exists.")
    mailing_list = MailingList(
        name=name, slug=slug, public=public, description=description, from_address=validate_from_address(from_address)
    )
    db.session.add(mailing_list)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return mailing_list


def get_or_create_list(name: str, *, public: bool = False, commit: bool = True) -> MailingList:
    return find_list(name) or create_list(name, public=public, commit=commit)


def validate_from_address(value: str | None) -> str | None:
    """An optional ``Name <address>`` override for the From header; None when blank."""
    from email.utils import formataddr, parseaddr

    from email_validator import EmailNotValidError, validate_email

    value = (value or "").strip()
    if not value:
        return None
    single_line = ListError("The from address must be a single line of at most 300 characters.")
    if re.search(r"[\x00-\x1f\x7f]", value) or len(value) > 300:
        raise single_line
    display, address = parseaddr(value)
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ListError(f"The from address is not a valid email address: {exc}") from exc
    result = formataddr((display, address)) if display else address
    try:
        # As the From header will parse it: RFC 2047 words may hide a line break.
        parsed = str(email.policy.default.header_factory("From", result))
    except (ValueError, IndexError) as exc:
        raise single_line from exc
    if re.search(r"[\x00-\x1f\x7f]", parsed):
        raise single_line
    return result


def update_list(
    mailing_list: MailingList,
    *,
    name: str,
    slug: str = "",
    description: str = "",
    from_address: str | None = None,
    public: bool = False,
    display_name: str = "",
    language: str = "",
) -> MailingList:
    """Edit a list; name and slug stay unique. Nothing is written on error."""
    name = " ".join(name.split())
    slug = slugify(slug or name)
    if not name or not slug:
        raise ListError("A list needs a name with at least one letter or digit.")
    if len(name) > 200:
        raise ListError("List names are limited to 200 characters.")
    clash = db.session.scalar(
        select(MailingList).where(
            or_(MailingList.name == name, MailingList.slug == slug), MailingList.id != mailing_list.id
        )
    )
    if clash is not None:
        raise ListError(f"Another list already uses the name or slug {clash.name!r}.")
    sender = validate_from_address(from_address)
    shown = " ".join(display_name.split())
    if len(shown) > 200:
        raise ListError("Display names are limited to 200 characters.")
    mailing_list.display_name = shown or None
    if language:
        if language not in LANGUAGES:
            raise ListError(f"Unknown language {language!r}; choose one of {', '.join(LANGUAGES)}.")
        mailing_list.language = language
    mailing_list.name, mailing_list.slug, mailing_list.public = name, slug, public
    mailing_list.description, mailing_list.from_address = description.strip(), sender
    db.session.commit()
    return mailing_list
