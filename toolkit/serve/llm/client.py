"""Streaming clients of an LLM model on Triton: HTTP ``generate_stream`` (server-sent events) and gRPC streaming.

Both send the vLLM backend's tensors (``text_input``, ``stream``, ``sampling_parameters`` JSON,
``exclude_input_in_output``) and yield one :class:`Chunk` per response, stamped with ``time.perf_counter()``
when it arrived. A stream that ends without its final response (a closed connection, a chunked body cut
short, a gRPC stream that breaks) raises :class:`StreamError`: it is never taken for a short answer.

    for chunk in generate_stream_http("http://127.0.0.1:8000", "llm", "Hello", {"max_tokens": 16, "temperature": 0}):
        print(chunk.text, end="")
"""

from __future__ import annotations

import http.client
import json
import queue
import time
import uuid
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlparse


@dataclass(frozen=True)
class Chunk:
    text: str
    t: float  # perf_counter when it arrived
    tokens: int | None = None  # tokens it carries when the server says (else one per chunk)
    total: int | None = None  # a count-only event: the server's total of output tokens (OpenAI usage); not a token


class StreamError(Exception):
    """A request failed or its stream was cut short; the message is one short line. ``answered``: the server
    answered (an error, or a stream it then cut short), as opposed to a connection that failed or timed out."""

    def __init__(self, message: str, answered: bool = False):
        super().__init__(message)
        self.answered = answered


def _payload(prompt: str, sampling: dict) -> dict:
    return {"text_input": prompt, "stream": True, "exclude_input_in_output": True,
            "sampling_parameters": json.dumps(sampling, sort_keys=True)}


def connect(url: str, timeout_s: float) -> http.client.HTTPConnection:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StreamError(f"'{url}' is not an http(s) URL")
    cls = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    return cls(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80), timeout=timeout_s)


def sse_data(resp, deadline: float | None = None) -> Iterator[tuple[str, float]]:
    """(data, arrival time) of each server-sent event of ``resp`` (an http.client response); ``:`` comments and
    other fields are skipped; a cut-short body raises StreamError."""
    lines: list[str] = []
    try:
        while True:
            raw = resp.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                if lines:
                    yield "\n".join(lines), time.perf_counter()
                    lines = []
            elif line.startswith("data:"):
                lines.append(line[6:] if line.startswith("data: ") else line[5:])
            if deadline is not None and time.perf_counter() > deadline:
                raise StreamError("timed out while streaming")
    except TimeoutError:
        raise StreamError("timed out while streaming (no data within the timeout)") from None
    except (http.client.IncompleteRead, ConnectionError, OSError) as exc:
        raise StreamError(f"stream cut short: {type(exc).__name__}", answered=True) from None
    if lines:
        yield "\n".join(lines), time.perf_counter()


def generate_stream_http(url: str, model: str, prompt: str, sampling: dict, timeout_s: float = 60.0,
                         conn: http.client.HTTPConnection | None = None) -> Iterator[Chunk]:
    """Stream ``prompt`` through ``POST {url}/v2/models/{model}/generate_stream``."""
    own = conn is None
    conn = conn or connect(url, timeout_s)
    body = json.dumps(_payload(prompt, sampling)).encode("utf-8")
    try:
        try:
            conn.request("POST", f"/v2/models/{model}/generate_stream", body=body,
                         headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise StreamError(f"cannot reach {url}: {exc}") from None
        if resp.status != 200:
            text = resp.read().decode("utf-8", "replace").strip()
            text = text[5:].strip() if text.startswith("data:") else text  # Triton answers a refused stream as one event
            try:
                text = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                pass
            raise StreamError(f"HTTP {resp.status}: {' '.join(str(text).split())[:200]}", answered=True)
        ctype = resp.getheader("Content-Type", "")
        if "event-stream" not in ctype:
            raise StreamError(f"not a server-sent event stream (Content-Type {ctype or 'none'})")
        for data, t in sse_data(resp, time.perf_counter() + timeout_s):
            try:
                event = json.loads(data)
            except ValueError:
                raise StreamError(f"not JSON in the stream: {data[:80]!r}") from None
            if "error" in event:
                raise StreamError(" ".join(str(event["error"]).split())[:200], answered=True)
            if "text_output" not in event:
                raise StreamError(f"a response without text_output: {data[:80]!r}")
            yield Chunk(str(event["text_output"]), t, _tokens(event))
    finally:
        if own:
            conn.close()


def _tokens(event: dict) -> int | None:
    v = event.get("num_output_tokens")
    if isinstance(v, list):
        v = v[0] if v else None
    return int(v) if isinstance(v, (int, float)) else None


class GrpcStreamer:
    """One gRPC stream (``ModelStreamInfer``) to ``model``; requests on it run one at a time."""

    def __init__(self, url: str, model: str, timeout_s: float = 60.0):
        import tritonclient.grpc as grpcclient

        self._g = grpcclient
        self.model, self.timeout_s = model, timeout_s
        self.client = grpcclient.InferenceServerClient(url)
        self.events: queue.Queue = queue.Queue()
        self.client.start_stream(callback=lambda result, error: self.events.put((result, error, time.perf_counter())))
        self.closed = False

    def _inputs(self, prompt: str, sampling: dict) -> list:
        import numpy as np

        values = {"text_input": ("BYTES", np.array([prompt.encode("utf-8")], dtype=np.object_)),
                  "stream": ("BOOL", np.array([True])),
                  "sampling_parameters": ("BYTES", np.array([json.dumps(sampling, sort_keys=True).encode("utf-8")], dtype=np.object_)),
                  "exclude_input_in_output": ("BOOL", np.array([True]))}
        out = []
        for name, (dtype, arr) in values.items():
            inp = self._g.InferInput(name, [1], dtype)
            inp.set_data_from_numpy(arr)
            out.append(inp)
        return out

    def generate(self, prompt: str, sampling: dict) -> Iterator[Chunk]:
        rid = uuid.uuid4().hex
        try:
            self.client.async_stream_infer(self.model, self._inputs(prompt, sampling), request_id=rid, enable_empty_final_response=True)
        except Exception as exc:  # noqa: BLE001 - tritonclient raises its own and grpc errors
            raise StreamError(f"gRPC send failed: {str(exc).splitlines()[0][:160]}") from None
        deadline = time.perf_counter() + self.timeout_s
        while True:
            try:
                result, error, t = self.events.get(timeout=max(0.01, deadline - time.perf_counter()))
            except queue.Empty:
                raise StreamError("timed out while streaming") from None
            if error is not None:
                msg = " ".join(str(error).split())[:200]
                raise StreamError(msg, answered="UNAVAILABLE" not in msg and "Socket closed" not in msg)
            response = result.get_response()
            if response.id and response.id != rid:
                continue  # a late response of an earlier, abandoned request
            final = response.parameters.get("triton_final_response")
            arr = result.as_numpy("text_output")
            if arr is not None:
                for item in arr.reshape(-1):
                    yield Chunk(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item), t)
            if final is not None and final.bool_param:
                return

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.client.stop_stream(cancel_requests=True)
            except TypeError:  # older tritonclient without cancel_requests
                self.client.stop_stream()
            except Exception:  # noqa: BLE001 - closing a broken stream
                pass
            try:
                self.client.close()
            except Exception:  # noqa: BLE001
                pass
