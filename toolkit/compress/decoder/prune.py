"""``pruned-layers<p>``: drop the p% least important decoder layers of a causal LM.

A layer's importance is how much it changes the hidden state it is given, on calibration text:
``1 − mean cos(input, output)`` over every token (ShortGPT's "block influence", Men et al., 2024).
A layer whose output points where its input did adds little and goes first. Importance comes
from forward hooks on the layers themselves (the model's ``hidden_states`` output would apply the
final norm to the last one). Dropping layers makes every token cheaper in prefill and decode alike
and shrinks the KV cache by the same fraction; recovery (``toolkit.compress.decoder.recover``)
then distils the pruned model from the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import InputError, ModelError

PREFIX = "pruned-layers"
_NAME = re.compile(rf"^{PREFIX}(\d+)$")


@dataclass
class LayerImportance:
    scores: list[float]  # per layer, 1 - mean cosine(input, output)
    tokens: int

    def least_important(self, n: int) -> list[int]:
        """Indices of the ``n`` lowest-scoring layers, ascending."""
        order = sorted(range(len(self.scores)), key=lambda i: (self.scores[i], i))
        return sorted(order[:n])


def parse_percent(name: str) -> int:
    """'pruned-layers25' -> 25; anything else -> InputError."""
    m = _NAME.match(name)
    if not m or not 0 < int(m.group(1)) < 100:
        raise InputError(f"'{name}' is not a layer-pruning variant", hint=f"write {PREFIX}<p> with 0 < p < 100, e.g. {PREFIX}25")
    return int(m.group(1))


def layers_to_drop(num_layers: int, percent: int) -> int:
    """round(p% of the layers), at least one, and never all of them."""
    n = max(1, round(num_layers * percent / 100.0))
    if n >= num_layers:
        raise InputError(f"dropping {percent}% of {num_layers} layers leaves none", hint="use a smaller percentage")
    return n


def decoder_layers(model):
    """The ModuleList of decoder layers (``model.model.layers`` for Llama, Qwen2, Mistral, Phi-3)."""
    base = getattr(model, getattr(model, "base_model_prefix", "model"), None)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise ModelError(f"cannot find the decoder layers of '{model.config.model_type}'",
                         hint="layer pruning supports Llama-style decoders (model.model.layers)")
    return base, layers


def layer_importance(model, windows, batch_size: int = 4) -> LayerImportance:
    """Score every decoder layer on ``windows`` (numpy int64 [n, T]) with forward hooks."""
    import torch

    _, layers = decoder_layers(model)
    sums = [0.0] * len(layers)
    count = [0]

    def hook(i):
        def fn(module, args, kwargs, output):
            x = args[0] if args else kwargs["hidden_states"]
            y = output[0] if isinstance(output, (tuple, list)) else output
            cos = torch.nn.functional.cosine_similarity(x.float(), y.float(), dim=-1)
            sums[i] += float(cos.sum())
            if i == 0:
                count[0] += cos.numel()
        return fn

    hooks = [layer.register_forward_hook(hook(i), with_kwargs=True) for i, layer in enumerate(layers)]
    try:
        with torch.inference_mode():
            ids = torch.as_tensor(windows, dtype=torch.long)
            for i in range(0, ids.shape[0], batch_size):
                model(input_ids=ids[i:i + batch_size], use_cache=False)
    finally:
        for h in hooks:
            h.remove()
    n = max(1, count[0])
    return LayerImportance(scores=[round(1.0 - s / n, 6) for s in sums], tokens=count[0])


def drop_layers(model, drop: list[int]):
    """A copy of ``model`` without the layers in ``drop``; cache indices and the config follow."""
    import copy

    import torch

    pruned = copy.deepcopy(model)
    base, layers = decoder_layers(pruned)
    keep = [i for i in range(len(layers)) if i not in set(drop)]
    if not keep:
        raise InputError("cannot drop every layer", hint="use a smaller percentage")
    base.layers = torch.nn.ModuleList([layers[i] for i in keep])
    for new_idx, layer in enumerate(base.layers):  # the KV cache is indexed by layer
        for mod in layer.modules():
            if hasattr(mod, "layer_idx"):
                mod.layer_idx = new_idx
    cfg = pruned.config
    cfg.num_hidden_layers = len(keep)
    if isinstance(getattr(cfg, "layer_types", None), list) and len(cfg.layer_types) == len(layers):
        cfg.layer_types = [cfg.layer_types[i] for i in keep]
    return pruned, keep


def prune_layers(model, windows, percent: int) -> tuple:
    """(pruned model, dropped layer indices, LayerImportance) for ``pruned-layers<percent>``."""
    _, layers = decoder_layers(model)
    importance = layer_importance(model, windows)
    drop = importance.least_important(layers_to_drop(len(layers), percent))
    pruned, _ = drop_layers(model, drop)
    return pruned, drop, importance
