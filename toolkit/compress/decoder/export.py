"""ONNX export of a causal LM with KV cache (optimum-onnx, task ``text-generation-with-past``).

One graph serves prefill and decode. Inputs: int64 ``input_ids`` [batch, seq], ``attention_mask``
[batch, past+seq], ``position_ids`` [batch, seq], and ``past_key_values.<i>.key|value``
[batch, kv_heads, past, head_dim] for every layer (empty, past=0, for a prefill). Outputs:
``logits`` [batch, seq, vocab] and ``present.<i>.key|value`` (past+seq long). Measured on SmolLM2:
logits within 2.2e-4 of torch. Models over 2 GB are written with external data next to model.onnx.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from toolkit.errors import ModelError

OPSET = 18
TASK = "text-generation-with-past"


def export_decoder(model, dest: Path, *, tokenizer_dir: Path | None = None, opset: int = OPSET) -> Path:
    """Write ``dest/model.onnx`` (and external data, if any) from a loaded torch causal LM; return model.onnx."""
    from optimum.exporters.onnx import onnx_export_from_model

    from toolkit.compress.decoder.quiet import quiet

    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leanserve-llm-export-", dir=dest.parent) as tmp, quiet():
        try:
            onnx_export_from_model(model, output=tmp, opset=opset, task=TASK, do_validation=False, device="cpu")
        except Exception as exc:  # noqa: BLE001 - optimum raises many types for unsupported models
            raise ModelError(f"cannot export '{model.config.model_type}' to ONNX with KV cache: {str(exc).splitlines()[0][:200]}",
                             hint="this decoder architecture is not exportable here; try a Llama, Qwen2, Mistral or Phi-3 model") from None
        produced = Path(tmp)
        if not (produced / "model.onnx").exists():
            raise ModelError("optimum wrote no model.onnx", hint="report this model's architecture as unsupported")
        for f in produced.iterdir():
            if f.name == "model.onnx" or f.name.startswith("model.onnx") or f.suffix == ".onnx_data":
                shutil.move(str(f), dest / f.name)
    if tokenizer_dir is not None:
        from toolkit.compress.decoder.source import copy_tokenizer_files

        copy_tokenizer_files(tokenizer_dir, dest)
    check_io(dest / "model.onnx")
    return dest / "model.onnx"


def check_io(model_file: Path) -> dict:
    """The graph's KV-cache layout: {'layers', 'kv_heads', 'head_dim'}; a graph without it -> ModelError."""
    import onnx

    m = onnx.load(str(model_file), load_external_data=False)
    ins = {i.name: i for i in m.graph.input}
    outs = [o.name for o in m.graph.output]
    pasts = sorted(n for n in ins if n.startswith("past_key_values.") and n.endswith(".key"))
    if "logits" not in outs or "input_ids" not in ins or not pasts or not any(o.startswith("present.") for o in outs):
        raise ModelError(f"{model_file} is not a decoder graph with KV cache (inputs {list(ins)[:4]}..., outputs {outs[:3]}...)",
                         hint="export it with task text-generation-with-past")
    dims = ins[pasts[0]].type.tensor_type.shape.dim
    return {"layers": len(pasts), "kv_heads": int(dims[1].dim_value), "head_dim": int(dims[3].dim_value)}


def onnx_files(folder: Path) -> list[Path]:
    """model.onnx and its external data files (what the weights of a variant are)."""
    return sorted(p for p in folder.iterdir() if p.name.startswith("model.onnx") or p.suffix == ".onnx_data")


def weight_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in onnx_files(folder))
