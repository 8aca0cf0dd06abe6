"""Export a torch encoder to ONNX: optimum-onnx first, ``torch.onnx.export(dynamo=False)`` as fallback.

The graph takes int64 ``input_ids``, ``attention_mask`` (and ``token_type_ids`` when the model has
them), all [batch, sequence] with dynamic axes, and returns the family's output (``family.output_name``
with ``family.output_axes``: ``last_hidden_state`` [batch, seq, hidden] for embeddings, ``logits``
[batch, labels] for classifiers). Pooling happens outside the graph.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from toolkit.compress.quiet import quiet
from toolkit.errors import ModelError
from toolkit.families import family_for

OPSET = 18


_quiet = quiet  # the exporters' tracer warnings and chatter are not actionable for the user


def input_names_for(model) -> list[str]:
    names = ["input_ids", "attention_mask"]
    if getattr(model.config, "type_vocab_size", 0) and getattr(model.config, "model_type", "") not in ("roberta", "xlm-roberta", "camembert"):
        names.append("token_type_ids")
    return names


def export_onnx(model, task: str, dest: Path, *, opset: int = OPSET) -> Path:
    """Write ``dest/model.onnx`` from a loaded torch ``model``; return the file's path."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "model.onnx"
    error: Exception = RuntimeError(f"no optimum task for '{task}'")
    optimum_task = family_for(task).optimum_task
    try:
        if optimum_task is None:
            raise error
        _export_optimum(model, optimum_task, target, opset)
    except ModelError:
        raise
    except Exception as exc:  # optimum cannot handle every architecture: fall back to the plain exporter
        error = exc
        try:
            _export_torch(model, task, target, opset)
        except Exception as exc2:
            raise ModelError(
                f"cannot export '{model.config.model_type}' to ONNX: optimum said {str(error).splitlines()[0][:120]!r}; "
                f"torch.onnx said {str(exc2).splitlines()[0][:120]!r}",
                hint="this architecture is not exportable here; try a BERT-family encoder",
            ) from None
    _check_io(target, task)
    return target


def _export_optimum(model, task: str, target: Path, opset: int) -> None:
    from optimum.exporters.onnx import onnx_export_from_model

    with tempfile.TemporaryDirectory(prefix="leanserve-export-") as tmp, _quiet():
        onnx_export_from_model(model, output=tmp, opset=opset, task=task, do_validation=False, device="cpu")
        produced = Path(tmp) / "model.onnx"
        if not produced.exists():
            raise RuntimeError("optimum wrote no model.onnx")
        if any(p.suffix == ".onnx_data" or p.name.endswith(".data") for p in Path(tmp).iterdir()):
            raise RuntimeError("optimum wrote external data; not supported")
        shutil.move(str(produced), target)


def _export_torch(model, task: str, target: Path, opset: int) -> None:
    import torch

    names = input_names_for(model)
    family = family_for(task)
    out_name = family.output_name

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            out = self.inner(**dict(zip(names, args)))
            return family.graph_output(out)

    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
    axes[out_name] = dict(family.output_axes)
    with _quiet(), torch.no_grad():
        torch.onnx.export(Wrapper(model).eval(), dummy, str(target), input_names=names, output_names=[out_name],
                          dynamic_axes=axes, opset_version=opset, dynamo=False)


def _check_io(target: Path, task: str) -> None:
    import onnx

    m = onnx.load(str(target), load_external_data=False)
    outs = [o.name for o in m.graph.output]
    wanted = family_for(task).output_name
    if wanted not in outs:
        raise ModelError(f"the exported graph has outputs {outs}, expected '{wanted}'", hint="report this model's architecture as unsupported")
