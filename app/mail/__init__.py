"""Mail carriers behind one ``Transport`` protocol, and one-off transactional
mail. The sending engine, signup and test sends all reach the carrier the app
factory configured through :func:`get_transport`; nothing looks one up on its own."""

from __future__ import annotations

from flask import Flask, current_app

from app.mail.message import (
    AccountPausedError,
    HeaderInjectionError,
    OutgoingMessage,
    PermanentError,
    ThrottledError,
    TransientError,
    Transport,
    TransportError,
    UncertainError,
    check_header,
    header_is_unsafe,
)
from app.mail.transport import LazyTransport

__all__ = [
    "AccountPausedError",
    "HeaderInjectionError",
    "OutgoingMessage",
    "PermanentError",
    "ThrottledError",
    "TransientError",
    "Transport",
    "TransportError",
    "UncertainError",
    "check_header",
    "get_transport",
    "header_is_unsafe",
    "init_app",
    "set_transport",
]

EXTENSION = "pressroom.transport"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = LazyTransport(app.config)


def get_transport(app: Flask | None = None) -> Transport:
    """The app's carrier (built by :func:`init_app`)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    holder = app.extensions[EXTENSION]
    return holder.get() if isinstance(holder, LazyTransport) else holder


def set_transport(app: Flask, transport: Transport) -> None:
    """Replace the carrier (tests hand in a fake one)."""
    app.extensions[EXTENSION] = transport
