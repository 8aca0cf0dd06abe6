"""`leanserve deploy PLAN --emit DIR | --stack NAME [--preview]`, `deploy status`, `deploy destroy`, `deploy init`."""

from __future__ import annotations

import click

from toolkit.cli.groups import DefaultCommandGroup
from toolkit.cli.output import emit, settings, warn

DEFAULT_TRITON_VERSION = "24.09"  # toolkit.deploy.triton_images.DEFAULT_VERSION (kept import-free here)


class _DefaultToApply(DefaultCommandGroup):
    """`deploy PLAN …` means `deploy apply PLAN …`; `deploy status|destroy|init` are subcommands."""

    default_command = "apply"


@click.group(cls=_DefaultToApply)
def deploy() -> None:
    """Turn plan.json into Pulumi stack config (GitOps), or deploy it with Pulumi.

    `leanserve deploy PLAN ...` is short for `leanserve deploy apply PLAN ...`.

    \b
    Examples:
      leanserve deploy out/plan.json --emit infra/ --stack prod --model out/package/model.tar.gz
      leanserve deploy out/plan.json --stack prod --preview
      leanserve deploy status --stack prod
      leanserve deploy destroy --stack prod --yes
      leanserve deploy init infra/          # a copy of the Pulumi project to keep in your repository
    """


def _stream(line: str) -> None:
    click.echo(line.rstrip("\n"), err=True)


def _warn_if_packaged_infra(infra: str | None) -> None:
    from toolkit.deploy.runner import packaged_infra_note

    note = packaged_infra_note(infra)
    if note:
        warn(note)


def _refuse_packaged_infra(infra: str | None) -> None:
    """`deploy --stack` writes Pulumi.<stack>.yaml into the project: never into an installed wheel's copy."""
    from toolkit.deploy.runner import packaged_infra_note
    from toolkit.errors import InputError

    if packaged_infra_note(infra):
        from toolkit.assets import INFRA

        raise InputError(f"--stack without --infra would write Pulumi stack files into the installed leanserve ({INFRA})",
                         hint="run `leanserve deploy init infra/` once, then pass --infra infra/ (stack files belong in your repository)")


@deploy.command("apply")
@click.argument("plan", type=click.Path(path_type=str))
@click.option("--emit", "emit_dir", type=click.Path(file_okay=False, path_type=str), help="Write DIR/Pulumi.<stack>.yaml for GitOps and stop (DIR: the Pulumi project, e.g. infra/).")
@click.option("--stack", help="Pulumi stack name. With --emit it names the file (default: the plan's name); without, the stack to deploy.")
@click.option("--preview", is_flag=True, help="With --stack: show what `pulumi up` would change, change nothing.")
@click.option("--model", "model_path", type=click.Path(path_type=str), help="The package folder from `leanserve package`, or its model.tar.gz (default: model.tar.gz next to PLAN). Checked against the plan: the sha256, and the variant the package was built from. For Kubernetes it names the served model's sha256.")
@click.option("--image", help="Container image. SageMaker default: the region's SageMaker Triton image (LLM plans: required, your ECR copy of the package's Triton vLLM image, pinned). Kubernetes: required (the image built from the package's container context).")
@click.option("--triton-version", default=DEFAULT_TRITON_VERSION, show_default=True, help="SageMaker Triton image version when --image is not given.")
@click.option("--triton-model", help="Triton model SageMaker serves (default: the only model, or the ensemble, in model.tar.gz).")
@click.option("--cluster", help="Kubernetes LLM plans: the EKS cluster the GPU node group joins (default: the plan's name).")
@click.option("--infra", "infra", type=click.Path(file_okay=False, path_type=str), help="Pulumi project folder for --stack (default: the infra/ shipped with leanserve; pass your own copy to keep stack files in your repository).")
def apply(plan: str, emit_dir: str | None, stack: str | None, preview: bool, model_path: str | None, image: str | None, triton_version: str, triton_model: str | None, cluster: str | None, infra: str | None) -> None:
    """Write the stack config for PLAN (--emit DIR), or run `pulumi preview`/`up` on it (--stack NAME).

    Before anything is written the deployment is checked: the model.tar.gz sha256 against the plan,
    the instance type against botocore's list of SageMaker hosting types, min ≤ max capacity, the
    scaling metric, serverless sizes and schedules. The stack file has a fixed key order and no
    timestamps or secrets, so a changed plan is a small, reviewable diff.

    --stack runs Pulumi's Automation API and needs the Pulumi CLI on PATH (exit 1 without it).

    \b
    Examples:
      leanserve deploy out/plan.json --emit infra/ --stack cpu --model out/package/model.tar.gz
      leanserve deploy out/plan.json --emit infra/ --stack k8s --image ghcr.io/acme/minilm-triton:1.0 --model out/package
      leanserve -v deploy out/plan.json --emit infra/ --stack cpu   # also print the diff
      leanserve deploy out/plan.json --stack cpu --preview
    """
    if emit_dir and preview:
        raise click.UsageError("--preview runs Pulumi; use it with --stack NAME, not with --emit")
    if not emit_dir and not stack:
        raise click.UsageError("give --emit DIR (write the stack config) or --stack NAME (run Pulumi)")
    if emit_dir:
        from toolkit.deploy.emit import emit_stack
        from toolkit.fileio import check_output

        check_output(emit_dir, "the stack file", folder=True)
        result = emit_stack(plan, emit_dir, stack, model_path=model_path, image=image, triton_version=triton_version, triton_model=triton_model,
                            cluster=cluster)
        data = {
            "stack": result.config.stack,
            "path": str(result.path),
            "changed": result.changed,
            "diff": result.diff,
            "image": result.config.image,
            "image_source": result.image_source,
            "checks": result.checks,
            "notes": result.notes,
            "config": result.config.pulumi_config(),
        }

        def render() -> None:
            state = "written" if result.changed else "unchanged"
            click.echo(f"{result.path}: {state} (stack {result.config.stack}, {result.config.platform})")
            click.echo(f"  image   {result.config.image}" + (f"  [{result.image_source}]" if result.image_source else ""))
            for i, line in enumerate(result.checks):
                click.echo(f"  {'checks' if i == 0 else '      '}  ✓ {line}")
            for note in result.notes:
                warn(note)
            if result.diff and settings().verbose:
                click.echo(result.diff, err=True, nl=False)  # plain text: no markup interpretation
            click.echo(f"next: review and commit {result.path}, then `pulumi preview --cwd {result.path.parent} --stack {result.config.stack}`")

        emit(data, render)
        return

    from toolkit.deploy.runner import deploy as run_deploy

    _refuse_packaged_infra(infra)
    result = run_deploy(plan, stack, preview=preview, infra=infra, model_path=model_path, image=image, triton_version=triton_version, triton_model=triton_model, cluster=cluster,
                        on_output=_stream)

    def render_run() -> None:
        changes = ", ".join(f"{k} {v}" for k, v in result["changes"].items()) or "no changes"
        click.echo(f"stack {stack}: {result['operation']} — {changes}")
        for k, v in (result.get("outputs") or {}).items():
            click.echo(f"  {k} = {v}")

    emit(result, render_run)


@deploy.command("init")
@click.argument("directory", type=click.Path(path_type=str))
def init(directory: str) -> None:
    """Copy leanserve's Pulumi project into DIRECTORY, to keep in your repository.

    The copy holds the program (__main__.py), the components (leanserve_infra/) and the four example
    stacks. Pass it as --infra to `deploy --stack`, `status` and `destroy`, and write stack files into
    it with `deploy PLAN --emit DIRECTORY`. DIRECTORY must not exist or be empty.

    \b
    Example:
      leanserve deploy init infra/
      leanserve deploy out/plan.json --emit infra/ --stack prod
    """
    from toolkit.deploy.runner import init_project
    from toolkit.fileio import check_output

    check_output(directory, "the Pulumi project", folder=True, replaced=True)
    dest = init_project(directory)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    emit({"directory": str(dest), "files": files},
         lambda: click.echo(f"Pulumi project copied to {dest} ({len(files)} files); use it with --infra {dest}"))


@deploy.command("status")
@click.option("--stack", required=True, help="Pulumi stack name.")
@click.option("--infra", type=click.Path(file_okay=False, path_type=str), help="Pulumi project folder (default: the infra/ shipped with leanserve).")
def status(stack: str, infra: str | None) -> None:
    """Show a stack's last update and its outputs (endpoint name, bucket, alarms).

    Needs the Pulumi CLI on PATH.

    \b
    Example:
      leanserve deploy status --stack prod
    """
    from toolkit.deploy.runner import status as run_status

    _warn_if_packaged_infra(infra)
    result = run_status(stack, infra=infra)

    def render() -> None:
        last = result["last_update"]
        if last is None:
            click.echo(f"stack {stack}: never deployed")
        else:
            click.echo(f"stack {stack}: last {last['kind']} {last['result']} (started {last['started']})")
        for k, v in result["outputs"].items():
            click.echo(f"  {k} = {v}")

    emit(result, render)


@deploy.command("destroy")
@click.option("--stack", required=True, help="Pulumi stack name.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for CI).")
@click.option("--infra", type=click.Path(file_okay=False, path_type=str), help="Pulumi project folder (default: the infra/ shipped with leanserve).")
def destroy(stack: str, yes: bool, infra: str | None) -> None:
    """Delete every resource of a stack: endpoint, autoscaling, alarms, role, bucket and model.

    Asks for confirmation unless --yes is given. Needs the Pulumi CLI on PATH.

    \b
    Examples:
      leanserve deploy destroy --stack dev
      leanserve deploy destroy --stack pr-42 --yes
    """
    from toolkit.deploy import runner

    _warn_if_packaged_infra(infra)
    runner.preflight(stack, infra)
    if not yes:
        click.confirm(f"Destroy stack '{stack}' and all its resources (endpoint, scaling, alarms, role, bucket, model)?", abort=True, err=True)
    result = runner.destroy(stack, infra=infra, on_output=_stream)
    emit(result, lambda: click.echo(f"stack {stack}: destroyed ({', '.join(f'{k} {v}' for k, v in result['changes'].items()) or 'nothing to delete'})"))
