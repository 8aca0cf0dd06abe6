"""Container build contexts of LLM packages, rendered from ``containers/vllm`` and ``containers/llm-cpu``.

- gpu: ``nvcr.io/nvidia/tritonserver:<yy.mm>-vllm-python-py3`` (Triton with the vLLM backend), the repository
  at ``/models``; weights baked in (``/models/llm/1/weights``) or fetched from S3 at start into
  ``/opt/leanserve/weights`` (``fetch_weights.py``, boto3, the instance's credentials).
- sagemaker (gpu): the same base image with a ``serve`` script starting Triton's SageMaker endpoint on the
  repository SageMaker unpacks from model.tar.gz into ``/opt/ml/model`` (weights inside the archive).
- cpu: ``nvcr.io/nvidia/tritonserver:<yy.mm>-py3`` + onnxruntime/tokenizers for the Python-backend model,
  repository baked in; sagemaker (cpu): the SageMaker Triton image, repository from model.tar.gz.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.package.container import CONTAINER_UID, NGC_IMAGE, NGC_TAG, _link_tree, render, sagemaker_image, templates_dir

#: Triton's vLLM image of the same NGC release as the rest of leanserve's images (and the local tritonserver 2.51).
VLLM_IMAGE = f"nvcr.io/nvidia/tritonserver:{NGC_TAG}-vllm-python-py3"
WEIGHTS_S3_PATH = "/opt/leanserve/weights"
BOTO3_PIN = "boto3==1.35.36"


def container_weights_path(target: str, model: str, weights_dir: str, s3: bool) -> str:
    """Where vLLM finds the weights inside the serving container (model.json's ``model``)."""
    if s3:
        return WEIGHTS_S3_PATH
    root = "/opt/ml/model" if target == "sagemaker" else "/models"
    return f"{root}/{model}/1/{weights_dir}"


def _write(tdir: Path, rel: str, out: Path, name: str, values: dict, mode: int | None = None) -> None:
    text = render((tdir / rel).read_text(encoding="utf-8"), values, rel)
    (out / name).write_text(text, encoding="utf-8")
    if mode:
        (out / name).chmod(mode)


def write_llm_context(out: Path, repository: Path, *, target: str, device: str, name: str, variant: str, precision: str,
                      model: str, region: str, weights_uri: str | None) -> str:
    """Write the build context into ``out``; return the base image."""
    tdir = templates_dir()
    out.mkdir(parents=True, exist_ok=True)
    if device == "gpu":
        image = VLLM_IMAGE
        if target == "sagemaker":
            _write(tdir, "vllm/sagemaker.Dockerfile.tmpl", out, "Dockerfile",
                   {"name": name, "variant": variant, "precision": precision, "image": image, "uid": CONTAINER_UID, "model": model})
            shutil.copyfile(tdir / "vllm" / "serve", out / "serve")
            (out / "serve").chmod(0o755)
        else:
            s3 = weights_uri is not None
            if s3:
                fetch_setup = (f"# fetch_weights.py downloads the weights at start (boto3, pinned); the folder is the user's.\n"
                               f"RUN python3 -m pip install --no-cache-dir {BOTO3_PIN} \\\n"
                               f" && mkdir -p {WEIGHTS_S3_PATH} && chown {CONTAINER_UID}:{CONTAINER_UID} {WEIGHTS_S3_PATH}\n"
                               f"COPY fetch_weights.py /opt/leanserve/fetch_weights.py\n"
                               f"ENV LEANSERVE_WEIGHTS_URI={weights_uri}")
                fetch = f'python3 /opt/leanserve/fetch_weights.py "$LEANSERVE_WEIGHTS_URI" {WEIGHTS_S3_PATH}'
                note = f"fetched from {weights_uri} at start into {WEIGHTS_S3_PATH} (not in the image)"
                run_env = "-e AWS_REGION=<region> "
                shutil.copyfile(tdir / "vllm" / "fetch_weights.py", out / "fetch_weights.py")
            else:
                fetch_setup = "# The weights are baked into the image (model_repository/<model>/1/weights)."
                fetch = ": # weights baked into the image"
                note = f"baked into the image at /models/{model}/1/weights"
                run_env = ""
            _write(tdir, "vllm/Dockerfile.tmpl", out, "Dockerfile",
                   {"name": name, "variant": variant, "precision": precision, "image": image, "uid": CONTAINER_UID, "model": model,
                    "weights_note": note, "run_env": run_env, "fetch_setup": fetch_setup})
            _write(tdir, "vllm/entrypoint.sh.tmpl", out, "entrypoint.sh", {"fetch": fetch, "model": model}, 0o755)
            _link_tree(repository, out / "model_repository")
        shutil.copyfile(tdir / "vllm" / "dockerignore", out / ".dockerignore")
        return image
    if target == "sagemaker":
        image = sagemaker_image(region)
        _write(tdir, "sagemaker/Dockerfile.tmpl", out, "Dockerfile",
               {"name": name, "variant": variant, "device": device, "image": image, "uid": CONTAINER_UID, "ensemble": model})
    else:
        image = NGC_IMAGE
        _write(tdir, "llm-cpu/Dockerfile.tmpl", out, "Dockerfile",
               {"name": name, "variant": variant, "precision": precision, "image": image, "uid": CONTAINER_UID, "model": model})
        _write(tdir, "triton/entrypoint.sh.tmpl", out, "entrypoint.sh", {"ensemble": model}, 0o755)
        _link_tree(repository, out / "model_repository")
    shutil.copyfile(tdir / "llm-cpu" / "requirements.txt", out / "requirements.txt")
    shutil.copyfile(tdir / "dockerignore", out / ".dockerignore")
    return image
