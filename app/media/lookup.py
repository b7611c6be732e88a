"""How rendering asks the media library about an image (contract).

STUB until the media work lands: knows no images."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRef:
    url: str          # absolute public URL of the original
    email_url: str    # absolute URL of the email-sized copy (== url when none)
    width: int        # pixel width of the email copy
    height: int
    alt_text: str     # library alt text, used when the Markdown has none


def resolve_image(src: str) -> ImageRef | None:
    """Map an image reference from Markdown (after site variables were
    resolved: ``<BASE_URL>/images/2018/09/x.png``, ``/images/...``,
    ``images/...`` or a media URL) to a library item, or None."""
    return None
