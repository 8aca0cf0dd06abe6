"""Triton Python-backend model: sentence embedding from token vectors.

Mean of the token vectors weighted by the attention mask, then L2-normalised (as sentence-transformers
does for all-MiniLM-L6-v2). Requests of equal shape are pooled in one vectorised step.
"""

import json

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.hidden_name = config["input"][0]["name"]
        self.mask_name = config["input"][1]["name"]
        self.output_name = config["output"][0]["name"]

    def execute(self, requests):
        hidden = [pb_utils.get_input_tensor_by_name(r, self.hidden_name).as_numpy() for r in requests]
        masks = [pb_utils.get_input_tensor_by_name(r, self.mask_name).as_numpy() for r in requests]
        results = [None] * len(requests)
        groups = {}
        for i, h in enumerate(hidden):
            groups.setdefault(h.shape[1:], []).append(i)
        for members in groups.values():
            h = np.concatenate([hidden[i] for i in members]).astype(np.float32)
            m = np.concatenate([masks[i] for i in members]).astype(np.float32)[:, :, None]
            summed = (h * m).sum(axis=1)
            mean = summed / np.clip(m.sum(axis=1), 1e-9, None)
            emb = mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)
            offset = 0
            for i in members:
                n = hidden[i].shape[0]
                results[i] = emb[offset:offset + n]
                offset += n
        return [pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(self.output_name, r.astype(np.float32))]) for r in results]
