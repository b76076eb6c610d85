"""deploy/helm/values.yaml as data."""

from functools import cache
from pathlib import Path

import yaml

VALUES = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "values.yaml"


@cache
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())
