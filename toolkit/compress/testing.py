"""Helpers for tests elsewhere in the project: a tiny random BERT with a working offline tokenizer.

    from toolkit.compress.testing import tiny_model
    folder = tiny_model(tmp_path / "tiny")   # config.json, model.safetensors, vocab.txt, tokenizer files

The model is ``BertConfig(vocab_size=1000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
intermediate_size=64)`` with seeded random weights; the WordPiece vocabulary is built here (no download).
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Common English words and sub-word pieces, so that real sentences tokenize to more than [UNK].
_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by
not word but what some we can out other were all there when up use your how said an each she which do their
time if will way about many then them write would like so these her long make thing see him two has look
more day could go come did number sound no most people my over know water than call first who may down side
been now find any new work part take get place made live where after back little only round man year came
show every good me give our under name very through just form sentence great think say help low line differ
turn cause much mean before move right boy old too same tell does set three want air well also play small end
put home read hand port large spell add even land here must big high such follow act why ask men change went
light kind off need house picture try us again animal point mother world near build self earth father car cars
self-driving google love hate happy sad great bad good drive driving road safe safety future tech news today
""".split()


def _vocab(size: int) -> list[str]:
    vocab = list(SPECIAL_TOKENS)
    seen = set(vocab)

    def add(tok: str) -> None:
        if tok not in seen and len(vocab) < size:
            seen.add(tok)
            vocab.append(tok)

    for ch in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;#@()/&%$*+=_":
        add(ch)
        add("##" + ch)
    for w in _WORDS:
        add(w.lower())
    # Frequent suffixes as continuation pieces, then filler pieces up to the requested size.
    for suffix in ["ing", "ed", "er", "s", "es", "ly", "tion", "al", "est", "ness", "ment", "able", "ful", "less"]:
        add("##" + suffix)
    i = 0
    while len(vocab) < size:
        add(f"[unused{i}]")
        i += 1
    return vocab


def tiny_model(path: str | Path, *, task: str = "feature-extraction", num_labels: int = 3, seed: int = 0) -> Path:
    """Save a tiny random BERT (and its tokenizer) to ``path`` and return the folder.

    The model class is the task's family's (``family.random_model``): ``BertModel`` for
    feature-extraction, ``BertForSequenceClassification`` with ``num_labels`` labels for text-classification.
    Runs offline in well under a second once torch/transformers are imported.
    """
    import torch
    from transformers import BertConfig, BertTokenizerFast

    from toolkit.families import REGISTRY, family_for

    if task not in REGISTRY:
        raise ValueError(f"unknown task {task!r}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = 1000
    (folder / "vocab.txt").write_text("\n".join(_vocab(vocab_size)) + "\n", encoding="utf-8")
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    model = family_for(task).random_model(config, num_labels=num_labels)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512)
    tokenizer.save_pretrained(folder)
    return folder
