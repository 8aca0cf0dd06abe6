"""Fetch a model's weights from S3 into a folder at container start (weights not baked into the image).

    python3 fetch_weights.py s3://bucket/prefix /opt/leanserve/weights

Downloads every object under the prefix (keeping its relative path), skips files already there with the
same size, and writes a ``.complete`` marker last, so a restarted container does not fetch again.
Credentials come from the environment (instance role, IRSA, or AWS_* variables), as boto3 finds them.
"""

import os
import sys


def main(uri: str, dest: str) -> int:
    import boto3

    if not uri.startswith("s3://") or "/" not in uri[5:]:
        print(f"fetch_weights: '{uri}' is not s3://bucket/prefix", file=sys.stderr)
        return 2
    marker = os.path.join(dest, ".complete")
    if os.path.exists(marker):
        return 0
    bucket, prefix = uri[5:].split("/", 1)
    prefix = prefix.rstrip("/") + "/"
    s3 = boto3.client("s3")
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):]
            if not rel or rel.endswith("/"):
                continue
            target = os.path.join(dest, rel)
            if os.path.isfile(target) and os.path.getsize(target) == obj["Size"]:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            s3.download_file(bucket, obj["Key"], target + ".part")
            os.replace(target + ".part", target)
            count += 1
    if not os.path.isfile(os.path.join(dest, "config.json")):
        print(f"fetch_weights: no config.json under {uri}", file=sys.stderr)
        return 1
    open(marker, "w").close()
    print(f"fetch_weights: {count} file(s) from {uri} into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
