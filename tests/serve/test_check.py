"""`leanserve package check`: a malformed repository gets one line naming the file and field at fault."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli


def _edit(path, old, new, count=1):
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, count))


def test_a_packaged_repository_is_valid(tiny_package):
    result = run_cli("package", "check", tiny_package)
    assert result.exit_code == 0, result.output
    assert f"{tiny_package}/model_repository: valid (4 models, target cpu)" in result.stdout
    data = json.loads(run_cli("--json", "package", "check", tiny_package).stdout)
    assert data["valid"] is True and data["problems"] == []
    assert {m["name"]: m["kind"] for m in data["models"]} == {"ensemble": "ensemble", "model": "onnx", "pooling": "python", "tokenizer": "python"}


@pytest.mark.parametrize(
    "rel, old, new, expected",
    [
        ("pooling/config.pbtxt", 'name: "pooling"', 'name: "poolin"',
         "package/model_repository/pooling/config.pbtxt: field 'name': \"poolin\" does not match its folder 'pooling'"),
        ("model/config.pbtxt", "data_type: TYPE_INT64", "data_type: TYPE_INT32",
         "package/model_repository/model/config.pbtxt: field 'input[0]' (input_ids).data_type: TYPE_INT32 does not match the ONNX graph (TYPE_INT64)"),
        ("model/config.pbtxt", "dims: 32", "dims: 64",
         "package/model_repository/model/config.pbtxt: field 'output[0]' (last_hidden_state).dims: [-1, 64] does not match the ONNX graph ([-1, 32], batch dimension excluded)"),
        ("model/config.pbtxt", 'name: "input_ids"', 'name: "input_idz"',
         "package/model_repository/model/config.pbtxt: field 'input[0]' (input_idz): not an input of model.onnx (inputs: input_ids, attention_mask, token_type_ids)"),
        ("model/config.pbtxt", "kind: KIND_CPU", "kind: KIND_GPU",
         "package/model_repository/model/config.pbtxt: field 'instance_group[0].kind': KIND_GPU on a CPU target (use KIND_CPU)"),
        ("model/config.pbtxt", "max_batch_size: 16", "max_batch: 16",
         "package/model_repository/model/config.pbtxt:8:1: unknown field 'max_batch' in ModelConfig; did you mean 'max_batch_size'?"),
        ("ensemble/config.pbtxt", 'model_name: "pooling"', 'model_name: "pool"',
         "package/model_repository/ensemble/config.pbtxt: field 'ensemble_scheduling.step[2]'.model_name: 'pool' is not a model of this repository"),
    ],
)
def test_malformed_config_names_file_and_field(package_copy, rel, old, new, expected):
    _edit(package_copy / "model_repository" / rel, old, new)
    result = run_cli("package", "check", package_copy, "--no-hashes")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {expected}"


def test_missing_version_folder_and_model_file(package_copy):
    repo = package_copy / "model_repository"
    (repo / "model/1/model.onnx").unlink()
    result = run_cli("package", "check", package_copy, "--no-hashes")
    assert result.stderr.splitlines()[0] == "error: package/model_repository/model/1/model.onnx: model file missing"
    shutil.rmtree(repo / "tokenizer/1")
    result = run_cli("package", "check", package_copy, "--no-hashes")
    assert "error: package/model_repository/model/1/model.onnx: model file missing" in result.stderr
    assert "package/model_repository/tokenizer: no version folder (expected tokenizer/1/)" in result.stderr


def test_files_changed_after_packaging_are_caught(package_copy):
    with open(package_copy / "model_repository/tokenizer/1/tokenizer.json", "a") as fh:
        fh.write(" ")
    (package_copy / "model_repository/model/1/notes.txt").write_text("added")
    result = run_cli("package", "check", package_copy)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: package/model_repository/tokenizer/1/tokenizer.json: sha256 differs from manifest.json (the file changed after packaging)")
    assert "package/model_repository/model/1/notes.txt: not listed in manifest.json (added after packaging)" in result.stderr


def test_bare_repository_with_a_target(package_copy):
    result = run_cli("package", "check", package_copy / "model_repository", "--target", "gpu")
    assert result.exit_code == 0, result.output
    assert "valid (4 models, target gpu)" in result.stdout


def test_serve_refuses_a_malformed_repository_before_starting_triton(package_copy):
    _edit(package_copy / "model_repository/tokenizer/config.pbtxt", 'name: "tokenizer"', 'name: "tok"')
    result = run_cli("serve", package_copy, "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(
        "error: package/model_repository/tokenizer/config.pbtxt: field 'name': \"tok\" does not match its folder 'tokenizer'")


def test_not_a_repository(tmp_path):
    result = run_cli("package", "check", tmp_path / "nope")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: repository not found: {tmp_path / 'nope'}"
    (tmp_path / "empty").mkdir()
    result = run_cli("package", "check", tmp_path / "empty")
    assert result.stderr.splitlines()[0] == "error: empty: no model folders"
