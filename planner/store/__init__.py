"""Results written back (plans, meter readings and their repairs) to SQLite by default or PostgreSQL by URL.

The schema is in :mod:`planner.store.schema` and docs/store_schema.md; writes in :mod:`planner.store.store`.
"""

from planner.store.schema import TableNames, build_tables
from planner.store.store import (
    Store,
    StoreError,
    case_hash,
    check_recordable_url,
    code_version,
    record_output_store,
    write_finished_replay_day,
)

__all__ = ["Store", "StoreError", "TableNames", "build_tables", "case_hash", "check_recordable_url", "code_version",
           "record_output_store", "write_finished_replay_day"]
