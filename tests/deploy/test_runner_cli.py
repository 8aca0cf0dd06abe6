"""`deploy --stack`, `deploy status`, `deploy destroy`: Pulumi's Automation API needs the Pulumi CLI.

No Pulumi CLI can be installed on this machine, so the tests run the commands without one (the real
failure users see) and, for what happens once the CLI is there, replace the two functions that
reach it (`pulumi_cli`, `select_stack`) with a fake stack. Everything else is the real code path.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.conftest import run_cli
from toolkit.deploy import runner

MISSING = [
    "error: the Pulumi CLI is not on PATH (`leanserve deploy --stack` runs it through Pulumi's Automation API)",
    "hint: install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or see https://www.pulumi.com/docs/iac/download-install/), "
    "or write the stack file with `leanserve deploy PLAN --emit infra/` and run pulumi in CI",
]


@pytest.fixture
def no_pulumi(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", "plan.json", "--stack", "prod"],
        ["deploy", "plan.json", "--stack", "prod", "--preview"],
        ["deploy", "status", "--stack", "prod"],
        ["deploy", "destroy", "--stack", "prod", "--yes"],
    ],
)
def test_without_the_pulumi_cli_each_command_fails_with_one_line_and_a_hint(no_pulumi, args):
    result = run_cli(*args)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == MISSING


def test_deploy_stack_writes_nothing_when_pulumi_is_missing(no_pulumi, write_plan, tmp_path):
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "Pulumi.yaml").write_text("name: leanserve\nruntime: python\n")
    result = run_cli("deploy", write_plan(), "--stack", "prod", "--infra", infra)
    assert result.exit_code == 1
    assert not (infra / "Pulumi.prod.yaml").exists()


class FakeStack:
    """Stands in for pulumi.automation.Stack (it would drive the Pulumi CLI, which cannot run here)."""

    def __init__(self):
        self.calls = []

    def preview(self, on_output=None):
        self.calls.append("preview")
        on_output and on_output("Previewing update (prod)\n")
        return SimpleNamespace(change_summary={"create": 17})

    def up(self, on_output=None):
        self.calls.append("up")
        out = {"endpointName": SimpleNamespace(value="minilm-embeddings-prod", secret=False)}
        return SimpleNamespace(summary=SimpleNamespace(result="succeeded", resource_changes={"create": 17}), outputs=out)

    def destroy(self, on_output=None):
        self.calls.append("destroy")
        return SimpleNamespace(summary=SimpleNamespace(result="succeeded", resource_changes={"delete": 17}))

    def info(self):
        return SimpleNamespace(kind="update", result="succeeded", start_time="2025-01-01 00:00:00", end_time="2025-01-01 00:09:00", resource_changes={"create": 17})

    def outputs(self):
        return {"endpointName": SimpleNamespace(value="minilm-embeddings-prod", secret=False), "token": SimpleNamespace(value="x", secret=True)}


@pytest.fixture
def fake_pulumi(monkeypatch, tmp_path):
    stack = FakeStack()
    selected = {}
    monkeypatch.setattr(runner, "pulumi_cli", lambda: "/usr/local/bin/pulumi")

    def select(name, work_dir):
        selected.update(name=name, work_dir=work_dir)
        return stack

    monkeypatch.setattr(runner, "select_stack", select)
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "Pulumi.yaml").write_text("name: leanserve\nruntime: python\n")
    return SimpleNamespace(stack=stack, selected=selected, infra=infra)


def test_preview_writes_the_stack_file_then_previews(fake_pulumi, write_plan, package):
    result = run_cli("--json", "deploy", write_plan(), "--stack", "prod", "--preview", "--infra", fake_pulumi.infra, "--model", package)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"] == {"create": 17}
    assert "Previewing update (prod)" in result.stderr
    assert fake_pulumi.stack.calls == ["preview"]
    assert (fake_pulumi.infra / "Pulumi.prod.yaml").is_file()
    assert fake_pulumi.selected == {"name": "prod", "work_dir": fake_pulumi.infra}


def test_up_reports_outputs(fake_pulumi, write_plan, package):
    result = run_cli("deploy", write_plan(), "--stack", "prod", "--infra", fake_pulumi.infra, "--model", package)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["stack prod: up — create 17", "  endpointName = minilm-embeddings-prod"]


def test_status_masks_secrets(fake_pulumi):
    result = run_cli("--json", "deploy", "status", "--stack", "prod", "--infra", fake_pulumi.infra)
    data = json.loads(result.stdout)
    assert data["outputs"] == {"endpointName": "minilm-embeddings-prod", "token": "[secret]"}
    assert data["last_update"]["result"] == "succeeded"


def test_destroy_asks_first(fake_pulumi):
    result = run_cli("deploy", "destroy", "--stack", "prod", "--infra", fake_pulumi.infra, input="n\n")
    assert "Destroy stack 'prod' and all its resources" in result.stderr
    assert result.exit_code == 130 and fake_pulumi.stack.calls == []
    result = run_cli("deploy", "destroy", "--stack", "prod", "--infra", fake_pulumi.infra, input="y\n")
    assert result.exit_code == 0 and fake_pulumi.stack.calls == ["destroy"]
    assert result.stdout.strip() == "stack prod: destroyed (delete 17)"


def test_destroy_yes_does_not_ask(fake_pulumi):
    result = run_cli("deploy", "destroy", "--stack", "prod", "--infra", fake_pulumi.infra, "--yes")
    assert result.exit_code == 0 and "Destroy stack" not in result.stderr
    assert fake_pulumi.stack.calls == ["destroy"]


def test_infra_folder_without_a_project(fake_pulumi, tmp_path):
    result = run_cli("deploy", "status", "--stack", "prod", "--infra", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: no Pulumi project (Pulumi.yaml) in {tmp_path}"


def test_the_default_infra_folder_is_this_checkouts():
    from toolkit.assets import INFRA

    assert runner.infra_dir() == INFRA and (INFRA / "__main__.py").is_file()


def test_init_copies_the_pulumi_project_to_keep_in_a_repository(tmp_path):
    dest = tmp_path / "infra"
    result = run_cli("--json", "deploy", "init", dest)
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    for rel in ("Pulumi.yaml", "__main__.py", "leanserve_infra/sagemaker_endpoint.py", "Pulumi.cpu.yaml"):
        assert rel in files and (dest / rel).is_file()
    assert not [f for f in files if "__pycache__" in f]
    assert runner.infra_dir(dest) == dest


def test_init_refuses_a_folder_that_already_has_files_and_changes_nothing(tmp_path):
    dest = tmp_path / "infra"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    result = run_cli("deploy", "init", dest)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {dest} already exists and is not an empty folder"
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]


def test_stack_commands_warn_when_they_would_write_into_the_installed_package(no_pulumi, tmp_path, monkeypatch):
    """In a wheel install the default project is a real folder in site-packages (in a checkout, a link to infra/)."""
    from toolkit import assets

    installed = runner.init_project(tmp_path / "site-packages-infra")
    monkeypatch.setattr(assets, "INFRA", installed)
    result = run_cli("deploy", "status", "--stack", "prod")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"warning: using the Pulumi project inside the installed leanserve ({installed})")
    assert "leanserve deploy init infra/" in result.stderr
    assert lines[-2:] == MISSING
    assert "warning" not in run_cli("deploy", "status", "--stack", "prod", "--infra", installed).stderr
