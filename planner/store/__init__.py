"""Results written back (plans, meter readings and their repairs) to SQLite by default or PostgreSQL by URL.

The schema is in :mod:`planner.store.schema` and docs/store_schema.md; writes in :mod:`planner.store.store`.
"""

from planner.store.schema import TableNames, build_tables
from planner.store.store import Store, case_hash, code_version

__all__ = ["Store", "TableNames", "build_tables", "case_hash", "code_version"]
