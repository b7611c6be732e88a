"""A database of one test's own, for tests that run the real ``pressroom`` CLI
and server in other processes: a temp SQLite file, or a separate PostgreSQL
database on the server of PRESSROOM_TEST_DATABASE_URL (never the suite's)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import _normalise_db_url
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL

REPO = Path(__file__).resolve().parent.parent.parent
PRESSROOM = REPO / ".venv" / "bin" / "pressroom"


@contextmanager
def own_database(tmp_path: Path, name: str) -> Iterator[str]:
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    server = make_url(_normalise_db_url(TEST_DATABASE_URL))
    database = f"pressroom_{name}_{os.getpid()}"
    assert database != server.database
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def cli_env(url: str, secret: str, **extra: str) -> dict[str, str]:
    """The environment an operator gives ``pressroom``: only our settings, not the suite's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSROOM_")}
    env.update(PRESSROOM_DATABASE_URL=url, PRESSROOM_SECRET_KEY=secret, **extra)
    return env


def pressroom(env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path = REPO) -> str:
    """Run ``pressroom ARGS`` to completion; its output, or the test fails with it."""
    done = subprocess.run(
        [str(PRESSROOM), *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"pressroom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr
