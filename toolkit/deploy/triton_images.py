"""SageMaker's Triton Inference Server container images, per region.

AWS publishes the image as ``<account>.dkr.ecr.<region>.<domain>/sagemaker-tritonserver:<version>-py3``
from a registry account that differs between a few regions. The table below holds those accounts.

Source: the image registry table that AWS ships in the SageMaker Python SDK,
``aws/sagemaker-python-sdk: src/sagemaker/image_uri_config/sagemaker-tritonserver.json``
(versions 23.12, 24.01, 24.03, 24.05 and 24.09 share one table). When the optional ``sagemaker`` SDK is
installed, ``sagemaker.image_uris.retrieve`` resolves the URI instead and the table is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import InputError
from toolkit.suggest import did_you_mean

REPOSITORY = "sagemaker-tritonserver"
DEFAULT_VERSION = "24.09"
KNOWN_VERSIONS = ("23.12", "24.01", "24.03", "24.05", "24.09")
TABLE_SOURCE = "table from aws/sagemaker-python-sdk src/sagemaker/image_uri_config/sagemaker-tritonserver.json"

_MAIN_ACCOUNT = "763104351884"
# region -> ECR registry account that hosts sagemaker-tritonserver there
REGISTRY_ACCOUNTS: dict[str, str] = {
    **{
        r: _MAIN_ACCOUNT
        for r in (
            "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
            "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
            "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
        )
    },
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-southeast-3": "907027046896",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-south-1": "692866216735",
    "il-central-1": "780543022126",
    "me-south-1": "217643126080",
}


@dataclass(frozen=True)
class TritonImage:
    """A resolved image URI and where the resolution came from."""

    uri: str
    region: str
    version: str
    source: str

    @property
    def registry_account(self) -> str:
        return self.uri.split(".", 1)[0]


def _domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def image_from_table(region: str, version: str = DEFAULT_VERSION) -> TritonImage:
    """Resolve from the embedded table; an unknown region or version is an InputError with a suggestion."""
    if version not in KNOWN_VERSIONS:
        tip = did_you_mean(version, KNOWN_VERSIONS, cutoff=0.6)
        raise InputError(
            f"no SageMaker Triton image version '{version}' in the table{tip}",
            hint=f"use one of {', '.join(KNOWN_VERSIONS)}, or pass --image URI",
        )
    account = REGISTRY_ACCOUNTS.get(region)
    if account is None:
        tip = did_you_mean(region, sorted(REGISTRY_ACCOUNTS), cutoff=0.6)
        raise InputError(
            f"no SageMaker Triton image is known for region '{region}'{tip}",
            hint="pass the image explicitly with --image URI",
        )
    uri = f"{account}.dkr.ecr.{region}.{_domain(region)}/{REPOSITORY}:{version}-py3"
    return TritonImage(uri=uri, region=region, version=version, source=TABLE_SOURCE)


def image_from_sdk(region: str, version: str) -> TritonImage | None:
    """Ask the optional ``sagemaker`` SDK; None when it is not installed or does not know the image."""
    try:
        from sagemaker import image_uris  # optional, ~1 GB installed: never required
    except Exception:  # noqa: BLE001 - not installed, or a v3 layout without this module
        return None
    try:
        uri = image_uris.retrieve(framework=REPOSITORY, region=region, version=version, image_scope="inference", instance_type="ml.c5.xlarge")
    except Exception:  # noqa: BLE001 - the SDK's own errors vary by version; the table is the fallback
        return None
    sdk_version = getattr(__import__("sagemaker"), "__version__", "?")
    return TritonImage(uri=uri, region=region, version=version, source=f"sagemaker SDK {sdk_version} image_uris.retrieve")


def triton_image(region: str, version: str = DEFAULT_VERSION) -> TritonImage:
    """The SageMaker Triton image for ``region``: via the sagemaker SDK when installed, else the table."""
    return image_from_sdk(region, version) or image_from_table(region, version)
