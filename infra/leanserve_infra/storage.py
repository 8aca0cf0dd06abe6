"""An S3 bucket for model artifacts: versioned, encrypted, owner-enforced, never public, TLS only."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from leanserve_infra.policies import tls_only_bucket_policy


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@dataclass
class ArtifactBucketArgs:
    model_path: str
    """Local model.tar.gz to upload."""
    model_sha256: str
    """Expected sha256 of model_path; the upload is keyed by it and refused when the file differs."""
    tags: dict[str, str] = field(default_factory=dict)


class ArtifactBucket(pulumi.ComponentResource):
    """The bucket plus the model.tar.gz object at ``models/<sha256>/model.tar.gz``."""

    bucket: aws.s3.Bucket
    model_object: aws.s3.BucketObjectv2
    model_prefix: str
    model_data_url: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("leanserve:aws:ArtifactBucket", name, None, opts)
        path = Path(args.model_path)
        if not path.is_file():
            raise ValueError(f"model artifact not found: {path} (run `leanserve deploy PLAN --emit DIR --model PATH` again)")
        actual = sha256_of(path)
        if actual != args.model_sha256:
            raise ValueError(f"{path}: sha256 {actual[:12]}… differs from the stack's {args.model_sha256[:12]}…; re-emit the stack config for this model")
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        # force_destroy: the bucket only holds reproducible build outputs, so `deploy destroy` may empty it.
        self.bucket = aws.s3.Bucket(f"{name}-artifacts", force_destroy=True, tags=tags, opts=child)
        bucket_child = pulumi.ResourceOptions(parent=self.bucket)
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=bucket_child
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=bucket_child,
        )
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, opts=bucket_child)
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
            opts=bucket_child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[public_block, ownership]),
        )
        self.model_prefix = f"models/{args.model_sha256}"
        key = f"{self.model_prefix}/model.tar.gz"
        self.model_object = aws.s3.BucketObjectv2(
            f"{name}-model",
            bucket=self.bucket.id,
            key=key,
            source=pulumi.FileAsset(str(path)),
            server_side_encryption="AES256",
            content_type="application/gzip",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[encryption, public_block]),
        )
        self.model_data_url = pulumi.Output.concat("s3://", self.bucket.bucket, "/", key)
        self.register_outputs({"bucket": self.bucket.bucket, "modelDataUrl": self.model_data_url})
