"""A tiny random Llama decoder with an offline byte-level BPE tokenizer, for fast tests.

    from toolkit.compress.decoder.testing import tiny_decoder
    folder = tiny_decoder(tmp_path / "tiny")   # config.json, model.safetensors, tokenizer.json, ...

``LlamaConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
num_key_value_heads=2, intermediate_size=128)``, tied embeddings, seeded weights drawn wider than
the default (``initializer_range=0.1``) so next-token distributions are peaked enough for quality
metrics to tell variants apart. The tokenizer is trained here on a few sentences (no download),
with SmolLM2's special tokens (``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``).
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = """
the quick brown fox jumps over the lazy dog. self-driving cars are the future of transport.
i love my new phone, the battery lasts all day! google maps sent me the wrong way again today.
what a great day to build a small language model on a laptop. the weather is bad and i am sad.
please write a short answer: how many legs does a spider have? it has eight legs.
prices went up again this year, people want cheaper and faster service from every company.
""".strip().split("\n")


def sample_texts(n: int = 64) -> list[str]:
    """Deterministic English-like sentences the tiny tokenizer covers (for calibration and evaluation)."""
    import random

    words = " ".join(_CORPUS).replace(".", " .").replace(",", " ,").replace("!", " !").replace("?", " ?").split()
    rng = random.Random(0)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 24))) for _ in range(n)]


def tiny_tokenizer(vocab_size: int = 1000):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on a fixed corpus (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS * 4 + sample_texts(256), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|im_end|>",
                                   bos_token="<|im_start|>", unk_token="<|endoftext|>", model_max_length=256)


def tiny_config(num_layers: int = 4, vocab_size: int = 1000):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=num_layers,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                       tie_word_embeddings=True, initializer_range=0.1, bos_token_id=1, eos_token_id=2, pad_token_id=2)


def tiny_decoder(path: str | Path, *, num_layers: int = 4, seed: int = 0) -> Path:
    """Save a tiny random ``LlamaForCausalLM`` and its tokenizer to ``path``; return the folder."""
    import torch
    from transformers import LlamaForCausalLM

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer()
    config = tiny_config(num_layers, vocab_size=len(tokenizer))
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
