"""Triton Python-backend model of a CPU LLM package: decoupled, streams one response per generated token.

Written by `leanserve package` as ``llm/1/model.py``; the decoding itself is ``llm_decode.py`` next to it.
The request and response tensors are the vLLM backend's, so one client serves both:
``text_input`` (prompt), ``stream`` (one response per token, else one response with the whole text),
``sampling_parameters`` (JSON; or the request's parameters when the tensor is absent: Triton's generate
endpoint puts its ``parameters`` object there), ``exclude_input_in_output`` (non-streaming only: default
false, the prompt is prepended as vLLM does) → ``text_output``. Each instance decodes one request at a
time; Triton spreads concurrent requests over the instances (``instance_group.count``). A bad request
gets an error response naming the problem; the model keeps serving.
"""

import json
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils


def _tensor(request, name):
    t = pb_utils.get_input_tensor_by_name(request, name)
    return None if t is None else t.as_numpy().reshape(-1)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    def initialize(self, args):
        folder = os.path.join(args["model_repository"], args["model_version"])
        sys.path.insert(0, folder)
        from llm_decode import Generator, RequestError

        self.RequestError = RequestError
        config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("this model streams: its config needs model_transaction_policy { decoupled: true }")
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.generator = Generator.load(folder, threads=int(params.get("intra_op_thread_count", "1")),
                                        onnx_file=params.get("onnx_file", "model.onnx"),
                                        max_model_len=int(params.get("max_model_len", "0")),
                                        spin=params.get("allow_spinning", "0") == "1")
        self.logger = pb_utils.Logger

    def _request(self, request):
        prompt = _tensor(request, "text_input")
        if prompt is None or prompt.size != 1:
            raise self.RequestError("text_input must hold exactly one prompt")
        extra = {}
        raw = request.parameters() if hasattr(request, "parameters") else "{}"
        try:
            extra = json.loads(raw or "{}")
        except ValueError:
            extra = {}
        stream = _tensor(request, "stream")
        stream = bool(stream[0]) if stream is not None else bool(extra.get("stream", False))
        exclude = _tensor(request, "exclude_input_in_output")
        exclude = bool(exclude[0]) if exclude is not None else extra.get("exclude_input_in_output")
        if stream and exclude is False:
            raise self.RequestError("When streaming, `exclude_input_in_output` = False is not allowed.")
        prepend = not stream and not exclude
        sp = _tensor(request, "sampling_parameters")
        sampling = _text(sp[0]) if sp is not None else {k: v for k, v in extra.items()}
        return _text(prompt[0]), stream, prepend, sampling

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._serve(request, sender)
            except self.RequestError as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            except Exception as exc:  # noqa: BLE001 - one failed request must not take the model down
                self.logger.log_error(f"llm: request failed: {type(exc).__name__}: {exc}")
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"generation failed: {type(exc).__name__}: {exc}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None

    @staticmethod
    def _response(text: str):
        out = pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_))
        return pb_utils.InferenceResponse(output_tensors=[out])

    def _serve(self, request, sender):
        prompt, stream, prepend, sampling = self._request(request)
        cancelled = getattr(request, "is_cancelled", None)
        deltas = self.generator.stream(prompt, sampling, cancelled=cancelled)
        if stream:
            for delta in deltas:
                sender.send(self._response(delta))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        else:
            text = "".join(deltas)
            sender.send(self._response(prompt + text if prepend else text), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def finalize(self):
        self.generator = None
