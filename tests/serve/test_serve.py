"""`leanserve serve`: a real tritonserver (nvidia-pytriton's binary) serving the packaged ensemble."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serve.conftest import leftovers

TEXTS = ["the future of self-driving cars", "good news today", "I love a long walk by the water when the day is over"]


def _direct_embeddings(package: Path, texts: list[str]):
    """The reference: transformers' tokenizer + onnxruntime on the packaged model.onnx + the compress
    library's pooling, one text at a time (as the server receives them), padded as the package pads."""
    import numpy as np
    import onnxruntime as ort
    from transformers import PreTrainedTokenizerFast

    from toolkit.compress.pooling import mean_pool

    manifest = json.loads((package / "manifest.json").read_text())
    tok = PreTrainedTokenizerFast(tokenizer_file=str(package / "model_repository/tokenizer/1/tokenizer.json"), pad_token="[PAD]")
    session = ort.InferenceSession(str(package / "model_repository/model/1/model.onnx"), providers=["CPUExecutionProvider"])
    rows = []
    for text in texts:
        enc = tok([text], padding=True, truncation=True, max_length=manifest["max_sequence_length"],
                  pad_to_multiple_of=manifest["pad_to_multiple_of"], return_tensors="np")
        feeds = {i.name: enc[i.name].astype(np.int64) for i in session.get_inputs()}
        hidden = session.run(["last_hidden_state"], feeds)[0]
        rows.append(mean_pool(hidden, enc["attention_mask"])[0])
    return np.stack(rows)


def _read_json(stream) -> dict:
    lines = []
    for line in stream:
        lines.append(line)
        if line.rstrip("\n") == "}":
            return json.loads("".join(lines))
    raise AssertionError("serve printed no JSON:\n" + "".join(lines))


@pytest.mark.integration
def test_serve_text_in_embedding_out_then_clean_stop(tiny_package):
    import numpy as np
    import tritonclient.http as httpclient

    cmd = [sys.executable, "-m", "toolkit", "--json", "serve", str(tiny_package), "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = _read_json(proc.stdout)
        assert info["models"] == ["model", "pooling", "tokenizer", "ensemble"]
        assert info["http"].startswith("http://127.0.0.1:")
        client = httpclient.InferenceServerClient(info["http"].removeprefix("http://"))
        assert client.is_server_ready()
        # raw strings in (TYPE_STRING), one request per text as a client would send them
        got = []
        for text in TEXTS:
            inp = httpclient.InferInput("TEXT", [1, 1], "BYTES")
            inp.set_data_from_numpy(np.array([[text.encode()]], dtype=object))
            got.append(client.infer("ensemble", [inp]).as_numpy("embedding")[0])
        got = np.stack(got)
        want = _direct_embeddings(tiny_package, TEXTS)
        assert got.shape == (3, 32) and got.dtype == np.float32
        assert np.abs(got - want).max() <= 1e-4
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        # several texts in one request come back in order
        inp = httpclient.InferInput("TEXT", [3, 1], "BYTES")
        inp.set_data_from_numpy(np.array([[t.encode()] for t in TEXTS], dtype=object))
        batch = client.infer("ensemble", [inp]).as_numpy("embedding")
        assert np.abs(batch - want).max() <= 1e-4  # fp32: padding to the longest of the three changes nothing
        client.close()
        # 12 concurrent clients: Triton merges their requests into batches and must hand each its own row
        import concurrent.futures

        def one(i):
            c = httpclient.InferenceServerClient(info["http"].removeprefix("http://"))
            x = httpclient.InferInput("TEXT", [1, 1], "BYTES")
            x.set_data_from_numpy(np.array([[TEXTS[i % 3].encode()]], dtype=object))
            row = c.infer("ensemble", [x]).as_numpy("embedding")[0]
            c.close()
            return i % 3, row

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            for k, row in pool.map(one, range(36)):
                assert np.abs(row - want[k]).max() <= 1e-4
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, proc.stderr.read()
    assert "stopped; no server process or shared-memory region left behind" in proc.stderr.read()
    marker = Path(info["log"]).parent.name  # the server's temp folder, on every Triton/stub command line
    assert leftovers(marker, info["shm_prefix"]) == ([], [])
    assert not Path(info["log"]).parent.exists()


def test_serve_reports_a_port_in_use(tiny_package):
    import socket

    from tests.conftest import run_cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_cli("serve", tiny_package, "--http-port", str(port), "--grpc-port", "0", "--metrics-port", "0")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: port {port} on 127.0.0.1 is already in use (--http-port)"


def test_unsuitable_glibc_is_reported(monkeypatch):
    from toolkit.errors import ExternalToolError
    from toolkit.serve import binary

    monkeypatch.setattr(binary.os, "confstr", lambda name: "glibc 2.31")  # stands in for an older distribution
    with pytest.raises(ExternalToolError, match=r"needs glibc 2\.35\+, this system has 2\.31"):
        binary.find_install()


@pytest.mark.integration
def test_a_model_that_fails_to_load_is_named_and_nothing_is_left(tiny_package, tmp_path, monkeypatch):
    import shutil

    from tests.conftest import run_cli

    import tempfile

    import toolkit.serve.server as server_mod

    bare = tmp_path / "repo"
    shutil.copytree(tiny_package / "model_repository", bare)  # a bare repository: no manifest to catch the change
    (bare / "tokenizer/1/tokenizer.json").write_text("garbage")
    made = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(**kw):  # note the server's temp folder, to look for what it leaves behind
        made.append(Path(real_mkdtemp(**kw)))
        return str(made[-1])

    monkeypatch.setattr(server_mod.tempfile, "mkdtemp", recording_mkdtemp)
    result = run_cli("serve", bare, "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("error: Triton could not load model 'tokenizer': load failed for model 'tokenizer'")
    (work,) = made
    assert not work.exists()
    assert leftovers(work.name, f"leanserve_{work.name.rsplit('-', 1)[-1]}_") == ([], [])
