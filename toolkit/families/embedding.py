"""Sentence embeddings (``task: feature-extraction``): mean-pooled, L2-normalised vectors."""

from __future__ import annotations

from typing import ClassVar

from toolkit.families.base import Family


class EmbeddingFamily(Family):
    task = "feature-extraction"
    title = "sentence embeddings: a mean-pooled, L2-normalised vector per text"
    capacity_unit = "req/s"
    response_kb = 4.0  # a JSON embedding of 384 floats

    # ---- compress ------------------------------------------------------------------------------
    optimum_task = "feature-extraction"  # optimum-onnx's exporter task
    output_name = "last_hidden_state"
    output_rank = 3  # [batch, seq, hidden]
    output_axes: ClassVar[dict[int, str]] = {0: "batch_size", 1: "sequence_length"}
    floor_fields = ("min_cosine_mean", "min_cosine_p5", "max_accuracy_drop_points")
    quality_fields = ("cosine_mean", "cosine_p5")
    # ---- package / bench -----------------------------------------------------------------------
    triton_output = "embedding"
    pooling = True

    def auto_model_class(self):
        from transformers import AutoModel

        return AutoModel

    def random_model(self, config, *, num_labels: int = 3):
        from transformers import BertModel

        return BertModel(config)

    def postprocess(self, outputs, attention_mask):
        from toolkit.compress.pooling import mean_pool

        return mean_pool(outputs, attention_mask)

    def torch_target(self, model, batch: dict):
        from toolkit.compress.pooling import torch_mean_pool

        out = model(**batch)
        return torch_mean_pool(out.last_hidden_state, batch["attention_mask"], normalize=True)

    def distill_loss(self, student_out, target):
        return ((student_out - target) ** 2).sum(-1).mean()  # = mean(2 - 2 cos) on unit vectors

    def distill_loss_report(self, loss: float) -> tuple[str, float]:
        return "1-cos", 0.5 * loss  # loss = 2 - 2cos -> report 1 - cos

    def head_damage(self, base, out) -> float:
        return float((1 - (base * out).sum(-1)).mean())

    def fidelity(self, ref, out) -> dict:
        from toolkit.compress.evaluate import embedding_fidelity

        return embedding_fidelity(ref, out)

    def reference_quality(self) -> dict:
        return {"cosine_mean": 1.0, "cosine_p5": 1.0}

    def fidelity_reasons(self, quality, floor) -> list[str]:
        reasons = []
        if quality.cosine_mean is not None and quality.cosine_mean < floor.min_cosine_mean:
            reasons.append(f"mean cosine {quality.cosine_mean:.5f} < floor {floor.min_cosine_mean}")
        if floor.min_cosine_p5 is not None and quality.cosine_p5 is not None and quality.cosine_p5 < floor.min_cosine_p5:
            reasons.append(f"p5 cosine {quality.cosine_p5:.5f} < floor {floor.min_cosine_p5}")
        return reasons

    def quality_cell(self, row: dict) -> str:
        from toolkit.compress.table import fmt

        return f"cos {fmt(row['cosine_mean'], '.4f')} p5 {fmt(row['cosine_p5'], '.4f')}"
