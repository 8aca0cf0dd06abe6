"""Global options and the newcomer's path: --json anywhere (errors as JSON too), -V agreeing with `version`,
help at the terminal's width and without pointers to files a pip install lacks, Ctrl-C's message, the natural
order of instance sizes, and `deploy --stack` refusing to write into an installed wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE_SPEC, ROOT, run_cli
from tests.foundation.test_cli import _all_commands


def test_json_is_accepted_after_the_subcommand():
    before = run_cli("--json", "spec", "check", EXAMPLE_SPEC)
    after = run_cli("spec", "check", EXAMPLE_SPEC, "--json")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout)
    prices = run_cli("prices", "show", "--json", "--platform", "sagemaker-serverless", "--region", "us-east-1")
    assert prices.exit_code == 0, prices.output
    assert {r["platform"] for r in json.loads(prices.stdout)["prices"]} == {"sagemaker-serverless"}
    assert run_cli("report", "diff", "--json", "--help").exit_code == 0  # groups and their default commands too


def test_with_json_an_error_is_also_a_json_object_on_stdout(tmp_path):
    missing = tmp_path / "nope.yaml"
    for args in (["--json", "spec", "check", missing], ["spec", "check", missing, "--json"]):
        result = run_cli(*args)
        assert result.exit_code == 2
        hint = "check the path (relative paths are resolved from the current folder)"
        assert result.stderr.splitlines() == [f"error: spec file not found: {missing}", f"hint: {hint}"]
        assert json.loads(result.stdout) == {"error": f"spec file not found: {missing}", "hint": hint, "exit_code": 2}
    usage = run_cli("--json", "plan", EXAMPLE_SPEC, "--variants", tmp_path, "--top", "0")
    assert usage.exit_code == 2
    assert json.loads(usage.stdout) == {"error": "Invalid value for '--top': 0 is not in the range 1<=x<=50.",
                                        "hint": "see `cli plan --help` for the usage and examples", "exit_code": 2}
    assert run_cli("spec", "check", missing).stdout == ""  # without --json, stdout stays empty


def test_an_error_after_a_json_result_keeps_stdout_one_document(capsys):
    from toolkit.cli import output
    from toolkit.errors import InfeasibleError

    def infeasible():
        output.emit({"feasible": False})
        raise InfeasibleError("nothing meets the SLA", hint="relax it")

    assert output.handle_errors(infeasible, as_json=True) == 3
    out = capsys.readouterr()
    assert json.loads(out.out) == {"feasible": False}
    assert out.err.splitlines() == ["error: nothing meets the SLA", "hint: relax it"]


def test_report_diff_json_with_a_tripped_gate_prints_one_document(monkeypatch):
    from toolkit.errors import GateFailed
    from toolkit.report import api

    class Diff:
        warnings: list = []
        summary = "cost up"

    def tripped(d):
        raise GateFailed("the monthly cost rises by $263.27", hint="make the plan cheaper")

    monkeypatch.setattr(api, "diff_plans", lambda old, new, fail_above_usd=None: Diff())
    monkeypatch.setattr(api, "write_diff", lambda d, fmt, out: '{"delta_usd": 263.27}\n')
    monkeypatch.setattr(api, "check_gate", tripped)
    result = run_cli("--json", "report", "diff", "a.json", "b.json", "--fail-above", "100")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {"delta_usd": 263.27}
    assert result.stderr.splitlines() == ["error: the monthly cost rises by $263.27", "hint: make the plan cheaper"]


def test_dash_v_and_version_agree():
    short = run_cli("-V")
    long = run_cli("version")
    assert short.exit_code == long.exit_code == 0
    assert short.stdout.strip() == long.stdout.splitlines()[0]


@pytest.mark.parametrize("columns", [150, 70])
def test_help_uses_the_terminal_width(columns):
    """A real process: Click's CliRunner forces 80 columns."""
    env = {**os.environ, "COLUMNS": str(columns)}
    result = subprocess.run([sys.executable, "-m", "toolkit", "plan", "--help"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0
    wrapped = result.stdout.split("Options:")[0].splitlines()  # the description (an epilog's \b blocks keep their lines)
    widest = max(len(line) for line in wrapped)
    assert columns - 12 <= widest <= columns, widest


def test_help_points_to_nothing_a_pip_install_lacks():
    for path, cmd, ctx in _all_commands():
        assert "docs/" not in cmd.get_help(ctx), " ".join(path)


def test_ctrl_c_says_nothing_half_written_and_exits_130(monkeypatch):
    import toolkit.spec as spec_mod

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(spec_mod, "load_spec", interrupted)
    result = run_cli("spec", "check", EXAMPLE_SPEC)
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == ["interrupted; nothing half-written was left behind"]


def test_a_refused_confirmation_still_says_aborted(capsys):
    import click

    from toolkit.cli.output import handle_errors

    def refused():
        raise click.Abort()

    assert handle_errors(refused) == 130
    assert capsys.readouterr().err == "aborted\n"


def test_instance_sizes_sort_naturally():
    from toolkit.cli.prices_cmd import size_key

    names = ["ml.g5.12xlarge", "ml.c5.xlarge", "ml.g5.2xlarge", "ml.c5.large", "ml.g5.48xlarge", "ml.c5.metal", "ml.c5.2xlarge",
             "ml.g5.xlarge", "ml.c5.4xlarge", "ml.c5.medium", "ml.g5.4xlarge", "ml.c5.9xlarge"]
    assert sorted(names, key=size_key) == ["ml.c5.medium", "ml.c5.large", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge", "ml.c5.9xlarge",
                                           "ml.c5.metal", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge"]


def test_prices_show_lists_sizes_in_natural_order():
    from toolkit.cli.prices_cmd import size_key

    result = run_cli("--json", "prices", "show", "--platform", "sagemaker-realtime", "--region", "us-east-1")
    types = [r["instance_type"] for r in json.loads(result.stdout)["prices"] if r["instance_type"]]
    assert len(types) > 10 and types == sorted(types, key=size_key)
    assert types.index("ml.c5.large") < types.index("ml.c5.xlarge") < types.index("ml.c5.2xlarge") < types.index("ml.c5.4xlarge")
    table = run_cli("prices", "show", "--platform", "sagemaker-realtime", "--region", "us-east-1").stdout
    assert [line.split()[1] for line in table.splitlines()[1:] if line.split()[1].startswith("ml.")] == types


def test_deploy_stack_refuses_to_write_into_an_installed_wheel(tmp_path, monkeypatch):
    """In a wheel install the default Pulumi project is a real folder in site-packages (in a checkout, a link)."""
    from toolkit import assets
    from toolkit.deploy import runner

    installed = runner.init_project(tmp_path / "site-packages" / "toolkit" / "assets" / "infra")
    monkeypatch.setattr(assets, "INFRA", installed)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no Pulumi CLI: nothing could run anyway
    for extra in ([], ["--preview"]):
        result = run_cli("deploy", "plan.json", "--stack", "prod", *extra)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"error: --stack without --infra would write Pulumi stack files into the installed leanserve ({installed})",
            "hint: run `leanserve deploy init infra/` once, then pass --infra infra/ (stack files belong in your repository)"]
    assert sorted(p.name for p in installed.glob("Pulumi.prod*.yaml")) == []
    with_infra = run_cli("deploy", "plan.json", "--stack", "prod", "--infra", installed)
    assert with_infra.exit_code == 1 and "--infra" not in with_infra.stderr  # past the check: Pulumi is missing
