from __future__ import annotations

import pytest

from tests.deploy.factories import model_tarball


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    """A small model.tar.gz shaped like a Triton repository (the package stage writes the real one)."""
    return model_tarball(tmp_path_factory.mktemp("package") / "model.tar.gz")


def pytest_configure(config):
    # pulumi_aws warns at import about its own deprecated *V2 classes, which infra/ does not use.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")
