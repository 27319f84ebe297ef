#!/usr/bin/env python3
"""The one generator of this checkout's generated files: the golden files of tests/golden/, the
generated docs and the generated blocks inside docs. The registry below names each one; this script
writes them, and tests/test_generated.py checks them and never writes.

    python scripts/docgen.py [NAME ...]            # rewrite the named entries (all when none)
    python scripts/docgen.py --check [NAME ...]    # exit 1 listing the stale ones; writes nothing
    python scripts/docgen.py --list [NAME ...]     # the entries: name, what makes each, what it needs
    python scripts/docgen.py --machine [NAME ...]  # rewrite the machine-dependent entries too

An **entry** is a target file, or one block inside a markdown file, and a function that gives its
fresh text. Its name is the file's path from the checkout's root, with ``#BLOCK`` for a block:
``tests/golden/googlenet_224_layer.txt``, ``docs/errors.md#flags``. A NAME on the command line is
an entry's name, a file (all of its entries) or a shell pattern (``'tests/golden/*'``).

**One marker syntax** (scripts/docgen_kit.py): a block is the lines between ``<!-- generated: BLOCK -->``
and ``<!-- end generated: BLOCK -->``, each a line of its own. Every marker in README.md and docs/
belongs to an entry, every block entry has its markers, and every file in tests/golden/ is an entry
(``--check`` without NAME and the test both say where not).

**Needs.** An entry lists the modules it imports beyond the analytic core (``torch``, ``fvcore``);
without them it is skipped, by the script (saying so; exit 0) and by the test (a pytest skip).

**Machine-dependent entries** (docs/cross-check.md's versions line and timings) record the machine
that last wrote their file. One rule, in the script and the test alike: they are never compared
(``--check`` and the test require only their block, not empty), and they are rewritten when their
file is rewritten for another entry, with ``--machine``, or when named exactly. So a run on another
machine changes nothing unless something real changed, and what it writes says who wrote it.

**Writing.** Every selected entry is made first; only when all succeed is each changed file written,
atomically (inception_calc.report.output.write_atomic); a file whose text is the same is not
touched. Exit status: 0 written (or current), 1 stale (``--check``), 2 an unknown NAME, a missing,
repeated or unpaired marker, or an entry that failed (one line: where: what; fix).

Why a script of the checkout and not a module of the package: what it writes (docs/, tests/golden/)
is the repository's, not an installed wheel's, and the package should not ship a command that
rewrites its own source tree. It runs this checkout's package, whatever is installed.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "scripts"):  # this checkout's package, whatever is installed; the kit beside it
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from docgen_kit import Entry, coverage_problems, select, stale, write  # noqa: E402
from inception_calc.core.errors import CalcError  # noqa: E402

TORCH = ("torch", "torchvision", "fvcore")


def load(path: str, name: str) -> ModuleType:
    """The checkout's script ``path`` as module ``name`` (loaded once: sys.modules keeps it)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module  # before running it: its dataclasses look their module up
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


# ----------------------------------------------------------------------------- what the entries make

def shell_output(command: str) -> str:
    """COMMAND's standard output from bash in the checkout's root; ``inception-calc`` runs this
    checkout's package and ``python`` this interpreter. A failing command is an error."""
    script = (f'inception-calc() {{ "{sys.executable}" -m inception_calc "$@"; }}\n'
              f'python() {{ "{sys.executable}" "$@"; }}\nset -o pipefail\n{command}')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-300:]
        raise CalcError(f"exit {done.returncode}: {tail}", where=command, fix="make the command succeed")
    return done.stdout


def fenced(lang: str, command: str) -> Callable[[], str]:
    return lambda: f"```{lang}\n{shell_output(command)}```\n"


@functools.lru_cache(maxsize=None)
def _googlenet() -> Any:
    from inception_calc import analyze

    return analyze("googlenet")


def golden(fmt: str, depth: str) -> Callable[[], str]:
    def make() -> str:
        from inception_calc.report.analysis import render

        return render(_googlenet(), fmt, depth)

    return make


def derivations(spec: str = "googlenet") -> str:
    """docs/derivations.md: a header saying how it was made, then each Inception row's derivation,
    as ``inception-calc explain ROW`` prints it."""
    from inception_calc import analyze
    from inception_calc.core.derivation import derivation

    analysis = analyze(spec)
    rows = [row.name for row in analysis.network.rows if row.kind == "inception"]
    c, h, w = analysis.input
    parts = [
        f"# Worked derivations: every Inception row of {spec}",
        "",
        "<!-- generated by scripts/docgen.py from inception_calc.core.derivation.derivation; do not edit by hand:"
        " run `python scripts/docgen.py docs/derivations.md` (tests/test_generated.py fails when this file is stale)"
        " -->",
        "",
        f"Each section is what `inception-calc explain ROW` prints for {spec} at input {c}x{h}x{w}: for every "
        "convolution the output size, weights = Cin x Cout x kh x kw and MACs = Hout x Wout x weights, then the "
        "sums. Shapes are H x W x C, as in the paper's Table 1. Every conv has a bias (the BVLC Caffe model); "
        "params = weights + biases; FLOPs = 2 x MACs (docs/claims.md).",
        "",
        "Rows: " + ", ".join(f"[{name}](#{name})" for name in rows) + ".",
    ]
    for name in rows:
        parts += ["", f"## {name}", "", "```text", derivation(analysis, name).rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def paper_table_block() -> str:
    from inception_calc.report.paper import render
    from inception_calc.studies.paper_table import paper_table

    return f"\n{render(paper_table(), 'markdown')}\n"


@functools.lru_cache(maxsize=None)
def torchvision_counts() -> Any:
    """The counts of torchvision's googlenet at 3x224x224, made once for every entry that uses them."""
    from inception_calc.pytorch.counters import count_module, torchvision_googlenet

    return count_module(torchvision_googlenet(), (3, 224, 224), "torchvision googlenet")


def check_report(spec: str) -> Callable[[], str]:
    """``inception-calc check SPEC --against torchvision --format markdown`` without its two header
    paragraphs (the title and the versions line: the page has its own)."""
    def make() -> str:
        from inception_calc.core.engine import analyze
        from inception_calc.pytorch.reconcile import reconcile
        from inception_calc.report.check import render_check

        return render_check(reconcile(analyze(spec), torchvision_counts()), "markdown").split("\n\n", 2)[2]

    return make


COUNTER_TOOLS = ("ptflops", "thop", "torchinfo")  # the counters extra, beside fvcore and torch's FlopCounterMode


def counters_block() -> str:
    """The counters section of ``inception-calc check googlenet-torchvision --against torchvision --counters
    fvcore,flopcounter,ptflops,ptflops-aten,thop,torchinfo --format markdown``."""
    from inception_calc.pytorch.crosscheck import check
    from inception_calc.pytorch.tool_counts import COUNTERS
    from inception_calc.report.check import render_check

    text = render_check(check("googlenet-torchvision", "torchvision", None, "layer", True, COUNTERS), "markdown")
    return "**counters: " + text.split("**counters: ", 1)[1]


FAMILY_CHECKS = (  # (spec, against, input): each family spec against its reference, at its own input and another
    ("inception-v3", "torchvision", None), ("inception-v3", "torchvision", "3x320x288"),
    ("inception-v4", "timm", None), ("inception-v4", "timm", "3x320x288"),
    ("inception-resnet-v2", "timm", None), ("inception-resnet-v2", "timm", "3x320x288"),
    ("xception", "timm", None), ("xception", "timm", "3x320x288"),
)


def family_checks() -> str:
    """``inception-calc check SPEC --against torchvision|timm`` for the family's specs: the verdicts and
    the whole-network params and MACs, the analysis's beside numel's and fvcore's."""
    from inception_calc.pytorch.crosscheck import check

    lines = ["| spec | against | input | rows exact / explained / MISMATCH | params (analysis) | numel | "
             "MACs (analysis) | fvcore conv + linear |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for spec, against, size in FAMILY_CHECKS:
        r = check(spec, against, size)
        counts = [sum(1 for row in r.rows if row.verdict == v) for v in ("exact", "explained", "MISMATCH")]
        total = r["total"]
        lines.append(f"| {spec} | {r.against} | {'x'.join(map(str, r.input))} | {' / '.join(map(str, counts))} | "
                     f"{total['params'].analytic:,} | {total['params'].counted:,} | {total['macs'].analytic:,} | "
                     f"{total['macs'].counted:,} |")
    return "\n".join(lines) + "\n"


def figures() -> str:
    """Both GoogLeNet specs' totals beside torchvision's documented figures."""
    from torchvision.models import GoogLeNet_Weights

    from inception_calc import analyze

    meta = GoogLeNet_Weights.IMAGENET1K_V1.meta
    lines = ["| spec | params (inference) | params (with aux heads) | MACs at 224 (inference) | MACs with aux |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for spec in ("googlenet", "googlenet-torchvision"):
        t = analyze(spec).totals
        lines.append(f"| {spec} | {t.inference.params:,} | {t.training.params:,} | {t.inference.macs:,} | "
                     f"{t.training.macs:,} |")
    lines.append(f"| torchvision's documentation (GoogLeNet_Weights.IMAGENET1K_V1.meta) | {meta['num_params']:,} | "
                 f"| {meta['_ops']} \"GFLOPS\" | |")
    return "\n".join(lines) + "\n"


def versions() -> str:
    import torch
    import torchvision
    from importlib.metadata import version

    return (f"Generated with torch {torch.__version__}, torchvision {torchvision.__version__}, "
            f"fvcore {version('fvcore')}.\n")


def timing() -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_check.py")], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise CalcError(f"exit {done.returncode}: {' '.join(done.stderr.split())[-300:]}",
                        where="benchmarks/bench_check.py", fix="make the check run")
    return f"```\n{done.stdout}```\n"


FAMILY = ("googlenet", "bn-inception", "inception-v3", "inception-v4", "inception-resnet-v2", "xception")
FAMILY_CHARTS = (("own", "docs/family.png"), ("299", "docs/family-299.png"))


def family() -> str:
    """docs/family.md: the Inception family side by side, stage by stage (``compare --by stage``), at
    each network's own input and at 299: whichever of FAMILY are built-in specs in this checkout."""
    from inception_calc import builtin_names, load_spec
    from inception_calc.report.compare import render, span
    from inception_calc.studies.compare import compare, macs_per_param

    present = [n for n in FAMILY if n in builtin_names()]
    absent = [n for n in FAMILY if n not in present]
    names = " ".join(present)
    own, at299 = compare(present, input="own", by="stage"), compare(present, input=299, by="stage")

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"

    lines = ["| network | after | input | params | MACs | MACs/param | largest stage by MACs | "
             "params at 299 | MACs at 299 | MACs/param at 299 |",
             "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for i, name in enumerate(present):
        t, t299 = own.totals()[i], at299.totals()[i]
        top = max(own.stages(i), key=lambda st: st.sums.macs)
        c, h, w = own.analyses[i].input
        network = load_spec(name)
        ref = network.reference or network.source.split(";")[0]
        lines.append(f"| {name} | {ref} | {c}x{h}x{w} | {t.params:,} | {t.macs:,} | {ratio(macs_per_param(t))} | "
                     f"{top.name}: {span(top)}, {100 * top.sums.macs / t.macs:.1f}% | {t299.params:,} | "
                     f"{t299.macs:,} | {ratio(macs_per_param(t299))} |")
    commands = {size: f"inception-calc compare {names} --by stage --input {size}" for size, _ in FAMILY_CHARTS}
    parts = [
        "# The Inception family, stage by stage",
        "",
        "<!-- generated by scripts/docgen.py (docgen.family) from inception-calc compare --by stage; do not edit by "
        "hand: run `python scripts/docgen.py docs/family.md` (tests/test_generated.py fails when this file is "
        "stale) -->",
        "",
        "The networks' rows share almost no names (GoogLeNet's `inception4a`, torchvision's `Mixed_6b`, timm's "
        "`features.12`), so `inception-calc compare` lines them up **by stage**, as the papers group them: a stage "
        "is a run of consecutive main rows whose outputs have one grid (H x W), named by that grid (Inception-v3's "
        "35x35, 17x17 and 8x8 modules), from its first row to its last. A stage's sums are its rows' sums, and a "
        "network's stages add up to its inference totals (auxiliary heads left out). Stages are lined up by grid "
        "when the networks run at one input size, and by output stride (input / grid, to the nearest power of two) when each runs at its own (its grid is then "
        "shown beside it). `--by name` keeps the comparison by row name; without `--by` it is chosen: by name when "
        "at least half the rows of the network with fewest are named alike in every network, or when `--rows` or a "
        "`--depth` below `layer` is given (those are options of the name join), else by stage.",
        "",
        "Counting convention: params = weights + biases + batch-norm affine; MACs = multiply-accumulates of conv and "
        "linear weights, per image (docs/conventions.md); MACs/param = MACs / params.",
        "",
    ]
    if absent:
        parts += [f"Not yet built in to this checkout, so not shown: {', '.join(absent)}. The page lists the "
                  "networks that are; `python scripts/docgen.py docs/family.md` adds the others when their specs "
                  "land.", ""]
    parts += [
        "## In total",
        "",
        "Each network at its own input, then every network at 3x299x299 (a network whose last average pool has a "
        "fixed window hands its classifier a larger map there, so its params grow):",
        "",
        *lines,
        "",
        "## Stage by stage, each at its own input",
        "",
        f"`{commands['own']} --format markdown`:",
        "",
        render(own, "markdown").rstrip("\n"),
        "",
        "## Stage by stage, all at 299x299",
        "",
        f"`{commands['299']} --format markdown`:",
        "",
        render(at299, "markdown").rstrip("\n"),
        "",
        "## Charts",
        "",
        "Left, each network's total MACs against its params; right, its MACs stage by stage (each stage one "
        "segment, labelled with its grid where it is wide enough). Drawn with the plot extra (matplotlib); "
        "docgen writes text only, so after a spec changes redraw them with the commands below each.",
        "",
    ]
    for size, png in FAMILY_CHARTS:
        where = "each at its own input" if size == "own" else "all at 299x299"
        parts += [f"![MACs against params, and MACs per stage, {where}]({png.removeprefix('docs/')})", "",
                  f"`{commands[size]} --plot {png}`", ""]
    return "\n".join(parts).rstrip("\n") + "\n"


H200 = "docs/gpu-h200"


@functools.lru_cache(maxsize=None)
def gpu_summary() -> tuple[str, dict[str, Any]]:
    """benchmarks/gpu_summary.py's summary of the H200 run's bench JSON files, kept in docs/gpu-h200/json/
    (no GPU needed: the figures are read from the files)."""
    return load("benchmarks/gpu_summary.py", "gpu_summary").summary(ROOT / H200 / "json")


# ----------------------------------------------------------------------------- the registry

GOLDEN = (  # (file in tests/golden/, format, depth): GoogLeNet at 224, as `inception-calc report` prints it
    ("googlenet_224_layer.txt", "table", "layer"),
    ("googlenet_224_layer.md", "markdown", "layer"),
    ("googlenet_224_layer.csv", "csv", "layer"),
    ("googlenet_224_layer.json", "json", "layer"),
    ("googlenet_224_branch.txt", "table", "branch"),
    ("googlenet_224_conv.txt", "table", "conv"),
)

_POOL_SPEC = ("printf 'name = \"drop\"\\ninput = [1, 5, 6]\\n[[rows]]\\nname = \"pool\"\\nkind = \"maxpool\"\\n"
              "kernel = 2\\nstride = 2\\npad = 1\\nrounding = \"ceil\"\\n'")
COMMANDS = (  # (doc, block, fence language, command): the block is what the command prints, fenced
    ("docs/formulas.md", "explain-conv1", "text", "inception-calc explain conv1"),
    ("docs/formulas.md", "explain-maxpool1", "text", "inception-calc explain maxpool1"),
    ("docs/formulas.md", "explain-maxpool1-300x250", "text", "inception-calc explain maxpool1 --input 3x300x250"),
    ("docs/formulas.md", "explain-dropped-window", "text", f"inception-calc explain pool --spec <({_POOL_SPEC})"),
    ("docs/formulas.md", "explain-aux1", "text", "inception-calc explain aux1"),
    ("docs/formulas.md", "explain-inception3a", "text", "inception-calc explain inception3a"),
    ("docs/formulas.md", "explain-conv2", "text", "inception-calc explain conv2"),
    ("docs/formulas.md", "input-too-small", "text", "inception-calc report --input 100 2>&1 >/dev/null || true"),
    ("docs/json.md", "top-level", "json",
     "inception-calc report --format json | python -c \"import json, sys; d = json.load(sys.stdin); "
     "d['rows'] = d['rows'][:1]; print(json.dumps(d, indent=2))\""),
    ("docs/json.md", "inception3a-conv", "json",
     "inception-calc report --format json --depth conv | python -c \"import json, sys; r = [r for r in "
     "json.load(sys.stdin)['rows'] if r['name'] == 'inception3a'][0]; r['branches'] = r['branches'][1:2]; "
     "print(json.dumps(r, indent=2))\""),
    ("docs/conventions.md", "report-conv-aux", "text",
     "inception-calc report --depth conv --aux | grep -E \"^ *(name|conv2|inception3a|aux1)( |\\.)\" "
     "| cut -c1-150 | sed 's/ *$//'"),
)


ERROR_NEEDS = {"output-files": ("matplotlib",)}  # its --plot examples reach the drawing, which needs matplotlib


CONVENTION_SPECS = ("googlenet-torchvision", "googlenet", "inception-v3")


def conventions_tables() -> str:
    """inception-calc conventions SPEC --format markdown for each of CONVENTION_SPECS (its header and
    table), then what each term counts, once."""
    from inception_calc import analyze
    from inception_calc.core.conventions import count_all
    from inception_calc.report.conventions import to_markdown

    parts, notes = [], ""
    for spec in CONVENTION_SPECS:
        analysis = analyze(spec)
        head, table, notes = to_markdown(analysis, count_all(analysis)).rstrip("\n").split("\n\n")
        parts.append(f"{head}\n\n{table}")
    return "\n\n".join([*parts, "What each term counts:", notes]) + "\n"


def _error_groups() -> list[str]:
    """The groups of scripts/error_examples.py, each a block of docs/errors.md."""
    return list(load("scripts/error_examples.py", "error_examples").GROUPS)


def _registry() -> tuple[Entry, ...]:
    entries = [Entry(f"tests/golden/{file}", golden(fmt, depth),
                     f"inception-calc report --format {fmt} --depth {depth}") for file, fmt, depth in GOLDEN]
    entries.append(Entry("docs/derivations.md", derivations, "docgen.derivations: inception-calc explain ROW, every "
                                                             "Inception row of googlenet"))
    entries += [Entry(doc, fenced(lang, command), command, block) for doc, block, lang, command in COMMANDS]
    entries += [Entry("docs/errors.md", fenced("text", command), command, group, ERROR_NEEDS.get(group, ()))
                for group in _error_groups() for command in [f"python scripts/error_examples.py {group}"]]
    entries.append(Entry("docs/paper-table.md", paper_table_block, "inception-calc paper-table --format markdown",
                         "paper-table"))
    entries.append(Entry("docs/conventions.md", conventions_tables, "docgen.conventions_tables: inception-calc "
                         "conventions SPEC --format markdown for " + ", ".join(CONVENTION_SPECS), "conventions"))
    check = "docs/cross-check.md"
    entries += [
        Entry(check, versions, "the versions of torch, torchvision and fvcore", "versions", TORCH,
              machine="the installed versions"),
        Entry(check, figures, "docgen.figures: both specs' totals and GoogLeNet_Weights.IMAGENET1K_V1.meta",
              "figures", ("torchvision",)),
        Entry(check, check_report("googlenet-torchvision"), "inception-calc check googlenet-torchvision "
              "--against torchvision --format markdown, without its header", "torchvision-spec", TORCH),
        Entry(check, check_report("googlenet"), "inception-calc check googlenet --against torchvision "
              "--format markdown, without its header", "paper-vs-torchvision", TORCH),
        Entry(check, counters_block, "inception-calc check googlenet-torchvision --against torchvision --counters "
              "fvcore,flopcounter,ptflops,ptflops-aten,thop,torchinfo --format markdown, its counters section",
              "counters", (*TORCH, *COUNTER_TOOLS)),
        Entry(check, family_checks, "docgen.family_checks: inception-calc check SPEC --against torchvision|timm, "
              "for inception-v3, inception-v4, inception-resnet-v2 and xception", "family", (*TORCH, "timm")),
        Entry(check, timing, "python benchmarks/bench_check.py", "timing", TORCH, machine="wall times"),
    ]
    summary = "python3 benchmarks/gpu_summary.py summary docs/gpu-h200/json"
    entries += [
        Entry(f"{H200}/summary.md", lambda: gpu_summary()[0], f"{summary} (its summary.md)"),
        Entry(f"{H200}/summary.json", lambda: json.dumps(gpu_summary()[1], indent=2) + "\n",
              f"{summary} (its summary.json)"),
        Entry("docs/bench.md", lambda: gpu_summary()[0].replace("# GPU check", "### GPU check", 1),
              f"{summary} (its summary.md, the heading demoted to ###)", "gpu-h200-summary"),
    ]
    entries.append(Entry("docs/family.md", family, "docgen.family: inception-calc compare --by stage of the "
                         "Inception family's built-in specs, at their own input and at 299"))
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.name in seen:
            raise CalcError("registered twice", where=f"scripts/docgen.py, entry {entry.name}",
                            fix="give each generated file or block one entry")
        seen[entry.name] = entry
    return tuple(entries)


REGISTRY: tuple[Entry, ...] = _registry()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docgen.py", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="an entry, a generated file or a pattern (all when none)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 listing the stale entries; write nothing")
    mode.add_argument("--list", action="store_true", help="list the entries: name, what makes it, what it needs")
    parser.add_argument("--machine", action="store_true", help="select the machine-dependent entries too")
    args = parser.parse_args(argv)

    def note(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        entries = select(args.names, REGISTRY, machine=args.machine or args.check or args.list)
        if args.list:
            for e in entries:
                notes = [f"needs {', '.join(e.needs)}"] * bool(e.needs) + [f"records {e.machine}"] * bool(e.machine)
                print(f"{e.name}\t{e.source}" + (f"\t({'; '.join(notes)})" if notes else ""))
            return 0
        if args.check:
            problems = [] if args.names else coverage_problems(REGISTRY, ROOT)
            old = stale(entries, ROOT, note)
            for line in problems + [f"stale: {e.name}" for e in old]:
                note(line)
            if old:
                note(f"run: python scripts/docgen.py {' '.join(e.name for e in old)}")
            return 1 if old or problems else 0
        changed = write(entries, REGISTRY, ROOT, print)
        print(f"{len(changed)} file(s) written" if changed else "every entry selected is current")
        return 0
    except CalcError as exc:
        note(f"docgen: error: {exc.line()}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
