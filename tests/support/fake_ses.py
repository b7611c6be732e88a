"""A small local SES v2 endpoint for fault tests and the send benchmark.

Speaks just enough of the REST API: ``POST /v2/email/outbound-emails``
(SendEmail) and ``GET /v2/email/account`` (GetAccount). It can add latency,
enforce a send rate with 429 TooManyRequestsException (a token bucket with one
second of burst, like SES), inject random 429s and 5xx, and records every
accepted message. ``GET /_fake/stats`` returns counts as JSON (for a server
in another process). Run standalone: ``python -m tests.support.fake_ses --port N``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeSesState:
    latency: float = 0.0
    rate: float | None = None  # allowed messages per second (None: unlimited)
    p_throttle: float = 0.0  # random 429 probability
    p_error: float = 0.0  # random 5xx probability
    keep_raw: bool = True
    max_24h: int = 10_000_000  # reported by GetAccount
    paused: bool = False  # answer SendingPausedException (account paused)
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # monotonic time of each accepted message
    counts: Counter = field(default_factory=Counter)
    throttled: int = 0
    errors: int = 0
    first_at: float | None = None
    last_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _tokens: float = 0.0
    _refilled: float = field(default_factory=time.monotonic)

    def take_token(self) -> bool:
        if self.rate is None:
            return True
        with self.lock:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def stats(self) -> dict:
        with self.lock:
            return {
                "accepted": sum(self.counts.values()),
                "distinct": len(self.counts),
                "duplicates": sum(n - 1 for n in self.counts.values() if n > 1),
                "throttled": self.throttled,
                "errors": self.errors,
                "first_at": self.first_at,
                "last_at": self.last_at,
                "times": list(self.times),
            }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FakeSesState

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY,
        # Nagle plus delayed ACKs would add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _reply(self, status: int, payload: dict, error_type: str | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.state
        if self.path.startswith("/_fake/stats"):
            self._reply(200, state.stats())
        elif self.path.startswith("/v2/email/account"):
            rate = state.rate or 1000.0
            self._reply(
                200,
                {
                    "SendQuota": {"Max24HourSend": state.max_24h, "MaxSendRate": rate, "SentLast24Hours": 0},
                    "SendingEnabled": True,
                },
            )
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self) -> None:
        state = self.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if not self.path.startswith("/v2/email/outbound-emails"):
            self._reply(404, {"message": "not found"})
            return
        if state.latency:
            time.sleep(state.latency)
        if state.paused:
            self._reply(400, {"message": "Sending is paused for this account."}, "SendingPausedException")
            return
        roll = random.random()
        if roll < state.p_error:
            with state.lock:
                state.errors += 1
            self._reply(503, {"message": "Service unavailable (injected)"}, "ServiceUnavailable")
            return
        if roll < state.p_error + state.p_throttle or not state.take_token():
            with state.lock:
                state.throttled += 1
            self._reply(429, {"message": "Maximum sending rate exceeded."}, "TooManyRequestsException")
            return
        request = json.loads(body)
        raw = base64.b64decode(request["Content"]["Raw"]["Data"])
        recipients = request.get("Destination", {}).get("ToAddresses") or [parseaddr(message_from_bytes(raw)["To"])[1]]
        with state.lock:
            now = time.monotonic()
            state.first_at = state.first_at or now
            state.last_at = now
            state.times.append(now)
            for recipient in recipients:
                state.counts[recipient] += 1
                state.accepted.append((recipient, raw if state.keep_raw else b""))
        self._reply(200, {"MessageId": f"fake-{uuid.uuid4().hex}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # A client killed mid-request (the SIGKILL tests) is expected, not news.
        pass


class FakeSes:
    """``with FakeSes(latency=0.03, rate=200) as ses: ... ses.url``"""

    def __init__(self, port: int = 0, **options: object) -> None:
        self.state = FakeSesState(**options)  # type: ignore[arg-type]
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSes:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    with FakeSes(args.port, latency=args.latency, rate=args.rate, keep_raw=False) as ses:
        print(ses.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
