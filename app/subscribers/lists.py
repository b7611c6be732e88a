"""Lists (audiences): creation and lookup by name or slug."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select

from app.db import db
from app.subscribers.models import MailingList


class ListError(ValueError):
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


def create_list(name: str, *, public: bool = False, description: str = "",
                from_address: str | None = None, commit: bool = True) -> MailingList:
    name = " ".join(name.split())
    slug = slugify(name)
    if not name or not slug:
        raise ListError("A list needs a name with at least one letter or digit.")
    if len(name) > 200:
        raise ListError("List names are limited to 200 characters.")
    if find_list(name):
        raise ListError(f"A list named {name!r} already exists.")
    mailing_list = MailingList(name=name, slug=slug, public=public, description=description,
                               from_address=from_address or None)
    db.session.add(mailing_list)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return mailing_list


def get_or_create_list(name: str, *, public: bool = False, commit: bool = True) -> MailingList:
    return find_list(name) or create_list(name, public=public, commit=commit)
