"""`leanserve compress SPEC`: build and measure ONNX / int8 / fp16 / distilled / pruned variants (int4 and GPU formats for LLMs)."""

from __future__ import annotations

import click

from toolkit.cli.output import emit


@click.command()
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False, path_type=str),
              help="Output folder: variants/<name>/ and variants.json are written here.")
@click.option("--variants", "variants", default=None, metavar="NAME,...",
              help="Build only these variants (comma-separated), e.g. onnx-int8,distilled-L3. Default: the spec's list.")
@click.option("--quick", is_flag=True, help="Small text samples and few training steps: a smoke run, not numbers to decide on.")
@click.option("--fail-on-reject", is_flag=True, help="Exit 4 when any variant misses the spec's quality floor.")
def compress(spec_file: str, out_dir: str, variants: str | None, quick: bool, fail_on_reject: bool) -> int:
    """Build the spec's model variants, measure them against the fp32 reference, write variants.json.

    For every variant: fidelity on held-out text (cosine mean/p5, or top-1/KL), probe accuracy on
    labelled text, size, sha256 of each file, and latency p50/p95 at 1×32 and 8×128 tokens. For
    task text-generation: onnx-fp32/int8/int4, pruned-layers<p> and the GPU formats w4a16/fp8
    (llm-compressor's venv), scored by perplexity increase, mean KL and agreement against the fp32
    reference, with prefill ms and decode ms/token measured here for CPU variants. A variant
    below compression.quality_floor stays in variants.json, marked rejected with its reason.
    Output is built in a temporary folder and moved into place at the end: an error or Ctrl-C
    leaves nothing half-written (distillation resumes from its checkpoint in OUT/.leanserve-cache).

    \b
    Examples:
      leanserve compress examples/minilm/leanserve.yaml --out out/
      leanserve compress leanserve.yaml --variants onnx-int8,distilled-L3
      leanserve --json compress leanserve.yaml --quick | jq '.variants[].quality'

    \b
    Exit codes: 0 built (rejected variants are listed), 2 bad input (not a model, corrupt weights,
    unsupported architecture, empty text file, out-of-range variant), 4 a variant was rejected
    and --fail-on-reject was given, 130 interrupted.
    """
    from toolkit.cli.output import progress
    from toolkit.compress import build_variants
    from toolkit.compress.build import BuildSettings
    from toolkit.compress.progress import RichReporter
    from toolkit.errors import ExitCode
    from toolkit.fileio import check_output
    from toolkit.spec import load_spec

    loaded = load_spec(spec_file)
    check_output(out_dir, "variants", folder=True)
    names = [n.strip() for n in variants.split(",") if n.strip()] if variants else None
    build_settings = BuildSettings.quick() if quick else BuildSettings()
    with progress() as bar:
        vf = build_variants(loaded, out_dir, names, RichReporter(bar), settings=build_settings)

    def render() -> None:
        _render(vf, out_dir, quick)

    emit(vf, render)
    rejected = [v for v in vf.variants if v.status == "rejected"]
    return int(ExitCode.GATE_FAILED) if (fail_on_reject and rejected) else 0


def _console():
    from toolkit.cli.output import stdout_console

    console = stdout_console()
    if not console.is_terminal:  # files and pipes: no squeezing to 80 columns
        from rich.console import Console

        console = Console(width=200, soft_wrap=True)
    return console


def _render_family(vf, out_dir: str, quick: bool, table_of) -> None:
    """The table a family draws itself (text-generation: prefill, ms/token, perplexity, KL)."""
    from rich.table import Table

    from toolkit.compress.table import rejections

    head, body, foot = table_of(vf)
    table = Table(title=f"{vf.model_source} → {out_dir}/variants.json", title_justify="left")
    for h in head:
        table.add_column(h, justify="left" if h in ("variant", "runtime", "gate") else "right", no_wrap=True)
    for row in body:
        table.add_row(*row, style="red" if row[-1] != "ok" else None)
    console = _console()
    console.print(table)
    for line in rejections(vf):
        console.print(f"[red]rejected[/red] {line}", highlight=False)
    for line in foot:
        console.print(line, highlight=False)
    if quick:
        console.print("[yellow]--quick: small samples; rerun without it before relying on these numbers[/yellow]")


def _render(vf, out_dir: str, quick: bool) -> None:
    from rich.table import Table

    from toolkit.compress.table import HEADERS, cells, rejections, rows
    from toolkit.families import family_for

    table_of = getattr(family_for(vf.task), "results_table", None)
    if table_of is not None:
        return _render_family(vf, out_dir, quick, table_of)
    table = Table(title=f"{vf.model_source} → {out_dir}/variants.json", title_justify="left")
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("variant", "quality", "gate") else "right", no_wrap=True)
    for r in rows(vf):
        style = "red" if r["status"].startswith("rejected") else None
        table.add_row(*cells(r, vf.task), style=style)
    console = _console()
    console.print(table)
    for line in rejections(vf):
        console.print(f"[red]rejected[/red] {line}", highlight=False)
    threads = next((p.threads for v in vf.variants for p in v.latency), None)
    where = f"{vf.machine.cpu_model}, {threads} threads" if threads else vf.machine.cpu_model
    console.print(f"latency measured in-process on {where}; speed-up is against torch fp32 at 8×128 tokens", highlight=False)
    if quick:
        console.print("[yellow]--quick: small samples; rerun without it before relying on these numbers[/yellow]")
