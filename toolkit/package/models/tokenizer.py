"""Triton Python-backend model: UTF-8 text (TYPE_STRING) in, token id tensors out.

Uses the Hugging Face ``tokenizers`` library on the ``tokenizer.json`` next to this file. Texts are
truncated to ``max_sequence_length`` tokens. All requests handed over in one execution (Triton's dynamic
batcher merges queued requests) are padded to one length, the longest text among them rounded up to a
multiple of ``pad_to_multiple_of``: they then reach the model with equal shapes, which is what Triton's
dynamic batcher needs to merge them there too. A lone request is padded to its own longest text.
"""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils
from tokenizers import Tokenizer

NUMPY = {"TYPE_INT64": np.int64, "TYPE_INT32": np.int32, "TYPE_FP32": np.float32, "TYPE_BOOL": np.bool_}


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        folder = os.path.join(args["model_repository"], args["model_version"])
        self.max_len = int(params["max_sequence_length"])
        self.multiple = max(1, int(params.get("pad_to_multiple_of", "1")))
        self.pad_id = int(params.get("pad_token_id", "0"))
        self.tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_len)
        self.outputs = [(o["name"], NUMPY[o["data_type"]]) for o in config["output"]]

    def _length(self, longest):
        padded = -(-max(longest, 1) // self.multiple) * self.multiple
        return max(min(padded, self.max_len), longest)

    def execute(self, requests):
        texts, spans = [], []
        for request in requests:
            raw = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            start = len(texts)
            for item in raw:
                texts.append(item.decode("utf-8", errors="replace") if isinstance(item, bytes) else str(item))
            spans.append((start, len(texts)))
        encodings = self.tokenizer.encode_batch(texts) if texts else []
        length = self._length(max((len(e.ids) for e in encodings), default=1))
        responses = []
        for start, end in spans:
            encs = encodings[start:end]
            ids = np.full((len(encs), length), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(encs), length), dtype=np.int64)
            types = np.zeros((len(encs), length), dtype=np.int64)
            for row, e in enumerate(encs):
                n = len(e.ids)
                ids[row, :n] = e.ids
                mask[row, :n] = e.attention_mask
                types[row, :n] = e.type_ids
            arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            tensors = [pb_utils.Tensor(name, arrays[name].astype(dtype)) for name, dtype in self.outputs]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
