"""A locustfile for load beyond one client machine: Locust's distributed mode, not a home-made fan-out.

`leanserve package` writes ``locustfile.py`` into the package. Run one master and any number of workers:

    locust -f locustfile.py --master --host http://TRITON:8000 --headless -u 2000 -r 100 -t 5m --csv out/locust
    locust -f locustfile.py --worker --master-host MASTER        # on each load-generating machine

Each simulated user posts one text per request to the ensemble with the KServe v2 JSON protocol.
"""

from __future__ import annotations

LOCUSTFILE = '''"""Locust load test for the Triton ensemble {model!r} (written by `leanserve package`).

Distributed: `locust -f locustfile.py --master --host http://HOST:8000` on one machine and
`locust -f locustfile.py --worker --master-host MASTER` on each load generator.
Texts: one per line in $LEANSERVE_TEXTS (a file), else the built-in sentences below.
"""

import json
import os
import random

from locust import FastHttpUser, between, task

MODEL = {model!r}
INPUT = {input_name!r}
OUTPUT = {output_name!r}
SENTENCES = {sentences!r}


def _texts():
    path = os.environ.get("LEANSERVE_TEXTS")
    if path:
        with open(path, encoding="utf-8") as fh:
            lines = [line.strip() for line in fh if line.strip()]
        if lines:
            return lines
    return SENTENCES


class TritonEnsembleUser(FastHttpUser):
    """One request = one text; think time 0-{think_ms} ms between requests."""

    wait_time = between(0, {think_s})
    texts = _texts()

    @task
    def embed(self):
        text = random.choice(self.texts)
        body = {{"inputs": [{{"name": INPUT, "shape": [1, 1], "datatype": "BYTES", "data": [text]}}],
                "outputs": [{{"name": OUTPUT}}]}}
        with self.client.post(f"/v2/models/{{MODEL}}/infer", data=json.dumps(body),
                              headers={{"Content-Type": "application/json"}}, name=MODEL, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {{resp.status_code}}")
            elif OUTPUT not in resp.text:
                resp.failure("response without the output tensor")
'''


def render_locustfile(model: str, input_name: str, output_name: str, sentences: list[str], think_ms: int = 0) -> str:
    return LOCUSTFILE.format(model=model, input_name=input_name, output_name=output_name, sentences=list(sentences),
                             think_ms=think_ms, think_s=think_ms / 1000)
