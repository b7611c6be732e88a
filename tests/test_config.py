"""Configuration loading: env values that look like numbers, the instance secret key."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from flask import Flask

from app.config import _instance_secret, load


def test_numeric_secret_key_from_env_stays_a_string(monkeypatch, tmp_path: Path) -> None:
    """from_prefixed_env parses 12345678 as JSON: an int key made every login a 500."""
    monkeypatch.setenv("PRESSROOM_SECRET_KEY", "12345678")
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    load(app, None)
    assert app.config["SECRET_KEY"] == "12345678"
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None and serializer.loads(serializer.dumps({"a": 1})) == {"a": 1}


def _secret_in_child(instance: str, barrier, results) -> None:
    barrier.wait()
    results.put(_instance_secret(Path(instance)))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    children = [ctx.Process(target=_secret_in_child, args=(str(instance), barrier, results)) for _ in range(4)]
    for child in children:
        child.start()
    keys = {results.get(timeout=30) for _ in children}
    for child in children:
        child.join(timeout=30)
    assert len(keys) == 1 and len(next(iter(keys))) == 64
    assert (instance / "secret_key").read_text() == next(iter(keys))
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert _instance_secret(instance) == next(iter(keys))
