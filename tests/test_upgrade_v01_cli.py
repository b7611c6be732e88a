"""A database written by v0.1 itself upgrades and stays usable (issue 14, "done means").

v0.1 (release commit 9901559) is taken from this repository's history and run
with its own CLI: ``db upgrade``, ``demo`` (the archive slice, the seed draft,
events, subscribers, a finished send with feedback), ``subscribers import`` of
a CSV, ``import-jekyll`` of an issue that ``send`` and ``worker --once`` then
deliver. The current ``pressroom db upgrade`` takes it to head; afterwards
every v0.1 row is still there unchanged, the sends report the counts v0.1
reported, v0.1's demo logins work, the imported list exports the same
addresses, and the seed draft still renders with its TODO flagged.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select

from app.config import _normalise_db_url
from tests.conftest import CORPUS, needs_corpus
from tests.support.own_db import REPO, cli_env, own_database, pressroom

V01 = "9901559"
SECRET = "v01-cli-secret"
# Run v0.1's package, not this checkout's: the editable install's import hook
# maps ``app`` to the current tree, so it is dropped before importing.
BOOT = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]; "
    "sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'pressroom'; from app.cli import main; main()"
)
PYTHON = REPO / ".venv" / "bin" / "python"
ISSUE = """---
layout: newsletter
title: A letter sent by v0.1
---

Hello! This one went out before the upgrade. Read [more](https://example.org/more).

Thanks for reading!
"""


def v01_checkout(tmp_path: Path) -> Path:
    """v0.1's tree, beside a ``shared`` folder that is the corpus's (v0.1's demo reads ../shared)."""
    have = subprocess.run(["git", "cat-file", "-e", f"{V01}^{{commit}}"], cwd=REPO, capture_output=True)
    if have.returncode != 0:
        pytest.skip(f"v0.1 ({V01}) is not in this clone's history (a shallow clone?)")
    tree = tmp_path / "v01"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", V01], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    (tmp_path / "shared").symlink_to(CORPUS.parent)
    return tree


def v01(tree: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(PYTHON), "-c", BOOT, str(tree), *args],
        cwd=tree,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"v0.1 pressroom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def rows_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every v0.1 table, v0.1's columns only, in primary-key order."""
    engine = create_engine(_normalise_db_url(url))
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name != "alembic_version":
                key = list(table.primary_key.columns) or list(table.columns)
                out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*key))]
    engine.dispose()
    return out


def shown_counts(output: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in output.splitlines() if line.strip())


@needs_corpus
def test_a_database_written_by_v01_upgrades_and_works(tmp_path: Path) -> None:
    tree = v01_checkout(tmp_path)
    with own_database(tmp_path, "v01_cli") as url:
        env = cli_env(
            url,
            SECRET,
            PRESSROOM_TRANSPORT=f"outbox:{tmp_path / 'outbox'}",
            PRESSROOM_MEDIA_URL=f"file://{tmp_path / 'media'}",
        )
        # --- v0.1 writes its data ------------------------------------------------------
        v01(tree, env, "db", "upgrade")
        demo = v01(tree, env, "demo")
        assert "seed draft imported" in demo and "finished demo send" in demo
        admin_password = next(line.split()[-1] for line in demo.splitlines() if line.strip().startswith("admin:"))
        csv = tmp_path / "readers.csv"
        csv.write_text("email,name\n" + "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(30)))
        assert "30" in v01(tree, env, "subscribers", "import", str(csv), "--list", "Readers", "--status", "active")
        posts = tmp_path / "posts"
        posts.mkdir()
        (posts / "2026-11-18-readers.md").write_text(ISSUE)
        v01(tree, env, "import-jekyll", str(posts), "--status", "draft")
        # The admin approves it (v0.1 has no approve command: its own approve() through its shell).
        approved = v01(
            tree,
            env,
            "shell",
            stdin=(
                "from app.auth.models import User\nfrom app.issues.models import Issue\n"
                "from app.issues.lifecycle import approve\nfrom app.db import db\n"
                "issue = db.session.query(Issue).filter_by(slug='2026-11-18-readers').one()\n"
                "approve(issue, db.session.query(User).filter_by(email='admin@example.com').one())\n"
                "print('status', issue.status)\n"
            ),
        )
        assert "status approved" in approved
        v01(tree, env, "send", "2026-11-18-readers", "--list", "Readers")
        v01(tree, env, "worker", "--once")
        before_send = shown_counts(v01(tree, env, "sends", "show", "2026-11-18-readers"))
        assert before_send["sent"] == "30" and before_send["status"] == "finished"
        before_report = shown_counts(v01(tree, env, "sends", "show", "demo-report-issue"))
        before = rows_of(url)
        assert before["deliveries"] and before["feedback_events"] and before["subscriber_imports"] == []

        # --- this release upgrades it --------------------------------------------------
        pressroom(env, "db", "upgrade")
        after = rows_of(url)
        for name, rows in before.items():
            kept = [row[: len(rows[0])] for row in after[name]] if rows else after[name]
            assert kept == rows, f"{name}: v0.1 rows changed by the upgrade"

        # --- and it works on v0.1's data --------------------------------------------------
        assert shown_counts(pressroom(env, "sends", "show", "2026-11-18-readers")) == before_send
        assert shown_counts(pressroom(env, "sends", "show", "demo-report-issue")) == before_report
        exported = pressroom(env, "subscribers", "export", "--list", "Readers")
        assert {line.split(",")[0] for line in exported.splitlines()[1:]} == {
            f"reader{i}@example.org" for i in range(30)
        }
        flagged = subprocess.run(
            [str(REPO / ".venv/bin/pressroom"), "preflight", "2018-09-12-client"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert flagged.returncode != 0 and "TODO" in flagged.stdout + flagged.stderr  # blocks, as in v0.1
        email = pressroom(env, "render", "2018-09-12-client", "--format", "email")
        assert "<html" in email and "Realistic Video Generation" in email
        login = pressroom(
            env,
            "shell",
            stdin=(
                "from app.auth.service import authenticate\n"
                f"print('login', bool(authenticate('admin@example.com', {admin_password!r})))\n"
            ),
        )
        assert "login True" in login
