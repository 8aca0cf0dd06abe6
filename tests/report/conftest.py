"""Fixtures for the report tests: plan.json files written from the builders in tests/report/plans.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.plans import make_plan
from toolkit.artifacts.common import save_artifact


@pytest.fixture(autouse=True)
def default_price_age(monkeypatch):
    """Reports judge staleness with the default threshold unless a test sets LEANSERVE_PRICE_MAX_AGE_DAYS."""
    monkeypatch.delenv("LEANSERVE_PRICE_MAX_AGE_DAYS", raising=False)


@pytest.fixture
def write_plan(tmp_path: Path):
    """write_plan(name, **make_plan_args) -> path of a plan.json in its own folder under tmp_path."""

    def write(name: str = "plan", **kwargs) -> Path:
        return save_artifact(make_plan(**kwargs), tmp_path / name / "plan.json")

    return write


@pytest.fixture
def plan_path(write_plan) -> Path:
    return write_plan()
