"""Sequence classification (``task: text-classification``): logits per label."""

from __future__ import annotations

from typing import ClassVar

from toolkit.families.base import Family


class ClassifierFamily(Family):
    task = "text-classification"
    title = "text classification: logits over the model's labels"
    capacity_unit = "req/s"
    response_kb = 0.3

    TEMPERATURE = 2.0  # distillation softens both distributions by this much

    # ---- compress ------------------------------------------------------------------------------
    optimum_task = "text-classification"  # optimum-onnx's exporter task
    output_name = "logits"
    output_rank = 2  # [batch, labels]
    output_axes: ClassVar[dict[int, str]] = {0: "batch_size"}
    floor_fields = ("min_top1_agreement", "max_accuracy_drop_points")
    quality_fields = ("top1_agreement", "kl_divergence")
    # ---- package / bench -----------------------------------------------------------------------
    triton_output = "logits"
    pooling = False

    def check_source(self, src) -> None:
        archs = src.config.get("architectures") or []
        if archs and not any(a.endswith("ForSequenceClassification") for a in archs):
            from toolkit.errors import ModelError

            raise ModelError(
                f"{src.path} has no classification head (architectures: {', '.join(archs)}) for task {self.task}",
                hint="use task: feature-extraction, or a model fine-tuned for sequence classification",
            )

    def auto_model_class(self):
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification

    def random_model(self, config, *, num_labels: int = 3):
        from transformers import BertForSequenceClassification

        config.num_labels = num_labels
        config.id2label = {i: f"label_{i}" for i in range(num_labels)}
        config.label2id = {v: k for k, v in config.id2label.items()}
        return BertForSequenceClassification(config)

    def postprocess(self, outputs, attention_mask):
        import numpy as np

        return np.asarray(outputs, dtype=np.float32)

    def torch_target(self, model, batch: dict):
        return model(**batch).logits.float()

    def distill_loss(self, student_out, target):
        import torch.nn.functional as F

        t = self.TEMPERATURE
        return F.kl_div(F.log_softmax(student_out / t, -1), F.log_softmax(target / t, -1), log_target=True, reduction="batchmean") * t * t

    def distill_loss_report(self, loss: float) -> tuple[str, float]:
        return "KL", loss

    def head_damage(self, base, out) -> float:
        import torch

        lp, lq = torch.log_softmax(base, -1), torch.log_softmax(out, -1)
        return float((lp.exp() * (lp - lq)).sum(-1).mean())

    def fidelity(self, ref, out) -> dict:
        from toolkit.compress.evaluate import logits_fidelity

        return logits_fidelity(ref, out)

    def reference_quality(self) -> dict:
        return {"top1_agreement": 1.0, "kl_divergence": 0.0}

    def fidelity_reasons(self, quality, floor) -> list[str]:
        if quality.top1_agreement is not None and quality.top1_agreement < floor.min_top1_agreement:
            return [f"top-1 agreement {quality.top1_agreement:.4f} < floor {floor.min_top1_agreement}"]
        return []

    def quality_cell(self, row: dict) -> str:
        from toolkit.compress.table import fmt

        return f"top1 {fmt(row['top1'], '.4f')} KL {fmt(row['kl'], '.4f')}"
