from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.factories import model_tarball, plan_for_tarball
from toolkit.artifacts.common import save_artifact


@pytest.fixture
def package(tmp_path) -> Path:
    """A small model.tar.gz shaped like `leanserve package --target sagemaker` output."""
    return model_tarball(tmp_path / "package" / "model.tar.gz")


@pytest.fixture
def write_plan(tmp_path, package):
    """Save a PlanFile (default: the cpu example, naming the fixture package's sha256) and return its path."""

    def _write(plan=None, name="plan.json") -> Path:
        plan = plan or plan_for_tarball(package)
        path = tmp_path / name
        save_artifact(plan, path)
        return path

    return _write


def pytest_configure(config):
    # pulumi_aws warns at import about its own deprecated *V2 classes, which infra/ does not use.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")
