"""Token-level bench: the metric definitions, the load loops against a local fake OpenAI-compatible SSE server
(stdlib http.server on 127.0.0.1), SageMaker streaming through botocore's Stubber, faults (cut-short streams,
HTML, an encoder endpoint, a server that dies), the CLI and profiles.json, and the real Triton CPU package."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import run_cli
from tests.serve.test_llm_fixtures import llm_package  # noqa: F401 - fixture
from toolkit.bench.llm.cli import parse_lengths, parse_token_sla
from toolkit.bench.llm.metrics import RequestRecord, meets, summarise
from toolkit.bench.llm.runner import TokenBenchOptions, run_token_bench, write_token_profile
from toolkit.errors import InputError


class FakeLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible streaming server: one token every ``itl_s`` after ``ttft_s``; behaviour set on the server."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes: a cut-short stream is possible

    def log_message(self, *args):
        pass

    def _json(self, code: int, obj, ctype="application/json") -> None:
        body = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        if srv.mode == "html":
            return self._json(200, "<html><body>hello</body></html>", "text/html")
        if self.path == "/v1/models" and srv.mode != "triton-encoder":
            return self._json(200, {"object": "list", "data": [{"id": "fake-llm", "object": "model"}]})
        if self.path.startswith("/v2/models/") and srv.mode == "triton-encoder":
            return self._json(200, {"name": "llm", "inputs": [{"name": "TEXT", "datatype": "BYTES", "shape": [-1, 1]}]})
        self._json(404, {"error": "not found"})

    def do_POST(self):
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with srv.lock:
            srv.bodies.append(body)
        if srv.refuse_ignore_eos and "ignore_eos" in body:
            return self._json(400, {"error": {"message": "Unrecognized request argument supplied: ignore_eos"}})
        n = int(body["max_tokens"])
        if n < 1:
            return self._json(400, {"error": {"message": "max_tokens must be at least 1"}})
        chat = self.path == "/v1/chat/completions"
        with srv.slots:  # at most ``capacity`` requests decode at once; the rest wait (a saturating server)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()

            def event(obj) -> None:
                self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
                self.wfile.flush()

            if chat:
                event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})  # role only: not a token
            time.sleep(srv.ttft_s)
            for i in range(n):
                if i:
                    time.sleep(srv.itl_s)
                if srv.truncate_after is not None and i == srv.truncate_after:
                    return  # the connection closes without [DONE]
                piece = f"t{i} "
                event({"choices": [{"index": 0, "delta": {"content": piece}} if chat else {"index": 0, "text": piece}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                event({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": n}})
            self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def fake():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    srv.daemon_threads = True
    srv.mode, srv.ttft_s, srv.itl_s, srv.truncate_after, srv.refuse_ignore_eos = "openai", 0.02, 0.005, None, False
    srv.bodies, srv.lock, srv.slots = [], threading.Lock(), threading.BoundedSemaphore(64)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def _opts(**kw) -> TokenBenchOptions:
    base = dict(concurrency=[1], duration_s=0.6, warmup_s=0, timeout_s=10, prompt_tokens=parse_lengths("16", "p"),
                output_tokens=parse_lengths("8", "o"), api="openai", requests=16)
    base.update(kw)
    return TokenBenchOptions(**base)


# ---- definitions -----------------------------------------------------------------------------------------
def test_metric_definitions_on_known_timings():
    r = RequestRecord(start=10.0, prompt_tokens=4, max_tokens=4, token_times=[10.1, 10.12, 10.15, 10.19], end=10.2)
    assert r.ttft == pytest.approx(0.1) and r.e2e == pytest.approx(0.2)
    assert r.tpot == pytest.approx((0.2 - 0.1) / 3)  # (e2e - TTFT) / (tokens - 1)
    assert r.itls.tolist() == pytest.approx([0.02, 0.03, 0.04])
    cut = RequestRecord(start=10.0, prompt_tokens=4, max_tokens=4, token_times=[10.05], error="stream cut short")
    s = summarise([r, cut], mode="closed", concurrency=1, target_rps=None, window=(10.0, 10.5),
                  constraints=parse_token_sla("ttft_p95_ms=150,itl_p95_ms=45"))
    assert s["completed"] == 1 and s["errors"] == 1 and s["error_examples"] == ["stream cut short"]
    assert s["ttft_ms"]["p50"] == pytest.approx(100) and s["itl_ms"]["samples"] == 3  # ITL pooled over tokens
    assert s["duration_s"] == pytest.approx(0.5) and s["output_tokens_per_s"] == pytest.approx(8.0)
    assert s["goodput_rps"] == pytest.approx(2.0)  # only the completed one counts, and it met both constraints
    assert not meets(r, parse_token_sla("itl_p95_ms=35")) and meets(r, parse_token_sla("itl_p50_ms=35"))
    assert not meets(cut, [])  # a failed or cut-short stream is never good


def test_sla_and_length_options_parse_or_say_what_is_wrong():
    c = parse_token_sla("ttft_p95_ms=500, itl_p99_ms=40,p90_ms=8000")
    assert [(x.metric, x.percentile, x.limit) for x in c] == [("ttft", "p95", 500), ("itl", "p99", 40), ("latency", "p90", 8000)]
    with pytest.raises(InputError, match="is not METRIC_PCT_ms=LIMIT"):
        parse_token_sla("ttft=500")
    assert parse_lengths("64", "output-tokens").mean == 64
    assert parse_lengths("p50=400,p90=1000,max=2048", "prompt-tokens").max == 2048
    with pytest.raises(InputError, match="must be at least 1 token"):
        parse_lengths("0", "output-tokens")


def test_datasets_jsonl_and_sharegpt(tmp_path):
    from toolkit.bench.llm.workload import Counter, from_dataset

    jl = tmp_path / "d.jsonl"
    jl.write_text('{"prompt": "one two three", "max_tokens": 5}\n{"messages": [{"role": "user", "content": "hi there"}], "output_tokens": 7}\n')
    wl = from_dataset(jl, Counter(), n=10)
    assert sorted((r.prompt, r.prompt_tokens, r.max_tokens) for r in wl.requests) == [("hi there", 2, 7), ("one two three", 3, 5)]
    sg = tmp_path / "sharegpt.json"
    sg.write_text(json.dumps([{"conversations": [{"from": "human", "value": "tell me"}, {"from": "gpt", "value": "a b c d"}]},
                              {"conversations": [{"from": "gpt", "value": "no prompt"}]}]))
    wl = from_dataset(sg, Counter(), n=10)
    assert [(r.prompt, r.max_tokens) for r in wl.requests] == [("tell me", 4)] and wl.tokenizer is None
    with pytest.raises(InputError, match="no usable records"):
        from_dataset(tmp_path / "d.jsonl", Counter(), n=10, max_prompt_tokens=1)


# ---- against a fake OpenAI-compatible server ------------------------------------------------------------------
def test_closed_and_open_loop_against_completions(fake):
    prof = run_token_bench(fake.url, _opts(concurrency=[1, 2], rates=[20.0], sla=parse_token_sla("ttft_p95_ms=500,itl_p95_ms=50"))).profile
    assert [p.mode for p in prof.points] == ["closed", "closed", "open-poisson"] and prof.api == "openai-completions"
    assert prof.model == "fake-llm" and prof.variant == "fake-llm"
    for p in prof.points:
        assert p.errors == 0 and p.lost == 0 and p.completed > 0 and p.output_tokens_mean == 8
        assert 15 <= p.ttft_ms.p50 < 200 and 4 <= p.itl_ms.p50 < 50 and p.goodput_rps == pytest.approx(p.requests_per_s)
    assert 8 <= prof.points[2].sent <= 40  # Poisson arrivals at 20/s for 0.6 s
    body = fake.bodies[-1]
    assert body["max_tokens"] == 8 and body["ignore_eos"] is True and body["stream"] is True and body["model"] == "fake-llm"
    assert prof.shapes.source == "fixed: 16 prompt / 8 output tokens" and prof.shapes.tokenizer is None


def test_chat_role_chunks_are_not_tokens_and_refused_ignore_eos_is_dropped(fake):
    fake.refuse_ignore_eos = True
    prof = run_token_bench(fake.url, _opts(api="openai-chat")).profile
    p = prof.points[0]
    assert prof.api == "openai-chat" and p.errors == 0 and p.output_tokens_mean == 8 and p.ttft_ms.p50 >= 15
    assert any("refused ignore_eos" in n for n in prof.notes) and "ignore_eos" not in fake.bodies[-1]


def test_a_cut_short_stream_is_an_error_never_a_fast_request(fake):
    fake.truncate_after = 3
    p = run_token_bench(fake.url, _opts(duration_s=0.3)).profile.points[0]
    assert p.completed == 0 and p.errors >= 1 and p.error_examples == ["stream ended without [DONE] (cut short)"]
    assert p.ttft_ms.samples == 0 and p.goodput_rps is None


def test_urls_that_speak_something_else_are_refused_in_one_line(fake):
    fake.mode = "html"
    with pytest.raises(InputError, match="speaks neither the OpenAI API nor Triton's .*an HTML page"):
        run_token_bench(fake.url, _opts(api=None))
    fake.mode = "triton-encoder"
    with pytest.raises(InputError, match=r"takes TEXT, not text_input: not an LLM \(an encoder endpoint\?\)"):
        run_token_bench(fake.url, _opts(api=None))


def test_bench_stops_within_seconds_when_the_server_dies_and_leaves_profiles_untouched(fake, tmp_path):
    out = tmp_path / "profiles.json"
    out.write_text(json.dumps({"kind": "profiles", "schema_version": 1, "spec_sha256": "none", "profiles": []}))
    before = out.read_text()
    threading.Timer(0.4, lambda: (fake.shutdown(), fake.server_close())).start()
    t0 = time.monotonic()
    result = run_cli("bench", fake.url, "--api", "openai", "--concurrency", "2", "--duration", "30", "--warmup", "0",
                     "--prompt-tokens", "8", "--output-tokens", "8", "--out", out)
    assert result.exit_code == 1 and "bench aborted at concurrency 2" in result.stderr
    assert time.monotonic() - t0 < 10 and out.read_text() == before


def test_cli_writes_token_profiles_and_keeps_encoder_profiles(fake, tmp_path):
    from tests.planner.conftest import PROFILES
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile

    encoder = json.loads(PROFILES.read_text())
    out = tmp_path / "profiles.json"
    out.write_text(json.dumps({**encoder, "spec_sha256": "none"}))  # a version-1 file measured "for no spec"
    result = run_cli("bench", fake.url, "--concurrency", "1", "--duration", "0.5", "--warmup", "0", "--prompt-tokens", "8",
                     "--output-tokens", "6", "--sla", "ttft_p95_ms=1000,itl_p95_ms=100", "--out", out)
    assert result.exit_code == 0, result.output
    assert "via openai-completions" in result.stdout and "goodput counts requests meeting ttft p95 <= 1000 ms" in result.stdout
    f = load_artifact(ProfilesFile, out)
    assert f.schema_version == 2 and len(f.profiles) == len(encoder["profiles"]) and len(f.token_profiles) == 1
    tp = f.token_profiles[0]
    assert tp.points[0].output_tokens_mean == 6 and tp.points[0].goodput_rps > 0 and [c.metric for c in tp.sla] == ["ttft", "itl"]
    bad = run_cli("bench", fake.url, "--output-tokens", "0", "--out", out)
    assert bad.exit_code == 2 and "--output-tokens 0: must be at least 1 token" in bad.stderr


def test_a_generative_spec_routes_bench_to_tokens_with_its_sla_and_shapes(fake, tmp_path):
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.spec import load_spec

    spec = tmp_path / "leanserve.yaml"
    spec.write_text("name: gen\nmodel: {architecture: llama-3.1-8b, task: text-generation}\n"
                    "sla: {ttft_p95_ms: 1000, itl_p95_ms: 50, peak_rps: 5}\n"
                    "traffic: {pattern: {kind: constant}, prompt_tokens: {mean: 40}, output_tokens: {mean: 256}}\n")
    out = tmp_path / "profiles.json"
    result = run_cli("bench", fake.url, "--spec", spec, "--concurrency", "1", "--duration", "0.4", "--warmup", "0",
                     "--output-tokens", "5", "--out", out)
    assert result.exit_code == 0, result.output
    f = load_artifact(ProfilesFile, out)
    tp = f.token_profiles[0]
    assert f.spec_sha256 == load_spec(spec).sha256 and [(c.metric, c.limit) for c in tp.sla] == [("ttft", 1000), ("itl", 50)]
    assert tp.shapes.prompt_tokens.p50 == 40 and tp.shapes.output_tokens.p50 == 5 and tp.points[0].output_tokens_mean == 5


def test_find_max_rate_brackets_the_rate_goodput_stops_keeping_up(fake):
    fake.slots = threading.BoundedSemaphore(1)  # one request at a time: ~0.06 s each, so ~15 req/s at most
    prof = run_token_bench(fake.url, _opts(concurrency=[1], duration_s=0.8, find_max_rate=True, search_points=5,
                                           sla=parse_token_sla("ttft_p95_ms=150"))).profile
    searched = [p for p in prof.points if p.mode == "open-poisson"]
    assert 2 <= len(searched) <= 5 and any("max-rate search" in n for n in prof.notes)
    assert prof.max_rate_at_sla is None or 1 <= prof.max_rate_at_sla <= 30


# ---- SageMaker -----------------------------------------------------------------------------------------
def test_sagemaker_response_stream_through_the_stubber():
    import boto3
    from botocore.stub import ANY, Stubber

    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(runtime)
    streams = []
    for _ in range(3):
        stub.add_response("invoke_endpoint_with_response_stream", {"Body": {"PayloadPart": {"Bytes": b""}}, "ContentType": "text/event-stream"},
                          {"EndpointName": "llm-ep", "ContentType": "application/json", "Accept": "text/event-stream", "Body": ANY})
        streams.append([{"PayloadPart": {"Bytes": b'data: {"text_output": "he'}}, {"PayloadPart": {"Bytes": b'llo"}\n\ndata: {"text_output"'}},
                        {"PayloadPart": {"Bytes": b': " world"}\n\ndata: {"text_output": "!"}\n\n'}}])
    streams[2] = [{"PayloadPart": {"Bytes": b'data: {"text_output": "x"}\n\n'}}, {"ModelStreamError": {"Message": "worker died"}}]
    runtime.meta.events.register("after-call.sagemaker-runtime.InvokeEndpointWithResponseStream",
                                 lambda parsed, **_: parsed.__setitem__("Body", iter(streams.pop(0))))
    stub.activate()
    opts = _opts(api=None, concurrency=[1], instance_type="ml.g6.xlarge", max_requests=3, duration_s=5, output_tokens=parse_lengths("3", "o"))
    prof = run_token_bench("sagemaker:llm-ep", opts, sagemaker_client=runtime).profile
    p = prof.points[0]
    assert prof.api == "sagemaker-stream-triton" and prof.machine.instance_type == "ml.g6.xlarge"
    assert p.completed == 2 and p.output_tokens_mean == 3 and p.errors == 1 and "ModelStreamError: worker died" in p.error_examples[0]
    stub.assert_no_pending_responses()


# ---- the real Triton CPU package ---------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("api", ["triton", "triton-grpc"])
def test_token_bench_of_the_cpu_package_in_the_local_triton(llm_package, tmp_path, api):
    opts = TokenBenchOptions(concurrency=[1, 2], rates=[4.0] if api == "triton" else None, duration_s=1.0, warmup_s=0.2,
                             prompt_tokens=parse_lengths("24", "p"), output_tokens=parse_lengths("12", "o"), api=api,
                             sla=parse_token_sla("ttft_p95_ms=2000,itl_p95_ms=500"))
    result = run_token_bench(str(llm_package), opts)
    prof = result.profile
    assert prof.api == ("triton-generate-stream" if api == "triton" else "triton-grpc-stream") and prof.variant == "onnx-fp32"
    assert prof.shapes.tokenizer.endswith("tokenizer.json") and prof.shapes.prompt_tokens.p50 == 24
    for p in prof.points:
        assert p.errors == 0 and p.lost == 0 and p.completed > 0 and p.output_tokens_mean == 12 and p.itl_ms.p50 > 0
    path, _ = write_token_profile(result, tmp_path / "profiles.json")
    assert json.loads(path.read_text())["token_profiles"][0]["points"][0]["ttft_ms"]["samples"] > 0
