"""`serve` and `bench` faults without a real Triton: a restart right after traffic (TIME_WAIT), a killed server
(its signal and what it logged since it was ready), Ctrl-C's exit code, and a URL where nothing listens."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC, run_cli
from toolkit.serve import server as server_mod

OLD_CUDA = 'E1202 10:00:00.000123 4242 server.cc:241] "CudaDriverHelper has not been initialized."'  # every start on a CPU host
STARTED = 'I1202 10:00:01.000456 4242 http_server.cc:4713] "Started HTTPService at 127.0.0.1:8000"'


def _listener() -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as tritonserver's own listeners
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_a_port_whose_last_connections_linger_in_time_wait_is_free():
    ls = _listener()
    port = ls.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = ls.accept()
    conn.close()  # the server side closes first: its end of the connection stays in TIME_WAIT for a minute
    client.recv(1)
    client.close()
    ls.close()
    assert server_mod._port_free(port)
    assert server_mod.pick_ports(port, 0, 0)[0] == port


def test_a_port_someone_listens_on_is_still_in_use():
    ls = _listener()
    try:
        port = ls.getsockname()[1]
        assert not server_mod._port_free(port)
        with pytest.raises(server_mod.InputError, match=f"port {port} on 127.0.0.1 is already in use"):
            server_mod.pick_ports(port, 0, 0)
    finally:
        ls.close()


def _fake_server(tmp_path: Path, after_ready: list[str]) -> server_mod.TritonServer:
    """A TritonServer around a sleeping child process, with a log that has an old start-up error."""
    work = tmp_path / "leanserve-triton-test"
    work.mkdir()
    log = tmp_path / "triton.log"
    log.write_text(f"{OLD_CUDA}\n{STARTED}\n")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    server = server_mod.TritonServer(proc, work, (18000, 18001, 18002), "leanserve_test_", log, ["model", "ensemble"], "ensemble",
                                     [], None, grace_s=2)
    server.ready_log_offset = log.stat().st_size
    with open(log, "a") as fh:
        fh.writelines(line + "\n" for line in after_ready)
    return server


@pytest.mark.parametrize("after_ready, last", [
    ([], "it logged nothing after it became ready"),
    (['I1202 10:05:00.000 4242 infer_handler.cc:99] "request 17 took 3 ms"'], "last log line since it became ready: request 17 took 3 ms"),
    (['W1202 10:05:00.000 4242 x.cc:1] "a warning"', 'E1202 10:05:01.000 4242 stub.cc:7] "Stub process is unhealthy"',
      'I1202 10:05:02.000 4242 x.cc:2] "later info"'], "last log line since it became ready: Stub process is unhealthy"),
])
def test_a_killed_server_is_reported_by_its_signal_and_what_it_logged_since_ready(tmp_path, monkeypatch, after_ready, last):
    server = _fake_server(tmp_path, after_ready)

    def start(directory, options):
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        return server

    monkeypatch.setattr(server_mod.TritonServer, "start", staticmethod(start))
    result = run_cli("serve", tmp_path, "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith(("error:", "hint:"))] == [
        f"error: tritonserver stopped unexpectedly (killed by signal 9 (SIGKILL)); {last}",
        f"hint: full log: {tmp_path / 'triton.log'}"]
    assert "Cuda" not in result.stderr


def test_an_exit_status_is_reported_as_such(tmp_path):
    server = _fake_server(tmp_path, [])
    server.proc.kill()
    server.proc.wait()
    server.proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    server.proc.wait()
    assert server.exit_status() == "exit code 3"
    assert server.last_error() == "Started HTTPService at 127.0.0.1:8000"  # the whole log, but not the CPU host's CUDA noise
    server.stop()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_ctrl_c_stops_serve_with_130_and_sigterm_with_0(tmp_path, monkeypatch, sig, code):
    server = _fake_server(tmp_path, [])
    monkeypatch.setattr(server_mod.TritonServer, "start", staticmethod(lambda directory, options: server))
    monkeypatch.setattr(server_mod.TritonServer, "alive", lambda self: os.kill(os.getpid(), sig) or True)
    result = run_cli("serve", tmp_path, "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0")
    assert result.exit_code == code, result.output
    assert result.stderr.splitlines()[-1] == "stopped; no server process or shared-memory region left behind"
    assert server.proc.poll() is not None and not server.work.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # bound, never listened, now closed: connections are refused


def test_bench_says_the_connection_was_refused_when_nothing_listens(tmp_path):
    port = _closed_port()
    result = run_cli("bench", f"http://127.0.0.1:{port}", "--spec", EXAMPLE_SPEC, "--out", tmp_path / "profiles.json", "--duration", "0.1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot connect to http://127.0.0.1:{port}: connection refused (nothing listens there)",
        "hint: start the server first (`leanserve serve DIR`), or check the URL's host and port"]
    assert not (tmp_path / "profiles.json").exists()


def test_bench_says_not_served_when_the_server_answers_without_the_model(tmp_path):
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        result = run_cli("bench", base, "--spec", EXAMPLE_SPEC, "--out", tmp_path / "profiles.json", "--duration", "0.1")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: model 'ensemble' is not served at {base}"
