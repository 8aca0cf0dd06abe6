"""Fidelity to the fp32 reference and task accuracy of a probe, on held-out text, under the serving configuration."""

from __future__ import annotations

from dataclasses import dataclass


def embedding_fidelity(ref, var) -> dict:
    """Mean and 5th-percentile cosine between matching rows (both L2-normalised already)."""
    import numpy as np

    from toolkit.compress.pooling import l2_normalize

    cos = (l2_normalize(ref) * l2_normalize(var)).sum(axis=1)
    return {"cosine_mean": round(float(cos.mean()), 5), "cosine_p5": round(float(np.percentile(cos, 5)), 5)}


def logits_fidelity(ref, var) -> dict:
    """Top-1 agreement and mean KL(reference ‖ variant) of the softmax distributions."""
    import numpy as np

    def log_softmax(x):
        x = x - x.max(axis=1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))

    lp, lq = log_softmax(np.asarray(ref, np.float64)), log_softmax(np.asarray(var, np.float64))
    kl = (np.exp(lp) * (lp - lq)).sum(axis=1)
    agree = (ref.argmax(axis=1) == var.argmax(axis=1)).mean()
    return {"top1_agreement": round(float(agree), 5), "kl_divergence": round(float(kl.mean()), 6)}


@dataclass
class Probe:
    """A logistic-regression probe trained on the reference's outputs for labelled training text."""

    model: object
    reference_accuracy: float

    @classmethod
    def fit(cls, train_x, train_y, test_x, test_y, seed: int = 0) -> "Probe":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
        clf.fit(train_x, train_y)
        return cls(model=clf, reference_accuracy=float(clf.score(test_x, test_y)))

    def accuracy(self, test_x, test_y) -> float:
        return float(self.model.score(test_x, test_y))


def gate(quality, task: str, floor) -> str | None:
    """The reason a variant misses the spec's quality floor, or None when it passes (the family's gate)."""
    from toolkit.families import family_for

    return family_for(task).quality_gate(quality, floor)


def serving_evaluation() -> dict[str, str | int]:
    """How variant quality was measured: the serving configuration (recorded in variants.json 'evaluation')."""
    from toolkit.compress.runtime import BATCH_MATES, SERVED_ALONE

    return {
        "serving_pad_to_multiple_of": SERVED_ALONE.pad_to_multiple_of,
        "serving_texts_per_request": SERVED_ALONE.texts_per_request,
        "serving": f"variant quality on held-out texts sent as the package serves them: {SERVED_ALONE.describe()}",
        "serving_batch_mates": f"each variant also run with {BATCH_MATES.describe()} (consecutive held-out texts); "
                               "quality.batch_mates_max_abs_diff is how far an output moved",
    }


def batch_mates_check(encoder, texts: list[str], alone) -> tuple[float, str | None]:
    """Largest |output sent alone - output in a request with batch-mates| over ``texts``, and a note when it shows."""
    import numpy as np

    from toolkit.compress.runtime import BATCH_INVARIANT_TOLERANCE, BATCH_MATES

    if not len(texts):
        return 0.0, None
    together = encoder.encode(texts, serving=BATCH_MATES)
    diff = float(f"{float(np.abs(np.asarray(together, np.float64) - np.asarray(alone, np.float64)).max()):.2g}")
    if diff <= BATCH_INVARIANT_TOLERANCE:
        return diff, None
    return diff, (f"served outputs depend on padding and batch-mates: up to {diff:.2g} between a text sent alone and in a "
                  f"{BATCH_MATES.texts_per_request}-text request; its quality figures are for texts sent alone")
