"""examples/gitops: the workflow runs plan, report diff, deploy --emit and pulumi preview on PRs, pulumi up on main."""

from __future__ import annotations

import shlex

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / "examples" / "gitops" / "leanserve-deploy.yml"


def _steps():
    data = yaml.safe_load(WORKFLOW.read_text())
    (job,) = data["jobs"].values()
    return data, job["steps"]


def test_pull_requests_plan_diff_preview_and_comment():
    data, steps = _steps()
    assert set(data[True]) == {"pull_request", "push"}  # YAML reads the key `on` as True
    runs = "\n".join(s.get("run", "") for s in steps)
    for command in ("leanserve plan", "leanserve report diff", "leanserve deploy", "gh pr comment"):
        assert command in runs
    preview = next(s for s in steps if s.get("with", {}).get("command") == "preview")
    assert "pull_request" in preview["if"] and preview["with"]["work-dir"] == "infra"
    up = next(s for s in steps if s.get("with", {}).get("command") == "up")
    assert "push" in up["if"] and "refs/heads/main" in up["if"]
    assert data["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}


def test_the_deploy_options_the_workflow_uses_exist():
    from toolkit.cli.deploy_cmd import apply

    _, steps = _steps()
    known = {opt for p in apply.params for opt in getattr(p, "opts", [])}
    for step in steps:
        for line in step.get("run", "").splitlines():
            if line.strip().startswith("leanserve deploy"):
                used = {w for w in shlex.split(line.strip()) if w.startswith("--")}
                assert used <= known, used - known
