"""How long parsing our DAG files takes beyond importing Airflow itself; run in a fresh process:

    python -m bench.dag_import dags/
"""

from __future__ import annotations

import json
import sys
import time

started = time.perf_counter()
import airflow.sdk  # noqa: E402,F401
from airflow.dag_processing.dagbag import DagBag  # noqa: E402

airflow_imported = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dags_imported = time.perf_counter()

print(json.dumps({
    "airflow_import_s": round(airflow_imported - started, 3),
    "dag_files_s": round(dags_imported - airflow_imported, 3),
    "dags": len(bag.dags),
    "import_errors": len(bag.import_errors),
}))
