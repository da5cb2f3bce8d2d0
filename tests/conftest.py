"""Shared fixtures: the project root, the default case, and ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("OMPI_MCA_osc", "^ucx")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder beside the project; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent: this test reads the real data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_case():
    from planner.case import load_case

    return load_case(PROJECT_ROOT / "data" / "cases" / "default.toml")
