#!/usr/bin/env python3
"""Fail when the connector's version or identity disagrees between its sources of truth.

* metadata.yaml `data.dockerImageTag` == Cargo.toml `[package] version`
  == the Dockerfile's default `ARG CONNECTOR_VERSION` (used for the io.airbyte.version label);
* metadata.yaml has the fields and values Airbyte's registry and airbyte-cdk's tests read
  (dockerRepository, connectorType, definitionId as a UUID, language tag, suggestedStreams as a
  list of unique stream names, ...); that each suggested stream is in discover's catalog is
  checked by tests/it/metadata.rs;
* the Dockerfile labels io.airbyte.name with metadata.yaml's dockerRepository, and sets
  AIRBYTE_ENTRYPOINT to the same absolute path as its ENTRYPOINT.

Standard library only (Python >= 3.11); uses PyYAML when importable, else a strict reader for
this file's simple layout. Usage: scripts/docker/check-metadata.py [REPO_ROOT]
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import uuid
from pathlib import Path


def load_metadata(path: Path) -> dict:
    text = path.read_text()
    try:
        import yaml  # type: ignore[import-untyped]

        return yaml.safe_load(text)
    except ImportError:
        pass
    # Minimal reader: nested `key: value` mappings and `- item` lists of scalars; enough for metadata.yaml.
    root: dict = {}
    # (indent, container, parent, key): the container opened by `key:` at that indent
    stack: list[tuple[int, object, dict | None, str | None]] = [(-1, root, None, None)]
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line = raw.rstrip()
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        while stack[-1][0] >= indent:
            stack.pop()
        top_indent, container, parent, key = stack[-1]
        if body.startswith("- "):
            if not isinstance(container, list):
                if container or parent is None:
                    raise ValueError(f"unsupported YAML layout at: {raw!r}")
                container = []
                parent[key] = container
                stack[-1] = (top_indent, container, parent, key)
            container.append(body[2:].strip().strip('"').strip("'"))
            continue
        k, _, value = body.partition(":")
        value = value.strip()
        if value == "":
            child: dict = {}
            container[k] = child
            stack.append((indent, child, container, k))
        else:
            v = value.strip('"').strip("'")
            container[k] = int(v) if re.fullmatch(r"\d+", value) else v
    return root


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    problems: list[str] = []

    cargo_version = tomllib.loads((root / "Cargo.toml").read_text())["package"]["version"]
    meta = load_metadata(root / "metadata.yaml")
    data = meta.get("data", {})
    dockerfile = (root / "Dockerfile").read_text()

    tag = str(data.get("dockerImageTag"))
    if tag != cargo_version:
        problems.append(f"metadata.yaml dockerImageTag {tag!r} != Cargo.toml version {cargo_version!r}")
    m = re.search(r"^ARG CONNECTOR_VERSION=(\S+)\s*$", dockerfile, re.M)
    if not m:
        problems.append("Dockerfile has no `ARG CONNECTOR_VERSION=<default>` line")
    elif m.group(1) != cargo_version:
        problems.append(f"Dockerfile default CONNECTOR_VERSION {m.group(1)!r} != Cargo.toml version {cargo_version!r}")
    if "io.airbyte.version=${CONNECTOR_VERSION}" not in dockerfile:
        problems.append("Dockerfile does not label io.airbyte.version=${CONNECTOR_VERSION}")

    expected = {
        "dockerRepository": "airbyte/source-zendesk-chat",
        "connectorType": "source",
        "connectorSubtype": "api",
        "releaseStage": "alpha",
        "supportLevel": "community",
        "license": "MIT",
        "maxSecondsBetweenMessages": 60,
    }
    for key, want in expected.items():
        if data.get(key) != want:
            problems.append(f"metadata.yaml data.{key} is {data.get(key)!r}, expected {want!r}")
    for key in ("name", "documentationUrl", "definitionId"):
        if not data.get(key):
            problems.append(f"metadata.yaml data.{key} is missing")
    try:
        uuid.UUID(str(data.get("definitionId")))
    except ValueError:
        problems.append(f"metadata.yaml data.definitionId {data.get('definitionId')!r} is not a UUID")
    if "language:rust" not in (data.get("tags") or []):
        problems.append("metadata.yaml data.tags lacks language:rust")
    suggested = (data.get("suggestedStreams") or {}).get("streams")
    if not isinstance(suggested, list) or not suggested:
        problems.append("metadata.yaml data.suggestedStreams.streams is missing or not a non-empty list")
    elif not all(isinstance(s, str) and re.fullmatch(r"[a-z_]+", s) for s in suggested):
        problems.append(f"metadata.yaml data.suggestedStreams.streams has entries that are not stream names: {suggested!r}")
    elif len(set(suggested)) != len(suggested):
        problems.append(f"metadata.yaml data.suggestedStreams.streams lists a stream twice: {suggested!r}")
    if "*.zendesk.com" not in ((data.get("allowedHosts") or {}).get("hosts") or []):
        problems.append("metadata.yaml data.allowedHosts.hosts lacks *.zendesk.com")
    if str(meta.get("metadataSpecVersion")) != "1.0":
        problems.append(f"metadata.yaml metadataSpecVersion is {meta.get('metadataSpecVersion')!r}, expected '1.0'")

    name_label = re.search(r"io\.airbyte\.name=(\S+)", dockerfile)
    if not name_label or name_label.group(1) != data.get("dockerRepository"):
        problems.append(f"Dockerfile io.airbyte.name {name_label and name_label.group(1)!r} != dockerRepository")
    ep_env = re.search(r"AIRBYTE_ENTRYPOINT=(\S+)", dockerfile)
    ep = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.M)
    ep_list = json.loads(ep.group(1)) if ep else None
    if not ep_env or not ep_list or " ".join(ep_list) != ep_env.group(1) or not ep_env.group(1).startswith("/"):
        problems.append(f"Dockerfile AIRBYTE_ENTRYPOINT {ep_env and ep_env.group(1)!r} != ENTRYPOINT {ep_list!r}")

    if problems:
        print("check-metadata: FAILED", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"check-metadata: ok (version {cargo_version}, image {data['dockerRepository']}:{tag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
