"""`leanserve run` for generative (text-generation) specs.

Two routes, both through the runner's stage cache (``runner._Stages``):

- **Architecture only** (``model.architecture``, no weights): compress, select, package and bench are skipped
  (the summary says "skipped: no weights (model.architecture)"); plan builds the architecture's variants itself
  (``toolkit.planner.llm_variants``: bf16, fp8, w4a16), every figure estimated; report follows. deploy --emit is
  skipped too: a stack names the packaged model artifact it deploys.
- **With weights** (``model.source``): the encoder route's stages (compress → select → package + bench → plan →
  deploy → report), with the LLM pieces swapped in here: the streaming CPU package
  (``toolkit.package.llm``), a short token-level bench on a local Triton (``toolkit.bench.llm``: TTFT, ITL,
  output tokens/s; a round takes about a minute on 2 cores), and an LLM deploy package sized from the plan.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import LeanserveError

NO_WEIGHTS = "no weights (model.architecture)"  #: why a stage is skipped (the summary says "skipped: ...")
NO_DEPLOY = ("no weights to package (model.architecture): a stack names the model artifact it deploys; give model.source, "
             "run again, or `leanserve deploy plan.json --emit DIR --model PATH`")


def is_generative_spec(loaded) -> bool:
    from toolkit.families import family_for
    from toolkit.planner.llm_plan import is_generative

    return is_generative(family_for(loaded.spec.model.task))


def _architecture_identity(loaded) -> dict:
    """model.architecture is a named shape (the spec's hash covers it) or a config.json (hashed here)."""
    from toolkit.fileio import sha256_file

    arch = loaded.spec.model.architecture or ""
    path = loaded.resolve(arch) if arch.endswith(".json") else None
    return {"architecture": arch, "config_sha256": sha256_file(path) if path is not None and path.is_file() else None}


def run_architecture_only(st, loaded, out: Path, catalog: dict, trace_sha: str | None):
    """Plan → deploy --emit → report for a spec without weights (the rest is skipped and said so)."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.plan import PlanFile
    from toolkit.pipeline import stages as S
    from toolkit.pipeline.runner import report_stage
    from toolkit.planner.llm_plan import variants_without_file

    result = st.result
    for name in ("compress", "select", "package", "bench"):
        st.skip(name, NO_WEIGHTS)
    plan_json = out / "plan.json"
    for stale in (out / "variants.json", out / "profiles.json"):  # left by a run of this folder with weights
        stale.unlink(missing_ok=True)

    def plan_work() -> str:
        variants = variants_without_file(loaded)
        return S.plan(loaded, variants, out / "profiles.json", plan_json, result.warnings)

    st.run("plan", {"spec": loaded.sha256, "trace": trace_sha, "catalog": catalog, **_architecture_identity(loaded)}, [plan_json],
           plan_work)
    plan = load_artifact(PlanFile, plan_json)
    result.plan = plan
    result.files["plan"] = plan_json
    if plan.chosen is None:
        return result
    # a stack names the model artifact it deploys (its sha256 pins the rollout): with no weights there is none to name
    st.skip("deploy", NO_DEPLOY)
    return report_stage(st, plan_json, catalog)


def emit_or_skip(loaded, out: Path, plan_json: Path, deploy_dir: Path, warnings: list[str], **emit_args) -> str:
    """Write the stack config; when deploy refuses this plan (e.g. no packaged model to name), say why and go on:
    the plan and the report do not depend on it."""
    from toolkit.deploy.emit import emit_stack

    try:
        emitted = emit_stack(plan_json, deploy_dir, loaded.spec.name, **emit_args)
    except LeanserveError as e:
        why = f"{e.message}" + (f" ({e.hint})" if e.hint else "")
        warnings.append(f"deploy --emit: no stack file written: {why}")
        return f"no stack file written: {e.message}"
    return f"{emitted.path.relative_to(out)}" + ("" if emitted.changed else " (unchanged)")


# ---- with weights: package + token bench per selected variant, deploy ---------------------------------

def package_for_bench(out: Path, variant: str, pkg: Path, warnings: list[str]) -> str:
    """The streaming CPU package (Triton Python backend on onnxruntime) of ``variant``, for this machine's cores."""
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    res = build_llm_package(out, variant, pkg, LLMPackageOptions(target="cpu"))
    warnings.extend(w for w in res.warnings if not w.startswith("no --spec") and w not in res.manifest.notes)  # notes: in the manifest
    return f"{variant} → {pkg.relative_to(out)} (cpu streaming, this machine's cores)"


def bench_load(options) -> dict:
    """The token bench's load points (part of the bench stage's fingerprint)."""
    return {"concurrency": list(options.token_bench_concurrency), "duration_s": options.token_bench_duration_s,
            "warmup_s": options.token_bench_warmup_s, "kind": "tokens"}


def token_bench(loaded, variants_json: Path, pkg: Path, prof_json: Path, options, warnings: list[str]) -> tuple[str, list[str]]:
    """A short closed-loop token bench of the package at ``pkg`` (a local Triton) into ``prof_json``.
    Prompt and output lengths are the spec's traffic distributions; goodput counts the spec's token SLA."""
    from toolkit.bench.llm.runner import (
        TokenBenchOptions,
        run_token_bench,
        write_token_profile,
    )
    from toolkit.pipeline.suspect import suspect_points

    opts = TokenBenchOptions(concurrency=list(options.token_bench_concurrency), duration_s=options.token_bench_duration_s,
                             warmup_s=options.token_bench_warmup_s, seed=loaded.spec.compression.seed, requests=64)
    res = run_token_bench(str(pkg), opts, loaded)
    prof_json.parent.mkdir(parents=True, exist_ok=True)
    prof_json.unlink(missing_ok=True)  # one run, one profile
    _, more = write_token_profile(res, prof_json)
    warnings.extend(res.warnings + more)
    profile = res.profile
    for p in profile.points:
        if p.errors or p.lost:
            warnings.append(f"bench {profile.variant} concurrency {p.concurrency}: {p.errors} errors, {p.lost} lost of {p.sent} sent")
    best = max((p.output_tokens_per_s for p in profile.points), default=0.0)
    return (f"{len(profile.points)} load points, up to {best:.0f} output tokens/s on {profile.machine.describe()}",
            suspect_points(profile))


def served_weights_sha256(manifest) -> str | None:
    """sha256 of the weights file the package serves (model.onnx on CPU, the safetensors on GPU): what a stack whose
    image holds the model names (Kubernetes)."""
    files = {k: v for k, v in manifest.files.items() if k.startswith("model_repository/")}
    for suffix in ("/model.onnx", ".safetensors"):
        hit = next((v.sha256 for k, v in sorted(files.items()) if k.endswith(suffix)), None)
        if hit:
            return hit
    return None


def deploy_work(loaded, out: Path, plan, plan_json: Path, deploy_pkg: Path, deploy_dir: Path, warnings: list[str]) -> str:
    """Package the chosen LLM variant for its platform (vLLM backend on a GPU, the streaming CPU model otherwise),
    sized from the plan, then write the stack config."""
    from toolkit.fileio import sha256_file
    from toolkit.package.llm import LLMPackageOptions, build_llm_package
    from toolkit.package.sizing import sizing_for_plan

    sizing = sizing_for_plan(plan)
    variant = plan.chosen.variant
    opts = LLMPackageOptions(target=sizing.target, device=sizing.device, region=sizing.region or "us-east-1", plan=plan,
                             cores=sizing.cores, threads=sizing.threads, instances=sizing.instances)
    res = build_llm_package(out, variant, deploy_pkg, opts, spec=loaded)
    warnings.extend(w for w in res.warnings if "spec differs" not in w and w not in res.manifest.notes)
    model_tar = deploy_pkg / "model.tar.gz"
    image = None if sizing.target == "sagemaker" else f"{loaded.spec.name}-triton:{sha256_file(deploy_pkg / 'manifest.json')[:12]}"
    done = emit_or_skip(loaded, out, plan_json, deploy_dir, warnings, model_path=model_tar if model_tar.exists() else deploy_pkg,
                        image=image, model_sha256=None if model_tar.exists() else served_weights_sha256(res.manifest))
    return f"{variant} packaged for {sizing.target} ({res.manifest.device}), sized for {sizing.sized_for}; {done}"
