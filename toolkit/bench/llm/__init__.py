"""Token-level benchmarks of generative models (LLMs), against anything that streams tokens.

    from toolkit.bench.llm import TokenBenchOptions, run_token_bench, write_token_profile
    result = run_token_bench("http://127.0.0.1:8000", TokenBenchOptions(concurrency=[1, 4], api="openai"))
    write_token_profile(result, "profiles.json")

Modules: ``metrics`` (TTFT, ITL, TPOT, e2e, goodput: the definitions), ``workload`` (prompts of given token
lengths, JSONL / ShareGPT datasets), ``targets`` (Triton HTTP/gRPC, OpenAI-compatible, SageMaker streaming),
``resolve`` (TARGET → target), ``load`` (closed and open loops), ``runner`` (points → TokenProfile →
profiles.json), ``cli`` (what ``leanserve bench`` calls for generative targets). (``toolkit.bench.tokens`` is
something else: the token lengths of an encoder bench's texts.)
"""

from __future__ import annotations

__all__ = ["TokenBenchOptions", "run_token_bench", "write_token_profile"]


def __getattr__(name: str):
    if name in __all__:
        from toolkit.bench.llm import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
