"""How the media library answers rendering's question "which image is this?"."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from app.db import db
from app.media.models import MediaItem
from app.media.service import email_size
from app.media.storage import get_storage
from app.rendering.context import ImageRef

_SITE_URL = re.compile(r"^\{\{\s*site\.(?:github\.url|url|baseurl)\s*\}\}")


def key_for_src(src: str) -> str | None:
    """The storage key (``images/...``) an image reference points to, or None
    when it points somewhere else (another host, a data: URL...)."""
    from flask import current_app

    src = (src or "").strip().strip("<>")
    if not src:
        return None
    src = _SITE_URL.sub("", src)
    prefixes = [current_app.config["BASE_URL"].rstrip("/")]
    media_base = get_storage().public_url("images/x").rsplit("/images/x", 1)[0]
    prefixes.append(media_base)
    if current_app.config.get("MEDIA_PUBLIC_URL"):
        prefixes.append(current_app.config["MEDIA_PUBLIC_URL"].rstrip("/"))
    for prefix in sorted(set(prefixes), key=len, reverse=True):
        if prefix and src.startswith(prefix + "/"):
            src = src[len(prefix) :]
            break
    else:
        if urlsplit(src).scheme or src.startswith("//"):
            return None
    path = unquote(urlsplit(src).path).lstrip("/")
    if path.startswith("media/"):
        path = path[len("media/") :]
    return path if path.startswith("images/") else None


def resolve_image(src: str) -> ImageRef | None:
    """Map an image reference from Markdown (after site variables were
    resolved: ``<BASE_URL>/images/2018/09/x.png``, ``/images/...``,
    ``images/...``, ``{{ site.github.url }}/images/...`` or a media URL) to
    a library item, or None."""
    from sqlalchemy import select

    key = key_for_src(src)
    if key is None:
        return None
    item = db.session.scalar(select(MediaItem).where(MediaItem.path == key))
    if item is None:
        return None
    storage = get_storage()
    url = storage.public_url(item.path)
    email_url = storage.public_url(item.email_path) if item.email_path else url
    width, height = email_size(item)
    return ImageRef(url=url, email_url=email_url, width=width, height=height, alt_text=item.alt_text)
