"""Shared inputs for the planner tests: the example spec (or variations of it) and fixture artifacts.

The fixture variants.json/profiles.json hold MiniLM figures as measured in ENVIRONMENT.md (int8:
53 ms for 8 x 128 tokens, 2.1 ms for 1 x 32 on 2 threads); they stand in for `leanserve compress`
and `leanserve bench`, which are tested on their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_SPEC, ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VARIANTS = FIXTURES / "variants.json"
PROFILES = FIXTURES / "profiles.json"
TRACES = ROOT / "examples" / "traces"


def _set(d: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def write_spec(folder: Path, name: str = "leanserve.yaml", **changes) -> Path:
    """The example spec with ``changes`` applied (dotted keys: ``sla.p95_ms=2``, ``traffic.days=3``)."""
    data = yaml.safe_load(EXAMPLE_SPEC.read_text())
    for k, v in changes.items():
        _set(data, k.replace("__", "."), v)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def spec_factory(tmp_path):
    def make(**changes) -> Path:
        return write_spec(tmp_path, **changes)

    return make


@pytest.fixture(scope="session")
def catalog():
    from toolkit.pricing import load_catalog

    return load_catalog(warn=lambda m: None)


@pytest.fixture(scope="session")
def inputs():
    from toolkit.planner.api import load_inputs

    return load_inputs(EXAMPLE_SPEC, VARIANTS, PROFILES)


@pytest.fixture(scope="session")
def example_plan(inputs, catalog):
    """The example spec planned once (fast strategy), shared by read-only tests."""
    from toolkit.planner.api import make_plan

    loaded, variants, profiles = inputs
    return make_plan(loaded, variants, profiles, catalog=catalog, strategy="fast", top=5)
