"""`leanserve run` without minutes of compress and a real Triton: compress copies the planner fixtures' variants.json
(MiniLM as measured), package writes a manifest (and a small model.tar.gz), bench returns a profile scaled from the
fixture's measured int8 sweep (with bench's own check of a falling curve). The runner, its cache, select, plan, deploy --emit and report are the real ones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "planner" / "fixtures"


@dataclass
class Fakes:
    packaged: list[tuple[str, str, object]] = field(default_factory=list)  # (variant, out folder name, PackageOptions)
    benched: list[str] = field(default_factory=list)
    scale: dict[str, float] = field(default_factory=dict)  # variant -> throughput factor against the fixture sweep
    falling: set[str] = field(default_factory=set)  # variants whose sweep loses throughput as concurrency rises
    options: list[object] = field(default_factory=list)  # the BenchOptions of each bench
    edit_variants: object = None  # callable(dict) -> None: edit variants.json's data before it is written

    def install(self, monkeypatch) -> Fakes:
        import toolkit.bench
        import toolkit.compress
        import toolkit.package.builder

        monkeypatch.setattr(toolkit.compress, "build_variants", self.compress)
        monkeypatch.setattr(toolkit.package.builder, "build_package", self.package)
        monkeypatch.setattr(toolkit.bench, "run_bench", self.bench)
        return self

    def compress(self, loaded, out, names, reporter=None):
        from toolkit.artifacts import load_artifact, save_artifact
        from toolkit.artifacts.variants import VariantsFile

        data = json.loads((FIXTURES / "variants.json").read_text())
        data["spec_sha256"] = loaded.sha256
        if self.edit_variants:
            self.edit_variants(data)
        out = Path(out)
        (out / "variants").mkdir(parents=True, exist_ok=True)
        (out / "variants.json").write_text(json.dumps(data))
        vf = load_artifact(VariantsFile, out / "variants.json")
        save_artifact(vf, out / "variants.json")
        return vf

    def package(self, variants_dir, variant, out, options=None, spec=None):
        from tests.deploy.factories import model_tarball, write_manifest
        from toolkit.artifacts import load_artifact
        from toolkit.package.builder import PackageResult
        from toolkit.package.manifest import PackageManifest

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if options.target == "sagemaker":
            model_tarball(out / "model.tar.gz")
        write_manifest(out, variant=variant, target=options.target)
        self.packaged.append((variant, out.name, options))
        return PackageResult(out, load_artifact(PackageManifest, out / "manifest.json"), [])

    def bench(self, target, options=None, spec=None, **_):
        from toolkit.artifacts import load_artifact
        from toolkit.artifacts.profiles import ProfilesFile
        from toolkit.bench.runner import BenchResult
        from toolkit.bench.suspect import curve_reasons, mark
        from toolkit.package.manifest import PackageManifest

        variant = load_artifact(PackageManifest, Path(target) / "manifest.json").variant
        self.benched.append(variant)
        self.options.append(options)
        prof = load_artifact(ProfilesFile, FIXTURES / "profiles.json").profiles[0]
        k = self.scale.get(variant, 1.0)
        points = [p.model_copy(update={"throughput_rps": round(p.throughput_rps * k, 3)}) for p in prof.points]
        if variant in self.falling:  # c=4 below c=1, as in issue 21's demo run; bench's own check marks it
            points = [p.model_copy(update={"throughput_rps": 48.0, "p99_ms": 933.0}) if p.concurrency == 4 else p for p in points]
            points = mark(points, {i: [why] for i, why in curve_reasons(points).items()})
        prof = prof.model_copy(update={"variant": variant, "target": str(target), "points": points,
                                       "max_rps_at_sla": None, "saturation_rps": max(p.throughput_rps for p in points)})
        return BenchResult(prof, spec.sha256)


def stages(data: dict) -> dict[str, bool]:
    """{'bench onnx-int8': cached, 'plan': cached, ...} from run's --json summary (the last run of a stage wins)."""
    return {(f"{s['stage']} {s['variant']}" if s.get("variant") else s["stage"]): s["cached"] for s in data["stages"]}
