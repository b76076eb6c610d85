"""The settings every local command runs with: `.env`, then `.env.local`, then the shell, the later winning.

`./dev demo`, `./dev stack`, `./dev airflow` and `./dev bench` all start from `local_environment()`, so a value
put in the git-ignored `.env.local` or exported in the shell overrides the repo's local defaults in `.env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV_FILES = (".env", ".env.local")  # in this order; .env.local is optional


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines; blank lines and `#` comments are skipped, quotes around a value dropped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


def local_environment(root: Path = REPO, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`root/.env`, overridden by `root/.env.local` if it exists, overridden by `environ` (the shell)."""
    values: dict[str, str] = {}
    for name in ENV_FILES:
        if (root / name).exists():
            values.update(read_env_file(root / name))
    return {**values, **environ}
