"""The CLI shell: lazy commands, help text on every command, global options, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import click

from tests.conftest import EXAMPLE_SPEC, ROOT, run_cli
from toolkit import __version__


HEAVY = ["torch", "transformers", "onnxruntime", "onnx", "pulumi", "pulumi_aws", "boto3", "botocore", "matplotlib", "optimum", "tritonclient", "numpy"]


def test_help_imports_no_heavy_package():
    code = (
        "import sys; from toolkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "Commands" in out.stdout  # the help really ran
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", out.stdout.strip().splitlines()[-1]


def test_python_dash_m_works_like_the_console_script():
    out = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    assert __version__ in out.stdout


def _all_commands():
    from toolkit.cli import cli

    def walk(cmd, path, parent):
        ctx = click.Context(cmd, info_name=path[-1], parent=parent)
        yield path, cmd, ctx
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                yield from walk(cmd.get_command(ctx, name), path + [name], ctx)

    return list(walk(cli, ["leanserve"], None))


def test_every_command_has_help_text():
    missing = [" ".join(p) for p, cmd, _ in _all_commands() if not (cmd.help or "").strip()]
    assert missing == []


def test_every_command_help_runs():
    for path, _, _ in _all_commands():
        result = run_cli(*path[1:], "--help")
        assert result.exit_code == 0, (path, result.output)


def test_unknown_command_suggests_the_closest():
    result = run_cli("spek")
    assert result.exit_code == 2
    assert "did you mean 'spec'" in result.output


def test_version_json():
    result = run_cli("--json", "version")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["leanserve"] == __version__
    assert "onnxruntime" in data["packages"]


def test_shell_completion_script_is_generated():
    env = {"_LEANSERVE_COMPLETE": "bash_source"}
    out = subprocess.run([sys.executable, "-m", "toolkit"], capture_output=True, text=True, cwd=ROOT, env={**__import__("os").environ, **env})
    assert out.returncode == 0
    assert "_LEANSERVE_COMPLETE" in out.stdout and "complete" in out.stdout


def test_internal_errors_have_no_traceback_without_debug(monkeypatch):
    import toolkit.spec as spec_mod

    def boom(path):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(spec_mod, "load_spec", boom)
    result = run_cli("spec", "check", str(EXAMPLE_SPEC))
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("--debug", "spec", "check", str(EXAMPLE_SPEC))
    assert "Traceback" in result.stderr


def test_usage_errors_use_the_one_line_error_and_hint_form():
    result = run_cli("plan", "examples/minilm/leanserve.yaml", "--variants", "out", "--top", "0")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: Invalid value for '--top': 0 is not in the range 1<=x<=50.",
                                          "hint: see `cli plan --help` for the usage and examples"]


def test_a_typo_of_a_subcommand_is_not_taken_for_a_file_name():
    for args, typo, meant in ((["package", "chek", "out/pkg"], "chek", "check"), (["deploy", "aply", "plan.json"], "aply", "apply")):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[0] == f"error: '{typo}' is neither a file nor a command; did you mean '{meant}'?"
