"""Structured attention-head pruning (a real speed-up) and, for comparison, unstructured sparsity.

Head importance is measured by ablation: each head is masked in turn and the drop in fidelity of the
model's output on a few texts is its score (``family.head_damage``: 1 − cosine of pooled embeddings,
or KL of logits).
The least important p% of heads (every layer keeps at least one) are removed with transformers'
``prune_heads``, which shrinks the Q/K/V and output matrices, and a short distillation from the
unpruned teacher recovers most of the loss.
"""

from __future__ import annotations

import copy
import logging


def head_importance(model, batch: dict, task: str):
    """[layers, heads] tensor: output damage when each head alone is masked."""
    import torch

    from toolkit.compress.distill import teacher_output
    from toolkit.families import family_for

    family = family_for(task)
    layers, heads = model.config.num_hidden_layers, model.config.num_attention_heads
    scores = torch.zeros(layers, heads)
    quiet = logging.getLogger("transformers.models.bert.modeling_bert")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the SDPA-falls-back-to-eager notice for head_mask
    try:
        with torch.inference_mode():
            base = teacher_output(model, batch, task)
            for layer in range(layers):
                for head in range(heads):
                    mask = torch.ones(layers, heads)
                    mask[layer, head] = 0.0
                    out = teacher_output(model, {**batch, "head_mask": mask}, task)
                    scores[layer, head] = family.head_damage(base, out)
    finally:
        quiet.setLevel(level)
    return scores


def choose_heads(scores, percent: int) -> dict[int, list[int]]:
    """The least important ``percent`` of heads, never a layer's last head."""
    layers, heads = scores.shape
    n = round(layers * heads * percent / 100)
    order = sorted(((float(scores[l, h]), l, h) for l in range(layers) for h in range(heads)))
    left = {l: heads for l in range(layers)}
    plan: dict[int, list[int]] = {}
    for _, l, h in order:
        if n == 0:
            break
        if left[l] > 1:
            plan.setdefault(l, []).append(h)
            left[l] -= 1
            n -= 1
    return {l: sorted(hs) for l, hs in sorted(plan.items())}


def prune_heads_and_recover(ctx, name: str, percent: int):
    """Copy the teacher, remove ``percent``% of its heads, recover by distillation. Returns (model, notes)."""
    from toolkit.compress.distill import _Data, train

    model = copy.deepcopy(ctx.teacher)
    s = ctx.settings.distill
    sample = _Data(ctx, ctx.splits.distill_texts[-s.importance_examples:], s.seq_len)
    with ctx.reporter.stage(f"{name}: scoring heads", total=None):
        scores = head_importance(model, sample.batch(range(len(sample))), ctx.task)
    plan = choose_heads(scores, percent)
    removed = sum(len(v) for v in plan.values())
    total = scores.numel()
    model.prune_heads(plan)
    notes = [f"removed {removed} of {total} attention heads by ablation importance: "
             + ", ".join(f"L{l}:{hs}" for l, hs in plan.items())]
    if s.recovery_steps > 0:
        notes += train(ctx, model, name, s.recovery_steps, init=f"prune={plan}")
    return model, notes


def magnitude_sparsity(teacher, percent: int):
    """Zero the smallest-|w| ``percent``% of every encoder Linear weight (no speed-up: stored densely)."""
    import torch

    model = copy.deepcopy(teacher)
    with torch.no_grad():
        for module in model.base_model.encoder.modules():
            if isinstance(module, torch.nn.Linear):
                w = module.weight
                k = int(w.numel() * percent / 100)
                if k > 0:
                    thr = w.abs().flatten().kthvalue(k).values
                    w[w.abs() <= thr] = 0.0
    return model
