"""The layout a newcomer navigates: faces named like the commands, a docstring'd __init__ per stage, one did_you_mean."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from toolkit.suggest import closest, did_you_mean

TOOLKIT = ROOT / "toolkit"


def _packages():
    return sorted(p for p in TOOLKIT.iterdir() if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py")))


@pytest.mark.parametrize("folder", _packages(), ids=lambda p: p.name)
def test_every_stage_package_says_what_it_holds(folder):
    init = folder / "__init__.py"
    assert init.exists(), f"toolkit/{folder.name}/ has no __init__.py"
    doc = importlib.import_module(f"toolkit.{folder.name}").__doc__ or ""
    assert len(doc.strip()) > 40, f"toolkit/{folder.name}/__init__.py needs a docstring saying what it holds"


@pytest.mark.parametrize("face, impl, names", [
    ("toolkit.plan", "toolkit.planner", ["make_plan", "load_inputs", "PlanResult"]),
    ("toolkit.run", "toolkit.pipeline.runner", ["run_pipeline", "RunOptions", "RunResult", "summary"]),
    ("toolkit.prices", "toolkit.pricing", ["load_catalog", "Catalog"]),
    ("toolkit.prices", "toolkit.pricing.refresh", ["refresh_prices"]),
    ("toolkit.deploy", "toolkit.deploy.emit", ["emit_stack"]),
    ("toolkit.package", "toolkit.package.builder", ["build_package", "PackageOptions"]),
])
def test_faces_named_like_the_commands_reexport_the_entry_points(face, impl, names):
    face_mod, impl_mod = importlib.import_module(face), importlib.import_module(impl)
    for name in names:
        assert getattr(face_mod, name) is getattr(impl_mod, name), (face, name)
    with pytest.raises(AttributeError):
        face_mod.no_such_name  # noqa: B018


def test_faces_import_nothing_until_used():
    code = (
        "import sys\nimport toolkit.cli, toolkit.plan, toolkit.run, toolkit.prices, toolkit.deploy, toolkit.package\n"
        "heavy = ['numpy', 'toolkit.planner.api', 'toolkit.pipeline.runner', 'toolkit.pricing', 'toolkit.deploy.emit', 'toolkit.package.builder']\n"
        "print('LOADED=' + ','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED="


def test_did_you_mean_suggests_the_closest_or_nothing():
    assert did_you_mean("spek", ["spec", "plan"]) == "; did you mean 'spec'?"
    assert did_you_mean("zzzz", ["spec", "plan"]) == ""
    assert closest("onnx-int9", ["onnx-fp32", "onnx-int8"]) == "onnx-int8"
    # the cutoff decides how far a suggestion may be: 0.6 is difflib's default, used by most messages
    assert closest("chk", ["check"], cutoff=0.5) == "check"
    assert closest("chk", ["check"], cutoff=0.8) is None
