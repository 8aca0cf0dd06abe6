"""GPTQ for the int4 ONNX variant: calibrated rounding of the weights onnxruntime's MatMulNBits runs.

Round-to-nearest int4 cost SmolLM2 +44% perplexity here; GPTQ (Frantar et al., 2022) rounds each
weight column in turn and spreads its rounding error over the columns not yet rounded, weighted by
the inverse Hessian ``H = 2 XᵀX`` of that layer's inputs on calibration text. The weights stay on
MatMulNBits' symmetric grid (``w = s · (u − 8)``, ``u`` in 0..15, one fp32 scale per block of
``block_size`` input channels), so the fast kernels run them unchanged.

Flow: :func:`collect_hessians` (one fp32 forward over the calibration windows, hooks on every
``nn.Linear``) → :func:`gptq_weights` per layer → :func:`apply_to_onnx` overwrites the packed
weights and scales of the MatMulNBits nodes onnxruntime's quantizer made (node names carry the
torch module path: ``/model/layers.0/mlp/down_proj/MatMul_Q4`` ↔ ``model.layers.0.mlp.down_proj``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GptqSettings:
    damp: float = 0.01  # fraction of the mean Hessian diagonal added to its diagonal
    act_order: bool = True  # round columns by decreasing Hessian diagonal (scales fixed up front: "static groups")
    scale_grid: int = 8  # clipping ratios 1.0, 0.97, ... tried per block for the least squared error (1: none)
    columns_per_pass: int = 128  # GPTQ's lazy-batch width
    batch_size: int = 4  # calibration windows per forward


def module_for_node(node_name: str) -> str:
    """'/model/layers.0/mlp/down_proj/MatMul_Q4' -> 'model.layers.0.mlp.down_proj'."""
    parts = [p for p in node_name.split("/") if p]
    return ".".join(parts[:-1])


def collect_hessians(model, windows, settings: GptqSettings = GptqSettings()) -> dict:
    """{linear module name: (H [in, in] float32, samples)} from one forward over ``windows`` [n, T] int64.

    Layers fed the same tensor (q/k/v, gate/up) share one Hessian: it is computed once per input."""
    import torch

    hess: dict = {}  # first module name of a shared input -> [XᵀX, samples]
    alias: dict = {}  # module name -> the name its Hessian is kept under
    seen: dict = {}  # id(input tensor) -> (owner name, the tensor: held so its id is not reused), within one forward

    def hook(name):
        def fn(module, args):
            x = args[0]
            owner = seen.get(id(x), (None,))[0]
            if owner is not None and alias.get(name, owner) == owner:
                alias[name] = owner
                return
            seen[id(x)] = (name, x)
            alias[name] = name
            flat = x.detach().reshape(-1, x.shape[-1]).float()
            h = hess.get(name)
            if h is None:
                hess[name] = [flat.T @ flat, flat.shape[0]]
            else:
                h[0] += flat.T @ flat
                h[1] += flat.shape[0]
        return fn

    hooks = [m.register_forward_pre_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    try:
        with torch.inference_mode():
            ids = torch.as_tensor(windows, dtype=torch.long)
            for i in range(0, ids.shape[0], settings.batch_size):
                seen.clear()
                model(input_ids=ids[i:i + settings.batch_size], use_cache=False)
    finally:
        for h in hooks:
            h.remove()
        seen.clear()
    out = {k: (2.0 * h / max(1, n), n) for k, (h, n) in hess.items()}
    return {name: out[owner] for name, owner in alias.items()}


def _scales(w, qmin: int = -8):
    """Per-row signed-absmax scale of a block (MLAS's symmetric rule: the largest magnitude maps to -8)."""
    import torch

    idx = w.abs().argmax(dim=1, keepdim=True)
    s = torch.gather(w, 1, idx).squeeze(1) / qmin
    return torch.where(s == 0, torch.ones_like(s), s)


def block_scales(W, block_size: int, grid: int = 1):
    """Scales [rows, blocks]: signed absmax / -8, shrunk by the ratio (of ``grid`` tried) with least squared error."""
    import torch

    rows, cols = W.shape
    blocks = W.reshape(rows, cols // block_size, block_size)
    idx = blocks.abs().argmax(dim=2, keepdim=True)
    base = torch.gather(blocks, 2, idx).squeeze(2) / -8.0
    base = torch.where(base == 0, torch.ones_like(base), base)
    best, best_err = base, None
    for j in range(max(1, grid)):
        s = base * (1.0 - 0.03 * j)
        q = torch.clamp(torch.round(blocks / s.unsqueeze(2)), -8, 7)
        err = ((blocks - q * s.unsqueeze(2)) ** 2).sum(2)
        if best_err is None:
            best_err = err
        else:
            better = err < best_err
            best, best_err = torch.where(better, s, best), torch.where(better, err, best_err)
    return best


def gptq_weights(weight, hessian, block_size: int = 32, settings: GptqSettings = GptqSettings()):
    """GPTQ of ``weight`` [out, in] (torch layout). Returns (u uint8 [out, in] in 0..15, scales [out, in/block])."""
    import torch

    W = weight.detach().clone().float()
    rows, cols = W.shape
    if cols % block_size:
        raise ValueError(f"{cols} input channels are not a multiple of block size {block_size}")
    H = hessian.clone().double()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    S = block_scales(W, block_size, settings.scale_grid)  # fixed before rounding: columns may go out of order
    col_scale = S.repeat_interleave(block_size, dim=1)  # [rows, cols]
    perm = torch.argsort(torch.diag(H), descending=True) if settings.act_order else torch.arange(cols)
    W, H, col_scale = W[:, perm], H[perm][:, perm], col_scale[:, perm]
    H += settings.damp * torch.mean(torch.diag(H)) * torch.eye(cols, dtype=H.dtype)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True).float()
    Q = torch.zeros((rows, cols), dtype=torch.float32)
    step = settings.columns_per_pass
    for i1 in range(0, cols, step):
        i2 = min(i1 + step, cols)
        W1, Err = W[:, i1:i2].clone(), torch.zeros((rows, i2 - i1))
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            w, d, s = W1[:, i], Hinv1[i, i], col_scale[:, i1 + i]
            q = torch.clamp(torch.round(w / s), -8, 7)
            Q[:, i1 + i] = q
            err = (w - q * s) / d
            W1[:, i:] -= err.unsqueeze(1) @ Hinv1[i, i:].unsqueeze(0)
            Err[:, i] = err
        W[:, i2:] -= Err @ Hinv[i1:i2, i2:]
    U = torch.empty_like(Q)
    U[:, perm] = Q
    return (U + 8).to(torch.uint8), S


def pack(u, scales, block_size: int):
    """MatMulNBits' layout: B [N, k_blocks, block/2] uint8 (low nibble first), scales [N * k_blocks] float32."""
    import numpy as np

    u = np.asarray(u, dtype=np.uint8)
    n, k = u.shape
    blocks = u.reshape(n, k // block_size, block_size)
    packed = (blocks[..., 0::2] | (blocks[..., 1::2] << 4)).astype(np.uint8)
    return packed, np.asarray(scales, dtype=np.float32).reshape(-1)


def weight_of(model, module_name: str):
    import torch

    module = model.get_submodule(module_name)
    return module.weight if isinstance(module, torch.nn.Linear) else None


def apply_to_onnx(onnx_model, torch_model, hessians: dict, block_size: int, settings: GptqSettings = GptqSettings(),
                  on_layer=None) -> int:
    """Overwrite every 4-bit MatMulNBits node's weights with GPTQ's (in place); return how many were replaced.

    The column loop runs on one torch thread: its many small ops ran 6-13x slower on two threads of a
    loaded 2-core CPU (0.17 vs 2.25 s for a 1536x576 weight), where thread hand-offs cost more than the work."""
    from toolkit.compress.runtime import torch_threads

    with torch_threads(1):
        return _apply(onnx_model, torch_model, hessians, block_size, settings, on_layer)


def _apply(onnx_model, torch_model, hessians: dict, block_size: int, settings: GptqSettings, on_layer) -> int:
    import numpy as np
    from onnx import numpy_helper

    inits = {i.name: i for i in onnx_model.graph.initializer}
    done = 0
    for node in onnx_model.graph.node:
        if node.op_type != "MatMulNBits" or len(node.input) > 3:  # zero points: not the symmetric grid
            continue
        attrs = {a.name: a.i for a in node.attribute}
        if attrs.get("bits") != 4 or attrs.get("block_size") != block_size:
            continue
        name = module_for_node(node.name)
        if name not in hessians or weight_of(torch_model, name) is None:
            continue
        weight = weight_of(torch_model, name)
        if tuple(weight.shape) != (attrs["N"], attrs["K"]):
            continue
        u, s = gptq_weights(weight, hessians[name][0], block_size, settings)
        packed, scales = pack(u.numpy(), s.numpy(), block_size)
        for idx, arr in ((1, packed), (2, scales)):
            old = inits[node.input[idx]]
            if int(np.prod(old.dims)) != arr.size:
                raise ValueError(f"{node.name}: {old.name} has shape {tuple(old.dims)}, GPTQ made {arr.shape}")
            old.CopyFrom(numpy_helper.from_array(arr.reshape(tuple(old.dims)), name=old.name))
        done += 1
        if on_layer:
            on_layer(name)
    return done
