"""Run a packaged model repository in a real local Triton Inference Server (the binary shipped in the
nvidia-pytriton wheel), bound to 127.0.0.1, with explicit model control and a clean shutdown.

    from toolkit.serve import TritonServer
    with TritonServer.start("out/package") as server:
        print(server.http_url)
"""

from toolkit.serve.server import ServeOptions, TritonServer

__all__ = ["ServeOptions", "TritonServer"]
