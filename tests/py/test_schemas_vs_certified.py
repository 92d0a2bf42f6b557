"""Every stream's discovered schema against the certified connector's (airbyte-source-zendesk-chat
1.1.1, downloaded from PyPI), field by field and recursively:

- a field the certified schema declares with one type has that type here (nullable allowed, and
  the same `format`), unless it is one of the documented exceptions below;
- a field the certified schema declares with a union has the one type chosen here (README);
- no property anywhere in our schemas has more than one non-null type.

The child streams (chat_history, ...) are compared with the certified `chats` schema's arrays.
Needs: the connector binary (CONNECTOR_BIN, else target/release or target/debug) and pip access
to PyPI (or CERTIFIED_WHEEL_DIR holding the unpacked wheel).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEEL = "airbyte-source-zendesk-chat==1.1.1"

# Union fields of the certified schemas and the one type chosen here (listed in the README).
UNION_CHOICES = {
    ("chats", "history.department_id"): "string",
    ("chats", "history.prev_department_id"): "string",
    ("chats", "history.msg_id"): "string",
    ("triggers", "definition.event"): "string",
    ("triggers", "definition.condition"): "array",
    ("triggers", "definition.actions"): "array",
}
# Certified streams this connector does not offer.
NOT_OFFERED = {"visitors"}
# Child streams and the certified `chats` array their rows come from.
CHILDREN = {
    "chat_history": "history",
    "chat_webpath": "webpath",
    "chat_engagements": "engagements",
    "chat_conversions": "conversions",
}


def _binary() -> Path:
    if os.environ.get("CONNECTOR_BIN"):
        return Path(os.environ["CONNECTOR_BIN"])
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / "source-zendesk-chat"
        if path.is_file():
            return path
    raise RuntimeError("source-zendesk-chat not built: run `cargo build` or set CONNECTOR_BIN")


@pytest.fixture(scope="module")
def certified() -> dict[str, dict]:
    root = os.environ.get("CERTIFIED_WHEEL_DIR")
    tmp = Path(tempfile.mkdtemp(prefix="certified-wheel-"))
    if not root:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", WHEEL, "-d", str(tmp)],
            check=True,
        )
        (wheel,) = tmp.glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp / "x")
        root = str(tmp / "x")
    schemas = Path(root) / "source_zendesk_chat" / "schemas"
    found = {p.stem: json.loads(p.read_text()) for p in schemas.glob("*.json")}
    assert len(found) >= 12, f"certified schemas not found under {schemas}"
    return found


@pytest.fixture(scope="module")
def ours() -> dict[str, dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"subdomain": "x", "start_date": "2024-01-01T00:00:00Z",
                   "credentials": {"credentials": "access_token", "access_token": "x"}}, f)
    out = subprocess.run([str(_binary()), "discover", "--config", f.name],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    catalogs = [json.loads(l) for l in out.splitlines() if l.startswith('{"type":"CATALOG"')]
    assert len(catalogs) == 1, out[-2000:]
    return {s["name"]: s["json_schema"] for s in catalogs[0]["catalog"]["streams"]}


def non_null_types(schema: dict) -> list[str]:
    t = schema.get("type")
    types = [t] if isinstance(t, str) else list(t or [])
    types = [x for x in types if x != "null"]
    if not types and "properties" in schema:
        types = ["object"]
    return types


def walk(schema: dict, path: str = ""):
    """(path, subschema) for every property and array item, depth first."""
    for key, sub in (schema.get("properties") or {}).items():
        p = f"{path}.{key}" if path else key
        yield p, sub
        yield from walk(sub, p)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from walk(items, path)


def at(schema: dict, path: str) -> dict | None:
    node = schema
    for key in path.split("."):
        while isinstance(node.get("items"), dict) and "properties" not in node:
            node = node["items"]
        props = node.get("properties") or {}
        if key not in props:
            return None
        node = props[key]
    return node


def compare(stream: str, cert: dict, mine: dict, union_key: str) -> list[str]:
    problems = []
    for path, sub in walk(cert):
        want = non_null_types(sub)
        got_schema = at(mine, path)
        if got_schema is None:
            problems.append(f"{stream}.{path}: declared by the certified connector, missing here")
            continue
        got = non_null_types(got_schema)
        if len(want) > 1:
            choice = UNION_CHOICES.get((union_key, path if union_key == stream
                                        else f"{CHILDREN[stream]}.{path}"))
            if choice is None:
                problems.append(f"{stream}.{path}: certified union {want} has no documented choice")
            elif got != [choice]:
                problems.append(f"{stream}.{path}: union choice is {choice}, schema says {got}")
            continue
        if want and got != want:
            problems.append(f"{stream}.{path}: certified {want}, here {got}")
        if sub.get("format") and got_schema.get("format") != sub["format"]:
            problems.append(f"{stream}.{path}: certified format {sub['format']}, "
                            f"here {got_schema.get('format')}")
    return problems


def test_every_certified_field_has_the_certified_type(certified, ours):
    problems = []
    for name, cert in sorted(certified.items()):
        if name in NOT_OFFERED:
            continue
        assert name in ours, f"certified stream {name} is not offered"
        problems += compare(name, cert, ours[name], name)
    for child, field in CHILDREN.items():
        items = certified["chats"]["properties"][field]["items"]
        problems += compare(child, items, ours[child], "chats")
    assert not problems, "\n".join(problems)


def test_no_property_has_more_than_one_type(ours):
    unions = [f"{stream}.{path}: {non_null_types(sub)}"
              for stream, schema in sorted(ours.items())
              for path, sub in walk(schema) if len(non_null_types(sub)) > 1]
    assert not unions, "\n".join(unions)


def test_the_checks_can_fail(certified, ours):
    """A changed type, a missing field and an undocumented union are each reported."""
    mine = json.loads(json.dumps(ours["agents"]))
    mine["properties"]["id"]["type"] = ["string", "null"]
    del mine["properties"]["enabled"]
    found = compare("agents", certified["agents"], mine, "agents")
    assert any("agents.id: certified ['integer'], here ['string']" in p for p in found), found
    assert any("agents.enabled" in p and "missing" in p for p in found), found
    cert = json.loads(json.dumps(certified["agents"]))
    cert["properties"]["email"]["type"] = ["null", "string", "integer"]
    assert any("no documented choice" in p
               for p in compare("agents", cert, ours["agents"], "agents"))
