"""What a token-level bench streams from: Triton (``generate_stream`` over HTTP, or gRPC streaming), any
OpenAI-compatible server (``/v1/completions`` or ``/v1/chat/completions`` with ``stream: true``: vLLM, SGLang,
TGI, llama.cpp's server, Ollama), or a SageMaker endpoint (``InvokeEndpointWithResponseStream``).

Each target's :meth:`client` gives one worker its own connection; ``client.generate(request)`` yields
:class:`toolkit.serve.llm.client.Chunk` (text, arrival time, token count when the server says) and raises
:class:`StreamError` for a refused request, an error event, or a stream that ends before its end marker.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from toolkit.bench.llm.workload import LLMRequest
from toolkit.serve.llm.client import Chunk, GrpcStreamer, StreamError, connect, generate_stream_http, sse_data


@dataclass
class Sampling:
    """What every request asks besides its prompt and max_tokens."""

    temperature: float = 0.0
    ignore_eos: bool = True

    def params(self, req: LLMRequest, ignore_eos: bool | None = None) -> dict:
        out = {"max_tokens": int(req.max_tokens), "temperature": self.temperature}
        if self.ignore_eos if ignore_eos is None else ignore_eos:
            out["ignore_eos"] = True
        return out


# ---- Triton ------------------------------------------------------------------------------------------
@dataclass
class TritonTarget:
    url: str
    model: str = "llm"
    protocol: str = "http"  # http (generate_stream, SSE) or grpc (ModelStreamInfer)
    grpc_url: str | None = None
    timeout_s: float = 60.0
    sampling: Sampling = field(default_factory=Sampling)
    label: str = ""

    @property
    def api(self) -> str:
        return "triton-generate-stream" if self.protocol == "http" else "triton-grpc-stream"

    def client(self):
        return _TritonGrpcClient(self) if self.protocol == "grpc" else _TritonHttpClient(self)


class _TritonHttpClient:
    def __init__(self, t: TritonTarget):
        self.t = t

    def generate(self, req: LLMRequest):
        yield from generate_stream_http(self.t.url, self.t.model, req.prompt, self.t.sampling.params(req), self.t.timeout_s)

    def close(self) -> None:
        pass


class _TritonGrpcClient:
    def __init__(self, t: TritonTarget):
        self.t = t
        self.s = GrpcStreamer(t.grpc_url or t.url, t.model, t.timeout_s)

    def generate(self, req: LLMRequest):
        yield from self.s.generate(req.prompt, self.t.sampling.params(req))

    def close(self) -> None:
        self.s.close()


# ---- OpenAI-compatible ------------------------------------------------------------------------------------
@dataclass
class OpenAITarget:
    url: str  # the server's base URL (without /v1)
    model: str
    chat: bool = False
    timeout_s: float = 60.0
    sampling: Sampling = field(default_factory=Sampling)
    label: str = ""
    #: request fields a server refused (400 naming them): left out from then on, and said so in the profile
    dropped: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api(self) -> str:
        return "openai-chat" if self.chat else "openai-completions"

    def client(self):
        return _OpenAIClient(self)

    def body(self, req: LLMRequest) -> dict:
        b = {"model": self.model, "max_tokens": int(req.max_tokens), "temperature": self.sampling.temperature, "stream": True,
             "stream_options": {"include_usage": True}}
        if self.sampling.ignore_eos:
            b["ignore_eos"] = True
        b.update({"messages": [{"role": "user", "content": req.prompt}]} if self.chat else {"prompt": req.prompt})
        for k in self.dropped:
            b.pop(k, None)
        return b


class _OpenAIClient:
    def __init__(self, t: OpenAITarget):
        self.t = t
        self.path = "/v1/chat/completions" if t.chat else "/v1/completions"

    def _post(self, req: LLMRequest):
        for _ in range(3):  # at most two optional fields to drop
            conn = connect(self.t.url, self.t.timeout_s)
            try:
                conn.request("POST", self.path, body=json.dumps(self.t.body(req)).encode("utf-8"),
                             headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
                resp = conn.getresponse()
            except OSError as exc:
                conn.close()
                raise StreamError(f"cannot reach {self.t.url}: {exc}") from None
            if resp.status == 200:
                return conn, resp
            text = " ".join(resp.read().decode("utf-8", "replace").split())
            conn.close()
            refused = [k for k in ("ignore_eos", "stream_options") if k in text and k not in self.t.dropped]
            if resp.status in (400, 422) and refused:
                with self.t._lock:
                    self.t.dropped.update(refused)
                continue
            raise StreamError(f"HTTP {resp.status}: {text[:200]}", answered=True)
        raise StreamError("the server refused the request's optional fields")

    def generate(self, req: LLMRequest):
        conn, resp = self._post(req)
        try:
            ctype = resp.getheader("Content-Type", "")
            if "event-stream" not in ctype:
                raise StreamError(f"not a server-sent event stream (Content-Type {ctype or 'none'}): not an OpenAI-compatible stream",
                                  answered=True)
            done = False
            for data, t in sse_data(resp, time.perf_counter() + self.t.timeout_s):
                if data.strip() == "[DONE]":
                    done = True
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    raise StreamError(f"not JSON in the stream: {data[:80]!r}") from None
                if "error" in event:
                    err = event["error"]
                    raise StreamError(" ".join(str(err.get("message", err) if isinstance(err, dict) else err).split())[:200], answered=True)
                usage = event.get("usage") or {}
                for choice in event.get("choices") or []:
                    text = choice.get("text") if not self.t.chat else (choice.get("delta") or {}).get("content")
                    if text:
                        yield Chunk(text, t)
                if usage.get("completion_tokens") is not None and not event.get("choices"):
                    yield Chunk("", t, total=int(usage["completion_tokens"]))  # the count only: not a token event
            if not done:
                raise StreamError("stream ended without [DONE] (cut short)", answered=True)
        finally:
            conn.close()

    def close(self) -> None:
        pass


# ---- SageMaker -------------------------------------------------------------------------------------------
@dataclass
class SageMakerTarget:
    """``InvokeEndpointWithResponseStream``. ``body`` is the request format of the container: ``triton`` (the
    vLLM backend's fields, as leanserve's LLM packages take them), ``openai`` (a completions body) or ``tgi``
    (``inputs`` + ``parameters``, TGI/LMI containers). The response is read as server-sent events or JSON lines."""

    endpoint: str
    region: str | None = None
    body: str = "triton"
    model: str = "llm"
    timeout_s: float = 60.0
    sampling: Sampling = field(default_factory=Sampling)
    runtime_client: object | None = None
    label: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api(self) -> str:
        return f"sagemaker-stream-{self.body}"

    def _runtime(self):
        with self._lock:
            if self.runtime_client is None:
                from botocore.config import Config

                from toolkit.errors import require

                cfg = Config(connect_timeout=10, read_timeout=self.timeout_s, retries={"max_attempts": 1, "mode": "standard"},
                             max_pool_connections=256)
                self.runtime_client = require("boto3", "aws").client("sagemaker-runtime", region_name=self.region, config=cfg)
            return self.runtime_client

    def client(self):
        return _SageMakerClient(self, self._runtime())

    def payload(self, req: LLMRequest) -> dict:
        params = self.sampling.params(req)
        if self.body == "openai":
            return {"model": self.model, "prompt": req.prompt, "stream": True, **params}
        if self.body == "tgi":
            return {"inputs": req.prompt, "stream": True,
                    "parameters": {"max_new_tokens": params["max_tokens"], "do_sample": self.sampling.temperature > 0,
                                   **({"temperature": self.sampling.temperature} if self.sampling.temperature > 0 else {})}}
        return {"text_input": req.prompt, "stream": True, "exclude_input_in_output": True, "sampling_parameters": json.dumps(params)}


def _events_text(event: dict) -> tuple[str | None, int | None, bool]:
    """(text, token count, end marker) of one streamed JSON event of any of the three formats."""
    if "error" in event:
        err = event["error"]
        raise StreamError(" ".join(str(err.get("message", err) if isinstance(err, dict) else err).split())[:200], answered=True)
    if "text_output" in event:
        return str(event["text_output"]), None, False
    if isinstance(event.get("token"), dict):  # TGI / LMI
        tok = event["token"]
        return ("" if tok.get("special") else str(tok.get("text", ""))), None, event.get("generated_text") is not None
    for choice in event.get("choices") or []:
        text = choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content")
        return text or None, None, False
    return None, None, False


class _SageMakerClient:
    def __init__(self, t: SageMakerTarget, runtime):
        self.t, self.runtime = t, runtime

    def generate(self, req: LLMRequest):
        try:
            resp = self.runtime.invoke_endpoint_with_response_stream(
                EndpointName=self.t.endpoint, ContentType="application/json", Accept="text/event-stream",
                Body=json.dumps(self.t.payload(req)).encode("utf-8"))
        except Exception as exc:  # botocore ClientError, connection errors
            answered = type(exc).__name__ in ("ClientError", "ModelError", "ValidationError", "ModelNotReadyException")
            raise StreamError(" ".join(str(exc).split())[:200], answered=answered) from None
        buf, done = b"", False
        try:
            for event in resp["Body"]:
                if "PayloadPart" not in event:
                    name = next(iter(event), "unknown")
                    raise StreamError(f"{name}: {(event.get(name) or {}).get('Message', '')}"[:200], answered=True)
                buf += event["PayloadPart"].get("Bytes", b"")
                t = time.perf_counter()
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").strip()
                    if line.startswith("data:"):
                        line = line[5:].strip()
                    if not line or line.startswith(":"):
                        continue
                    if line == "[DONE]":
                        done = True
                        continue
                    try:
                        event_json = json.loads(line)
                    except ValueError:
                        raise StreamError(f"not JSON in the stream: {line[:80]!r}") from None
                    text, _, end = _events_text(event_json)
                    done = done or end
                    if text is not None:
                        yield Chunk(text, t)
        except StreamError:
            raise
        except Exception as exc:  # botocore EventStreamError (ModelStreamError, InternalStreamFailure), read timeouts
            raise StreamError(f"stream failed: {' '.join(str(exc).split())[:180]}", answered=True) from None
        if buf.strip():
            raise StreamError("stream cut short inside an event", answered=True)
        if self.t.body == "openai" and not done:
            raise StreamError("stream ended without [DONE] (cut short)", answered=True)

    def close(self) -> None:
        pass
