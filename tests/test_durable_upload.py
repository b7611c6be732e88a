"""An admin's CSV upload survives the web server being killed right after it
answered: the file and its job are in the database before the response, and
the worker imports it (issue 14: nothing long runs in a web process)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.conftest import PASSWORD, csrf_token_from, free_port
from tests.support.own_db import PRESSROOM, REPO, cli_env, own_database, pressroom

ROWS = 400


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        assert proc.poll() is None, "the server exited"
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@contextmanager
def killed_afterwards(env: dict[str, str], port: int) -> Iterator[None]:
    """``pressroom run`` on ``port`` until the block ends, then SIGKILL: no clean shutdown."""
    server = subprocess.Popen(
        [str(PRESSROOM), "run", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        yield
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_csv_upload_survives_killing_the_web_server(tmp_path: Path) -> None:
    with own_database(tmp_path, "upload_kill") as url:
        port = free_port()
        env = cli_env(
            url,
            "upload-kill-secret",
            PRESSROOM_BASE_URL=f"http://127.0.0.1:{port}",
            PRESSROOM_TRANSPORT=f"outbox:{tmp_path / 'outbox'}",
            PRESSROOM_MEDIA_URL=f"file://{tmp_path}/m",
        )
        pressroom(env, "db", "upgrade")
        pressroom(
            env, "users", "create", "admin@example.com", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
        )
        base = f"http://127.0.0.1:{port}"
        with killed_afterwards(env, port):
            browser = requests.Session()
            login = browser.get(f"{base}/admin/login", timeout=10).text
            signed_in = browser.post(
                f"{base}/admin/login",
                timeout=10,
                data={"csrf_token": csrf_token_from(login), "email": "admin@example.com", "password": PASSWORD},
            )
            assert signed_in.status_code == 200 and "/admin/login" not in signed_in.url
            form = browser.get(f"{base}/admin/subscribers/import", timeout=10).text
            csv = "email,name\n" + "".join(f"reader{i}@example.com,Reader {i}\n" for i in range(ROWS))
            answer = browser.post(
                f"{base}/admin/subscribers/import",
                timeout=30,
                allow_redirects=False,
                data={"csrf_token": csrf_token_from(form), "list_name": "Imported readers", "status": "active"},
                files={"file": ("readers.csv", io.BytesIO(csv.encode()), "text/csv")},
            )
            assert answer.status_code == 302 and "/admin/subscribers/imports/" in answer.headers["Location"]
        # Killed the moment it answered: no chance to finish anything in the background.

        ran = pressroom(env, "worker", "--once")
        assert re.search(r"[1-9]\d* jobs run", ran), ran  # the import (and the hourly retention job)
        exported = pressroom(env, "subscribers", "export", "--list", "Imported readers")
        addresses = {line.split(",")[0] for line in exported.splitlines()[1:] if line}
        assert addresses == {f"reader{i}@example.com" for i in range(ROWS)}

        # The admin, back on a new server, sees the import finished with its counts.
        with killed_afterwards(env, port):
            status = browser.get(urljoin(base, answer.headers["Location"]) + ".json", timeout=10)
            assert status.status_code == 200, status.text
            progress = status.json()
            assert progress["state"] == "done" and progress["imported"] == ROWS, progress
