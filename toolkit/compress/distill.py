"""Knowledge distillation on the CPU: a k-layer student initialised from the teacher's layers.

The student keeps the teacher's embeddings (frozen) and learns to reproduce the teacher's output on unlabelled text,
with the loss its family gives (``family.distill_loss``): for sentence embeddings the squared distance
between L2-normalised mean-pooled embeddings (MSE on pooled embeddings, which is 2 − 2·cosine), for
classifiers the KL divergence of temperature-softened logits. Training is seeded,
shows a progress bar, stops early when the validation loss stops improving, and checkpoints to
``<cache>/<key>/state.pt`` (atomically) so an interrupted run resumes where it stopped and a
finished one is reused.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path



def pick_layers(n: int, k: int) -> list[int]:
    """Evenly spread teacher layers for a k-layer student; always keeps the last layer."""
    if k == 1:
        return [n - 1]
    step = (n - 1) / (k - 1)
    return sorted({round(i * step) for i in range(k)})


def encoder_layers(model):
    base = model.base_model
    enc = getattr(base, "encoder", None)
    layers = getattr(enc, "layer", None)
    if layers is None:
        from toolkit.errors import ModelError

        raise ModelError(f"cannot find the encoder layers of '{model.config.model_type}'", hint="distillation supports BERT-style encoders")
    return enc


def make_student(teacher, k: int):
    """A copy of ``teacher`` that keeps k of its layers (see :func:`pick_layers`)."""
    import torch

    student = copy.deepcopy(teacher)
    enc = encoder_layers(student)
    keep = pick_layers(len(enc.layer), k)
    enc.layer = torch.nn.ModuleList([enc.layer[i] for i in keep])
    student.config.num_hidden_layers = len(keep)
    for i, layer in enumerate(enc.layer):  # keep cache/layer indices consistent
        attn = getattr(getattr(layer, "attention", None), "self", None)
        if attn is not None and hasattr(attn, "layer_idx"):
            attn.layer_idx = i
    return student, keep


def distill_student(ctx, name: str, k: int):
    """Build and train a k-layer student of ``ctx.teacher``. Returns (student, notes)."""
    n = ctx.src.num_layers
    student, keep = make_student(ctx.teacher, k)
    notes = [f"student of {k} layers initialised from teacher layers {keep} (of {n})"]
    notes += train(ctx, student, name, ctx.settings.distill.max_steps, init=f"layers={keep}")
    return student, notes


class _Data:
    """Tokenised texts and the teacher's targets for them."""

    def __init__(self, ctx, texts: list[str], seq_len: int):
        import torch

        from toolkit.compress.export import input_names_for

        self.tok, self.names, self.task = ctx.tokenizer, input_names_for(ctx.teacher), ctx.task
        enc = ctx.tokenizer(list(texts), truncation=True, max_length=seq_len)
        self.rows = [{n: enc[n][i] for n in self.names if n in enc} for i in range(len(texts))]
        order = sorted(range(len(self.rows)), key=lambda i: len(self.rows[i]["input_ids"]))  # little padding
        self.targets = None
        with torch.inference_mode():
            for start in range(0, len(order), 64):
                idx = order[start:start + 64]
                out = teacher_output(ctx.teacher, self.batch(idx), ctx.task)
                if self.targets is None:
                    self.targets = torch.zeros(len(order), out.shape[-1])
                self.targets[idx] = out
        if self.targets is None:
            self.targets = torch.zeros(0)

    def batch(self, idx) -> dict:
        import torch

        padded = self.tok.pad([self.rows[i] for i in idx], return_tensors="pt")
        out = {n: padded[n] for n in self.names if n in padded}
        if "token_type_ids" in self.names and "token_type_ids" not in out:
            out["token_type_ids"] = torch.zeros_like(out["input_ids"])
        return out

    def __len__(self) -> int:
        return len(self.rows)


def teacher_output(model, batch: dict, task: str):
    """``model``'s prediction on ``batch`` in the form its family distils (pooled vectors, logits)."""
    from toolkit.families import family_for

    return family_for(task).torch_target(model, batch)


def loss_fn(student_out, target, task: str):
    from toolkit.families import family_for

    return family_for(task).distill_loss(student_out, target)


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Random batches of similar-length texts (less padding), fixed by (seed, epoch) so a resumed run continues identically."""
    import random

    rng = random.Random(seed * 100003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 32
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches += [part[i:i + batch_size] for i in range(0, len(part) - batch_size + 1, batch_size)]
    rng.shuffle(batches)
    return batches or [order]


def trainable_parameters(model) -> list:
    """Everything but the embeddings: the student keeps the teacher's (a third of MiniLM's weights),
    which halves the cost of a step (dense embedding gradients and their optimizer update) on a CPU."""
    frozen = {id(p) for p in model.base_model.embeddings.parameters()}
    params = []
    for p in model.parameters():
        p.requires_grad_(id(p) not in frozen)
        if id(p) not in frozen:
            params.append(p)
    return params


def _cache_key(ctx, name: str, init: str, texts: list[str], max_steps: int) -> str:
    from dataclasses import asdict

    from toolkit.fileio import sha256_file

    h = hashlib.sha256()
    h.update(json.dumps({
        "name": name, "init": init, "weights": sha256_file(ctx.src.weights), "task": ctx.task, "seed": ctx.seed,
        "settings": asdict(ctx.settings.distill), "max_steps": max_steps, "threads": ctx.threads,
    }, sort_keys=True).encode())
    for t in texts:
        h.update(t.encode("utf-8", "replace") + b"\0")
    return h.hexdigest()[:16]


def _save(state: dict, path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C mid-write: keep the previous checkpoint, drop the partial one
        tmp.unlink(missing_ok=True)
        raise


def _load_checkpoint(path: Path):
    """A checkpoint written by :func:`_save`, or None when there is none or it cannot be read."""
    import pickle

    import torch

    if not path.exists():
        return None
    try:
        return torch.load(path, weights_only=True)  # tensors and plain containers only: no code runs on load
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):
        return None


def train(ctx, student, name: str, max_steps: int, init: str = "") -> list[str]:
    """Distil ``ctx.teacher`` into ``student`` in place. Returns notes on how training went."""
    import torch

    s = ctx.settings.distill
    texts = ctx.splits.distill_texts
    n_val = min(s.validation_examples, max(1, len(texts) // 5))
    val_texts, train_texts = texts[:n_val], texts[n_val:]
    key = _cache_key(ctx, name, init, texts, max_steps)
    ckpt = Path(ctx.cache_dir) / f"{name}-{key}" / "state.pt"

    old_threads = torch.get_num_threads()
    torch.set_num_threads(ctx.threads)
    try:
        state = _load_checkpoint(ckpt)
        if state is not None and state.get("finished"):
            student.load_state_dict(state["best"])
            return [f"student weights reused from a finished run (cache {ckpt.parent})", *state["notes"]]

        cache_key = (s.seq_len, len(texts), hash(tuple(texts)))
        if cache_key not in ctx.data_cache:
            with ctx.reporter.stage(f"distilling {name}: teacher targets", total=None):
                ctx.data_cache[cache_key] = (_Data(ctx, train_texts, s.seq_len), _Data(ctx, val_texts, s.seq_len))
        train_data, val_data = ctx.data_cache[cache_key]

        torch.manual_seed(ctx.seed)
        student.eval()  # dropout off: targets are deterministic, and so is training under the seed
        trainable = trainable_parameters(student)
        opt = torch.optim.AdamW(trainable, lr=s.learning_rate, weight_decay=0.01)
        warmup = max(1, max_steps // 20)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min((i + 1) / warmup, 1.0 - 0.9 * i / max_steps))
        step, best, best_loss, bad, history = 0, None, float("inf"), 0, []
        resumed = False
        if state is not None:
            student.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            step, best, best_loss, bad, history = state["step"], state["best"], state["best_loss"], state["bad"], state["history"]
            resumed = True

        val_order = sorted(range(len(val_data)), key=lambda i: len(val_data.rows[i]["input_ids"]))

        def validate() -> float:
            total = 0.0
            with torch.inference_mode():
                for start in range(0, len(val_order), 64):
                    idx = val_order[start:start + 64]
                    out = teacher_output(student, val_data.batch(idx), ctx.task)
                    total += float(loss_fn(out, val_data.targets[idx], ctx.task)) * len(idx)
            return total / max(1, len(val_data))

        if best is None:
            best_loss = validate()
            best = copy.deepcopy(student.state_dict())
            history.append((0, round(best_loss, 6)))
        stopped = "step limit"
        with ctx.reporter.stage(f"distilling {name}", total=max_steps) as bar:
            bar.advance(step)
            lengths = [len(r["input_ids"]) for r in train_data.rows]
            plan_epoch, plan = 0, epoch_batches(lengths, s.batch_size, ctx.seed, 0)
            per_epoch = len(plan)  # the same for every epoch
            while step < max_steps:
                epoch, pos = divmod(step, per_epoch)
                if epoch != plan_epoch:
                    plan_epoch, plan = epoch, epoch_batches(lengths, s.batch_size, ctx.seed, epoch)
                idx = plan[pos]
                batch = train_data.batch(idx)
                out = teacher_output(student, batch, ctx.task)
                loss = loss_fn(out, train_data.targets[idx], ctx.task)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                opt.step()
                sched.step()
                step += 1
                bar.advance()
                if step % s.eval_every == 0 or step == max_steps:
                    v = validate()
                    history.append((step, round(v, 6)))
                    bar.describe(f"(val loss {v:.4f})")
                    if v < best_loss - s.min_delta:
                        best_loss, best, bad = v, copy.deepcopy(student.state_dict()), 0
                    else:
                        bad += 1
                    _save({"model": student.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
                           "best": best, "best_loss": best_loss, "bad": bad, "history": history, "finished": False}, ckpt)
                    if bad >= s.patience:
                        stopped = f"plateau (no gain in {s.patience} checks)"
                        break
        student.load_state_dict(best)
        for p in student.parameters():
            p.requires_grad_(False)
        label, first = ctx.family.distill_loss_report(history[0][1])
        _, last = ctx.family.distill_loss_report(best_loss)
        notes = [f"distilled {step} steps on {len(train_texts)} texts (seq ≤ {s.seq_len}, batch {s.batch_size}, lr {s.learning_rate}), "
                 f"stopped at {stopped}; validation {label} {first:.4f} → {last:.4f}"]
        if resumed:
            notes.append("resumed from an interrupted run's checkpoint")
        _save({"best": best, "finished": True, "notes": notes}, ckpt)
        return notes
    finally:
        torch.set_num_threads(old_threads)
