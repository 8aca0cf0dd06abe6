"""The SageMaker part of a stack file, shared by the real-time and serverless platforms."""

from __future__ import annotations


def sagemaker_stack(inp, endpoint, deployment, autoscaling):
    """A SageMaker endpoint stack: model.tar.gz from S3, the Triton image for the region, latency/error alarms."""
    from toolkit.deploy.stack_config import endpoint_name
    from toolkit.deploy.stack_schema import AlarmsCfg, ModelRef, StackConfig
    from toolkit.deploy.triton_images import triton_image
    from toolkit.errors import InputError

    c, sla = inp.candidate, inp.plan.sla
    image, resolved = inp.image, None
    if image is None:
        resolved = triton_image(c.region, inp.triton_version)
        image = resolved.uri
    if inp.model is None and inp.model_ref is None:
        raise InputError("a SageMaker plan needs its model.tar.gz", hint="pass --model PATH (written by `leanserve package --target sagemaker`)")
    model_cfg = ModelRef(artifact=inp.model_ref, sha256=inp.sha256,
                         triton_model_name=(inp.model.triton_model_name if inp.model else inp.triton_model_name) or inp.plan.name)
    cfg = StackConfig(
        **inp.common,
        region=c.region,
        endpoint_name=endpoint_name(inp.plan.name, inp.stack),
        model=model_cfg,
        image=image,
        endpoint=endpoint,
        autoscaling=autoscaling,
        alarms=AlarmsCfg(latency_percentile=sla.percentile, latency_threshold_ms=sla.latency_ms, error_rate_threshold=sla.max_error_rate),
        deployment=deployment,
    )
    return cfg, resolved
