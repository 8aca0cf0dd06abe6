"""The example stacks in infra/ (gpu, cpu, serverless, kubernetes) under Pulumi's mocks.

Each committed Pulumi.<stack>.yaml is exactly what `leanserve deploy` renders from infra/plans/<stack>.plan.json
(set LEANSERVE_UPDATE_GOLDEN=1 to rewrite them after an intended change), and running the program on it
registers resources whose values equal the plan's.
"""

from __future__ import annotations

import os

import pytest

from tests.infra.harness import INFRA, example_config, run_program
from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.deploy.stack_config import build_stack_config, render, run_checks
from toolkit.fileio import sha256_file

STACKS = ["gpu", "cpu", "serverless", "kubernetes"]
EXAMPLE_MODEL = "../out/demo/package/model.tar.gz"  # where `make demo`'s package stage writes it
EXAMPLE_K8S_IMAGE = "registry.example.com/minilm-embeddings:onnx-fp16"  # the package's container context, pushed


def _plan(stack: str) -> PlanFile:
    return load_artifact(PlanFile, INFRA / "plans" / f"{stack}.plan.json")


def _rendered(stack: str) -> str:
    plan = _plan(stack)
    image = EXAMPLE_K8S_IMAGE if plan.chosen.platform == "kubernetes" else None
    cfg, _, _ = build_stack_config(plan, stack, model_ref=EXAMPLE_MODEL, image=image, triton_model_name="ensemble")
    run_checks(cfg)
    return render(cfg)


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stack_file_is_what_deploy_renders(stack):
    path = INFRA / f"Pulumi.{stack}.yaml"
    text = _rendered(stack)
    if os.environ.get("LEANSERVE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.read_text() == text


@pytest.mark.integration
@pytest.mark.parametrize("stack", ["gpu", "cpu", "serverless"])
def test_sagemaker_example_stack_matches_its_plan(stack, tarball):
    from tests.infra.checks import assert_sagemaker_stack

    rec = run_program(example_config(stack, tarball), stack)
    assert_sagemaker_stack(rec, _plan(stack), f"minilm-embeddings-{stack}", model_sha256=sha256_file(tarball))


@pytest.mark.integration
def test_kubernetes_example_stack_matches_its_plan(tarball):
    from tests.infra.checks import assert_kubernetes_stack

    rec = run_program(example_config("kubernetes", tarball), "kubernetes")
    assert_kubernetes_stack(rec, _plan("kubernetes"), EXAMPLE_K8S_IMAGE)
