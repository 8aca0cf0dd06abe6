"""The work of each `leanserve run` stage (``runner.py`` decides when a stage runs and caches it).

Each function does one stage's work into OUT and returns the one-line detail the run's table shows; warnings for
the user are appended to the ``warnings`` list passed in.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.fileio import atomic_write_text, sha256_file


def compress(loaded, out: Path, reporter) -> str:
    from toolkit.compress import build_variants

    vf = build_variants(loaded, out, loaded.spec.compression.variants, reporter)
    acc = [v.name for v in vf.accepted()]
    return f"{len(acc)} accepted of {len(vf.variants) - 1}: {', '.join(acc)}"


# ---- select ------------------------------------------------------------------------------------------

def select(loaded, variants, selection_json: Path) -> str:
    from toolkit.pipeline.selection import screen

    sel, _ = screen(loaded, variants)  # the final plan repeats the screen's warnings (prices, spec)
    write_selection(sel, selection_json)
    first = f"estimate-only plan: {sel.screen.variant} ${sel.screen.monthly_cost_usd:,.0f}/month; " if sel.screen else "estimate-only plan: infeasible; "
    return first + "bench " + ", ".join(sel.variants) + (" (a package check only)" if sel.check_only else "")


def read_selection(path: Path):
    from pydantic import ValidationError

    from toolkit.errors import ArtifactError
    from toolkit.pipeline.selection import BenchSelection

    try:
        return BenchSelection.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        raise ArtifactError(f"{path}: not a bench selection written by this version", hint="rerun with --force select") from None


def write_selection(selection, path: Path) -> None:
    atomic_write_text(path, selection.model_dump_json(indent=2) + "\n")


def benchable_here(variants, name: str) -> str | None:
    """None when ``name`` can be benchmarked on this machine, else why not."""
    from toolkit.pipeline.selection import benchable

    return benchable(variants).get(name, "not an accepted variant")


# ---- package + bench, per selected variant ----------------------------------------------------------

def package_for_bench(out: Path, variant: str, pkg: Path, warnings: list[str]) -> str:
    from toolkit.package.builder import PackageOptions, build_package

    # No spec: the bench repository uses the default batching budget, so its measurements (and this cache
    # entry) do not change when only the SLA does. The deployed package derives batching from the SLA.
    res = build_package(out, variant, pkg, PackageOptions(target="cpu"))
    warnings.extend(w for w in res.warnings if not w.startswith("no --spec"))
    return f"{variant} → {pkg.relative_to(out)} (cpu, this machine's cores)"


def bench(loaded, variants_json: Path, pkg: Path, prof_json: Path, options, warnings: list[str]) -> tuple[str, list[str]]:
    """Bench the package at ``pkg`` into ``prof_json`` (one profile). Returns (detail, suspect points)."""
    from toolkit.bench import BenchOptions, run_bench, write_profiles
    from toolkit.pipeline.suspect import suspect_points

    # variants.json: bench compares the lowest-load latency with the variant's in-process latency
    opts = BenchOptions(concurrency=list(options.bench_concurrency), duration_s=options.bench_duration_s,
                        warmup_s=options.bench_warmup_s, seed=loaded.spec.compression.seed, variants=str(variants_json))
    res = run_bench(str(pkg), opts, loaded)
    profile = res.profile
    prof_json.parent.mkdir(parents=True, exist_ok=True)
    prof_json.unlink(missing_ok=True)  # one run, one profile: no stale curves from other packages
    write_profiles(res, prof_json)
    warnings.extend(res.warnings)
    suspects = suspect_points(profile)
    best = max((pt.throughput_rps for pt in profile.points), default=0.0)
    return f"{len(profile.points)} load points, up to {best:.0f} req/s on {profile.machine.describe()}", suspects


def merge_profiles(loaded, files: list[Path], profiles_json: Path) -> None:
    """Write the profiles of ``files`` (encoder profiles and token-level profiles alike) into ``profiles_json``, only
    when they differ from what it holds (so that an unchanged bench keeps plan's cache)."""
    from toolkit.artifacts import load_artifact, save_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.errors import LeanserveError

    read = [load_artifact(ProfilesFile, f) for f in files]
    profiles = [p for r in read for p in r.profiles]
    tokens = [p for r in read for p in r.token_profiles]
    if profiles_json.exists():
        try:
            old = load_artifact(ProfilesFile, profiles_json)
            if old.spec_sha256 == loaded.sha256 and old.profiles == profiles and old.token_profiles == tokens:
                return
        except LeanserveError:
            pass  # unreadable or another kind: replaced below
    # the profiles were measured on packages that do not depend on the SLA: they hold for this spec as they are
    save_artifact(ProfilesFile(spec_sha256=loaded.sha256, profiles=profiles, token_profiles=tokens), profiles_json)


# ---- plan, deploy, report -----------------------------------------------------------------------------

def plan(loaded, variants, profiles_json: Path, plan_json: Path, warnings: list[str]) -> str:
    from toolkit.artifacts import load_artifact, save_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.planner.api import make_plan

    profiles = load_artifact(ProfilesFile, profiles_json) if profiles_json.exists() else None
    res = make_plan(loaded, variants, profiles, strategy="fast", top=5)
    save_artifact(res.plan, plan_json)
    warnings.extend(res.warnings)
    c = res.plan.chosen
    if c is None:
        return "infeasible: nothing meets the SLA and budget"
    return f"{c.variant} on {c.platform} {c.instance_type or ''} ${c.monthly_cost_usd:,.0f}/month".replace("  ", " ")


def deploy(loaded, out: Path, plan, plan_json: Path, deploy_pkg: Path, deploy_dir: Path, warnings: list[str]) -> str:
    from toolkit.deploy.emit import emit_stack
    from toolkit.package.builder import build_package
    from toolkit.package.sizing import options_for, sizing_for_plan

    sizing = sizing_for_plan(plan)
    variant, opts, _ = options_for(sizing, variant=None, target=None, device=None, cores=None, threads=None, instances=None, region=None)
    res = build_package(out, variant, deploy_pkg, opts, spec=loaded)
    warnings.extend(w for w in res.warnings if "spec differs" not in w)
    model_tar = deploy_pkg / "model.tar.gz"
    # Kubernetes pulls the image built from package/deploy/container/; its tag names the package content.
    image = None if opts.target == "sagemaker" else f"{loaded.spec.name}-triton:{sha256_file(deploy_pkg / 'manifest.json')[:12]}"
    onnx = res.manifest.files.get("model_repository/model/1/model.onnx")
    emitted = emit_stack(plan_json, deploy_dir, loaded.spec.name, model_path=model_tar if model_tar.exists() else None, image=image,
                         model_sha256=onnx.sha256 if onnx else None)
    return f"{variant} packaged for {opts.target}, sized for {sizing.sized_for}; {emitted.path.relative_to(out)}"


def report(plan_json: Path, report_dir: Path) -> str:
    from toolkit.report import write_reports

    _, paths = write_reports(plan_json, out_dir=report_dir)
    return ", ".join(p.name for p in paths.values())
