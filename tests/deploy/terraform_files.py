"""terraform/ as data: its .tf files parsed with python-hcl2, for tests that read the configuration, not run it.

python-hcl2 keeps string literals quoted ("\"roles/x\"") and expressions as "${...}"; `text()` gives a literal's
value, and `resources()` yields every resource as (type, name, body).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import hcl2

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"


@cache
def documents() -> dict[str, dict]:
    return {path.name: hcl2.loads(path.read_text()) for path in sorted(TERRAFORM.glob("*.tf"))}


def text(value) -> str:
    """A literal string without its quotes; an expression as written ("${...}")."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(kind: str):
    for document in documents().values():
        yield from document.get(kind, [])


def resources():
    for block in blocks("resource"):
        for resource_type, named in block.items():
            for name, body in named.items():
                yield text(resource_type), text(name), body


def resources_of(resource_type: str) -> dict[str, dict]:
    return {name: body for kind, name, body in resources() if kind == resource_type}


def data_sources():
    for block in blocks("data"):
        for source_type, named in block.items():
            for name, body in named.items():
                yield text(source_type), text(name), body


def locals_() -> dict:
    return {text(key): value for block in blocks("locals") for key, value in block.items() if not key.startswith("__")}


def variables() -> dict[str, dict]:
    return {text(name): body for block in blocks("variable") for name, body in block.items()}


def outputs() -> dict[str, dict]:
    return {text(name): body for block in blocks("output") for name, body in block.items()}


def strings(value):
    """Every string anywhere in a parsed value, literals and expressions alike."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def map_keys(value) -> set[str]:
    """The keys of a map literal, parsed (a dict) or inside an expression (`{ a = 1, b = "x" }` in "${merge(...)}")."""
    if isinstance(value, dict):
        return {text(key) for key in value if not key.startswith("__")}
    return set(re.findall(r"(?:^|[{,\s])([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", value))
