#!/usr/bin/env python3
"""The errors inception-calc gives, each shown by running the tool on an input that causes it.

    python scripts/error_examples.py GROUP     # print the examples of GROUP (docs/errors.md shows them)
    python scripts/error_examples.py --list    # the groups

Each example runs ``inception_calc.cli.main`` in a fresh temporary folder holding the example's
files, and prints the command, the files, what the tool wrote and its exit status. docs/errors.md's
blocks are this script's output, one per group (scripts/docgen.py writes them; tests/test_generated.py
checks that they are current), and tests/test_error_examples.py checks every example's exit status,
its one line and its message.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import tempfile
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, whatever is installed

from inception_calc.cli.main import main  # noqa: E402

TINY = 'name = "tiny"\n[[rows]]\nname = "stem"\nkind = "conv"\n'  # + the row's other fields
FOLDER = None  # a file value that makes a folder


@dataclass(frozen=True)
class Example:
    """``argv`` run in a folder holding ``files``; ``expect`` is part of the message it must give."""

    title: str
    argv: tuple[str, ...]
    expect: str
    code: int = 2
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # a file's content as the docs show it, when too long
    stdout: str = ""  # "ascii": standard output that cannot encode beyond ASCII; "full": /dev/full
    display: str = ""  # the command as the docs show it, when an argument is too long to show
    simulate: str = ""  # "bug" or "interrupt": the command's run raises ZeroDivisionError or KeyboardInterrupt


def spec(rows: str, head: str = TINY) -> dict[str, str]:
    return {"spec.toml": head + rows}


GROUPS: dict[str, list[Example]] = {
    "spec-file": [
        Example("no such file", ("report", "nowhere.toml"), "no such file"),
        Example("a folder, not a file", ("report", "specs"), "is a directory", files={"specs": FOLDER}),
        Example("not UTF-8 text", ("report", "latin1.toml"), "save it as UTF-8",
                files={"latin1.toml": b'name = "caf\xe9"\n'}, shown={"latin1.toml": 'name = "caf\\xe9"  (Latin-1)'}),
        Example("malformed TOML", ("report", "spec.toml"), "malformed TOML", files={"spec.toml": 'name = "x"\n[[rows]\n'}),
        Example("malformed JSON", ("report", "spec.json"), "malformed JSON", files={"spec.json": '{"name": "x", "rows": [}'}),
        Example("nested deeper than Python can read", ("report", "deep.json"), "nested too deeply",
                files={"deep.json": "[" * 100_000 + "]" * 100_000}, shown={"deep.json": "[[[[...]]]]  (100,000 levels)"}),
        Example("a number too long to read", ("report", "spec.toml"), "more than 4300 digits",
                files={"spec.toml": TINY + "kernel = 1\nout = 1" + "0" * 5000 + "\n"},
                shown={"spec.toml": TINY + "kernel = 1\nout = 1000...000  (5,001 digits)"}),
        Example("half a surrogate pair", ("report", "spec.json"), "surrogate",
                files={"spec.json": '{"name": "\\ud800", "rows": []}'}),
        Example("not a table at the top level", ("report", "spec.json"), "must be a table at the top level",
                files={"spec.json": "[1, 2]"}),
        Example("unknown field", ("report", "spec.toml"), "did you mean 'kernel'?", files=spec("out = 8\nkernal = 3\n")),
        Example("unknown row kind", ("report", "spec.toml"), "unknown row kind",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "stem"\nkind = "convolution"\n'}),
        Example("unknown layer kind", ("report", "spec.toml"), "unknown layer kind",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "s"\nkind = "stack"\nlayers = [{kind = "gelu"}]\n'}),
        Example("missing field", ("report", "spec.toml"), "field 'out': missing", files=spec("kernel = 3\n")),
        Example("not an integer", ("report", "spec.toml"), "must be an integer", files=spec("out = 1.5\nkernel = 3\n")),
        Example("zero or negative", ("report", "spec.toml"), "must be a positive integer, got 0",
                files=spec("out = 0\nkernel = 3\n")),
        Example("larger than PyTorch allows", ("report", "spec.toml"), "at most 2^63 - 1",
                files=spec("out = 10000000000000000000\nkernel = 3\n")),
        Example("not a finite number", ("report", "spec.toml"), "must be a finite number",
                files=spec("out = 8\nkernel = 3\nbn = true\nbn_eps = inf\n")),
        Example("pooling pads more than half its window", ("report", "spec.toml"), "exceeds half the kernel",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "pool"\nkind = "maxpool"\nkernel = 3\npad = 2\n'
                                    'rounding = "floor"\n'}),
        Example("no rounding rule for a pool", ("report", "spec.toml"), "field 'rounding': missing",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "pool"\nkind = "maxpool"\nkernel = 3\n'}),
        Example("groups that do not divide the channels", ("report", "spec.toml"), "3 groups do not divide out = 8",
                files=spec("out = 8\nkernel = 3\ngroups = 3\n")),
        Example("an even kernel in an Inception branch", ("report", "spec.toml"), "must be odd",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "mix"\nkind = "inception"\nn1x1 = 8\nn3x3red = 4\n'
                                    'n3x3 = 8\nn5x5red = 2\nn5x5 = 4\npool_proj = 4\nkernel3x3 = 4\n'}),
        Example("a repeated row name", ("report", "spec.toml"), "the name repeats row 1",
                files=spec("out = 8\nkernel = 3\n" + '[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n')),
        Example("an auxiliary head after no such row", ("report", "spec.toml"), "which is no main row before it",
                files=spec('out = 8\nkernel = 3\n[[rows]]\nname = "head"\nkind = "aux"\nafter = "stme"\n'
                           'layers = [{kind = "linear", out = 10}]\n')),
        Example("rows and a base both", ("report", "spec.toml"), "given beside 'base'",
                files={"spec.toml": 'name = "x"\nbase = "googlenet"\n[[rows]]\nname = "a"\nkind = "softmax"\n'}),
        Example("a base that leads back to itself", ("report", "a.toml"), "a cycle",
                files={"a.toml": 'base = "b.toml"\n', "b.toml": 'base = "a.toml"\n'}),
        Example("unknown built-in spec", ("report", "googlenett"), "unknown spec 'googlenett'"),
    ],
    "input-size": [
        Example("not a size", ("report", "--input", "abc"), "cannot read input size"),
        Example("not digits only", ("report", "--input", "2_24"), "cannot read input size '2_24'"),
        Example("zero", ("report", "--input", "3x0x224"), "must be 1 to 3 positive integers"),
        Example("larger than PyTorch allows", ("report", "--input", "99999999999999999999"), "too large"),
        Example("too small for the network", ("report", "--input", "100"),
                "the smallest square input this network accepts is 3x223x223"),
        Example("too small on one side", ("report", "--input", "3x512x96"), "does not fit its 16x3 padded input"),
        Example("branches whose maps differ in size", ("report", "spec.toml", "--input", "5"),
                "cannot be concatenated",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "mix"\nkind = "concat"\nbranches = [\n'
                                    '  {layers = [{kind = "conv", out = 4, kernel = 3, stride = 2}]},\n'
                                    '  {layers = [{kind = "conv", out = 4, kernel = 1, stride = 2}]},\n]\n'}),
    ],
    "flags": [
        Example("unknown command", ("frobnicate",), "invalid choice: 'frobnicate'"),
        Example("unknown flag", ("report", "--frobnicate"), "unrecognized arguments: --frobnicate"),
        Example("a flag without its value", ("report", "--input"), "expected one argument"),
        Example("a value not among the choices", ("report", "--format", "xml"), "invalid choice: 'xml'"),
        Example("compare with one network", ("compare", "googlenet"), "at least two networks"),
        Example("compare --rows with no such row", ("compare", "googlenet", "googlenet:naive", "--rows", "inception9z"),
                "no row named 'inception9z'"),
        Example("explain a name that is not there", ("explain", "inception3z"), "no row, branch or layer named"),
        Example("sweep over a non-square size", ("sweep", "--input", "300x250"), "sweep takes square sizes"),
        Example("sweep with a zero step", ("sweep", "--input", "96:512:0"), "START and STEP must be positive"),
        Example("sweep with STOP below START", ("sweep", "--input", "512:96"), "STOP 96 is below START 512"),
        Example("sweep over too many sizes", ("sweep", "--input", "1:100000"), "more than 2000"),
        Example("--plot to a file that is not .png, .svg or .pdf", ("report", "--plot", "chart.gif"), "is not a .png, .svg or .pdf file"),
        Example("an unknown counter's convention", ("report", "--convention", "flop"), "unknown convention 'flop'"),
        Example("verify with nothing to verify", ("verify",), "nothing to verify"),
        Example("verify a spec alone", ("verify", "googlenet"), "there is nothing to verify against it"),
        Example("verify with three positionals", ("verify", "a", "b", "c"), "too many arguments"),
    ],
    "claims": [
        Example("no operator", ("verify", "--claim", "inception3a.weights 163328"), "no operator"),
        Example("a space in the name", ("verify", "--claim", "inception 3a.weights = 1"), "has a space in it"),
        Example("no name", ("verify", "--claim", "= 163328"), "no name before the operator"),
        Example("no value", ("verify", "--claim", "inception3a.weights ="), "has no value"),
        Example("no quantity", ("verify", "--claim", "inception3a = 163328"), "names no quantity"),
        Example("unknown quantity", ("verify", "--claim", "inception3a.wieghts = 163328"), "did you mean 'weights'?"),
        Example("not a number", ("verify", "--claim", "inception3a.weights = lots"), "cannot read 'lots' as a number"),
        Example("an exponent and a suffix", ("verify", "--claim", "inception3a.weights = 1.6e5K"),
                "both an exponent and a suffix"),
        Example("a number beyond any count", ("verify", "--claim", "inception3a.weights = 1e99999999"),
                "an exponent beyond ±1000"),
        Example("a shape for a count", ("verify", "--claim", "inception3a.weights = 28x28x256"), "is a shape"),
        Example("a number for a shape", ("verify", "--claim", "inception3a.out_shape = 256"), "is a number"),
        Example("no such row", ("verify", "--claim", "inception3z.weights = 1"), "no row 'inception3z'"),
        Example("no such branch", ("verify", "--claim", "inception3a.branch9.weights = 1"), "has no branch 'branch9'"),
        Example("no such claims file", ("verify", "claims.toml"), "no such claims file"),
        Example("a claims file without claims", ("verify", "claims.toml"), "no claims",
                files={"claims.toml": 'title = "mine"\nclaims = []\n'}),
        Example("unknown field in a claims file", ("verify", "claims.toml"), "did you mean 'claims'?",
                files={"claims.toml": 'claim = ["inception3a.weights = 163,328"]\n'}),
        Example("a claim table without its claim", ("verify", "claims.toml"), "has no 'claim' field",
                files={"claims.toml": '[[claims]]\nquote = "the 3a module has 163,328 weights"\n'}),
        Example("K neither 1000 nor 1024", ("verify", "claims.toml"), "unknown convention k = 1000.0",
                files={"claims.toml": 'k = 1000.0\nclaims = ["inception3a.weights = 163.328K"]\n'}),
        Example("an unknown FLOPs meaning", ("verify", "claims.toml"), "unknown convention flops = 'gflops'",
                files={"claims.toml": 'flops = "gflops"\nclaims = ["inception3a.flops ~ 0.256G"]\n'}),
        Example("a counted claim without a convention", ("verify", "--claim", "total.counted ~ 1.51G"),
                "needs a counter's convention"),
        Example("an unknown convention in a claims file", ("verify", "claims.toml"), "unknown convention 'thop2'",
                files={"claims.toml": 'convention = "thop2"\nclaims = ["total.counted ~ 1.51G"]\n'}),
    ],
    "variants": [
        Example("unknown variant", ("report", "googlenet:bnn"), "did you mean 'bn'?"),
        Example("an empty variant", ("report", "googlenet:bn,,naive"), "empty variant"),
        Example("width without its factor", ("report", "googlenet:width"), "width needs a value"),
        Example("a value for a variant that takes none", ("report", "googlenet:bn=1"), "bn takes no value"),
        Example("a factor that is not a number", ("report", "googlenet:width=half"), "cannot read the factor"),
        Example("a factor of zero", ("report", "googlenet:width=0"), "must be greater than 0"),
        Example("a factor out of range", ("report", "googlenet:width=1e308"), "is out of range"),
        Example("a factor that makes a width beyond PyTorch's", ("report", "googlenet:width=1e20"),
                "is more than 2^63 - 1"),
        Example("a variant applied twice", ("report", "googlenet:naive,naive"), "it is naive already"),
        Example("factorized-5x5 with no 5x5 branch", ("report", "bn-inception:factorized-5x5"),
                "no 5x5 branch to factorize"),
        Example("bn on a network that has it", ("report", "googlenet-torchvision:bn"),
                "batch norm and no bias already"),
        Example("naive on a network with no Inception rows", ("report", "spec.toml:naive"), "has no inception rows",
                files=spec("out = 8\nkernel = 3\n")),
        Example("variants in a spec file that are not names", ("report", "spec.toml"), "must be a list of variant names",
                files={"spec.toml": 'base = "googlenet"\nvariants = "bn"\n'}),
    ],
    "output-files": [
        Example("a folder that does not exist", ("report", "--output", "missing/report.txt"), "the folder does not exist"),
        Example("a folder, not a file", ("report", "--output", "out"), "is a folder, not a file", files={"out": FOLDER}),
        Example("a suffix of a format no command writes", ("report", "--output", "report.xlsx"),
                "will not write a .xlsx file"),
        Example("--format that contradicts the suffix", ("report", "--format", "csv", "--output", "report.json"),
                "but --format csv was given"),
        Example("a name the system refuses", ("report", "--output", "r" * 300), "longer than the 255 bytes the file system allows",
                display="inception-calc report --output rrr...rrr  (a name of 300 characters)"),
        Example("--plot into a folder that does not exist", ("report", "--plot", "missing/chart.png"),
                "the folder does not exist"),
        Example("a chart with nothing to draw", ("report", "spec.toml", "--plot", "chart.png"), "nothing to plot",
                files={"spec.toml": 'name = "x"\n[[rows]]\nname = "pool"\nkind = "maxpool"\nkernel = 2\n'
                                    'rounding = "floor"\n'}),
        Example("a sweep chart where no size fits", ("sweep", "--input", "1:100:9", "--plot", "chart.png"),
                "every size is too small for googlenet"),
        Example("standard output that cannot show a character", ("compare", "googlenet", "googlenet:naive"),
                "cannot show 'Δ' in the ascii encoding", stdout="ascii"),
        Example("standard output on a full disk", ("specs",), "No space left on device", stdout="full"),
    ],
    "exit-codes": [
        Example("0: success", ("verify", "--claim", "inception3a.weights = 163,328", "--no-derivation"), "the claim holds",
                code=0),
        Example("1: a claim that does not hold", ("verify", "--claim", "inception3a.weights = 163,000", "--no-derivation"),
                "the claim fails: [1] inception3a.weights", code=1),
        Example("2: bad input or usage", ("report", "--input", "100"), "is too small"),
        Example("70: an internal error (a bug; no known input reaches it)", ("report",), "internal error: ZeroDivisionError",
                code=70, simulate="bug"),
        Example("130: interrupted (Ctrl-C)", ("report",), "interrupted", code=130, simulate="interrupt"),
    ],
}


@contextmanager
def _folder(files: dict[str, str | bytes | None]) -> Iterator[str]:
    before = os.getcwd()
    with tempfile.TemporaryDirectory() as here:
        for name, content in files.items():
            path = Path(here) / name
            if content is FOLDER:
                path.mkdir()
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        os.chdir(here)
        try:
            yield here
        finally:
            os.chdir(before)


@contextmanager
def _simulated(example: Example) -> Iterator[None]:
    """The command's run replaced by one that raises, as a bug or a Ctrl-C would."""
    if not example.simulate:
        yield
        return
    module = importlib.import_module(f"inception_calc.cli.{example.argv[0].replace('-', '_')}")
    original = module.run

    def run(args: argparse.Namespace) -> int:
        if example.simulate == "interrupt":
            raise KeyboardInterrupt
        return 1 // 0

    module.run = run
    try:
        yield
    finally:
        module.run = original


def run(example: Example) -> tuple[int, str, str]:
    """(exit status, standard output, standard error) of the example, run in-process."""
    err = io.StringIO()
    out: io.TextIOBase
    if example.stdout == "ascii":
        out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    elif example.stdout == "full":
        out = open("/dev/full", "w", encoding="utf-8")
    else:
        out = io.StringIO()
    with _folder(example.files), _simulated(example), redirect_stdout(out), redirect_stderr(err):  # type: ignore[type-var]
        try:
            code = main(list(example.argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    text = out.getvalue() if isinstance(out, io.StringIO) else ""
    if example.stdout == "full":
        try:
            out.close()
        except OSError:
            pass  # what was left in its buffer cannot be written either
    return code, text, err.getvalue()


def _command(example: Example) -> str:
    if example.display:
        return f"$ {example.display}"
    words = [a if a and all(c.isalnum() or c in "-_.:,=/" for c in a) else repr(a) for a in example.argv]
    text = " ".join(["inception-calc", *words])
    redirect = {"ascii": "  # standard output in the ASCII encoding", "full": " > /dev/full"}
    return f"$ {text}{redirect.get(example.stdout, '')}"


def show(example: Example) -> str:
    """The example as the docs show it: title, command, files, what the tool wrote, exit status."""
    code, out, err = run(example)
    lines = [f"# {example.title}", _command(example)]
    if example.simulate:
        lines.append("  (simulated: the command's run raises "
                     f"{'KeyboardInterrupt' if example.simulate == 'interrupt' else 'ZeroDivisionError'})")
    for name, content in example.files.items():
        if content is FOLDER:
            lines.append(f"  ({name}/ is a folder)")
            continue
        text = example.shown.get(name) or (content.decode("utf-8") if isinstance(content, bytes) else content)
        body = text.rstrip("\n").splitlines() or ["(empty)"]
        lines += [f"  {name}: {body[0]}", *(f"  {' ' * len(name)}  {line}" for line in body[1:])]
    lines += [line for line in out.rstrip("\n").splitlines() if line.strip()]
    lines += [(line[:200] + f"...  ({len(line)} characters)") if len(line) > 400 else line
              for line in err.rstrip("\n").splitlines()]
    lines.append(f"(exit {code})")
    return "\n".join(lines) + "\n"


def cli() -> int:
    parser = argparse.ArgumentParser(description="print the error examples of one group")
    parser.add_argument("group", nargs="?", choices=sorted(GROUPS))
    parser.add_argument("--list", action="store_true", help="list the groups")
    args = parser.parse_args()
    if args.list or not args.group:
        print("\n".join(GROUPS))
        return 0
    sys.stdout.write("\n".join(show(example) for example in GROUPS[args.group]))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
