"""What a load test talks to: Triton over HTTP (tritonclient) or a SageMaker endpoint (boto3
sagemaker-runtime, KServe v2 JSON body). Each worker thread gets its own client from :meth:`client`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse

from toolkit.errors import InputError, require


class RequestFailed(Exception):
    """One request failed; the message is short and goes into the point's error examples."""


@dataclass
class TritonHttpTarget:
    url: str  # http://host:port
    model: str
    input_name: str = "TEXT"
    output_name: str = "embedding"
    timeout_s: float = 10.0
    metrics_url: str | None = None
    label: str = ""

    def __post_init__(self):
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"'{self.url}' is not an http(s) URL", hint="e.g. http://127.0.0.1:8000")
        self._host = f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"
        self._ssl = parsed.scheme == "https"
        self.label = self.label or self.url

    @property
    def host(self) -> str:
        return urlparse(self.url).hostname or ""

    def client(self) -> "TritonHttpClient":
        return TritonHttpClient(self)


class TritonHttpClient:
    def __init__(self, target: TritonHttpTarget):
        httpclient = require("tritonclient.http", "serve")
        self._http = httpclient
        self.t = target
        self.c = httpclient.InferenceServerClient(target._host, ssl=target._ssl, connection_timeout=target.timeout_s,
                                                  network_timeout=target.timeout_s, concurrency=1)

    def infer(self, texts: list[str]):
        import numpy as np

        data = np.array([t.encode("utf-8") for t in texts], dtype=np.object_).reshape(-1, 1)
        inp = self._http.InferInput(self.t.input_name, list(data.shape), "BYTES")
        inp.set_data_from_numpy(data, binary_data=True)
        out = self._http.InferRequestedOutput(self.t.output_name, binary_data=True)
        try:
            result = self.c.infer(self.t.model, [inp], outputs=[out])
        except Exception as exc:  # tritonclient raises InferenceServerException, socket errors, timeouts
            raise RequestFailed(_short(exc)) from None
        arr = result.as_numpy(self.t.output_name)
        if arr is None or arr.shape[0] != len(texts):
            raise RequestFailed(f"response without '{self.t.output_name}' for {len(texts)} text(s)")
        return arr

    def close(self) -> None:
        try:
            self.c.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


@dataclass
class SageMakerTarget:
    endpoint: str
    region: str | None = None
    input_name: str = "TEXT"
    output_name: str = "embedding"
    timeout_s: float = 10.0
    runtime_client: object | None = None  # a boto3 sagemaker-runtime client (tests pass one with a Stubber)
    metrics_url: str | None = None
    label: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.label = self.label or f"sagemaker:{self.endpoint}"

    def _runtime(self):
        with self._lock:
            if self.runtime_client is None:
                boto3 = require("boto3", "aws")
                from botocore.config import Config

                cfg = Config(connect_timeout=self.timeout_s, read_timeout=self.timeout_s, retries={"max_attempts": 1, "mode": "standard"},
                             max_pool_connections=256)
                self.runtime_client = boto3.client("sagemaker-runtime", region_name=self.region, config=cfg)
            return self.runtime_client

    def client(self) -> "SageMakerClient":
        return SageMakerClient(self, self._runtime())


class SageMakerClient:
    def __init__(self, target: SageMakerTarget, runtime):
        self.t = target
        self.runtime = runtime

    def infer(self, texts: list[str]):
        body = {"inputs": [{"name": self.t.input_name, "shape": [len(texts), 1], "datatype": "BYTES", "data": list(texts)}],
                "outputs": [{"name": self.t.output_name}]}
        try:
            resp = self.runtime.invoke_endpoint(EndpointName=self.t.endpoint, ContentType="application/json",
                                                Accept="application/json", Body=json.dumps(body).encode("utf-8"))
            payload = json.loads(resp["Body"].read())
        except Exception as exc:  # botocore ClientError, connection errors, bad JSON
            raise RequestFailed(_short(exc)) from None
        for out in payload.get("outputs", []):
            if out.get("name") == self.t.output_name:
                shape = out.get("shape") or []
                if shape and shape[0] == len(texts):
                    return out.get("data")
        raise RequestFailed(f"response without '{self.t.output_name}' for {len(texts)} text(s)")

    def close(self) -> None:
        pass


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.replace("[StatusCode.UNAVAILABLE] ", "")
    return text[:200]


def describe_sagemaker_endpoint(endpoint: str, region: str | None, client=None) -> str:
    """The instance type (or 'serverless-<MB>MB') behind a SageMaker endpoint's first production variant."""
    if client is None:
        boto3 = require("boto3", "aws")
        client = boto3.client("sagemaker", region_name=region)
    ep = client.describe_endpoint(EndpointName=endpoint)
    cfg = client.describe_endpoint_config(EndpointConfigName=ep["EndpointConfigName"])
    variant = cfg["ProductionVariants"][0]
    if "InstanceType" in variant:
        return variant["InstanceType"]
    serverless = variant.get("ServerlessConfig") or {}
    return f"serverless-{serverless.get('MemorySizeInMB', 0)}MB"
