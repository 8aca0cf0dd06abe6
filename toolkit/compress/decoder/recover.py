"""Recovery of a pruned decoder: a short distillation from the reference on unlabelled text.

The student (the pruned model) learns the teacher's next-token distributions: the loss is
KL(teacher ‖ student) of temperature-softened logits (× T²), averaged over every position of
every window. The embeddings (tied to the lm_head in small models) stay frozen; everything else
trains with AdamW, a linear warm-up and a cosine decay to 10% of the learning rate.

Seeded: step ``s`` trains on windows drawn by ``default_rng([seed, s])``, so a run's batches do
not depend on where it was interrupted. Resumable: every ``checkpoint_every`` steps the trainable
weights, the optimizer and the losses go to ``<checkpoint_dir>/state.pt`` (written to a temporary
file, then renamed); a run given the same inputs resumes from there, and a finished one returns
at once. ``on_step(step, total, loss)`` reports progress (the CLI draws a bar with it).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RecoverySettings:
    steps: int = 200
    batch_size: int = 4
    lr: float = 1e-4
    warmup_steps: int = 10
    temperature: float = 1.0
    seed: int = 0
    checkpoint_every: int = 50
    threads: int | None = None


@dataclass
class RecoveryResult:
    steps: int  # steps done in total (this run and any it resumed)
    resumed_from: int  # the step the run started at (0: fresh)
    losses: list[float] = field(default_factory=list)  # one per step, from step 1
    seconds: float = 0.0  # this run's training time
    checkpoint: str | None = None

    @property
    def final_loss(self) -> float | None:
        tail = self.losses[-10:]
        return sum(tail) / len(tail) if tail else None


def trainable(student) -> dict:
    """Named parameters that train: everything but the (tied) embeddings and lm_head."""
    emb = student.get_input_embeddings().weight
    out = student.get_output_embeddings()
    frozen = {id(emb)} | ({id(out.weight)} if out is not None else set())
    return {n: p for n, p in student.named_parameters() if id(p) not in frozen}


def run_key(student, windows, settings: RecoverySettings, extra: str = "") -> str:
    """Identifies a run: its settings, its text, the student's shape and ``extra`` (e.g. the dropped layers)."""
    import numpy as np

    h = hashlib.sha256()
    cfg = {k: v for k, v in asdict(settings).items() if k not in ("checkpoint_every", "threads")}
    h.update(json.dumps(cfg, sort_keys=True).encode())
    h.update(np.ascontiguousarray(windows, dtype=np.int64).tobytes())
    h.update(f"{student.config.model_type}:{student.config.num_hidden_layers}:{extra}".encode())
    return h.hexdigest()[:16]


def _lr(step: int, s: RecoverySettings) -> float:
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps)
    return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _batch(step: int, n: int, s: RecoverySettings):
    import numpy as np

    rng = np.random.default_rng([s.seed, step])
    return rng.choice(n, size=s.batch_size, replace=n < s.batch_size)


def _save(path: Path, state: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def kl_loss(student_logits, teacher_logits, temperature: float):
    import torch.nn.functional as F

    t = temperature
    log_s = F.log_softmax(student_logits.float() / t, dim=-1)
    log_t = F.log_softmax(teacher_logits.float() / t, dim=-1)
    kl = (log_t.exp() * (log_t - log_s)).sum(-1)
    return kl.mean() * t * t


def recover(student, teacher, windows, settings: RecoverySettings = RecoverySettings(), *, checkpoint_dir: Path | None = None,
            on_step=None, key_extra: str = "") -> RecoveryResult:
    """Distil ``teacher`` into ``student`` (in place) on ``windows`` (numpy int64 [n, T]); see the module docstring."""
    import torch

    from toolkit.compress.decoder.runtime import torch_threads

    s = settings
    params = trainable(student)
    for p in student.parameters():
        p.requires_grad_(False)
    for p in params.values():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(list(params.values()), lr=s.lr, weight_decay=0.0)
    key = run_key(student, windows, s, key_extra)
    ckpt = Path(checkpoint_dir) / f"recover-{key}" / "state.pt" if checkpoint_dir is not None else None
    start, losses = 0, []
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        if state.get("key") == key:
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(state["params"][n])
            opt.load_state_dict(state["optimizer"])
            start, losses = int(state["step"]), list(state["losses"])
    result = RecoveryResult(steps=start, resumed_from=start, losses=losses, checkpoint=str(ckpt) if ckpt else None)
    if start >= s.steps:
        student.eval()
        return result
    ids = torch.as_tensor(windows, dtype=torch.long)
    teacher.eval()
    t0 = time.perf_counter()
    torch.manual_seed(s.seed)
    with torch_threads(s.threads):
        student.train()
        for step in range(start, s.steps):
            batch = ids[torch.as_tensor(_batch(step, ids.shape[0], s))]
            with torch.inference_mode():
                target = teacher(input_ids=batch, use_cache=False).logits
            target = target.clone()  # an inference tensor cannot enter autograd
            for g in opt.param_groups:
                g["lr"] = _lr(step, s)
            loss = kl_loss(student(input_ids=batch, use_cache=False).logits, target, s.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            opt.step()
            losses.append(round(float(loss.detach()), 6))
            done = step + 1
            if on_step:
                on_step(done, s.steps, losses[-1])
            if ckpt is not None and (done % s.checkpoint_every == 0 or done == s.steps):
                _save(ckpt, {"key": key, "step": done, "losses": losses, "optimizer": opt.state_dict(),
                             "params": {n: p.detach().clone() for n, p in params.items()}})
    student.eval()
    for p in student.parameters():
        p.requires_grad_(False)
    result.steps, result.losses, result.seconds = s.steps, losses, round(time.perf_counter() - t0, 3)
    return result
