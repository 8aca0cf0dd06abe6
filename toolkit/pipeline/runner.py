"""`leanserve run SPEC`: compress → select → package + serve/bench (per selected variant) → plan → deploy --emit
→ report, with a stage cache.

Each stage declares the inputs it depends on (spec sections, upstream files' sha256, library and catalog
versions, and a hash of the toolkit code it runs: see ``STAGE_CODE``). When they are unchanged and its
recorded outputs are intact, the stage is a cache hit and is skipped. So a second run with nothing changed
only re-hashes files, and a change of the SLA reruns select, plan, deploy and report (the bench repositories'
batching does not depend on the SLA; see ``stages.package_for_bench``), and a bench only if the selection changes.

Which variants are benchmarked: ``selection.py`` (a first plan from compress's estimates; its winner and the
runners-up that can win are benchmarked, the plan is then made from the measurements, and a winner that was not
benchmarked is benchmarked before the plan is made again). A bench with suspect points (``suspect.py``) is used,
warned about and not cached: it runs again next time.

Generative specs (``generative.py``): with weights, the same stages with the streaming LLM package and a short
token-level bench; with ``model.architecture`` only, compress, select, package and bench are skipped (no weights)
and plan, deploy --emit and report run, every figure estimated.

Layout of OUT:
    variants.json, variants/        compress
    bench/selection.json            select: the variants to benchmark and why
    package/bench/<variant>/        each benchmarked variant's package (Triton repository, container, manifest)
    bench/<variant>.json            its bench profile (measured on this machine)
    profiles.json                   the benchmarked variants' profiles, what plan reads
    plan.json                       plan
    package/deploy/                 the chosen variant packaged for the chosen platform and sized for its instance
                                    type (threads, model instances; model.tar.gz for SageMaker)
    deploy/Pulumi.<stack>.yaml      deploy --emit (GitOps stack configuration)
    report/report.{md,csv,html,json}
    run-summary.json                the run's summary (written by the CLI; `make demo` prints all of them at the end)
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

STAGES = ("compress", "select", "package", "bench", "plan", "deploy", "report")


@dataclass
class RunOptions:
    """Knobs of `leanserve run`. The defaults keep the whole demo within minutes on 2 CPU cores."""

    force: tuple[str, ...] = ()  # stages to rerun even on a cache hit ("all" for every stage)
    bench_concurrency: tuple[int, ...] = (1, 4, 16)
    bench_duration_s: float = 6.0
    bench_warmup_s: float = 1.5
    skip_bench: bool = False  # plan from compress's in-process latency only (estimates)
    # generative models: a short token bench (one round about a minute on 2 cores, Triton's start included); the CPU
    # package decodes one request at a time per model instance, so concurrency 2 already shows the queueing
    token_bench_concurrency: tuple[int, ...] = (1, 2)
    token_bench_duration_s: float = 12.0
    token_bench_warmup_s: float = 3.0


@dataclass
class StageOutcome:
    name: str
    cached: bool
    seconds: float
    detail: str = ""
    variant: str | None = None  # package and bench run once per benchmarked variant
    skipped: bool = False  # not run at all (detail says why), e.g. compress for a spec without weights

    @property
    def label(self) -> str:
        return f"{self.name} {self.variant}" if self.variant else self.name


@dataclass
class Done:
    """What a stage's work returns when it has more to say than a one-line detail."""

    detail: str
    cache: bool = True  # False: do not record the stage (it runs again next time)


@dataclass
class RunResult:
    out: Path
    stages: list[StageOutcome] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    plan: object | None = None  # PlanFile
    report: object | None = None  # CostReport
    selection: object | None = None  # select.BenchSelection (None with --skip-bench)
    benched: list[str] = field(default_factory=list)  # variants with a bench profile in profiles.json
    suspect: dict[str, list[str]] = field(default_factory=dict)  # variant -> suspect points of its bench
    warnings: list[str] = field(default_factory=list)
    generative: bool = False  # a text-generation spec (costs per 1M output tokens, the API comparison)
    architecture_only: bool = False  # planned from model.architecture alone: no weights, every figure estimated


class Display:
    """How the runner reports progress; the CLI passes a rich implementation, tests the silent default."""

    def stage_started(self, label: str, cached: bool) -> None: ...
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
    "select": ("planner", "perf", "pricing", "platforms", "families", "artifacts", "traffic.py", "pipeline/selection.py"),
    "bench": ("bench", "serve", "artifacts", "pipeline/suspect.py", "pipeline/generative.py"),
    "plan": ("planner", "perf", "pricing", "platforms", "families", "artifacts", "traffic.py"),  # the price data is hashed on its own
    "deploy": ("deploy", "package", "perf", "platforms", "artifacts", "pipeline/generative.py"),
    "report": ("report", "artifacts"),
}


@functools.cache
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
    from toolkit.spec_generative import DECODER_SOURCES
    from toolkit.versions import package_version

    src = loaded.spec.model.source
    if src == BUNDLED_MINILM or src in DECODER_SOURCES:
        return {"package": src, "version": package_version(src)}
    folder = loaded.resolve(src)
    if folder.is_file():  # a .gguf file
        return {folder.name: sha256_file(folder)}
    if not folder.is_dir():
        return {"path": str(folder)}  # compress reports the bad path with a proper error
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}




class _Stages:
    """Runs a stage, or reuses it when the cache has a record with the same fingerprint and intact outputs."""

    def __init__(self, out: Path, force: set[str], display: Display, result: RunResult):
        self.cache = StageCache(out)
        self.force, self.display, self.result = force, display, result
        self.fingerprints: dict[str, str] = {}

    def run(self, name: str, inputs: dict, outputs: list[Path], work: Callable[[], str | Done], variant: str | None = None) -> StageOutcome:
        key = f"{name}.{variant}" if variant else name
        fp = fingerprint({"stage": name, "tool": __version__, "code": _code_hash(name), "variant": variant, **inputs})
        self.fingerprints[key] = fp
        hit = None if name in self.force else self.cache.lookup(key, fp)
        self.display.stage_started(f"{name} {variant}" if variant else name, cached=hit is not None)
        t0 = time.perf_counter()
        if hit is not None:
            outcome = StageOutcome(name, True, time.perf_counter() - t0, "unchanged inputs; reused", variant)
        else:
            self.cache.invalidate(key)
            done = work()
            done = done if isinstance(done, Done) else Done(done)
            outcome = StageOutcome(name, False, time.perf_counter() - t0, done.detail, variant)
            if done.cache:
                self.cache.record(key, fp, outputs, outcome.seconds)
        self.result.stages.append(outcome)
        self.display.stage_finished(outcome)
        return outcome

    def skip(self, name: str, why: str) -> StageOutcome:
        """A stage that does not apply to this spec: shown (and summarised) as skipped, with why."""
        outcome = StageOutcome(name, False, 0.0, why, skipped=True)
        self.display.stage_started(name, cached=False)
        self.result.stages.append(outcome)
        self.display.stage_finished(outcome)
        return outcome

    def rerecord(self, key: str, outputs: list[Path]) -> None:
        """Record ``key`` again after its outputs were updated outside the stage (same fingerprint)."""
        self.cache.record(key, self.fingerprints[key], outputs, 0.0)


def run_pipeline(loaded: LoadedSpec, out: str | Path, options: RunOptions | None = None, display: Display | None = None) -> RunResult:
    """Run (or reuse) every stage for ``loaded`` into ``out`` and return what each did."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.plan import PlanFile
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.pipeline import stages as S

    options = options or RunOptions()
    display = display or Display()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = RunResult(out=out)
    spec = loaded.spec
    force = set(STAGES) if "all" in options.force else set(options.force)
    st = _Stages(out, force, display, result)
    catalog = _catalog_version()  # hashed once: select, plan and report depend on the price data
    trace_sha = _file_sha(loaded.resolve(spec.traffic.pattern.file)) if spec.traffic.pattern.kind == "trace" else None
    from toolkit.pipeline import generative as G

    result.generative = G.is_generative_spec(loaded)
    if result.generative and spec.model.source is None:  # model.architecture only: nothing to compress, package or bench
        result.architecture_only = True
        return G.run_architecture_only(st, loaded, out, catalog, trace_sha)

    # 1. compress ---------------------------------------------------------------------------------
    variants_json = out / "variants.json"
    st.run("compress", {"model": spec.model.model_dump(mode="json"), "compression": spec.compression.model_dump(mode="json"),
                        "weights": _model_identity(loaded), "libraries": _library_versions()},
           [variants_json, out / "variants"], lambda: S.compress(loaded, out, display.reporter()))
    variants = load_artifact(VariantsFile, variants_json)
    result.files["variants"] = variants_json

    # 2. select, then package + bench each selected variant; 3. plan from the measurements -----------------
    profiles_json = out / "profiles.json"
    plan_json = out / "plan.json"
    plan_inputs = {"spec": loaded.sha256, "trace": trace_sha, "variants": _file_sha(variants_json), "catalog": catalog}

    def plan_stage() -> PlanFile:
        st.run("plan", plan_inputs | {"profiles": _file_sha(profiles_json)}, [plan_json],
               lambda: S.plan(loaded, variants, profiles_json, plan_json, result.warnings))
        return load_artifact(PlanFile, plan_json)

    if options.skip_bench:
        profiles_json.unlink(missing_ok=True)
        plan = plan_stage()
    else:
        selection_json = out / "bench" / "selection.json"
        st.run("select", plan_inputs, [selection_json], lambda: S.select(loaded, variants, selection_json))
        selection = S.read_selection(selection_json)
        result.selection = selection
        done: set[str] = set()
        for _round in range(3):  # the selection, then at most two winners that were not benchmarked
            for name in (v for v in selection.variants if v not in done):
                _bench_one(st, S, loaded, name, options, result)
                done.add(name)
            S.merge_profiles(loaded, [out / "bench" / f"{v}.json" for v in selection.variants], profiles_json)
            result.benched = list(selection.variants)
            plan = plan_stage()
            c = plan.chosen
            if _round == 2 or c is None or c.variant in selection.variants or S.benchable_here(variants, c.variant) is not None:
                break
            selection.add(c.variant, "chosen by the plan from the measurements, not benchmarked yet: benchmarked, then planned again")
            S.write_selection(selection, selection_json)
            st.rerecord("select", [selection_json])
        result.files["profiles"] = profiles_json
    result.plan = plan
    result.files["plan"] = plan_json
    if plan.chosen is None:
        return result  # the CLI reports the nearest misses and exits 3

    # 4. deploy --emit: package the chosen variant for its platform and instance type, then write the stack config
    deploy_pkg, deploy_dir = out / "package" / "deploy", out / "deploy"
    work = G.deploy_work if result.generative else S.deploy
    st.run("deploy", {"plan": _file_sha(plan_json), "variants": _file_sha(variants_json)}, [deploy_pkg, deploy_dir],
           lambda: work(loaded, out, plan, plan_json, deploy_pkg, deploy_dir, result.warnings))
    result.files["package"] = deploy_pkg
    stack = next(deploy_dir.glob("Pulumi.*.yaml"), None)
    if stack is not None:  # an LLM deploy may refuse to emit (and says why in the warnings)
        result.files["stack"] = stack
    return report_stage(st, plan_json, catalog)


def report_stage(st: _Stages, plan_json: Path, catalog: dict) -> RunResult:
    """5. report: the cost report of plan.json (the last stage of every route)."""
    from toolkit.pipeline import stages as S
    from toolkit.report import make_report

    result = st.result
    report_dir = result.out / "report"
    st.run("report", {"plan": _file_sha(plan_json), "catalog": catalog}, [report_dir], lambda: S.report(plan_json, report_dir))
    result.report = make_report(plan_json)
    result.files["report"] = report_dir
    return result


def _bench_one(st: _Stages, S, loaded: LoadedSpec, name: str, options: RunOptions, result: RunResult) -> None:
    """Package ``name`` for a CPU Triton here, and bench it (a suspect bench is not cached)."""
    from toolkit.artifacts.common import MachineInfo
    from toolkit.pipeline import generative as G

    out = st.cache.out
    pkg = out / "package" / "bench" / name
    package_work, bench_work = (G.package_for_bench, G.token_bench) if result.generative else (S.package_for_bench, S.bench)
    st.run("package", {"variants": _file_sha(out / "variants.json")}, [pkg],
           lambda: package_work(out, name, pkg, result.warnings), variant=name)
    prof = out / "bench" / f"{name}.json"
    load = G.bench_load(options) if result.generative else {
        "concurrency": list(options.bench_concurrency), "duration_s": options.bench_duration_s, "warmup_s": options.bench_warmup_s}

    def work() -> Done:
        detail, suspects = bench_work(loaded, out / "variants.json", pkg, prof, options, result.warnings)
        if not suspects:
            result.suspect.pop(name, None)
            return Done(detail)
        result.suspect[name] = suspects
        result.warnings.append(f"bench {name}: {len(suspects)} suspect point(s), left out by the plan and not cached (the bench "
                               f"runs again next time): " + "; ".join(suspects))
        return Done(f"{detail}; {len(suspects)} suspect point(s): not cached", cache=False)

    st.run("bench", {"package": _file_sha(pkg / "manifest.json"), "machine": MachineInfo.local().model_dump(mode="json"),
                     **load, "seed": loaded.spec.compression.seed},
           [prof], work, variant=name)


def summary(result: RunResult) -> dict:
    from toolkit.pipeline.summary import summary as _summary

    return _summary(result)


def summary_json(result: RunResult) -> str:
    return json.dumps(summary(result), indent=2, default=str)
