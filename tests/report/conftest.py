"""Fixtures for the report tests: plan.json files written from the builders in tests/report/plans.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.plans import make_plan
from toolkit.artifacts.common import save_artifact


@pytest.fixture(autouse=True)
def default_price_age(monkeypatch):
    """Reports judge staleness with the default threshold unless a test sets LEANSERVE_PRICE_MAX_AGE_DAYS."""
    monkeypatch.delenv("LEANSERVE_PRICE_MAX_AGE_DAYS", raising=False)


@pytest.fixture
def write_plan(tmp_path: Path):
    """write_plan(name, **make_plan_args) -> path of a plan.json in its own folder under tmp_path."""

    def write(name: str = "plan", **kwargs) -> Path:
        return save_artifact(make_plan(**kwargs), tmp_path / name / "plan.json")

    return write


@pytest.fixture
def plan_path(write_plan) -> Path:
    return write_plan()


# --- plans made by the real planner: a purchase section, and a generative plan -----------------------------

SP_HEADER = "instance_type,region,plan,term,payment,usd_per_hour,upfront_fraction,source,sources,as_of,confidence,notes\n"
# TEST FIXTURE rates, not cited prices: the embedded snapshot holds no Savings Plans rate (none could be sourced).
SP_FIXTURE_ROWS = [
    "c7i.large,us-east-1,ec2-instance,1yr,no-upfront,0.0562,0,test,test fixture,2026-12-01,low,made up for the report tests",
    "c7i.large,us-east-1,ec2-instance,1yr,partial-upfront,0.0535,0.5,test,test fixture,2026-12-01,low,made up for the report tests",
    "ml.c6i.large,us-east-1,sagemaker,1yr,no-upfront,0.07,0,test,test fixture,2026-12-01,low,made up for the report tests",
    "ml.c6i.large,us-east-1,sagemaker,1yr,all-upfront,0.066,1,test,test fixture,2026-12-01,low,made up for the report tests",
]
TEN_TIMES = {"traffic.days": 7, "sla.peak_rps": 1500, "traffic.pattern.trough_rps": 150, "budget.max_monthly_usd": None}


@pytest.fixture(scope="session")
def purchase_plans(tmp_path_factory) -> dict[str, Path]:
    """plan.json files from the planner on the example at 10x traffic (>= 4 instances at peak), with fixture Savings Plans rates
    in the user's price cache: 'spot' (Kubernetes, spot above the floor, an EC2 commitment), 'sagemaker' (a SageMaker commitment),
    'on-demand' (the Kubernetes plan with --purchase on-demand spot) and 'no-rate' (no rate in the catalog)."""
    from tests.planner.conftest import PROFILES, VARIANTS, write_spec
    from toolkit.planner import load_inputs, make_plan
    from toolkit.pricing import load_catalog

    root = tmp_path_factory.mktemp("purchase")
    (root / "cache" / "prices").mkdir(parents=True)
    (root / "cache" / "prices" / "savings_plan_rates.csv").write_text(SP_HEADER + "".join(r + "\n" for r in SP_FIXTURE_ROWS))
    k8s = {**TEN_TIMES, "targets.platforms": ["kubernetes"], "targets.allow_spot": True}
    sm = {**TEN_TIMES, "targets.platforms": ["sagemaker-realtime"], "targets.instance_types": ["ml.c6i.large"]}
    cases = {"spot": (k8s, None, True), "sagemaker": (sm, None, True), "on-demand": (k8s, ["on-demand", "spot"], True),
             "no-rate": (sm, None, False)}
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, (changes, purchase, rates) in cases.items():
            mp.setenv("LEANSERVE_CACHE_DIR", str(root / ("cache" if rates else "empty-cache")))
            catalog = load_catalog(warn=lambda m: None)
            folder = root / name
            folder.mkdir()
            loaded, v, p = load_inputs(write_spec(folder, **changes), VARIANTS, PROFILES)
            out[name] = save_artifact(make_plan(loaded, v, p, catalog=catalog, purchase=purchase).plan, folder / "plan.json")
    return out


@pytest.fixture(scope="session")
def llm_plans(tmp_path_factory) -> dict[str, Path]:
    """`leanserve plan` on examples/llama-8b ('all': every family it allows; 'g5': the same spec on g5 only)."""
    import yaml

    from tests.conftest import ROOT, run_cli

    root = tmp_path_factory.mktemp("llm")
    spec = yaml.safe_load((ROOT / "examples" / "llama-8b" / "leanserve.yaml").read_text())
    out = {}
    for name, families in (("all", spec["targets"]["instance_families"]), ("g5", ["g5"])):
        folder = root / name
        folder.mkdir()
        (folder / "leanserve.yaml").write_text(yaml.safe_dump({**spec, "targets": {**spec["targets"], "instance_families": families}}))
        result = run_cli("plan", folder / "leanserve.yaml", "--out", folder / "plan.json")
        assert result.exit_code == 0, result.output
        out[name] = folder / "plan.json"
    return out
