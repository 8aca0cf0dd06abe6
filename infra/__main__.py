"""Pulumi entry point: `pulumi up` in this folder builds the stack its Pulumi.<stack>.yaml describes.

Write that file with `leanserve deploy PLAN --emit infra/ --stack NAME` (see docs/deploy.md).
"""

from leanserve_infra.stack import program

program()
