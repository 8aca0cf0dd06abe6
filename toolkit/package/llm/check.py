"""``package check`` for LLM repositories: the vLLM backend's model (GPU) and the decoupled Python-backend model (CPU).

Checked, each problem naming its file and field: the model's name and version folder; the decoupled
transaction policy and ``max_batch_size: 0`` (the vLLM backend asserts the first; both engines batch
themselves); the request/response tensors against the vLLM backend's contract (names, data types, dims);
for vLLM, ``model.json``: known engine-argument names, their types and ranges, the weights folder it points
at (present, with config.json and safetensors), the quantization method against the weights' config,
``max_model_len`` against the model's context, the TP degree against the attention heads and the instance
kind; for the CPU model: model.py, llm_decode.py, tokenizer.json and a decoder graph with KV cache. Files
are compared with manifest.json's sha256.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.errors import ArtifactError
from toolkit.package import pbtxt
from toolkit.package.llm import layout
from toolkit.package.pbtxt import RepositoryError

#: engine arguments leanserve does not write but a user may add to model.json (vLLM names, stable across releases)
EXTRA_ENGINE_ARGS = {
    "served_model_name", "tokenizer", "trust_remote_code", "seed", "revision", "download_dir", "load_format", "swap_space",
    "block_size", "enable_prefix_caching", "disable_log_stats", "disable_log_requests", "max_logprobs", "pipeline_parallel_size",
    "distributed_executor_backend", "enable_lora", "max_lora_rank", "max_loras", "cpu_offload_gb", "max_seq_len_to_capture",
    "quantization_param_path", "disable_custom_all_reduce", "tokenizer_mode", "guided_decoding_backend", "num_scheduler_steps",
}
#: inputs the vLLM backend accepts besides the contract's (its auto_complete_config list)
VLLM_OPTIONAL_INPUTS = {"image", "return_finish_reason", "return_cumulative_logprob", "return_logprobs", "return_num_input_tokens",
                        "return_num_output_tokens", "embedding_request"}
VLLM_OPTIONAL_OUTPUTS = {"finish_reason": "TYPE_STRING", "cumulative_logprob": "TYPE_FP32", "logprobs": "TYPE_STRING",
                         "num_input_tokens": "TYPE_UINT32", "num_output_tokens": "TYPE_UINT32"}


def _locate(root):
    from toolkit.artifacts.common import load_artifact
    from toolkit.package.llm.manifest import KIND, LLMManifest, manifest_kind
    from toolkit.package.manifest import MANIFEST, REPOSITORY

    p = Path(root)
    repo = p / REPOSITORY if (p / REPOSITORY).is_dir() else p
    manifest = None
    if manifest_kind(p) == KIND:
        try:
            manifest = load_artifact(LLMManifest, p / MANIFEST)
        except ArtifactError as exc:
            raise RepositoryError(exc.message, hint=exc.hint) from None
    return p, repo, manifest


def check_llm_repository(root, target: str | None = None, verify_hashes: bool = True):
    """A ``toolkit.package.check.CheckReport`` of the LLM repository at ``root`` (all problems collected)."""
    from toolkit.package.check import CheckReport, ModelSummary, _check_hashes, _rel, _versions

    pkg, repo, manifest = _locate(root)
    target = target or (manifest.target if manifest else None)
    device = (manifest.device if manifest else None) or ("gpu" if target == "gpu" else "cpu" if target == "cpu" else None)
    report = CheckReport(pkg, repo, target, manifest=manifest)
    base = pkg.parent if pkg != repo else repo.parent
    folders = sorted(d for d in repo.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not folders:
        report.problems.append(f"{_rel(repo, base)}: no model folders")
        return report
    for folder in folders:
        cfg_path = folder / "config.pbtxt"
        rel = _rel(cfg_path, base)
        try:
            config = pbtxt.read(cfg_path, rel)
        except RepositoryError as exc:
            report.problems.append(exc.message)
            continue
        report.configs[folder.name] = config
        problems = report.problems
        if config.name != folder.name:
            problems.append(f"{rel}: field 'name': \"{config.name}\" does not match its folder '{folder.name}'")
        if config.backend not in ("vllm", "python"):
            problems.append(f"{rel}: field 'backend': '{config.backend or config.platform or '(none)'}' is not an LLM backend "
                            "leanserve packages (vllm or python)")
            continue
        versions = _versions(folder)
        kinds = [pbtxt.kind_name(g.kind) for g in config.instance_group]
        report.models.append(ModelSummary(folder.name, "vllm" if config.backend == "vllm" else "python-llm", versions,
                                          config.max_batch_size, False, kinds[0] if kinds else None,
                                          config.instance_group[0].count if kinds else None))
        if not versions:
            problems.append(f"{_rel(folder, base)}: no version folder (expected {folder.name}/1/)")
        if not config.model_transaction_policy.decoupled:
            problems.append(f"{rel}: field 'model_transaction_policy.decoupled': must be true (the model streams one response per "
                            "token; the vLLM backend refuses to load otherwise)")
        if config.max_batch_size != 0:
            problems.append(f"{rel}: field 'max_batch_size': must be 0 (the engine batches sequences itself), it is {config.max_batch_size}")
        _check_tensors(config, rel, problems)
        for v in versions:
            vdir = folder / str(v)
            if config.backend == "vllm":
                _check_vllm(vdir, config, rel, base, device, problems)
            else:
                _check_cpu(vdir, config, rel, base, device, problems)
    if manifest is not None:
        if manifest.model not in report.configs:
            report.problems.append(f"{_rel(pkg / 'manifest.json', base)}: field 'model': '{manifest.model}' is not a model of the repository")
        if verify_hashes:
            _check_hashes(pkg, manifest, report, base)
    return report


def _check_tensors(config, rel: str, problems: list[str]) -> None:
    ins, outs = layout.tensor_contract(config)
    contract_in = {n: (d, list(dims), opt) for n, d, dims, opt in layout.INPUTS}
    extra_ok = VLLM_OPTIONAL_INPUTS if config.backend == "vllm" else set()
    if layout.TEXT_INPUT not in ins:
        problems.append(f"{rel}: field 'input': no '{layout.TEXT_INPUT}' (the prompt; the vLLM backend's request tensor)")
    for name, (dtype, dims, optional) in ins.items():
        want = contract_in.get(name)
        if want is None:
            if name not in extra_ok:
                known = ", ".join(list(contract_in) + sorted(extra_ok))
                problems.append(f"{rel}: field 'input' ({name}): not an input of the vLLM backend's contract ({known})")
            continue
        if dtype != want[0]:
            problems.append(f"{rel}: field 'input' ({name}).data_type: {dtype}, the contract has {want[0]}")
        if dims != want[1]:
            problems.append(f"{rel}: field 'input' ({name}).dims: {dims}, the contract has {want[1]}")
        if not want[2] and optional:
            problems.append(f"{rel}: field 'input' ({name}).optional: the prompt cannot be optional")
    if layout.TEXT_OUTPUT not in outs:
        problems.append(f"{rel}: field 'output': no '{layout.TEXT_OUTPUT}' (the generated text)")
    for name, (dtype, _dims) in outs.items():
        want = "TYPE_STRING" if name == layout.TEXT_OUTPUT else VLLM_OPTIONAL_OUTPUTS.get(name) if config.backend == "vllm" else None
        if want is None:
            problems.append(f"{rel}: field 'output' ({name}): not an output of the vLLM backend's contract")
        elif dtype != want:
            problems.append(f"{rel}: field 'output' ({name}).data_type: {dtype}, the contract has {want}")


def _weights_folder(model_path: str, vdir: Path) -> Path | None:
    """The folder of the repository that the container path ``model_path`` names (None: not inside the repository)."""
    parts = Path(model_path).parts
    name, version = vdir.parent.name, vdir.name
    for i in range(len(parts) - 1):
        if parts[i] == name and parts[i + 1] == version:
            return vdir.joinpath(*parts[i + 2:])
    return None


def _check_vllm(vdir: Path, config, rel: str, base: Path, device: str | None, problems: list[str]) -> None:
    from pydantic import ValidationError

    from toolkit.package.check import _rel
    from toolkit.package.llm.container import WEIGHTS_S3_PATH
    from toolkit.package.llm.engine import EngineArgs, context_length, quantization_of, read_hf_config
    from toolkit.suggest import did_you_mean
    from toolkit.validation import describe_validation_error

    mj = vdir / layout.VLLM_ENGINE_FILE
    mrel = _rel(mj, base)
    try:
        data = json.loads(mj.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{mrel}: missing (the vLLM backend reads its engine arguments from it)")
        return
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{mrel}: not valid JSON ({exc})")
        return
    if not isinstance(data, dict):
        problems.append(f"{mrel}: must be a JSON object of engine arguments")
        return
    known = set(EngineArgs.model_fields)
    for key in sorted(set(data) - known - EXTRA_ENGINE_ARGS):
        problems.append(f"{mrel}: unknown engine argument '{key}'{did_you_mean(key, sorted(known | EXTRA_ENGINE_ARGS))}")
    try:
        args = EngineArgs(**{k: v for k, v in data.items() if k in known})
    except ValidationError as exc:
        problems.append(describe_validation_error(exc, EngineArgs, mrel)[0])
        return
    kinds = [pbtxt.kind_name(g.kind) for g in config.instance_group]
    if args.tensor_parallel_size > 1 and "KIND_GPU" in kinds:
        problems.append(f"{rel}: field 'instance_group.kind': KIND_GPU with tensor_parallel_size {args.tensor_parallel_size} "
                        "(the vLLM backend refuses it; use KIND_MODEL)")
    if device == "cpu" and "KIND_GPU" in kinds:
        problems.append(f"{rel}: field 'instance_group.kind': KIND_GPU on a CPU target")
    if args.model == WEIGHTS_S3_PATH:
        return  # fetched from S3 at container start: nothing in the package to check against
    weights = _weights_folder(args.model, vdir)
    if weights is None:
        problems.append(f"{mrel}: field 'model': '{args.model}' is not a folder of this repository "
                        f"(expected .../{vdir.parent.name}/{vdir.name}/weights, or {WEIGHTS_S3_PATH} for S3 weights)")
        return
    if not (weights / "config.json").is_file() or not any(weights.glob("*.safetensors")):
        problems.append(f"{_rel(weights, base)}: the weights model.json points at are missing (config.json and *.safetensors)")
        return
    cfg = read_hf_config(weights)
    q = quantization_of(cfg)
    if args.quantization and q and args.quantization != q:
        problems.append(f"{mrel}: field 'quantization': '{args.quantization}', but the weights are '{q}' (config.json)")
    if args.quantization and not q:
        problems.append(f"{mrel}: field 'quantization': '{args.quantization}', but the weights' config.json has no quantization_config")
    ctx = context_length(cfg)
    if ctx and args.max_model_len > ctx:
        problems.append(f"{mrel}: field 'max_model_len': {args.max_model_len} is above the model's context ({ctx})")
    heads = cfg.get("num_attention_heads")
    if isinstance(heads, int) and heads % args.tensor_parallel_size:
        problems.append(f"{mrel}: field 'tensor_parallel_size': {args.tensor_parallel_size} does not divide the {heads} attention heads")


def _check_cpu(vdir: Path, config, rel: str, base: Path, device: str | None, problems: list[str]) -> None:
    from toolkit.package.check import _rel
    from toolkit.package.llm.engine import context_length, read_hf_config

    params = pbtxt.parameters(config)
    for name in (layout.MODEL_PY, layout.DECODE_PY, "tokenizer.json", "config.json"):
        if not (vdir / name).is_file():
            problems.append(f"{_rel(vdir / name, base)}: missing (the CPU LLM model needs it)")
    if any(pbtxt.kind_name(g.kind) == "KIND_GPU" for g in config.instance_group):
        problems.append(f"{rel}: field 'instance_group.kind': KIND_GPU on the CPU LLM model (use KIND_CPU)")
    onnx_file = vdir / params.get("onnx_file", "model.onnx")
    if not onnx_file.is_file():
        problems.append(f"{_rel(onnx_file, base)}: model file missing (parameter onnx_file)")
    else:
        try:
            import onnx

            graph = onnx.load(str(onnx_file), load_external_data=False).graph
            ins, outs = {i.name for i in graph.input}, {o.name for o in graph.output}
            if "input_ids" not in ins or "logits" not in outs or not any(n.startswith("past_key_values.") for n in ins):
                problems.append(f"{_rel(onnx_file, base)}: not a decoder graph with KV cache (export with text-generation-with-past)")
        except Exception as exc:  # noqa: BLE001 - any failure to read the graph is the problem to report
            problems.append(f"{_rel(onnx_file, base)}: not a readable ONNX model ({str(exc).splitlines()[0][:120]})")
    try:
        mml = int(params.get("max_model_len", "0"))
    except ValueError:
        mml = -1
    ctx = context_length(read_hf_config(vdir))
    if mml < 1:
        problems.append(f"{rel}: parameter 'max_model_len': must be a positive integer")
    elif ctx and mml > ctx:
        problems.append(f"{rel}: parameter 'max_model_len': {mml} is above the model's context ({ctx})")
