"""The CPU LLM package in the real local tritonserver: tokens streamed over HTTP SSE (generate_stream) and gRPC
streaming equal the in-process greedy decode of the same ONNX variant, token for token; bad requests get an
error each and the model keeps serving; `leanserve serve` starts and stops it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.serve.conftest import leftovers
from tests.serve.test_llm_fixtures import llm_package  # noqa: F401 - fixture

PROMPTS = ["the quick brown fox", "please write a short answer: how many legs does a spider have?", "prices went up"]
GREEDY = {"max_tokens": 24, "temperature": 0, "ignore_eos": True}


def _in_process(package):
    from toolkit.package.llm.models import load_decode_module

    folder = package / "model_repository/llm/1"
    mod = load_decode_module(folder / "llm_decode.py")
    return mod, mod.Generator.load(str(folder), threads=2, max_model_len=256)


@pytest.mark.integration
def test_served_greedy_tokens_equal_the_in_process_greedy_decode_over_http_and_grpc(llm_package):
    import numpy as np

    from toolkit.compress.decoder.runtime import OnnxDecoder, greedy
    from toolkit.serve import ServeOptions, TritonServer
    from toolkit.serve.llm.client import GrpcStreamer, generate_stream_http

    mod, gen = _in_process(llm_package)
    expected = {p: list(gen.stream(p, GREEDY)) for p in PROMPTS}
    # the served model's loop picks the same tokens as the decoder library's own KV loop
    lib = OnnxDecoder(llm_package / "model_repository/llm/1/model.onnx", threads=2)
    for p in PROMPTS:
        ids = gen.encode(p)
        ours = list(gen.token_ids(ids, mod.parse_sampling(GREEDY)))
        assert ours == greedy(lib, np.asarray([ids]), GREEDY["max_tokens"])[0].tolist()
    with TritonServer.start(llm_package, ServeOptions()) as server:
        grpc = GrpcStreamer(server.grpc_url, "llm")
        try:
            for p in PROMPTS:
                http_chunks = [c.text for c in generate_stream_http(server.http_url, "llm", p, GREEDY)]
                grpc_chunks = [c.text for c in grpc.generate(p, GREEDY)]
                assert http_chunks == expected[p], p  # one response per token, the same text deltas
                assert grpc_chunks == expected[p], p
                assert len(http_chunks) == GREEDY["max_tokens"]
        finally:
            grpc.close()
        # non-streaming generate: one response; the prompt is prepended unless excluded (the vLLM backend's default)
        body = json.dumps({"text_input": PROMPTS[0], "stream": False, "sampling_parameters": json.dumps(GREEDY)}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{server.http_url}/v2/models/llm/generate", data=body), timeout=30) as r:
            assert json.loads(r.read())["text_output"] == PROMPTS[0] + "".join(expected[PROMPTS[0]])
        # sampling as the generate endpoint's request parameters (no sampling_parameters tensor)
        body = json.dumps({"text_input": PROMPTS[1], "exclude_input_in_output": True, "parameters": GREEDY}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{server.http_url}/v2/models/llm/generate", data=body), timeout=30) as r:
            assert json.loads(r.read())["text_output"] == "".join(expected[PROMPTS[1]])


@pytest.mark.integration
def test_bad_requests_get_one_error_each_and_the_model_keeps_serving(llm_package):
    from toolkit.serve import ServeOptions, TritonServer
    from toolkit.serve.llm.client import GrpcStreamer, StreamError, generate_stream_http

    with TritonServer.start(llm_package, ServeOptions()) as server:
        url = server.http_url
        cases = [("hello", {"max_tokens": 0}, "max_tokens must be at least 1, got 0"),
                 (" ".join(["the quick brown fox"] * 80), {"max_tokens": 4}, "at or above max_model_len 256"),
                 ("hello", {"max_tokens": 4, "logprobs": 2}, "unsupported sampling parameter(s) logprobs")]
        for prompt, sp, message in cases:
            with pytest.raises(StreamError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
                list(generate_stream_http(url, "llm", prompt, sp))
            assert exc.value.answered
        grpc = GrpcStreamer(server.grpc_url, "llm")
        try:
            with pytest.raises(StreamError, match="max_tokens must be at least 1"):
                list(grpc.generate("hello", {"max_tokens": -3}))
            assert len(list(grpc.generate("hello", {"max_tokens": 3, "temperature": 0}))) >= 1
        finally:
            grpc.close()
        assert len(list(generate_stream_http(url, "llm", "hello", {"max_tokens": 5, "temperature": 0, "ignore_eos": True}))) == 5
        assert server.alive()


@pytest.mark.integration
def test_leanserve_serve_streams_an_llm_package_then_stops_cleanly(llm_package):
    from toolkit.serve.llm.client import generate_stream_http

    cmd = [sys.executable, "-m", "toolkit", "--json", "serve", str(llm_package), "--http-port", "0", "--grpc-port", "0",
           "--metrics-port", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip("\n") == "}":
                break
        info = json.loads("".join(lines))
        assert info["models"] == ["llm"] and info["ensemble"] == "llm" and info["http"].startswith("http://127.0.0.1:")
        chunks = list(generate_stream_http(info["http"], "llm", "the weather is", {"max_tokens": 6, "temperature": 0, "ignore_eos": True}))
        assert len(chunks) == 6
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        marker = info["log"].rsplit("/", 1)[0]
        assert leftovers(marker, info["shm_prefix"]) == ([], [])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
