"""Forward-pass FLOPs of a BERT-style encoder for one sequence, from its config (pruned heads included).

Counts multiply-adds as 2 FLOPs in the attention projections, the attention score and context
products, and the feed-forward block; embeddings, LayerNorm, softmax and the head are ignored (<2%).
"""

from __future__ import annotations


def encoder_flops(config: dict, seq_len: int) -> float:
    hidden = int(config.get("hidden_size") or config.get("dim") or 0)
    layers = int(config.get("num_hidden_layers") or config.get("n_layers") or 0)
    heads = int(config.get("num_attention_heads") or config.get("n_heads") or 1)
    inter = int(config.get("intermediate_size") or config.get("hidden_dim") or 4 * hidden)
    head_dim = hidden // max(heads, 1)
    pruned = {int(k): len(v) for k, v in (config.get("pruned_heads") or {}).items()}
    L = seq_len
    total = 0.0
    for layer in range(layers):
        a = (heads - pruned.get(layer, 0)) * head_dim  # width of the attention block after pruning
        total += 2 * L * hidden * a * 3  # Q, K, V projections
        total += 2 * L * L * a * 2  # scores and weighted sum
        total += 2 * L * a * hidden  # output projection
        total += 2 * L * hidden * inter * 2  # feed-forward up and down
    return total


def gflops_per_item(config: dict, seq_len: int) -> float:
    """GFLOPs for one sequence of ``seq_len`` tokens."""
    return round(encoder_flops(config, seq_len) / 1e9, 4)
