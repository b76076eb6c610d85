"""`./dev bench`: load a month each way, each in a process of its own, and compare wall time and peak RSS."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python -m bench...` runs from the repo root; the pipeline's package lives in plugins/, as Airflow sees it.
for _path in (str(REPO), str(REPO / "plugins")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
