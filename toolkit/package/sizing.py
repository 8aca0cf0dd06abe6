"""Size a package for the configuration a plan chose: the threads and model instances the performance model
assumed for that instance type, not the machine that builds the package.

    from toolkit.package.sizing import sizing_for_plan
    s = sizing_for_plan(plan)            # PlanFile with a chosen candidate
    PackageOptions(target=s.target, device=s.device, cores=s.cores, threads=s.threads, instances=s.instances, region=s.region)

CPU instances: ``toolkit.perf.capacity._cpu_layout`` (every vCPU in one model instance up to 16 vCPUs, then one
instance per ``CPU_THREADS_PER_INSTANCE`` vCPUs). GPU instances: one model instance per GPU (Triton's KIND_GPU
default). SageMaker Serverless: the vCPUs the planner assumed for the memory size (``GB_PER_VCPU``), at least one.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import InputError


@dataclass(frozen=True)
class Sizing:
    variant: str
    target: str  # cpu | gpu | sagemaker (PackageOptions.target)
    device: str  # cpu | gpu
    region: str
    cores: int | None  # vCPUs of one instance (None on GPU)
    threads: int | None  # intra-op threads per model instance (None on GPU)
    instances: int | None  # model instances per instance (None on GPU: one per GPU)
    sized_for: str  # what the figures are for, in words ("ml.c7i.xlarge: 4 vCPUs")


def sizing_for_plan(plan, catalog=None) -> Sizing:
    """How to package ``plan.chosen`` (a PlanFile) so it runs as the performance model assumed."""
    from toolkit.platforms import platform_for

    c = plan.chosen
    if c is None:
        raise InputError("the plan has no chosen configuration (nothing met the SLA and budget)",
                         hint="package a variant without --plan, or re-plan with a looser SLA or budget")
    platform = platform_for(c.platform)
    image_target = platform.model_in_image  # Kubernetes: the model is in the image; SageMaker: model.tar.gz
    if c.instance_type is None:
        threads = _serverless_vcpus(c.serverless.memory_mb if c.serverless else 1024)
        return Sizing(c.variant, "cpu" if image_target else "sagemaker", "cpu", c.region, threads, threads, 1,
                      f"{c.platform} {c.serverless.memory_mb if c.serverless else '?'} MB: {threads} vCPU(s) assumed")
    from toolkit.perf.capacity import _cpu_layout
    from toolkit.perf.hardware import hardware_of_instance

    if catalog is None:
        from toolkit.pricing import load_catalog

        catalog = load_catalog(warn=lambda *_: None)
    info = catalog.instance(c.instance_type)
    if info.is_gpu:
        gpus = max(1, int(info.accelerator_count))
        return Sizing(c.variant, "sagemaker" if not image_target else "gpu", "gpu", c.region, None, None, None,
                      f"{c.instance_type}: {gpus} × {info.accelerator}, one model instance per GPU")
    threads, instances = _cpu_layout(hardware_of_instance(info))
    return Sizing(c.variant, "sagemaker" if not image_target else "cpu", "cpu", c.region, info.vcpus, threads, instances,
                  f"{c.instance_type}: {info.vcpus} vCPUs, {instances} model instance(s) × {threads} threads")


def _serverless_vcpus(memory_mb: int) -> int:
    from toolkit.planner.serverless import GB_PER_VCPU

    return max(1, int(memory_mb / 1024 / GB_PER_VCPU))


def load_sizing(plan_path) -> Sizing:
    """:func:`sizing_for_plan` of the plan.json at ``plan_path``."""
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.plan import PlanFile

    return sizing_for_plan(load_artifact(PlanFile, plan_path))


def options_for(sizing: Sizing | None, *, variant: str | None, target: str | None, device: str | None, cores: int | None,
                threads: int | None, instances: int | None, region: str | None, **rest):
    """(variant, PackageOptions, warnings): what was given wins; what was not comes from ``sizing`` (the plan), else
    the defaults (target cpu, this machine's cores, us-east-1)."""
    from toolkit.package.builder import PackageOptions

    warnings: list[str] = []
    if sizing is None:
        if not variant:
            raise InputError("which variant? pass --variant NAME (as in variants.json)", hint="or --plan plan.json to package the plan's chosen variant")
        return variant, PackageOptions(target=target or "cpu", device=device, cores=cores, threads=threads, instances=instances,
                                       region=region or "us-east-1", **rest), warnings
    if variant and variant != sizing.variant:
        warnings.append(f"--variant {variant} is not the plan's chosen variant ({sizing.variant}): sized for {sizing.sized_for} anyway")
    if target and target != sizing.target:
        warnings.append(f"--target {target}: the plan's {sizing.sized_for.split(':')[0]} would use --target {sizing.target}")
    opts = PackageOptions(target=target or sizing.target, device=device or sizing.device,
                          cores=cores or sizing.cores, threads=threads or sizing.threads, instances=instances or sizing.instances,
                          region=region or sizing.region, **rest)
    return variant or sizing.variant, opts, warnings
