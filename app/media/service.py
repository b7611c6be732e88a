"""Media library: validated uploads, Jekyll image import, usage lookup,
alt text and deletion.

Images are validated by content (Pillow), never by extension: only PNG,
JPEG, GIF and WebP. The pixel count is checked from the header before any
pixel data is decoded, so a small file that expands to gigabytes (a
decompression bomb) is refused cheaply. Storage is written first and the
database row committed last; a failure removes what was written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import time
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_, select

from app.db import db
from app.errors import Conflict, InvalidInput
from app.media.models import MediaItem
from app.media.storage import StorageError, check_key, get_storage

EMAIL_WIDTH = 1320  # 2x the 660 px email column
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
GPS_IFD = 0x8825
ORIENTATION = 0x0112


class MediaError(InvalidInput):
    """A refused upload or action, with a message for the editor."""


class MediaInUse(MediaError, Conflict):
    """Issues use the image; ``issues`` are (id, title) of each."""

    def __init__(self, issues: list[tuple[int, str]], message: str | None = None) -> None:
        names = ", ".join(f"“{title}”" for _id, title in issues)
        super().__init__(
            message or f"This image is used by {len(issues)} issue(s): {names}. Confirm to delete it anyway."
        )
        self.issues = issues


@dataclass
class CheckedImage:
    data: bytes  # bytes to store (GPS removed when there was any)
    ext: str
    content_type: str
    width: int  # as displayed (EXIF orientation applied)
    height: int
    email_copy: bytes | None


def _max_bytes() -> int:
    return int(current_app.config["MEDIA_MAX_BYTES"])


def _max_pixels() -> int:
    return int(current_app.config["MEDIA_MAX_PIXELS"])


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def check_image(data: bytes) -> CheckedImage:
    """Validate bytes as an accepted image; returns what to store. Raises MediaError."""
    if not data:
        raise MediaError("The file is empty.")
    if len(data) > _max_bytes():
        raise MediaError(f"The file is {len(data) / 1_048_576:.1f} MB; the limit is {_max_bytes() / 1_048_576:.0f} MB.")
    if _looks_like_svg(data):
        raise MediaError("SVG images are not accepted (they can carry scripts); export a PNG instead.")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is stricter than Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaError(_too_many_pixels_message(None)) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError("This file is not an image we accept (PNG, JPEG, GIF or WebP).") from exc
    with image:
        # Phone cameras write multi-picture JPEGs (MPO); browsers show them as JPEG.
        fmt = "JPEG" if image.format == "MPO" else image.format
        if fmt not in FORMATS:
            raise MediaError(f"{image.format} images are not accepted; use PNG, JPEG, GIF or WebP.")
        width, height = image.size  # from the header: nothing decoded yet
        if width * height > _max_pixels():
            raise MediaError(_too_many_pixels_message((width, height)))
        ext, content_type = FORMATS[fmt]
        try:
            image.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise MediaError("The image file is damaged or truncated.") from exc
        exif = image.getexif()
        stored = data
        # Location can also sit in XMP (exif:GPSLatitude); re-encoding drops XMP entirely.
        xmp = image.info.get("xmp") or b""
        xmp_gps = b"GPSLatitude" in (xmp if isinstance(xmp, bytes) else str(xmp).encode())
        if (GPS_IFD in exif or xmp_gps) and fmt in ("JPEG", "WEBP", "PNG"):
            stored = _without_gps(image, exif, fmt)
        oriented = ImageOps.exif_transpose(image) if exif.get(ORIENTATION, 1) != 1 else image
        width, height = oriented.size
        email_copy = _email_copy(oriented, fmt) if width > EMAIL_WIDTH else None
    return CheckedImage(stored, ext, content_type, width, height, email_copy)


def _too_many_pixels_message(size: tuple[int, int] | None) -> str:
    limit = _max_pixels() / 1_000_000
    if size is None:
        return f"The image has too many pixels; the limit is {limit:.0f} megapixels."
    return (
        f"The image is {size[0]}×{size[1]} ({size[0] * size[1] / 1_000_000:.1f} megapixels); "
        f"the limit is {limit:.0f} megapixels."
    )


def _without_gps(image: Image.Image, exif: Image.Exif, fmt: str) -> bytes:
    """Re-encode without the GPS block; orientation and the rest of EXIF stay."""
    if GPS_IFD in exif:
        del exif[GPS_IFD]
    out = io.BytesIO()
    params: dict = {"exif": exif.tobytes()}
    if image.info.get("icc_profile"):
        params["icc_profile"] = image.info["icc_profile"]
    if fmt == "JPEG":
        # "keep" reuses the source's chroma subsampling (only possible from a JPEG source).
        subsampling = "keep" if image.format == "JPEG" else 0
        image.save(out, format="JPEG", quality=95, subsampling=subsampling, **params)
    elif fmt == "WEBP":
        image.save(out, format="WEBP", quality=95, **params)
    else:
        image.save(out, format="PNG", **params)
    return out.getvalue()


def _email_copy(image: Image.Image, fmt: str) -> bytes:
    height = max(1, round(image.height * EMAIL_WIDTH / image.width))
    copy = image.copy()
    if copy.mode == "P":
        copy = copy.convert("RGBA")
    copy = copy.resize((EMAIL_WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "JPEG":
        copy.convert("RGB").save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        copy.save(out, format="WEBP", quality=85)
    elif fmt == "GIF":
        # Only the first frame survives resizing; emails get a still PNG copy.
        copy.save(out, format="PNG", optimize=True)
    else:
        copy.save(out, format="PNG", optimize=True)
    return out.getvalue()


def email_size(item: MediaItem) -> tuple[int, int]:
    if item.width > EMAIL_WIDTH:
        return EMAIL_WIDTH, max(1, round(item.height * EMAIL_WIDTH / item.width))
    return item.width, item.height


def safe_stem(filename: str) -> str:
    """The file name reduced to a-z, 0-9, ``-`` and ``_`` (what the archive uses)."""
    stem = filename.rsplit(".", 1)[0] if "." in filename.strip(".") else filename
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_").lower()
    return stem[:60].strip("-_") or "image"


def check_filename(filename: str) -> str:
    name = (filename or "").strip()
    if not name:
        raise MediaError("The file has no name.")
    if "/" in name or "\\" in name or "\x00" in name or name.startswith(".") or ".." in name:
        raise MediaError("Refused file name: it must be a plain name without folders or “..”.")
    return name


def _free_key(stem: str, ext: str, now: datetime) -> tuple[str, int]:
    """``images/YYYY/MM/<stem>-<ms>.<ext>`` not used by any item or stored file."""
    storage = get_storage()
    millis = int(time.time() * 1000)
    while True:
        key = f"images/{now:%Y}/{now:%m}/{stem}-{millis}.{ext}"
        taken = db.session.scalar(select(MediaItem.id).where(or_(MediaItem.path == key, MediaItem.email_path == key)))
        if taken is None and not storage.exists(key):
            return key, millis
        millis += 1


def _email_key(key: str, checked: CheckedImage) -> str:
    base = key.rsplit(".", 1)[0]
    ext = "png" if checked.ext == "gif" else checked.ext
    return f"{base}-email.{ext}"


def _store(key: str, checked: CheckedImage, original_name: str, user_id: int | None, alt_text: str = "") -> MediaItem:
    storage = get_storage()
    written: list[str] = []
    try:
        storage.put(key, checked.data, checked.content_type)
        written.append(key)
        email_key = None
        if checked.email_copy is not None:
            email_key = _email_key(key, checked)
            email_type = "image/png" if email_key.endswith(".png") else checked.content_type
            storage.put(email_key, checked.email_copy, email_type)
            written.append(email_key)
        item = MediaItem(
            path=key,
            email_path=email_key,
            original_name=original_name[:300],
            content_type=checked.content_type,
            size_bytes=len(checked.data),
            width=checked.width,
            height=checked.height,
            sha256=hashlib.sha256(checked.data).hexdigest(),
            uploaded_by_id=user_id,
            alt_text=alt_text,
        )
        db.session.add(item)
        db.session.commit()
        return item
    except Exception:
        db.session.rollback()
        for written_key in written:
            # Best effort cleanup; the original error is what matters.
            with contextlib.suppress(Exception):
                storage.delete(written_key)
        raise


def upload(filename: str, data: bytes, user: object | None = None, alt_text: str = "") -> MediaItem:
    """Validate and store an uploaded image (with its alt text, checked first so a
    refused one stores nothing); raises MediaError with a message."""
    name = check_filename(filename)
    alt = clean_alt_text(alt_text)
    checked = check_image(data)
    now = datetime.now(UTC)
    key, _ = _free_key(safe_stem(name), checked.ext, now)
    return _store(key, checked, name, getattr(user, "id", None), alt)


def import_file(original_path: str, data: bytes) -> MediaItem:
    """Store an archive image under its original ``images/...`` key so existing
    links keep resolving. Idempotent: the same path returns the existing item."""
    path = original_path.strip().lstrip("/")
    try:
        check_key(path)
    except StorageError as exc:
        raise MediaError(f"Refused image path {original_path!r}.") from exc
    if not path.startswith("images/"):
        raise MediaError(f"Imported images must live under images/: {original_path!r}.")
    existing = db.session.scalar(select(MediaItem).where(MediaItem.path == path))
    if existing is not None:
        return existing
    checked = check_image(data)
    return _store(path, checked, path.rsplit("/", 1)[-1], None)


def search(query: str = "", limit: int | None = None) -> list[MediaItem]:
    """Newest first; ``query`` matches the path, original file name or alt text."""
    stmt = select(MediaItem).order_by(MediaItem.created_at.desc(), MediaItem.id.desc()).limit(limit)
    query = (query or "").strip()
    if query:
        stmt = stmt.where(
            or_(
                MediaItem.path.icontains(query, autoescape=True),
                MediaItem.original_name.icontains(query, autoescape=True),
                MediaItem.alt_text.icontains(query, autoescape=True),
            )
        )
    return list(db.session.scalars(stmt))


def clean_alt_text(alt_text: str) -> str:
    """Alt text on one line with single spaces; MediaError when too long."""
    text = " ".join((alt_text or "").split())
    if len(text) > 500:
        raise MediaError("Keep the alt text under 500 characters.")
    return text


def set_alt_text(item: MediaItem, alt_text: str) -> MediaItem:
    item.alt_text = clean_alt_text(alt_text)
    db.session.commit()
    return item


def delete_item(item: MediaItem, used_by: list[tuple[int, str]], confirm_issue_ids: list[int] | None = None) -> None:
    """Delete when unused; when ``used_by`` issues (id, title) use it, only if the
    caller confirmed exactly those. The caller looks the usages up (issues know
    their bodies; the library does not)."""
    if used_by and sorted(confirm_issue_ids or []) != sorted(i for i, _title in used_by):
        raise MediaInUse(used_by)
    keys = [item.path] + ([item.email_path] if item.email_path else [])
    db.session.delete(item)
    db.session.commit()
    storage = get_storage()
    for key in keys:
        storage.delete(key)


def public_url(item: MediaItem) -> str:
    return get_storage().public_url(item.path)


def _snippet_alt(item: MediaItem) -> str:
    return (item.alt_text or "").replace("[", "").replace("]", "")


def markdown_snippet(item: MediaItem) -> str:
    return f"![{_snippet_alt(item)}]({public_url(item)})"


def site_markdown(item: MediaItem) -> str:
    """The image as the editor inserts it: ``{{ site.github.url }}/images/...`` (the
    archive's convention), so the text names neither host nor port; rendering and
    preflight resolve it to the library item whatever BASE_URL is."""
    return f"![{_snippet_alt(item)}]({{{{ site.github.url }}}}/{item.path})"
