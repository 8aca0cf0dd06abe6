"""`leanserve run SPEC`: compress → package → serve+bench → plan → deploy --emit → report, with a stage cache.

Each stage declares the inputs it depends on (spec sections, upstream files' sha256, library and catalog
versions, and a hash of the toolkit code it runs: see ``STAGE_CODE``). When they are unchanged and its
recorded outputs are intact, the stage is a cache hit and is skipped. So a second run with nothing changed
only re-hashes files, and a change of the SLA reruns plan, deploy and report only (the bench repository's
batching does not depend on the SLA; see ``_package_bench``).

Layout of OUT:
    variants.json, variants/        compress
    package/bench/                  the variant benchmarked locally (Triton repository, container, manifest)
    profiles.json                   bench (measured on this machine)
    plan.json                       plan
    package/deploy/                 the chosen variant packaged for the chosen platform (model.tar.gz for SageMaker)
    deploy/Pulumi.<stack>.yaml      deploy --emit (GitOps stack configuration)
    report/report.{md,csv,html,json}
    .leanserve/stages/*.json        the stage cache
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import __version__
from toolkit.fileio import sha256_file
from toolkit.pipeline.cache import StageCache, fingerprint
from toolkit.spec import LoadedSpec

STAGES = ("compress", "package", "bench", "plan", "deploy", "report")


@dataclass
class RunOptions:
    """Knobs of `leanserve run`. The defaults keep the whole demo within minutes on 2 CPU cores."""

    force: tuple[str, ...] = ()  # stages to rerun even on a cache hit ("all" for every stage)
    bench_concurrency: tuple[int, ...] = (1, 4, 16)
    bench_duration_s: float = 6.0
    bench_warmup_s: float = 1.5
    skip_bench: bool = False  # plan from compress's in-process latency only (estimates)


@dataclass
class StageOutcome:
    name: str
    cached: bool
    seconds: float
    detail: str = ""


@dataclass
class RunResult:
    out: Path
    stages: list[StageOutcome] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    plan: object | None = None  # PlanFile
    report: object | None = None  # CostReport
    bench_variant: str | None = None
    warnings: list[str] = field(default_factory=list)


class Display:
    """How the runner reports progress; the CLI passes a rich implementation, tests the silent default."""

    def stage_started(self, name: str, cached: bool) -> None: ...
    def stage_finished(self, outcome: StageOutcome) -> None: ...
    def reporter(self):  # a toolkit.compress.progress.Reporter for long inner work
        from toolkit.compress.progress import NullReporter

        return NullReporter()


def _file_sha(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None


#: The parts of the toolkit each stage runs: a change to their code (not only a new version) reruns the stage.
STAGE_CODE = {
    "compress": ("compress", "artifacts", "spec.py", "fileio.py"),
    "package": ("package", "artifacts"),
    "bench": ("bench", "serve", "artifacts"),
    "plan": ("planner", "perf", "pricing", "artifacts", "traffic.py"),  # the price data is hashed on its own
    "deploy": ("deploy", "package", "artifacts"),
    "report": ("report", "artifacts"),
}


@functools.lru_cache(maxsize=None)
def _code_hash(stage: str) -> str:
    """sha256 over the source files a stage runs (paths and bytes), so an edited toolkit reruns the stage."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for part in STAGE_CODE.get(stage, ()):
        base = root / part
        files = sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if base.is_dir() else [base]
        for f in files:
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _library_versions() -> dict[str, str | None]:
    from toolkit.versions import package_version

    return {p: package_version(p) for p in ("torch", "transformers", "optimum-onnx", "onnxruntime", "onnx", "nvidia-pytriton", "tritonclient")}


def _catalog_version() -> dict[str, str]:
    """sha256 of the embedded price data and of any refreshed prices in the user cache."""
    from toolkit.pricing.cache import default_cache_dir

    data = Path(__file__).resolve().parents[1] / "data"
    files = {f"snapshot/{p.name}": sha256_file(p) for p in sorted(data.glob("*")) if p.is_file()}
    cache = default_cache_dir()
    if cache.is_dir():
        files |= {f"cache/{p.name}": sha256_file(p) for p in sorted(cache.glob("*.csv"))}
    return files


def _model_identity(loaded: LoadedSpec) -> dict:
    """What identifies the source weights: the bundling package's version, or the local files' hashes."""
    from toolkit.spec import BUNDLED_MINILM
    from toolkit.versions import package_version

    src = loaded.spec.model.source
    if src == BUNDLED_MINILM:
        return {"package": BUNDLED_MINILM, "version": package_version(BUNDLED_MINILM)}
    folder = loaded.resolve(src)
    if not folder.is_dir():
        return {"path": str(folder)}  # compress reports the bad path with a proper error
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _bench_variant(variants) -> str:
    """The variant measured locally: the accepted CPU variant with the best measured throughput at the largest shape."""
    from toolkit.errors import InputError

    best, best_rate = None, -1.0
    for v in variants.accepted():
        if "cpu" not in v.devices or not v.model_file:
            continue
        points = sorted(v.latency, key=lambda p: (p.batch * p.seq_len))
        rate = points[-1].items_per_s if points else 0.0
        if rate > best_rate:
            best, best_rate = v.name, rate
    if best is None:
        raise InputError("no accepted CPU variant to benchmark: every variant was rejected by the quality floor",
                         hint="loosen compression.quality_floor or add onnx-int8 / onnx-fp32 to compression.variants")
    return best


def run_pipeline(loaded: LoadedSpec, out: str | Path, options: RunOptions | None = None, display: Display | None = None) -> RunResult:
    """Run (or reuse) every stage for ``loaded`` into ``out`` and return what each did."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.plan import PlanFile
    from toolkit.artifacts.variants import VariantsFile

    options = options or RunOptions()
    display = display or Display()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = StageCache(out)
    result = RunResult(out=out)
    spec = loaded.spec
    force = set(STAGES) if "all" in options.force else set(options.force)
    catalog = _catalog_version()  # hashed once: plan and report both depend on the price data

    def stage(name: str, inputs: dict, outputs: list[Path], work: Callable[[], str]) -> None:
        fp = fingerprint({"stage": name, "tool": __version__, "code": _code_hash(name), **inputs})
        hit = None if name in force else cache.lookup(name, fp)
        display.stage_started(name, cached=hit is not None)
        t0 = time.perf_counter()
        if hit is not None:
            outcome = StageOutcome(name, True, time.perf_counter() - t0, "unchanged inputs; reused")
        else:
            cache.invalidate(name)
            detail = work()
            outcome = StageOutcome(name, False, time.perf_counter() - t0, detail)
            cache.record(name, fp, outputs, outcome.seconds)
        result.stages.append(outcome)
        display.stage_finished(outcome)

    # 1. compress ---------------------------------------------------------------------------------
    variants_json = out / "variants.json"

    def do_compress() -> str:
        from toolkit.compress import build_variants

        vf = build_variants(loaded, out, spec.compression.variants, display.reporter())
        acc = [v.name for v in vf.accepted()]
        return f"{len(acc)} accepted of {len(vf.variants) - 1}: {', '.join(acc)}"

    stage("compress", {"model": spec.model.model_dump(mode="json"), "compression": spec.compression.model_dump(mode="json"),
                       "weights": _model_identity(loaded), "libraries": _library_versions()},
          [variants_json, out / "variants"], do_compress)
    variants = load_artifact(VariantsFile, variants_json)
    result.files["variants"] = variants_json

    # 2. package the variant benchmarked here ------------------------------------------------------
    bench_variant = _bench_variant(variants)
    result.bench_variant = bench_variant
    bench_pkg = out / "package" / "bench"

    def do_package_bench() -> str:
        from toolkit.package.builder import PackageOptions, build_package

        # No spec: the bench repository uses the default batching budget, so its measurements (and this cache
        # entry) do not change when only the SLA does. The deployed package derives batching from the SLA.
        res = build_package(out, bench_variant, bench_pkg, PackageOptions(target="cpu"))
        result.warnings.extend(w for w in res.warnings if not w.startswith("no --spec"))
        return f"{bench_variant} → {bench_pkg.relative_to(out)} (cpu)"

    stage("package", {"variants": _file_sha(variants_json), "variant": bench_variant}, [bench_pkg], do_package_bench)

    # 3. serve + bench ------------------------------------------------------------------------------
    profiles_json = out / "profiles.json"
    if options.skip_bench:
        profiles_json.unlink(missing_ok=True)
        cache.invalidate("bench")
    else:
        def do_bench() -> str:
            from toolkit.bench import BenchOptions, run_bench, write_profiles

            opts = BenchOptions(concurrency=list(options.bench_concurrency), duration_s=options.bench_duration_s,
                                warmup_s=options.bench_warmup_s, variant=bench_variant, seed=spec.compression.seed)
            res = run_bench(str(bench_pkg), opts, loaded)
            profiles_json.unlink(missing_ok=True)  # one run, one profile: no stale curves from other packages
            write_profiles(res, profiles_json)
            result.warnings.extend(res.warnings)
            p = res.profile
            best = max((pt.throughput_rps for pt in p.points), default=0.0)
            return f"{len(p.points)} load points, up to {best:.0f} req/s on {p.machine.describe()}"

        from toolkit.artifacts.common import MachineInfo

        stage("bench", {"package": _file_sha(bench_pkg / "manifest.json"), "machine": MachineInfo.local().model_dump(mode="json"),
                        "concurrency": list(options.bench_concurrency), "duration_s": options.bench_duration_s,
                        "warmup_s": options.bench_warmup_s, "seed": spec.compression.seed},
              [profiles_json], do_bench)
        result.files["profiles"] = profiles_json

    # 4. plan ----------------------------------------------------------------------------------------
    plan_json = out / "plan.json"

    def do_plan() -> str:
        from toolkit.artifacts import save_artifact
        from toolkit.artifacts.profiles import ProfilesFile
        from toolkit.planner.api import make_plan

        profiles = load_artifact(ProfilesFile, profiles_json) if profiles_json.exists() else None
        res = make_plan(loaded, variants, profiles, strategy="fast", top=5)
        save_artifact(res.plan, plan_json)
        result.warnings.extend(res.warnings)
        c = res.plan.chosen
        if c is None:
            return "infeasible: nothing meets the SLA and budget"
        return f"{c.variant} on {c.platform} {c.instance_type or ''} ${c.monthly_cost_usd:,.0f}/month".replace("  ", " ")

    trace_sha = None
    if spec.traffic.pattern.kind == "trace":
        trace_sha = _file_sha(loaded.resolve(spec.traffic.pattern.file))
    stage("plan", {"spec": loaded.sha256, "trace": trace_sha, "variants": _file_sha(variants_json),
                   "profiles": _file_sha(profiles_json), "catalog": catalog},
          [plan_json], do_plan)
    plan = load_artifact(PlanFile, plan_json)
    result.plan = plan
    result.files["plan"] = plan_json
    if plan.chosen is None:
        return result  # the CLI reports the nearest misses and exits 3

    # 5. deploy --emit: package the chosen variant for its platform, then write the stack config --------
    deploy_pkg = out / "package" / "deploy"
    deploy_dir = out / "deploy"

    def do_deploy() -> str:
        from toolkit.deploy.emit import emit_stack
        from toolkit.package.builder import PackageOptions, build_package

        c = plan.chosen
        target = "sagemaker" if c.platform.startswith("sagemaker") else ("gpu" if _is_gpu(c.instance_type) else "cpu")
        res = build_package(out, c.variant, deploy_pkg, PackageOptions(target=target, region=c.region), spec=loaded)
        result.warnings.extend(w for w in res.warnings if "spec differs" not in w)
        model_tar = deploy_pkg / "model.tar.gz"
        # Kubernetes pulls the image built from package/deploy/container/; its tag names the package content.
        image = None if target == "sagemaker" else f"{spec.name}-triton:{sha256_file(deploy_pkg / 'manifest.json')[:12]}"
        onnx = res.manifest.files.get("model_repository/model/1/model.onnx")
        emitted = emit_stack(plan_json, deploy_dir, spec.name, model_path=model_tar if model_tar.exists() else None, image=image,
                             model_sha256=onnx.sha256 if onnx else None)
        return f"{c.variant} packaged for {target}; {emitted.path.relative_to(out)}"

    stage("deploy", {"plan": _file_sha(plan_json), "variants": _file_sha(variants_json)}, [deploy_pkg, deploy_dir], do_deploy)
    result.files["package"] = deploy_pkg
    result.files["stack"] = next(deploy_dir.glob("Pulumi.*.yaml"), deploy_dir)

    # 6. report ---------------------------------------------------------------------------------------
    report_dir = out / "report"

    def do_report() -> str:
        from toolkit.report import write_reports

        _, paths = write_reports(plan_json, out_dir=report_dir)
        return ", ".join(p.name for p in paths.values())

    stage("report", {"plan": _file_sha(plan_json), "catalog": catalog}, [report_dir], do_report)
    from toolkit.report import make_report

    result.report = make_report(plan_json)
    result.files["report"] = report_dir
    return result


def _is_gpu(instance_type: str | None) -> bool:
    if not instance_type:
        return False
    from toolkit.pricing import load_catalog

    try:
        info = load_catalog(warn=lambda *_: None).instance(instance_type)
    except Exception:  # an unknown type is reported by deploy's own checks
        return False
    return bool(info.accelerator)


def summary(result: RunResult) -> dict:
    """The end-of-run summary as JSON-able data (the CLI renders it)."""
    plan = result.plan
    data: dict = {
        "out": str(result.out),
        "stages": [{"stage": s.name, "cached": s.cached, "seconds": round(s.seconds, 2), "detail": s.detail} for s in result.stages],
        "files": {k: str(v) for k, v in result.files.items()},
        "bench_variant": result.bench_variant,
        "warnings": sorted(set(result.warnings)),
    }
    if plan is None:
        return data
    data["feasible"] = plan.feasible
    c = plan.chosen
    if c is not None:
        data["chosen"] = {
            "variant": c.variant, "platform": c.platform, "region": c.region, "instance_type": c.instance_type,
            "serverless": c.serverless.model_dump(mode="json") if c.serverless else None,
            "autoscaling": c.autoscaling.model_dump(mode="json") if c.autoscaling else None,
            "monthly_cost_usd": c.monthly_cost_usd, "cost_per_million_requests_usd": c.cost_per_million_requests_usd,
            "violation_minutes": c.simulation.violation_minutes,
            "capacity_provenance": c.capacity_provenance.model_dump(mode="json") if c.capacity_provenance else None,
        }
        savings = {}
        for name in ("static_peak", "single_gpu_default"):
            b = getattr(plan.baselines, name)
            if b is not None and b.monthly_cost_usd > 0:
                savings[name] = {"monthly_cost_usd": b.monthly_cost_usd, "violation_minutes": b.simulation.violation_minutes,
                                 "savings_pct": round(100 * (1 - c.monthly_cost_usd / b.monthly_cost_usd), 1)}
        data["baselines"] = savings
    data["estimates"] = list(getattr(plan, "estimates", []) or [])
    return data


def summary_json(result: RunResult) -> str:
    return json.dumps(summary(result), indent=2, default=str)
