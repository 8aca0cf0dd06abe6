"""The `leanserve` command line: a thin Click layer over the library.

Subcommands are registered here by module path and short help, and imported only when they run,
so `leanserve --help` stays instant (no torch, onnxruntime, boto3 or pulumi at start-up).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from toolkit import __version__
from toolkit.cli.output import Settings, handle_errors, set_json

# name -> (module, attribute, short help). A command is listed only when its module exists.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "spec": ("toolkit.cli.spec_cmd", "spec", "Check a leanserve.yaml or print its JSON schema."),
    "compress": ("toolkit.cli.compress_cmd", "compress", "Build ONNX/int8/fp16/distilled/pruned variants and measure them."),
    "package": ("toolkit.cli.package_cmd", "package", "Write a Triton model repository and container build context."),
    "serve": ("toolkit.cli.serve_cmd", "serve", "Run a packaged repository in a real local Triton server."),
    "bench": ("toolkit.cli.bench_cmd", "bench", "Load-test a repository, Triton URL or SageMaker endpoint."),
    "prices": ("toolkit.cli.prices_cmd", "prices", "Show or refresh the cloud price catalog."),
    "plan": ("toolkit.cli.plan_cmd", "plan", "Find the cheapest configuration that meets the SLA."),
    "deploy": ("toolkit.cli.deploy_cmd", "deploy", "Emit Pulumi stack config from a plan, or deploy it."),
    "report": ("toolkit.cli.report_cmd", "report", "Write cost reports and plan diffs."),
    "run": ("toolkit.cli.run_cmd", "run", "Run the whole chain on a spec."),
    "version": ("toolkit.cli.version_cmd", "version", "Print the version of leanserve and its optional extras."),
}


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name][0]) is not None


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        module, attr, _ = COMMANDS[name]
        return _accept_json(getattr(importlib.import_module(module), attr))

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            from toolkit.suggest import did_you_mean

            name = args[0] if args else ""
            tip = did_you_mean(name, self.list_commands(ctx), cutoff=0.6)
            if tip and "No such command" in str(exc):
                raise click.UsageError(f"No such command '{name}'{tip}", ctx) from None
            raise

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run with Leanserve's error handling: one-line errors with hints, meaningful exit codes."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        flags = argv[: argv.index("--")] if "--" in argv else argv
        run = lambda: super(LazyGroup, self).main(argv, prog_name, complete_var, standalone_mode=False, **extra)  # noqa: E731
        sys.exit(handle_errors(run, debug="--debug" in flags, as_json="--json" in flags))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _accept_json(cmd: click.Command) -> click.Command:
    """Let ``cmd`` and its subcommands take `--json` after their name too (`leanserve spec check x.yaml --json`)."""
    if not any(p.name == "json_after" for p in cmd.params):
        cmd.params.append(click.Option(["--json", "json_after"], is_flag=True, expose_value=False, callback=set_json,
                                       hidden=True, help="Same as `leanserve --json`."))
    for sub in getattr(cmd, "commands", {}).values():
        _accept_json(sub)
    return cmd


def _version_message() -> str:
    return f"%(prog)s %(version)s (Python {sys.version.split()[0]})"  # the first line of `leanserve version`


EPILOG = """\b
Examples:
  leanserve spec check examples/minilm/leanserve.yaml
  leanserve --json spec check examples/minilm/leanserve.yaml | jq .spec.sla
  leanserve run examples/minilm/leanserve.yaml --out out/

\b
Exit codes: 0 ok, 1 runtime failure, 2 bad input or usage, 3 infeasible plan,
4 CI gate tripped, 130 interrupted.
Shell completion: eval "$(_LEANSERVE_COMPLETE=bash_source leanserve)"
"""


# help fills the terminal's width (Click's default stops at 80 columns); the README's reference is rendered at 100
@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 200})
@click.option("--json", "json_output", is_flag=True,
              help="Machine-readable result on stdout (errors too, as {error, hint, exit_code}); logs go to stderr. "
                   "Also accepted after the subcommand.")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for more).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, "-V", "--version", prog_name="leanserve", message=_version_message())
@click.pass_context
def cli(ctx: click.Context, json_output: bool, verbose: int, debug: bool) -> None:
    """Leanserve: compress a transformer, serve it on Triton, and plan the cheapest cloud endpoint that meets its SLA.

    Each stage reads the previous stage's file: spec → compress → package → serve/bench → plan → deploy → report.
    """
    ctx.obj = Settings(json=json_output, verbose=verbose, debug=debug)


def main(argv: list[str] | None = None, prog_name: str = "leanserve") -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name=prog_name)
