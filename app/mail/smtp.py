"""SMTP transport for self-hosted relays (``smtp://host:port``).

One connection per worker thread, reused between messages and reopened after
any error."""

from __future__ import annotations

import contextlib
import smtplib
import threading
import uuid
from urllib.parse import urlsplit

from app.mail.message import OutgoingMessage, PermanentError, TransientError, UncertainError, feedback_id_line


def _text(reply: bytes | str) -> str:
    """An SMTP reply as text: smtplib passes the server's reply as bytes, but the
    exceptions it raises itself may carry a str."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class SmtpTransport:
    def __init__(self, host: str, port: int = 25, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._local = threading.local()
        # Every thread's connection, so close() can end them all (threads come and go).
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme != "smtp" or not parts.hostname:
            raise ValueError(f"not an smtp://host:port URL: {url!r}")
        return cls(parts.hostname, parts.port or 25)

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn not in self._open:
            conn = None  # closed by close() from another thread
        if conn is None:
            try:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                conn.ehlo_or_helo_if_needed()
            except (OSError, smtplib.SMTPException) as exc:
                raise TransientError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._open.add(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                self._open.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Close every thread's connection (QUIT where the server still listens)."""
        with self._lock:
            connections, self._open = self._open, set()
        for conn in connections:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
            with contextlib.suppress(OSError):
                conn.close()

    def send(self, message: OutgoingMessage) -> str:
        conn = self._connection()
        try:
            refused = conn.sendmail(message.sender, [message.recipient], feedback_id_line(message) + message.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._reset_quietly()
            if 400 <= code < 500:
                raise TransientError(f"{code} {text!r}") from exc
            raise PermanentError(f"{code} {_text(text)}") from exc
        except smtplib.SMTPResponseException as exc:
            self._reset_quietly()
            if 400 <= exc.smtp_code < 500:
                raise TransientError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise PermanentError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            # The connection broke mid-conversation: the relay may have the message.
            self._drop()
            raise UncertainError(f"connection lost: {exc}") from exc
        if refused:
            raise PermanentError(str(refused))
        return f"smtp-{uuid.uuid4().hex}"

    def _reset_quietly(self) -> None:
        try:
            self._connection().rset()
        except (smtplib.SMTPException, OSError, TransientError):
            self._drop()
