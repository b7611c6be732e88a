"""The inline styles of an issue's body in email.

Most mail clients ignore or strip <style>, so every element of the body
carries its look in a ``style`` attribute; only the dark-mode and small-screen
rules stay in the template's <style> (``templates/email/issue.html``). Every
property here is one caniemail lists as supported by the clients we test."""

from __future__ import annotations

import re

COLUMN_WIDTH = 660
IMAGE_MAX_WIDTH = COLUMN_WIDTH - 48  # the content cell has 24px padding each side
DEFAULT_ACCENT = "#0b57d0"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

_SANS = "font-family:Helvetica,Arial,sans-serif"
_MONO = "font-family:Menlo,Consolas,'Courier New',monospace"
_HEADING = f"{_SANS};color:#1a1a1a;line-height:1.25;margin:24px 0 12px 0"


def safe_accent(value: str | None) -> str:
    """The brand's accent colour if it is a plain #rrggbb (it lands in style
    attributes: nothing else may get through), else the default."""
    return value if value and _HEX.match(value) else DEFAULT_ACCENT


def body_styles(accent: str = DEFAULT_ACCENT) -> dict[str, str]:
    """``tag`` or ``tag.class`` -> inline style."""
    return {
        "p": "margin:0 0 16px 0",
        "h1": f"{_HEADING};font-size:28px",
        "h2": f"{_HEADING};font-size:24px",
        "h3": f"{_HEADING};font-size:20px",
        "h4": f"{_HEADING};font-size:17px",
        "h5": f"{_HEADING};font-size:17px",
        "h6": f"{_HEADING};font-size:17px",
        # Long words and URLs wrap by the content cell's word-wrap (inherited):
        # repeating it on every link would cost bytes against Gmail's clip limit.
        "a": f"color:{accent};text-decoration:underline",
        "ul": "margin:0 0 16px 0;padding-left:24px",
        "ol": "margin:0 0 16px 0;padding-left:24px",
        "li": "margin:0 0 8px 0",
        "blockquote": "margin:0 0 16px 0;padding:0 0 0 16px;border-left:4px solid #cccccc;color:#444444",
        # Code keeps its lines (a wrapped line changes what a reader copies) and
        # scrolls inside its block; max-width keeps a long line from widening the
        # column where the table layout is not fixed (desktop width).
        "pre": (
            f"{_MONO};font-size:14px;background-color:#f5f5f5;color:#1a1a1a;padding:12px;"
            f"margin:0 0 16px 0;white-space:pre;overflow-x:auto;max-width:{IMAGE_MAX_WIDTH - 24}px"
        ),
        "code": f"{_MONO};font-size:15px",
        "hr": "border:0;border-top:1px solid #dddddd;margin:24px 0;height:0",
        "img": "display:block;max-width:100%;height:auto;border:0",
        "table.md": "width:100%;margin:0 0 16px 0;border-collapse:collapse",
        "td.md": "border:1px solid #dddddd;padding:6px;font-size:15px;text-align:left",
        "th.md": "border:1px solid #dddddd;padding:6px;font-size:15px;text-align:left",
        "div.figure": "margin:0 0 16px 0",
        "p.caption": f"{_SANS};font-size:14px;color:#555555;margin:8px 0 16px 0",
        "div.footnote": "font-size:14px;color:#444444",
    }
