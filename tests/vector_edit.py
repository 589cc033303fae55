"""Test helper: re-seal a vector set after a deliberate edit, so a test reaches the check behind
the hashes. It hashes on its own (not through pymodel.vectors), so a hashing bug there cannot
hide behind it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def reseal(path: Path, manifest: dict | None = None) -> None:
    """Re-hash every listed file and the manifest itself (docs/vector_format.md)."""
    manifest = manifest or json.loads((path / "manifest.json").read_text())
    for name in manifest["files"]:
        data = (path / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
