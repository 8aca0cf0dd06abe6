"""Model families: what compress asks of them, and a family registered by a test flowing through compress."""

from __future__ import annotations

import re

import pytest

from tests.compress.conftest import quick_settings, write_spec
from tests.conftest import ROOT
from toolkit.families import family_for, register, tasks, unregister
from toolkit.families.classifier import ClassifierFamily


class ToyScores(ClassifierFamily):
    """A classifier-shaped family under another task name, exported without optimum (no optimum task)."""

    task = "toy-scores"
    title = "toy scores for tests"
    optimum_task = None
    triton_output = "scores"


@pytest.fixture
def toy_family():
    register(ToyScores.task, ToyScores())
    try:
        yield family_for(ToyScores.task)
    finally:
        unregister(ToyScores.task)


@pytest.mark.parametrize("task", tasks())
def test_every_family_provides_what_the_stages_ask(task):
    from toolkit.artifacts.variants import Quality
    from toolkit.spec import QualityFloor

    fam = family_for(task)
    model = fam.quality_model() if hasattr(fam, "quality_model") else Quality  # text-generation: DecoderQuality
    assert issubclass(model, Quality)
    assert fam.task == task
    assert fam.output_name and fam.output_rank >= 2 and 0 in fam.output_axes and fam.triton_output
    assert set(fam.floor_fields) <= set(QualityFloor.model_fields)
    assert set(fam.reference_quality()) == set(fam.quality_fields) <= set(model.model_fields)
    assert fam.latency_shapes() == ((1, 32), (8, 128))
    assert fam.quality_gate(model(**fam.reference_quality()), QualityFloor()) is None
    assert fam.auto_model_class().__name__.startswith("AutoModel")


def test_the_quality_floor_each_family_checks():
    from toolkit.artifacts.variants import Quality
    from toolkit.spec import QualityFloor

    floor = QualityFloor(min_cosine_mean=0.99, min_top1_agreement=0.99)
    poor = Quality(cosine_mean=0.5, cosine_p5=0.1, top1_agreement=0.5, kl_divergence=1.0)
    assert family_for("feature-extraction").quality_gate(poor, floor) == "mean cosine 0.50000 < floor 0.99"
    assert family_for("text-classification").quality_gate(poor, floor) == "top-1 agreement 0.5000 < floor 0.99"


def test_stages_ask_the_family_instead_of_testing_task_strings():
    names = "|".join(re.escape(t) for t in tasks())
    pattern = re.compile(rf"""==\s*["']({names})["']|["']({names})["']\s*==""")
    offenders = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        if "families" in path.relative_to(ROOT / "toolkit").parts:
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{no}: {line.strip()}")
    assert offenders == []


def test_task_fields_accept_registered_families_and_suggest_for_typos(toy_family):
    from pydantic import ValidationError

    from toolkit.spec import ModelSpec, json_schema

    assert ModelSpec(source="m", task="toy-scores").task == "toy-scores"
    with pytest.raises(ValidationError, match=r"unknown task; did you mean 'text-classification'\?"):
        ModelSpec(source="m", task="text-clasification")
    # the committed schema lists the built-in families only
    assert json_schema()["$defs"]["ModelSpec"]["properties"]["task"]["enum"] == ["feature-extraction", "text-classification", "text-generation"]


def test_a_registered_family_flows_through_compress(toy_family, tmp_path):
    import onnx

    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.compress import build_variants
    from toolkit.compress.table import text_table
    from toolkit.compress.testing import tiny_model
    from toolkit.spec import load_spec

    source = tiny_model(tmp_path / "hf", task="toy-scores", num_labels=4)
    spec = write_spec(tmp_path, str(source), ["onnx-fp32"], task="toy-scores")
    build_variants(load_spec(spec), tmp_path / "out", settings=quick_settings())
    vf = load_artifact(VariantsFile, tmp_path / "out" / "variants.json")
    assert vf.task == "toy-scores"
    v = vf.get("onnx-fp32")
    graph = onnx.load(str(tmp_path / "out" / v.path / "model.onnx")).graph
    assert [o.name for o in graph.output] == ["logits"]  # exported by torch.onnx (the family names no optimum task)
    assert [d.dim_param for d in graph.output[0].type.tensor_type.shape.dim] == ["batch_size", ""]
    assert v.status == "accepted" and v.quality.top1_agreement == 1.0 and v.quality.cosine_mean is None
    assert "top1 1.0000" in text_table(vf)


def test_tiny_model_refuses_an_unknown_task(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        from toolkit.compress.testing import tiny_model

        tiny_model(tmp_path / "m", task="nope")
