"""README.md's commands, run in order in a temporary folder, as a newcomer would type them (sqlite-utils' docs test
is the model). Each `bash` block line before the command reference is one command. Those that take minutes or need
what a test machine lacks are skipped with the reason below; compress and bench are replaced by stand-ins that write
what they would (the planner fixtures' MiniLM measurements, tiny ONNX models in the variant folders), at the paths
the README gives them, so a later command that reads another path fails here as it would for a reader."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
FIXTURES = ROOT / "tests" / "planner" / "fixtures"

#: commands not run here (by their first words), and why
SKIPPED = {
    "make demo": "minutes of real compress on MiniLM and a real Triton; tests/pipeline/test_run.py runs `run` on a tiny model",
    "make test": "runs this suite",
    "leanserve serve": "serves until Ctrl-C; tests/serve starts and stops a real Triton",
    "leanserve prices refresh": "needs AWS credentials (tests/pricing replays recorded responses)",
    "leanserve run": "minutes of real compress and Triton; tests/pipeline/test_run.py runs it on a tiny model",
    "pip install": "installs packages",
    "eval": "shell completion setup",
    "_LEANSERVE_COMPLETE=fish_source": "shell completion setup",
}
#: commands replaced by a stand-in that writes what the command would, where the command says
STAND_INS = {
    "leanserve compress": "minutes on real MiniLM weights: the planner fixtures' variants.json with tiny ONNX models in its folders",
    "leanserve bench": "needs a real Triton: the planner fixtures' profiles.json, written where --out says",
    "git show": "needs a repository with a committed plan: a copy of the current plan",
}


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    text = text[: text.index("<!-- BEGIN CLI REFERENCE")]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            if shlex.split(line, comments=True):
                commands.append(line)
    return commands


def _key(words: list[str], table: dict[str, str]) -> str | None:
    for n in (3, 2, 1):
        if " ".join(words[:n]) in table:
            return " ".join(words[:n])
    return None


def _option(words: list[str], name: str, default: str | None = None) -> str | None:
    return words[words.index(name) + 1] if name in words else default


@pytest.fixture(scope="module")
def tiny_variants(tmp_path_factory) -> Path:
    from tests.serve.conftest import _build

    return _build(tmp_path_factory.mktemp("tiny"), "feature-extraction")["variants"]


def _compress_stand_in(words: list[str], tiny: Path) -> None:
    """Fixture variants.json (MiniLM's measured quality and latency) whose ONNX variants hold the tiny model's files."""
    from toolkit.spec import load_spec

    out = Path(_option(words, "--out"))
    tiny_data = {v["name"]: v for v in json.loads((tiny / "variants.json").read_text())["variants"]}
    data = json.loads((FIXTURES / "variants.json").read_text())
    data["spec_sha256"] = load_spec(words[2]).sha256
    for v in data["variants"]:
        if v.get("model_file"):
            source = tiny_data["onnx-int8" if v["precision"] == "int8" else "onnx-fp32"]
            v["path"], v["files"] = f"variants/{v['name']}", source["files"]
            shutil.copytree(tiny / source["path"], out / v["path"])
    (out / "variants.json").write_text(json.dumps(data, indent=2))


def _bench_stand_in(words: list[str]) -> None:
    out = Path(_option(words, "--out", "profiles.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / "profiles.json", out)


def _run_leanserve(words: list[str]) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    target = None
    if ">" in words:
        words, target = words[: words.index(">")], words[words.index(">") + 1]
    result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
    assert result.exit_code == 0, f"`{' '.join(words)}` exited {result.exit_code}:\n{result.output}"
    if target:
        Path(target).write_text(result.stdout)


def test_the_readme_flow_works_as_written(tmp_path, monkeypatch, tiny_variants):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    ran, skipped, inited = [], [], set()
    for line in readme_commands():
        words = shlex.split(line, comments=True)
        if "--preview" in words:
            skipped.append((line, "needs the Pulumi CLI and AWS credentials (tests/deploy and tests/infra use Pulumi's mocks)"))
            if "--infra" not in words and "--emit" not in words:
                pytest.fail(f"`{line}`: from a pip install --stack needs --infra DIR (a copy made by `deploy init`)")
            assert Path(_option(words, "--infra")).is_dir(), f"`{line}`: --infra names a folder no earlier step made"
            continue
        if (k := _key(words, SKIPPED)) is not None:
            skipped.append((line, SKIPPED[k]))
        elif (k := _key(words, STAND_INS)) == "leanserve compress":
            _compress_stand_in(words, tiny_variants)
            ran.append(line)
        elif k == "leanserve bench":
            _bench_stand_in(words)
            ran.append(line)
        elif k == "git show":
            source = Path(words[-1] if ">" not in words else words[words.index(">") + 1])
            shutil.copyfile(tmp_path / "out" / "demo" / "plan.json", source)
            ran.append(line)
        elif words[0] == "leanserve":
            if "--emit" in words:  # into the user's copy of the Pulumi project, not the infra/ leanserve ships
                assert Path(_option(words, "--emit")).resolve() in inited, f"`{line}`: --emit into a folder `deploy init` did not make"
            _run_leanserve(words)
            if words[1:3] == ["deploy", "init"]:
                inited.add(Path(words[3]).resolve())
            ran.append(line)
        else:
            pytest.fail(f"README command `{line}` is neither run nor skipped by {Path(__file__).name}: add it to SKIPPED with why")
    firsts = {" ".join(shlex.split(c)[:2]) for c in ran}
    for step in ("leanserve spec", "leanserve package", "leanserve plan", "leanserve deploy", "leanserve report"):
        assert step in firsts, f"the README no longer runs {step}"
    assert any((d / "Pulumi.prod.yaml").is_file() for d in inited)
    print("\n".join(f"skipped: {c}  ({why})" for c, why in skipped))
