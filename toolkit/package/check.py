"""``leanserve package check``: validate a Triton model repository before any server sees it.

Each problem names the file and the field at fault: a model whose ``name`` differs from its folder, a
missing version folder or model file, inputs/outputs whose names, dims or data types differ from the
ONNX graph, KIND_GPU on a CPU target, ensemble steps that reference missing models or tensors, and
files that changed since packaging (sha256 against manifest.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ArtifactError, ModelError
from toolkit.package import pbtxt
from toolkit.package.manifest import MANIFEST, REPOSITORY, PackageManifest, hash_tree
from toolkit.package.pbtxt import RepositoryError

ONNX_PLATFORMS = {"onnxruntime_onnx"}
KNOWN_BACKENDS = {"onnxruntime", "python", ""}


@dataclass
class ModelSummary:
    name: str
    kind: str  # onnx | python | ensemble
    versions: list[int]
    max_batch_size: int
    dynamic_batching: bool
    instance_kind: str | None
    instance_count: int | None


@dataclass
class CheckReport:
    root: Path
    repository: Path
    target: str | None
    models: list[ModelSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: PackageManifest | None = None
    configs: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "repository": str(self.repository),
            "target": self.target,
            "valid": self.ok,
            "problems": self.problems,
            "models": [m.__dict__ for m in self.models],
        }


def locate(root: str | Path) -> tuple[Path, Path, PackageManifest | None]:
    """(package folder, repository folder, manifest) for a package folder or a bare repository."""
    from toolkit.artifacts.common import load_artifact

    p = Path(root)
    if not p.exists():
        raise RepositoryError(f"repository not found: {p}", hint="give the --out folder of `leanserve package` or a Triton model repository")
    if not p.is_dir():
        raise RepositoryError(f"{p} is a file, not a model repository folder", hint="give the folder that holds the model folders")
    repo = p / REPOSITORY if (p / REPOSITORY).is_dir() else p
    manifest = None
    if (p / MANIFEST).is_file():
        try:
            manifest = load_artifact(PackageManifest, p / MANIFEST)
        except ArtifactError as exc:
            raise RepositoryError(exc.message, hint=exc.hint) from None
    return p, repo, manifest


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def check_repository(root: str | Path, target: str | None = None, verify_hashes: bool = True) -> CheckReport:
    """Validate every model of the repository at ``root``; collect all problems (raises only if unreadable)."""
    from toolkit.package.llm.manifest import is_llm_package  # LLM repositories (vLLM / streaming CPU model): their own checks

    if is_llm_package(root):
        from toolkit.package.llm.check import check_llm_repository

        return check_llm_repository(root, target, verify_hashes)
    pkg, repo, manifest = locate(root)
    target = target or (manifest.target if manifest else None)
    device = (manifest.device if manifest else None) or ("gpu" if target == "gpu" else "cpu" if target else None)
    report = CheckReport(pkg, repo, target, manifest=manifest)
    folders = sorted(d for d in repo.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not folders:
        report.problems.append(f"{_rel(repo, pkg.parent)}: no model folders")
        return report
    base = pkg.parent if pkg != repo else repo.parent
    for folder in folders:
        cfg_path = folder / "config.pbtxt"
        rel = _rel(cfg_path, base)
        if not cfg_path.is_file():
            report.problems.append(f"{rel}: missing (every model folder needs a config.pbtxt)")
            continue
        try:
            config = pbtxt.read(cfg_path, rel)
        except RepositoryError as exc:
            report.problems.append(exc.message)
            continue
        report.configs[folder.name] = config
        _check_model(folder, config, rel, base, device, report)
    for name, config in report.configs.items():
        if config.platform == "ensemble":
            _check_ensemble(name, config, report, _rel(repo / name / "config.pbtxt", base))
    if manifest is not None and verify_hashes:
        _check_hashes(pkg, manifest, report, base)
    return report


def _versions(folder: Path) -> list[int]:
    return sorted(int(d.name) for d in folder.iterdir() if d.is_dir() and d.name.isdigit())


def _check_model(folder: Path, config, rel: str, base: Path, device: str | None, report: CheckReport) -> None:
    problems = report.problems
    name = folder.name
    if config.name and config.name != name:
        problems.append(f'{rel}: field \'name\': "{config.name}" does not match its folder \'{name}\'')
    elif not config.name:
        problems.append(f"{rel}: field 'name' is missing (it must equal the folder name '{name}')")
    platform, backend = config.platform, config.backend
    if platform == "ensemble":
        kind = "ensemble"
    elif platform in ONNX_PLATFORMS or backend == "onnxruntime":
        kind = "onnx"
    elif backend == "python":
        kind = "python"
    else:
        problems.append(f"{rel}: field 'backend'/'platform': '{backend or platform or '(none)'}' is not one leanserve packages "
                        "(onnxruntime, python or ensemble)")
        return
    versions = _versions(folder)
    if not versions:
        problems.append(f"{_rel(folder, base)}: no version folder (expected {name}/1/)")
    kinds = [pbtxt.kind_name(g.kind) for g in config.instance_group]
    report.models.append(ModelSummary(name, kind, versions, config.max_batch_size, config.HasField("dynamic_batching"),
                                      kinds[0] if kinds else None, config.instance_group[0].count if kinds else None))
    if config.HasField("dynamic_batching"):
        if config.max_batch_size < 1:
            problems.append(f"{rel}: field 'dynamic_batching': needs max_batch_size > 0 (it is {config.max_batch_size})")
        too_big = [b for b in config.dynamic_batching.preferred_batch_size if b > config.max_batch_size]
        if too_big and config.max_batch_size > 0:
            problems.append(f"{rel}: field 'dynamic_batching.preferred_batch_size': {too_big[0]} exceeds max_batch_size {config.max_batch_size}")
    for i, group in enumerate(config.instance_group):
        if group.count < 1:
            problems.append(f"{rel}: field 'instance_group[{i}].count': must be at least 1")
        if device == "cpu" and pbtxt.kind_name(group.kind) == "KIND_GPU":
            problems.append(f"{rel}: field 'instance_group[{i}].kind': KIND_GPU on a CPU target (use KIND_CPU)")
    if device == "cpu" and config.optimization.execution_accelerators.gpu_execution_accelerator:
        problems.append(f"{rel}: field 'optimization.execution_accelerators.gpu_execution_accelerator': GPU accelerators on a CPU target")
    for v in versions:
        vdir = folder / str(v)
        if kind == "onnx":
            fname = config.default_model_filename or "model.onnx"
            if not (vdir / fname).is_file():
                problems.append(f"{_rel(vdir / fname, base)}: model file missing")
            else:
                _check_onnx_io(vdir / fname, config, rel, report)
        elif kind == "python":
            fname = config.default_model_filename or "model.py"
            if not (vdir / fname).is_file():
                problems.append(f"{_rel(vdir / fname, base)}: model file missing (a Python-backend model needs {fname})")
            if "max_sequence_length" in pbtxt.parameters(config) and not (vdir / "tokenizer.json").is_file():
                problems.append(f"{_rel(vdir / 'tokenizer.json', base)}: missing (the tokenizer model loads it)")


def _dims(values) -> list[int]:
    return [int(d) for d in values]


def _check_onnx_io(model_path: Path, config, rel: str, report: CheckReport) -> None:
    from toolkit.package.onnx_io import read_signature

    try:
        sig = read_signature(model_path)
    except ModelError as exc:
        report.problems.append(exc.message)
        return
    batched = config.max_batch_size > 0
    for section, tensors, graph in (("input", config.input, sig.inputs), ("output", config.output, sig.outputs)):
        by_name = {t.name: t for t in graph}
        for i, t in enumerate(tensors):
            where = f"{rel}: field '{section}[{i}]' ({t.name})"
            g = by_name.get(t.name)
            if g is None:
                names = ", ".join(by_name)
                report.problems.append(f"{where}: not an {section} of {model_path.name} ({section}s: {names})")
                continue
            dtype = pbtxt.data_type_name(t.data_type)
            if dtype != g.data_type:
                report.problems.append(f"{where}.data_type: {dtype} does not match the ONNX graph ({g.data_type})")
            graph_dims = list(g.shape[1:]) if batched else list(g.shape)
            if batched and not g.batch_dynamic:
                report.problems.append(f"{where}: max_batch_size is {config.max_batch_size} but the graph's first dimension is fixed ({g.shape[0]})")
            dims = _dims(t.dims)
            mismatch = len(dims) != len(graph_dims) or any(gd != -1 and d != gd for d, gd in zip(dims, graph_dims))
            if mismatch:
                report.problems.append(f"{where}.dims: {dims} does not match the ONNX graph ({graph_dims}, batch dimension excluded)"
                                       if batched else f"{where}.dims: {dims} does not match the ONNX graph ({graph_dims})")
        if section == "input":
            missing = [n for n in by_name if n not in {t.name for t in tensors}]
            if missing:
                report.problems.append(f"{rel}: field 'input': '{missing[0]}', an input of {model_path.name}, is not declared")


def _io(config) -> tuple[dict, dict]:
    ins = {t.name: (pbtxt.data_type_name(t.data_type), _dims(t.dims)) for t in config.input}
    outs = {t.name: (pbtxt.data_type_name(t.data_type), _dims(t.dims)) for t in config.output}
    return ins, outs


def _check_ensemble(name: str, config, report: CheckReport, rel: str) -> None:
    problems = report.problems
    ens_in, ens_out = _io(config)
    available = dict(ens_in)  # tensor name -> (dtype, dims)
    if not config.ensemble_scheduling.step:
        problems.append(f"{rel}: field 'ensemble_scheduling.step': no steps")
    for i, step in enumerate(config.ensemble_scheduling.step):
        where = f"{rel}: field 'ensemble_scheduling.step[{i}]'"
        member = report.configs.get(step.model_name)
        if member is None:
            problems.append(f"{where}.model_name: '{step.model_name}' is not a model of this repository")
            continue
        m_in, m_out = _io(member)
        if member.max_batch_size < config.max_batch_size:
            problems.append(f"{where}: '{step.model_name}' has max_batch_size {member.max_batch_size}, below the ensemble's {config.max_batch_size}")
        for model_tensor, ens_tensor in step.input_map.items():
            if model_tensor not in m_in:
                problems.append(f"{where}.input_map: '{model_tensor}' is not an input of '{step.model_name}'")
            elif ens_tensor not in available:
                problems.append(f"{where}.input_map: '{ens_tensor}' is not produced by an earlier step or an ensemble input")
            elif available[ens_tensor][0] != m_in[model_tensor][0]:
                problems.append(f"{where}.input_map: '{ens_tensor}' is {available[ens_tensor][0]} but '{step.model_name}' "
                                f"input '{model_tensor}' is {m_in[model_tensor][0]}")
        for model_tensor in m_in:
            if model_tensor not in step.input_map:
                problems.append(f"{where}.input_map: '{step.model_name}' input '{model_tensor}' is not fed")
        for model_tensor, ens_tensor in step.output_map.items():
            if model_tensor not in m_out:
                problems.append(f"{where}.output_map: '{model_tensor}' is not an output of '{step.model_name}'")
            else:
                available[ens_tensor] = m_out[model_tensor]
    for out_name, (dtype, _) in ens_out.items():
        if out_name not in available:
            problems.append(f"{rel}: field 'output' ({out_name}): no step produces it")
        elif available[out_name][0] != dtype:
            problems.append(f"{rel}: field 'output' ({out_name}).data_type: {dtype}, but the step produces {available[out_name][0]}")


def _check_hashes(pkg: Path, manifest: PackageManifest, report: CheckReport, base: Path) -> None:
    actual = hash_tree(pkg)
    for rel, entry in manifest.files.items():
        got = actual.get(rel)
        name = _rel(pkg / rel, base)
        if got is None:
            report.problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif got.sha256 != entry.sha256:
            report.problems.append(f"{name}: sha256 differs from {MANIFEST} (the file changed after packaging)")
    for rel in actual:
        if rel not in manifest.files:
            report.problems.append(f"{_rel(pkg / rel, base)}: not listed in {MANIFEST} (added after packaging)")


def ensure_valid(report: CheckReport) -> CheckReport:
    """Raise RepositoryError with the first problem (and a count of the rest) when the report has problems."""
    if report.problems:
        rest = report.problems[1:]
        more = f"; {len(rest)} more: " + " | ".join(rest[:5]) if rest else ""
        raise RepositoryError(report.problems[0], hint=f"fix the repository (or re-run `leanserve package`){more}")
    return report
