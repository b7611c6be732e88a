"""The committed CodeMirror bundle is the one the lock file describes.

``make assets`` (npm ci + assets/build.mjs) writes static/admin/vendor/codemirror.js
and editor-bundle.json (versions taken from assets/package-lock.json, the bundle's
sha256). These checks need no node: they catch a bundle rebuilt from other versions,
edited by hand, or a lock file changed without rebuilding."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from tests.conftest import REPO

VENDOR = REPO / "static/admin/vendor"
LOCK = REPO / "assets/package-lock.json"


def _manifest() -> dict:
    return json.loads((VENDOR / "editor-bundle.json").read_text())


def _lock_runtime_packages() -> dict[str, str]:
    lock = json.loads(LOCK.read_text())
    return {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in lock["packages"].items()
        if path.startswith("node_modules/") and not entry.get("dev")
    }


def test_manifest_names_the_exact_versions_of_the_lock_file() -> None:
    manifest, locked = _manifest(), _lock_runtime_packages()
    assert manifest["packages"] == locked
    codemirror = {name for name in locked if name.startswith(("@codemirror/", "@lezer/"))}
    assert {
        "@codemirror/view",
        "@codemirror/state",
        "@codemirror/lang-markdown",
        "@codemirror/search",
        "@lezer/markdown",
    } <= codemirror
    assert set(manifest["bundled"]) <= set(locked)
    lock = json.loads(LOCK.read_text())
    assert manifest["esbuild"] == lock["packages"]["node_modules/esbuild"]["version"]


def test_direct_dependencies_are_pinned_to_what_is_locked() -> None:
    package = json.loads((REPO / "assets/package.json").read_text())
    locked = json.loads(LOCK.read_text())["packages"]
    for name, spec in {**package["dependencies"], **package["devDependencies"]}.items():
        assert spec == locked[f"node_modules/{name}"]["version"], f"{name} {spec} is not pinned"
    assert locked[""]["dependencies"] == package["dependencies"]


def test_bundle_file_is_the_one_the_manifest_hashed() -> None:
    manifest = _manifest()
    bundle = (VENDOR / manifest["bundle"]).read_bytes()
    assert len(bundle) == manifest["bytes"]
    assert hashlib.sha256(bundle).hexdigest() == manifest["sha256"]


def test_bundle_needs_nothing_the_admin_csp_forbids() -> None:
    """script-src 'self': no eval or Function constructor, nothing loaded from elsewhere."""
    bundle = (VENDOR / _manifest()["bundle"]).read_text(encoding="utf-8")
    assert not re.search(r"\beval\(|new Function\(", bundle)
    assert not re.search(r"""import\s*\(?\s*["']https?:""", bundle)


def test_editor_modules_import_codemirror_only_from_the_bundle() -> None:
    """The editor's own modules are served as they are (no build step), so a bare
    npm specifier in them would fail in the browser."""
    modules = sorted((REPO / "static/admin/editor").glob("*.js"))
    assert modules
    for module in modules:
        for specifier in re.findall(r"""^\s*import\b[^;]*?from\s+["']([^"']+)["']""", module.read_text(), re.M | re.S):
            assert specifier.startswith("./") or specifier == "../vendor/codemirror.js", (module.name, specifier)
            if specifier.startswith("./"):
                assert (module.parent / Path(specifier)).is_file(), (module.name, specifier)
