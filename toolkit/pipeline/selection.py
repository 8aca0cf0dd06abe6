"""Which variants `leanserve run` benchmarks: the ones that can win.

A first plan from compress's measurements alone (every capacity an estimate) names the cheapest configuration.
Its variant is benchmarked, and so is every other variant whose best configuration costs no more than the top of
that winner's cost band (at least :data:`TIE_MARGIN` above its cost: at this size prices move in instance-sized
steps and estimates are rough), up to :data:`MAX_BENCH` variants. The plan is then made again with the measured
profiles; if it chooses a variant that was not benchmarked, that one is benchmarked too and the plan made once more
(the runner does this; see :meth:`BenchSelection.add`).

Only variants that run on a CPU here can be benchmarked here (a GPU-only variant stays an estimate). When none of
the plan's candidates can, the variant with the best in-process throughput is benchmarked as a check of the package
on a real Triton, and the selection says that its figures inform no candidate the plan could choose.

The selection is written to ``OUT/bench/selection.json`` (:class:`BenchSelection`), a cached stage of its own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from toolkit.errors import InputError

SCHEMA_VERSION = 1
MAX_BENCH = 3  # variants benchmarked by one run: about 30 s each on 2 cores with the default load points
TIE_MARGIN = 0.10  # a runner-up within 10% of the winner's cost can win once measured
SCREEN_TOP = 20  # configurations ranked by the estimate-only plan (runners-up of other variants are among them)


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str
    reason: str


class ScreenChoice(BaseModel):
    """What the estimate-only plan chose (every figure estimated from compress's in-process latency)."""

    model_config = ConfigDict(extra="forbid")

    variant: str
    platform: str
    instance_type: str | None = None
    monthly_cost_usd: float
    limit_usd: float = Field(description="Variants whose best configuration costs at most this were benchmarked.")


class BenchSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    screen: ScreenChoice | None = Field(default=None, description="None when nothing met the SLA on estimates alone.")
    picks: list[Pick] = Field(default_factory=list, description="Variants to benchmark, in order, with why.")
    not_benchable: list[str] = Field(default_factory=list, description="Candidates' variants that cannot run here, with why.")
    check_only: bool = Field(default=False, description="True when no variant the plan could choose can be benchmarked here.")

    @property
    def variants(self) -> list[str]:
        return [p.variant for p in self.picks]

    def add(self, variant: str, reason: str) -> bool:
        if variant in self.variants:
            return False
        self.picks.append(Pick(variant=variant, reason=reason))
        return True


def benchable(variants) -> dict[str, str | None]:
    """Accepted variants → None if this machine can benchmark it, else why not."""
    out: dict[str, str | None] = {}
    for v in variants.accepted():
        if not v.model_file:
            out[v.name] = "no ONNX model (the torch reference)"
        elif "cpu" not in v.devices:
            out[v.name] = f"runs on {'/'.join(v.devices)} only; this machine benchmarks CPU packages"
        else:
            out[v.name] = None
    return out


def best_local_throughput(variants) -> str:
    """The accepted CPU variant with the best in-process throughput at the largest measured shape."""
    best, best_rate = None, -1.0
    ok = benchable(variants)
    for v in variants.accepted():
        if ok.get(v.name) is not None:
            continue
        points = sorted(v.latency, key=lambda p: (p.batch * p.seq_len))
        rate = points[-1].items_per_s if points else 0.0
        if rate > best_rate:
            best, best_rate = v.name, rate
    if best is None:
        raise InputError("no accepted CPU variant to benchmark: every variant was rejected by the quality floor",
                         hint="loosen compression.quality_floor or add onnx-int8 / onnx-fp32 to compression.variants")
    return best


def select_from_plan(plan, variants, max_bench: int | None = None) -> BenchSelection:
    """The variants of ``plan`` (a PlanFile made without profiles) worth benchmarking; see the module docstring."""
    max_bench = max_bench or MAX_BENCH
    ok = benchable(variants)
    sel = BenchSelection()
    seen_unbenchable: set[str] = set()

    def consider(variant: str, reason: str) -> None:
        if len(sel.picks) >= max_bench:
            return
        why_not = ok.get(variant, "not an accepted variant")
        if why_not is not None:
            if variant not in seen_unbenchable:
                seen_unbenchable.add(variant)
                sel.not_benchable.append(f"{variant}: {why_not}")
            return
        sel.add(variant, reason)

    c = plan.chosen
    if c is not None:
        ends = c.cost_band_ends()
        dear = ends[1].monthly_cost_usd if ends else c.monthly_cost_usd
        limit = round(max(dear, c.monthly_cost_usd * (1 + TIE_MARGIN)), 2)
        sel.screen = ScreenChoice(variant=c.variant, platform=c.platform, instance_type=c.instance_type,
                                  monthly_cost_usd=c.monthly_cost_usd, limit_usd=limit)
        consider(c.variant, f"chosen by the plan from compress's estimates (${c.monthly_cost_usd:,.2f}/month)")
        for r in sorted(plan.runners_up, key=lambda r: r.monthly_cost_usd):
            if r.variant != c.variant and r.monthly_cost_usd <= limit:
                consider(r.variant, f"runner-up at ${r.monthly_cost_usd:,.2f}/month, within ${limit:,.2f} (the winner's cost band, "
                                    f"at least +{TIE_MARGIN:.0%}): it can win once measured")
    else:
        for m in plan.nearest_misses:
            consider(m.variant, "nearest miss of the estimate-only plan: a measurement may bring it within the SLA")
    if not sel.picks:
        sel.check_only = True
        sel.add(best_local_throughput(variants), "no variant the plan could choose runs on this machine's CPU: benchmarked as a "
                                                 "check of the package on a real Triton only (its figures inform no candidate chosen)")
    return sel


def screen(loaded, variants, max_bench: int | None = None) -> tuple[BenchSelection, list[str]]:
    """Plan from compress's measurements alone and select the variants to benchmark. Returns (selection, warnings)."""
    from toolkit.planner.api import make_plan

    res = make_plan(loaded, variants, None, strategy="fast", top=SCREEN_TOP)
    return select_from_plan(res.plan, variants, max_bench), res.warnings
