"""`leanserve deploy`: plan.json → a Pulumi stack file for ``infra/`` (GitOps), or a Pulumi run.

The entry point is :func:`emit_stack` (``deploy PLAN --emit DIR``), which writes ``DIR/Pulumi.<stack>.yaml``::

    from toolkit.deploy import emit_stack
    result = emit_stack("out/plan.json", "infra", "prod", model_path="out/package/model.tar.gz")

Modules: ``emit.py`` (the entry point), ``stack_config.py`` (plan → stack config, rendered deterministically),
``stack_schema.py`` (the stack file's pydantic models, which ``infra/`` reads back with), ``checks.py`` and
``replay.py`` (what AWS would refuse, checked against botocore's API model),
``model_artifact.py`` (model.tar.gz verification), ``kubernetes_sizing.py``, ``triton_images.py``, and
``runner.py`` (Pulumi's Automation API: ``deploy``, ``status``, ``destroy``, ``init_project``).
Names are imported on first use, so importing this package loads neither botocore nor Pulumi.
"""

from __future__ import annotations

__all__ = ["emit_stack"]


def __getattr__(name: str):
    if name == "emit_stack":
        from toolkit.deploy.emit import emit_stack

        return emit_stack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
