"""What `leanserve serve` prints once an LLM server is ready: where it listens and a request to try."""

from __future__ import annotations


def llm_ready_lines(server) -> list[str]:
    """Lines for an LLM server (a vLLM server, or Triton serving an LLM package); [] for anything else."""
    from toolkit.package.llm.manifest import LLMManifest

    describe = server.describe()
    if describe.get("engine") == "vllm":
        return [f"vLLM ready on {server.http_url} (OpenAI-compatible: {server.http_url}/v1), pid {server.pid}",
                f"  model: {server.name}",
                f"  try: curl -sN {server.http_url}/v1/completions -H 'Content-Type: application/json' -d "
                f"'{{\"model\": \"{server.name}\", \"prompt\": \"Hello\", \"max_tokens\": 16, \"stream\": true}}'",
                "  Ctrl-C to stop"]
    if not isinstance(getattr(server, "manifest", None), LLMManifest):
        return []
    m = server.manifest
    return [f"Triton ready on {server.http_url} (gRPC {server.grpc_url}, metrics {server.metrics_url}), pid {server.pid}",
            f"  model: {m.model} ({m.variant}, {m.precision}; streams one response per token)",
            f"  try: curl -sN {server.http_url}/v2/models/{m.model}/generate_stream -d "
            "'{\"text_input\": \"Hello\", \"stream\": true, \"sampling_parameters\": \"{\\\"max_tokens\\\": 16, \\\"temperature\\\": 0}\"}'",
            f"  gRPC streaming: {server.grpc_url} (tritonclient.grpc start_stream / async_stream_infer)",
            "  Ctrl-C to stop"]
