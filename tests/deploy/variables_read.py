"""The Airflow Variables the DAGs read, found by running the code that reads them, not from a list kept here.

settings.py reads every Variable in `settings_from_airflow()`; the recorder stands in for Airflow's Variable and
answers each read with its default. Any `Variable.get("...")` with a literal name elsewhere in dags/ or plugins/
counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def airflow_variables_read() -> set[str]:
    from airflow.sdk import Variable

    from nyc_taxi import settings

    read = set()

    def recording_get(key, default=None, *args, **kwargs):
        read.add(key)
        return default

    original = Variable.__dict__["get"]
    Variable.get = recording_get
    try:
        settings.settings_from_airflow()
    finally:
        Variable.get = original
    return read | literal_reads()


def literal_reads() -> set[str]:
    names = set()
    for path in [*(REPO / "dags").rglob("*.py"), *(REPO / "plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "Variable"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names
