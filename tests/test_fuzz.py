"""Fuzzing: the spec loader, the claim parser and value reader, and the CLI, fed random
and mutated input by hypothesis.

The only outcomes allowed are a correct result, checked against invariants (rows add to totals,
shapes chain, counts are non-negative integers, no map of size zero), or the clear error: a
CalcError whose where, what and fix are all given and whose line is one line; from the CLI, exit 2
and exactly one line on stderr. Never another exception (the CLI's exit 70), a hang (every example
runs under a time limit), or a number for an impossible network.

CI runs a short pass with fixed seeds (derandomized). A campaign, with fresh seeds each run:

    FUZZ_EXAMPLES=10000 python -m pytest tests/test_fuzz.py -p no:randomly --hypothesis-show-statistics

runs FUZZ_EXAMPLES examples per target (docs/fuzzing.md records one).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import string
import tomllib
import warnings
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inception_calc import analyze
from inception_calc.report.claims import to_text, verdict_dict
from inception_calc.studies.claims import QUANTITIES, Settings, claims_from_dict, parse_claim, verify
from inception_calc.cli.main import main
from inception_calc.core.engine import named_layers
from inception_calc.core.errors import CalcError
from inception_calc.core.derivation import derivation
from inception_calc.core.loader import INCEPTION_COLUMNS, LAYER_FIELDS, ROW_KINDS, TOP_FIELDS
from inception_calc.core.sources import SPEC_DIR, load_spec, network_from_dict
from inception_calc.report.analysis import FORMATS, render
from inception_calc.core.results import DEPTHS, Analysis, Cost
from inception_calc.core.network import MAX_SIZE, Conv, Linear, Pool
from inception_calc.core.values import parse_number, parse_shape, parse_written

# ----------------------------------------------------------------------------- settings

CAMPAIGN = int(os.environ.get("FUZZ_EXAMPLES", "0"))  # examples per target; 0: the short CI pass
PER_EXAMPLE_SECONDS = 10  # a hang: one input takes longer than this (a normal one takes milliseconds)

settings.register_profile("fuzz-ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.register_profile("fuzz-campaign", parent=settings.get_profile("fuzz-ci"), derandomize=False)
PROFILE = settings.get_profile("fuzz-campaign" if CAMPAIGN else "fuzz-ci")
pytestmark = pytest.mark.slow  # about a minute even in the short pass: outside the fast lane


def fuzz(ci_examples: int, campaign_share: float = 1.0) -> settings:
    """Settings for one target: ``ci_examples`` in CI; in a campaign FUZZ_EXAMPLES, times
    ``campaign_share`` for a slow target (drawing a chart takes a few hundred milliseconds)."""
    return settings(PROFILE, max_examples=max(ci_examples, int(CAMPAIGN * campaign_share)) if CAMPAIGN else ci_examples)


class Hang(BaseException):
    """An input the tool did not answer within PER_EXAMPLE_SECONDS (a BaseException, so that no
    ``except Exception`` in the code under test can swallow it)."""


@contextmanager
def time_limit(seconds: float = PER_EXAMPLE_SECONDS) -> Iterator[None]:
    def hang(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_clear(exc: CalcError) -> None:
    """The clear error: where, what and fix all given, and one line."""
    line = exc.line()
    assert exc.where.strip() and exc.what.strip() and exc.fix.strip(), f"where/what/fix missing: {line!r}"
    assert "\n" not in line and "Traceback" not in line, line


def outcome(action: Callable[[], Any], stage: str = "") -> Any:
    """``action()``'s result, or None when it raised the clear error; any other exception, or a
    hang, fails the test. With ``stage``, the outcome is counted (--hypothesis-show-statistics)."""
    with time_limit():
        try:
            result = action()
        except CalcError as exc:
            assert_clear(exc)
            if stage:
                event(f"{stage}: the clear error")
            return None
    if stage:
        event(f"{stage}: a result")
    return result


# ----------------------------------------------------------------------------- invariants of an analysis


def assert_count(value: Any, what: str) -> None:
    assert type(value) is int and value >= 0, f"{what}: {value!r} is not a non-negative integer"


def assert_node(node: Cost) -> None:
    for side in ("in_shape", "out_shape"):
        shape = getattr(node, side)
        assert len(shape) == 3 and all(type(n) is int and n >= 1 for n in shape), \
            f"{node.name}.{side} = {shape}: a map of size zero is an impossible network"
    for q in ("weights", "biases", "bn", "macs", "activations"):
        assert_count(getattr(node, q), f"{node.name}.{q}")
    c, h, w = node.out_shape
    assert node.activations == c * h * w
    assert node.params == node.weights + node.biases + node.bn and node.flops == 2 * node.macs
    if node.children:
        for q in ("weights", "biases", "bn", "macs"):
            assert getattr(node, q) == sum(getattr(child, q) for child in node.children), f"{node.name}.{q}"
        if node.children[0].level == "branch" and node.kind == "add":  # an addition: every branch gives the shape
            assert all(b.out_shape == node.out_shape and b.in_shape == node.in_shape for b in node.children)
        elif node.children[0].level == "branch":  # a concatenation: channels add, the map size is shared
            assert c == sum(b.out_shape[0] for b in node.children)
            assert all(b.out_shape[1:] == (h, w) and b.in_shape == node.in_shape for b in node.children)
        else:  # a sequence: each layer reads what the one before it gave
            assert node.children[0].in_shape == node.in_shape and node.children[-1].out_shape == node.out_shape
            for before, after in zip(node.children, node.children[1:]):
                assert after.in_shape == before.out_shape, f"{before.name} -> {after.name}"
        for child in node.children:
            assert_node(child)


def assert_layer_arithmetic(analysis: Analysis) -> None:
    """Each primitive layer against its formula, written out again here."""
    layers = named_layers(analysis.network)
    for row in analysis.rows:
        for node in row.walk("conv"):
            layer = layers.get(node.name)
            c, h, w = node.in_shape
            co, ho, wo = node.out_shape
            if isinstance(layer, Conv):
                (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.pad
                assert (ho, wo) == ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
                assert node.weights == c // layer.groups * co * kh * kw and node.macs == ho * wo * node.weights
            elif isinstance(layer, Linear):
                assert node.weights == c * h * w * co and node.macs == node.weights and (ho, wo) == (1, 1)
            elif isinstance(layer, Pool):
                assert co == c and node.weights == node.macs == 0


def assert_analysis(analysis: Analysis) -> None:
    """Rows chain, nodes add up, totals are the sums of the rows."""
    outputs: dict[str, tuple[int, int, int]] = {}
    after = {row.name: row.after for row in analysis.network.rows}
    shape = analysis.input
    for row in analysis.rows:
        assert_node(row)
        if row.aux:  # an auxiliary head reads the output of the row it follows
            assert row.in_shape == outputs[after[row.name]], row.name
        else:
            assert row.in_shape == shape, f"{row.name} reads {row.in_shape}, the row before gave {shape}"
            shape = row.out_shape
        outputs[row.name] = row.out_shape
    main_rows = [r for r in analysis.rows if not r.aux]
    for sums, rows in ((analysis.totals.inference, main_rows), (analysis.totals.training, analysis.rows)):
        for q in ("weights", "biases", "bn", "macs", "activations"):
            assert getattr(sums, q) == sum(getattr(r, q) for r in rows), q
    assert_layer_arithmetic(analysis)


def assert_renders(analysis: Analysis, depth: str, aux: bool) -> None:
    """Every format renders; JSON and CSV read back with the exact totals."""
    for fmt in FORMATS:
        text = render(analysis, fmt, depth, aux)
        assert text.endswith("\n") and "nan" not in text.lower().split()
    data = json.loads(render(analysis, "json", depth, aux), parse_constant=lambda c: pytest.fail(f"JSON has {c}"))
    assert data["totals"]["inference"]["macs"] == analysis.totals.inference.macs
    rows = list(csv.DictReader(io.StringIO(render(analysis, "csv", depth, aux))))
    assert int(next(r for r in rows if r["name"] == "total.inference")["params"]) == analysis.totals.inference.params
    shown = [n for r in analysis.shown_rows(aux) for n in r.walk(depth)]
    assert len(rows) == len(shown) + 2


def judge_spec(load: Callable[[], Any], size: Any, depth: str, aux: bool) -> None:
    """Load, analyse at ``size``, check the analysis, render it in every format, derive one node."""
    network = outcome(load, "load")
    if network is None:
        return
    analysis = outcome(lambda: analyze(network, size), "analyse")
    if analysis is None:
        return
    with time_limit():
        assert_analysis(analysis)
        assert_renders(analysis, depth, aux)
        names = analysis.names("conv")
        for name in names if len(names) <= 40 else names[len(names) // 2:][:1]:  # every node of a small network
            assert outcome(lambda: derivation(analysis, name)).strip()


# ----------------------------------------------------------------------------- strategies: values

SPECIAL_INTS = [0, 1, 2, 3, 7, -1, -7, 2**31, 2**63 - 1, 2**63, 10**19, 10**30]
ints = st.one_of(st.integers(-3, 8), st.integers(1, 1024), st.sampled_from(SPECIAL_INTS),
                 st.integers(-(2**80), 2**80))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 0.5, 1.5, 1e308]))
words = st.sampled_from(["floor", "ceil", "max", "avg", "conv", "inception", "stack", "aux", "conv1", "inception3a",
                         "googlenet", "bn", "width=0.5", "naive", "", " ", "x", "1", "3x224x224", "..", "a.b"])
scalars = st.one_of(ints, floats, st.booleans(), words, st.text(max_size=12))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=6), scalars, max_size=3))
sizes = st.one_of(st.sampled_from([None, 224, 225, 256, 299, 320, 512, 1024, "300x250", "3x512x96", 2**62]),
                  st.integers(1, 700), st.tuples(st.integers(1, 4), st.integers(1, 600), st.integers(1, 600)).map(list),
                  st.text(alphabet="0123456789x,", max_size=10))

FIELD_NAMES = sorted({*TOP_FIELDS, *INCEPTION_COLUMNS, *(f for fields in LAYER_FIELDS.values() for f in fields),
                      "name", "kind", "layers", "branches", "after", "note", "n3x3dblred", "n3x3dbl", "kernel3x3",
                      "kernel5x5", "pool", "pool_kernel", "pool_rounding", "branch1", "reduce", "project",
                      "stride", "bias", "bn", "bn_eps", "relu", "kernal", "outs"})
field_names = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))


def layer_tables(depth: int = 0) -> st.SearchStrategy[dict]:
    kinds = st.sampled_from([*LAYER_FIELDS, "relu", 3])
    return st.builds(lambda kind, fields: {"kind": kind, **fields}, kinds,
                     st.dictionaries(field_names, values, max_size=5))


row_tables = st.builds(
    lambda name, kind, fields, layers, branches: {
        "name": name, "kind": kind, **fields,
        **({"layers": layers} if kind in ("stack", "aux") else {}),
        **({"branches": branches} if kind == "concat" else {}),
    },
    st.one_of(st.sampled_from(["conv1", "pool", "mix", "aux1", "head"]), st.text(max_size=6)),
    st.sampled_from([*ROW_KINDS, "convolution"]),
    st.dictionaries(field_names, values, max_size=7),
    st.lists(layer_tables(), max_size=4),
    st.lists(st.fixed_dictionaries({"layers": st.lists(layer_tables(), min_size=1, max_size=3)}), max_size=3),
)
spec_dicts = st.builds(
    lambda top, rows: {**top, "rows": rows},
    st.dictionaries(st.sampled_from(["name", "description", "input", "defaults", "notes", "base", "variants", "x"]),
                    values, max_size=4).map(lambda d: {"name": "fuzz", **d}),
    st.lists(row_tables, max_size=8),
)


# ----------------------------------------------------------------------------- TOML text from a dict


def toml_key(key: str) -> str:
    return key if key and all(c in string.ascii_letters + string.digits + "_-" for c in key) else toml_string(key)


def toml_string(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)  # a TOML basic string, but for DEL and the astral escapes
    return escaped.replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(data: dict) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


# ----------------------------------------------------------------------------- (a) the spec loader


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@fuzz(150)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       suffix=st.sampled_from([".toml", ".json"]), size=sizes)
def test_spec_file_of_random_bytes(folder, data, suffix, size):
    path = folder / f"random{suffix}"
    path.write_bytes(data)
    judge_spec(lambda: load_spec(str(path)), size, "layer", False)


@st.composite
def grammar_layers(draw: st.DrawFn, kinds: tuple[str, ...] = ("conv", "maxpool", "avgpool", "lrn", "dropout",
                                                                 "conv", "linear", "softmax")) -> dict:
    """A layer table with fields of the right types and mostly sensible values."""
    kind = draw(st.sampled_from(kinds))
    pair = st.one_of(st.integers(1, 7), st.lists(st.integers(1, 7), min_size=2, max_size=2))
    maybe = lambda key, strategy: {key: draw(strategy)} if draw(st.booleans()) else {}  # noqa: E731
    if kind == "conv":
        return {"kind": kind, "out": draw(st.integers(1, 48)), "kernel": draw(pair), **maybe("stride", pair),
                **maybe("pad", st.integers(0, 3)), **maybe("groups", st.sampled_from([1, 1, 2, 3])),
                **maybe("bias", st.booleans()), **maybe("bn", st.booleans()), **maybe("relu", st.booleans())}
    if kind in ("maxpool", "avgpool"):
        if draw(st.integers(0, 5)) == 0:
            return {"kind": kind, "output": draw(pair)}
        kernel = draw(st.integers(1, 5))
        return {"kind": kind, "kernel": kernel, **maybe("stride", st.integers(1, 3)),
                **maybe("pad", st.integers(0, kernel // 2)), "rounding": draw(st.sampled_from(["floor", "ceil"]))}
    if kind == "lrn":
        return {"kind": kind, **maybe("size", st.integers(1, 7)), **maybe("alpha", st.floats(0, 1))}
    if kind == "dropout":
        return {"kind": kind, **maybe("p", st.floats(0, 1))}
    if kind == "linear":
        return {"kind": kind, "out": draw(st.integers(1, 100)), **maybe("bias", st.booleans())}
    return {"kind": kind}


@st.composite
def grammar_rows(draw: st.DrawFn, name: str, before: list[str]) -> dict:
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool", "lrn", "inception", "inception", "stack", "concat",
                                 "aux", "dropout", "linear", "softmax"] if before else ["conv", "inception", "stack"]))
    if kind == "inception":
        columns = {c: draw(st.integers(1, 32)) for c in INCEPTION_COLUMNS}
        options = draw(st.fixed_dictionaries({}, optional={
            "kernel3x3": st.sampled_from([1, 3, 5]), "kernel5x5": st.sampled_from([3, 5, 7]),
            "pool": st.sampled_from(["max", "avg"]), "pool_kernel": st.sampled_from([1, 3, 5]),
            "pool_rounding": st.sampled_from(["floor", "ceil"]), "stride": st.integers(1, 2),
            "bn": st.booleans(), "bias": st.booleans(), "reduce": st.booleans(), "project": st.booleans()}))
        if draw(st.booleans()):
            columns["n3x3dblred"], columns["n3x3dbl"] = columns.pop("n5x5red"), columns.pop("n5x5")
            options.pop("kernel5x5", None)
        if options.get("reduce") is False:
            columns = {c: n for c, n in columns.items() if c not in ("n3x3red", "n5x5red", "n3x3dblred")}
        if options.get("project") is False:
            columns.pop("pool_proj")
        return {"name": name, "kind": kind, **columns, **options}
    if kind == "stack":
        return {"name": name, "kind": kind, "layers": draw(st.lists(grammar_layers(), min_size=1, max_size=3))}
    if kind == "concat":
        branch = st.fixed_dictionaries({"layers": st.lists(grammar_layers(("conv", "maxpool")), min_size=1,
                                                           max_size=2)})
        return {"name": name, "kind": kind, "branches": draw(st.lists(branch, min_size=2, max_size=3))}
    if kind == "aux":
        return {"name": name, "kind": kind, "after": draw(st.sampled_from(before)),
                "layers": draw(st.lists(grammar_layers(("avgpool", "conv", "linear", "dropout")), min_size=1,
                                        max_size=3))}
    return {"name": name, **draw(grammar_layers((kind,)))}


@st.composite
def grammar_specs(draw: st.DrawFn) -> dict:
    """A spec written by the grammar of docs/spec-format.md: every field of the right type, the
    values random (so that many, not all, networks fit their input)."""
    rows: list[dict] = []
    for i in range(draw(st.integers(1, 7))):
        rows.append(draw(grammar_rows(f"r{i}", [r["name"] for r in rows if r["kind"] != "aux"])))
    spec = {"name": "grammar", "rows": rows}
    if draw(st.booleans()):
        spec["input"] = [draw(st.integers(1, 4)), draw(st.integers(1, 96)), draw(st.integers(1, 96))]
    if draw(st.integers(0, 3)) == 0:
        spec["defaults"] = draw(st.fixed_dictionaries({}, optional={"bias": st.booleans(), "bn": st.booleans()}))
    if draw(st.integers(0, 4)) == 0:
        spec["variants"] = draw(st.lists(st.sampled_from(["bn", "naive", "no-reduce", "factorized-5x5", "width=0.5",
                                                          "width=2", "width=1/3"]), min_size=1, max_size=2))
    return spec


small_sizes = st.one_of(st.none(), st.integers(1, 128), st.sampled_from(["64x48", "3x100x30", "1x17x90", 2**40]))


@fuzz(400)
@given(spec=grammar_specs(), data=st.data(), changes=st.sampled_from([0, 0, 0, 1, 2]), size=small_sizes,
       depth=st.sampled_from(DEPTHS), aux=st.booleans(), as_json=st.booleans())
def test_spec_file_of_random_structure(folder, spec, data, changes, size, depth, aux, as_json):
    """Valid TOML (or JSON) spec files from the spec grammar, some with a random change or two."""
    for _ in range(changes):
        spec = mutate(spec, data)
    if as_json:
        path, text = folder / "structure.json", json.dumps(spec, ensure_ascii=False)
    else:
        path, text = folder / "structure.toml", toml_text(spec)
        assert tomllib.loads(text).keys() == spec.keys()  # the writer above writes valid TOML
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    judge_spec(lambda: load_spec(str(path)), size, depth, aux)


@fuzz(150)
@given(spec=st.one_of(spec_dicts, values, st.dictionaries(st.one_of(st.text(max_size=5), ints), values)),
       size=sizes)
def test_spec_from_random_dict(spec, size):
    judge_spec(lambda: network_from_dict(spec, "fuzz"), size, "conv", True)


BUILTINS = {name: tomllib.loads((SPEC_DIR / f"{name}.toml").read_text(encoding="utf-8"))
            for name in ("googlenet", "bn-inception", "inception-v3", "inception-v4", "inception-resnet-v2", "xception")}


def tables_in(spec: dict) -> list[dict]:
    """Every table of a spec, the top level first: rows, their layers and branches."""
    def listed(table: dict, key: str) -> list:
        return table[key] if isinstance(table.get(key), list) else []

    def below(table: dict) -> list[dict]:  # layers and branches, nested blocks' too
        found = []
        for item in (*listed(table, "layers"), *listed(table, "branches")):
            if isinstance(item, dict):
                found += [item, *below(item)]
        return found

    found = [spec]
    for row in listed(spec, "rows"):
        if isinstance(row, dict):
            found += [row, *below(row)]
    return found


def mutate(spec: dict, data: st.DataObject) -> dict:
    """One change to a copy of a spec: drop, duplicate, retype or replace a field or a row."""
    spec = json.loads(json.dumps(spec))
    rows = spec["rows"] if isinstance(spec.get("rows"), list) and spec["rows"] else [{}]
    op = data.draw(st.sampled_from(["drop", "set", "add", "retype", "number", "drop_row", "dup_row", "swap_rows",
                                    "kind", "empty_list"]), label="mutation")
    table = data.draw(st.sampled_from(tables_in(spec)), label="table")
    keys = sorted(table)
    if op == "drop" and keys:
        del table[data.draw(st.sampled_from(keys))]
    elif op == "set" and keys:
        table[data.draw(st.sampled_from(keys))] = data.draw(values)
    elif op == "add":
        table[data.draw(field_names)] = data.draw(values)
    elif op == "retype" and keys:
        key = data.draw(st.sampled_from(keys))
        old = table[key]
        table[key] = data.draw(st.sampled_from([str(old), [old], {"v": old}, float(old) if isinstance(old, int)
                                                else 1.5, not old if isinstance(old, bool) else True, None]))
        if table[key] is None:
            del table[key]
    elif op == "number":
        numeric = [k for k in keys if isinstance(table[k], (int, float)) and not isinstance(table[k], bool)]
        if numeric:
            table[data.draw(st.sampled_from(numeric))] = data.draw(st.one_of(ints, floats))
    elif op == "drop_row" and len(rows) > 1:
        rows.pop(data.draw(st.integers(0, len(rows) - 1)))
    elif op == "dup_row":
        i = data.draw(st.integers(0, len(rows) - 1))
        rows.insert(data.draw(st.integers(0, len(rows))), json.loads(json.dumps(rows[i])))
    elif op == "swap_rows":
        i, j = data.draw(st.integers(0, len(rows) - 1)), data.draw(st.integers(0, len(rows) - 1))
        rows[i], rows[j] = rows[j], rows[i]
    elif op == "kind" and table is not spec:
        table["kind"] = data.draw(st.sampled_from([*ROW_KINDS, "gelu", "Conv"]))
    elif op == "empty_list":
        lists = [k for k in keys if isinstance(table[k], list)]
        if lists:
            table[data.draw(st.sampled_from(lists))] = []
    return spec


builtin_sizes = st.one_of(st.none(), st.integers(199, 640), st.sampled_from(["300x250", "1x224x224", 4096]), sizes)


@fuzz(400)
@given(name=st.sampled_from(sorted(BUILTINS)), data=st.data(), changes=st.integers(1, 4), size=builtin_sizes,
       depth=st.sampled_from(DEPTHS), aux=st.booleans())
def test_mutated_builtin_spec(name, data, changes, size, depth, aux):
    spec = BUILTINS[name]
    for _ in range(changes):
        spec = mutate(spec, data)
    judge_spec(lambda: network_from_dict(spec, f"{name} (mutated)"), size, depth, aux)


# ----------------------------------------------------------------------------- (b) claims and values

GOOGLENET = analyze("googlenet")
VALID_CLAIMS = [
    "inception3a.weights = 163,328", "inception3a.branch2.1.weights = 110,592", "inception3a.macs ~ 1.28e8",
    "inception3a.out_shape = 28x28x256", "total.params ~ 7.0M", "conv1.macs ~ 118M", "inception4a.flops ~ 0.146G",
    "inception3a.weights ~ 159.5K", "inception3a.in_shape = [192, 28, 28]", "fc.weights = 1,024,000",
    "inception5b.macs ≈ 0.71亿", "total.macs ~ 1.5B", "aux1.fc1.weights = 2,097,152", "conv2.1.out_shape = 56x56",
]
CLAIM_CHARS = ("0123456789０１２٣.,_eE+-xX×*·^KkMGTB万亿 =~≈[]()" + "abcnpstw" + "\t\n")


def judge_claim(text: Any, convention_k: int = 1000) -> None:
    claim = outcome(lambda: parse_claim(text), "parse")
    if claim is None:
        return
    assert claim.quantity in QUANTITIES
    verdicts = outcome(lambda: verify([claim]), "verify")
    if verdicts is None:
        return
    with time_limit():
        (verdict,) = verdicts
        assert isinstance(verdict.holds, bool)
        assert to_text(verdicts).strip()
        json.dumps(verdict_dict(verdict), allow_nan=False)  # valid JSON: no NaN or Infinity


@fuzz(300)
@given(text=st.one_of(st.text(max_size=40), st.text(alphabet=CLAIM_CHARS, max_size=30)))
def test_claim_of_random_text(text):
    judge_claim(text)


@fuzz(300)
@given(claim=st.sampled_from(VALID_CLAIMS), data=st.data(), changes=st.integers(1, 3))
def test_mutated_claim(claim, data, changes):
    for _ in range(changes):
        at = data.draw(st.integers(0, len(claim)), label="at")
        edit = data.draw(st.sampled_from(["insert", "delete", "replace", "value"]), label="edit")
        char = data.draw(st.sampled_from(CLAIM_CHARS), label="char")
        if edit == "insert":
            claim = claim[:at] + char + claim[at:]
        elif edit == "delete":
            claim = claim[:at] + claim[at + 1:]
        elif edit == "replace":
            claim = claim[:at] + char + claim[at + 1:]
        else:  # a new value after the operator
            head = claim.split("=")[0].split("~")[0]
            claim = f"{head}= {data.draw(written_numbers())[0]}"
    judge_claim(claim)


# A number as people write it, with its exact value worked out here, apart from values.py.
SUFFIX_SCALE = {"": 1, "K": 1000, "k": 1000, "M": 10**6, "G": 10**9, "T": 10**12, "B": 10**9, "万": 10**4,
                "亿": 10**8}


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, Fraction, Fraction]:
    whole = draw(st.integers(0, 10**12))
    style = draw(st.sampled_from(["plain", "commas", "underscores"]))
    text = {"plain": str(whole), "commas": f"{whole:,}", "underscores": f"{whole:_}"}[style]
    places = draw(st.integers(0, 4))
    frac = draw(st.integers(0, 10**places - 1)) if places else 0
    value = Fraction(whole) + Fraction(frac, 10**places)
    unit = Fraction(1, 10**places)
    if places:
        text += "." + str(frac).zfill(places)
    exponent = draw(st.one_of(st.none(), st.integers(-30, 30)))
    suffix = "" if exponent is not None else draw(st.sampled_from(sorted(SUFFIX_SCALE)))
    if exponent is not None:
        text += draw(st.sampled_from(["e{}", "E{}", "x10^{}", "×10^{}", " * 10^{}"])).format(exponent)
        value, unit = value * Fraction(10) ** exponent, unit * Fraction(10) ** exponent
    text += draw(st.sampled_from(["", " "])) + suffix if suffix else ""
    return text, value * SUFFIX_SCALE[suffix], unit * SUFFIX_SCALE[suffix]


@fuzz(300)
@given(number=written_numbers())
def test_written_numbers_read_exactly(number):
    text, value, unit = number
    written = outcome(lambda: parse_number(text))
    assert written is not None, f"{text!r} is a number as people write it"
    assert (written.value, written.unit) == (value, unit), text


@fuzz(200)
@given(c=st.integers(0, 10**6), h=st.integers(0, 10**6), w=st.integers(0, 10**6),
       form=st.sampled_from(["{h}x{w}x{c}", "{h} × {w} × {c}", "{h}*{w}*{c}", "[{c}, {h}, {w}]", "({c},{h},{w})",
                             "{h}x{w}"]))
def test_written_shapes_read_exactly(c, h, w, form):
    written = outcome(lambda: parse_shape(" " + form.format(c=c, h=h, w=w) + " "))
    assert written is not None
    assert written.chw() == (None if form == "{h}x{w}" else c, h, w)


@fuzz(300)
@given(text=st.one_of(st.text(max_size=30), st.text(alphabet=CLAIM_CHARS, max_size=25),
                      st.from_regex(r"\A[0-9]{1,2000}(e[0-9]{1,6})?[KMG万]?\Z")),
       k=st.sampled_from([1000, 1024]))
def test_value_reader_on_random_text(text, k):
    for kind, read in (("number", lambda: parse_number(text, k)), ("shape", lambda: parse_shape(text)),
                       ("written", lambda: parse_written(text, k))):
        written = outcome(read, kind)
        if written is not None and hasattr(written, "value"):
            low, high = written.interval()
            assert low <= written.value <= high and written.unit > 0
        elif written is not None:
            assert all(type(n) is int and n >= 0 for n in (written.height, written.width))


claim_items = st.one_of(st.sampled_from(VALID_CLAIMS), st.text(max_size=20), ints,
                        st.dictionaries(st.sampled_from(["claim", "quote", "note", "spec", "input", "k", "flops",
                                                         "x"]), st.one_of(st.sampled_from(VALID_CLAIMS), values),
                                        max_size=4))
valid_claims_files = st.fixed_dictionaries(
    {"claims": st.lists(st.one_of(st.sampled_from(VALID_CLAIMS),
                                  st.fixed_dictionaries({"claim": st.sampled_from(VALID_CLAIMS)},
                                                        optional={"k": st.sampled_from([1000, 1024]),
                                                                  "quote": st.text(max_size=10),
                                                                  "input": st.sampled_from([224, "3x300x250"])})),
                        min_size=1, max_size=4)},
    optional={"title": st.text(max_size=10), "k": st.sampled_from([1000, 1024]),
              "flops": st.sampled_from(["2macs", "macs"]), "spec": st.sampled_from(["googlenet", "bn-inception"]),
              "input": st.sampled_from([224, 256, "300x250", [3, 240, 320]])})
claims_files = st.one_of(
    valid_claims_files, valid_claims_files,
    values,
    st.dictionaries(st.sampled_from(["title", "source", "spec", "input", "k", "flops", "claims", "claim"]),
                    st.one_of(values, st.lists(claim_items, max_size=4), st.sampled_from([1000, 1024, "macs"])),
                    max_size=5),
)


@fuzz(200)
@given(data=claims_files)
def test_claims_file_of_random_structure(data):
    read = outcome(lambda: claims_from_dict(data, "fuzz.toml", Settings()), "read")
    if read is not None:
        _, claims = read
        verdicts = outcome(lambda: verify(claims, derive=False), "verify")
        if verdicts is not None:
            json.dumps([verdict_dict(v) for v in verdicts], allow_nan=False)


# ----------------------------------------------------------------------------- (c) the CLI


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Spec and claims files the CLI fuzzing names, and places to write to."""
    here = tmp_path_factory.mktemp("cli")
    texts = {
        "tiny.toml": 'name = "tiny"\n[[rows]]\nname = "stem"\nkind = "conv"\nout = 8\nkernel = 3\n',
        "tiny.json": json.dumps({"name": "tiny", "rows": [{"name": "stem", "kind": "conv", "out": 8, "kernel": 3}]}),
        "broken.toml": 'name = "tiny"\n[[rows]\n',
        "claims.toml": 'claims = ["inception3a.weights = 163,328", "total.macs ~ 1.5G"]\n',
        "badclaims.toml": 'claims = ["inception3a.weights = lots"]\n',
        "empty.toml": "",
    }
    paths = {}
    for name, text in texts.items():
        (here / name).write_text(text, encoding="utf-8")
        paths[name] = str(here / name)
    (here / "folder").mkdir()
    paths.update(home=str(here), out=str(here / "out.txt"), png=str(here / "out.png"), folder=str(here / "folder"),
                 missing=str(here / "missing" / "out.txt"), badpng=str(here / "out.gif"))
    return paths


SPEC_NAMES = ["googlenet", "bn-inception", "googlenet:naive", "googlenet:bn,width=0.5", "bn-inception:no-reduce",
              "googlenet:factorized-5x5", "googlenet:width=1e308", "googlenet:width=", "googlenet:frob", "nosuchnet",
              "googlenet:", ":bn", "bn-inception:factorized-5x5"]
ROW_NAMES = ["inception3a", "inception3a.branch2", "inception3a.branch2.1", "conv1", "aux1.fc1", "avgpool", "fc",
             "inception9z", "", ".", "inception3a.", "total"]
INPUTS = ["224", "300x250", "3x512x96", "1x224x224", "4096", "9223372036854775807", "99999999999x1x1", "0", "-1",
          "3x0x5", "abc", "２２４", "224x", "1e3", "3x224x224x1"]
SWEEPS = ["200:260:20", "224", "220:226", "1:5", "224:512:64", "224x224", "96:512:0", "5:1", "1:100000",
          "3x224x224", "a:b"]


def token(*pool: str) -> st.SearchStrategy[str]:
    """A word from ``pool`` (three times in four), or any text."""
    return st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.sampled_from(pool), st.text(max_size=10))


def option(flag: str, pool: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return pool.map(lambda value: [flag, value])


def command_lines(files: dict[str, str]) -> st.SearchStrategy[list[str]]:
    specs = token(*SPEC_NAMES, files["tiny.toml"], files["tiny.json"], files["broken.toml"], files["empty.toml"])
    outputs = st.sampled_from([files["out"], files["folder"], files["missing"]])
    plots = st.sampled_from([files["badpng"], files["missing"] + ".png", files["png"], files["badpng"],
                             files["folder"], files["badpng"], files["missing"] + ".png", files["badpng"]])
    inputs, depth = token(*INPUTS), token("layer", "branch", "conv", "deep")
    formats = token("table", "markdown", "csv", "json", "xml")
    flags: dict[str, list[st.SearchStrategy[list[str]]]] = {
        "report": [specs.map(lambda s: [s]), option("--input", inputs), option("--depth", depth),
                   st.just(["--aux"]), option("--format", formats), option("--output", outputs),
                   option("--plot", plots)],
        "explain": [token(*ROW_NAMES).map(lambda s: [s]), option("--spec", specs), option("--input", inputs),
                    option("--output", outputs)],
        "compare": [st.lists(specs, min_size=0, max_size=3), option("--rows", token("inception3a,inception3b",
                    "conv1", "nope", ",")), option("--depth", depth), option("--input", inputs),
                    option("--format", formats), option("--output", outputs), option("--plot", plots)],
        "sweep": [specs.map(lambda s: [s]), option("--input", token(*SWEEPS)), option("--format", formats),
                  option("--output", outputs)],
        "verify": [st.lists(token("googlenet", files["claims.toml"], files["badclaims.toml"], files["tiny.toml"],
                                  files["empty.toml"]), max_size=3),
                   option("--claim", st.one_of(st.sampled_from(VALID_CLAIMS), st.text(max_size=20))),
                   option("--claim", st.sampled_from(VALID_CLAIMS)), option("--input", inputs),
                   option("--k", token("1000", "1024", "1000.0")), option("--flops", token("2macs", "macs")),
                   st.just(["--no-derivation"]), option("--format", token("table", "json")),
                   option("--output", outputs)],
        "paper-table": [option("--format", formats), option("--output", outputs)],
        "specs": [option("--format", token("table", "json"))],
    }

    @st.composite
    def line(draw: st.DrawFn) -> list[str]:
        command = draw(st.sampled_from(sorted(flags)))
        chosen = draw(st.lists(st.sampled_from(range(len(flags[command]))), max_size=5))
        argv = [command]
        for index in chosen:
            argv += draw(flags[command][index])
        if draw(st.integers(0, 9)) == 0:  # now and then a stray word or flag
            argv.insert(draw(st.integers(1, len(argv))), draw(token("--frob", "-x", "--", "--input", "extra")))
        return argv

    return line()


@contextmanager
def working_folder(path: str) -> Iterator[None]:
    """Run in ``path``, so that a random word taken as a file name lands there, not in the checkout."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_main(argv: list[str], home: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), working_folder(home):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a usage error (2) or --help (0)
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@fuzz(400)
@given(data=st.data())
def test_cli_random_flags(files, data):
    argv = data.draw(command_lines(files), label="argv")
    if os.path.exists(files["out"]):
        os.unlink(files["out"])
    with time_limit():
        code, out, err = run_main(argv, files["home"])
    if code == 70:  # the last-resort handler caught a bug: show its traceback
        with time_limit(), working_folder(files["home"]):
            main(["--debug", *argv])
        pytest.fail(f"internal error for {argv}: {err}")
    assert "Traceback" not in err and "Traceback" not in out
    event(f"{argv[0]}: exit {code}")
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("inception-calc") and "error:" in lines[0], (argv, err)
        assert out == "", (argv, out[:200])
        return
    assert code in (0, 1), (argv, code, err)
    assert err == "", (argv, err)
    written = os.path.exists(files["out"]) and Path(files["out"]).read_text(encoding="utf-8")
    assert out.strip() or written or "--plot" in argv, (argv, "no output")


GOOGLENETS = ["googlenet", "googlenet:naive", "googlenet:bn,width=0.5", "googlenet:factorized-5x5",
              "googlenet:no-reduce,width=3/4"]
GOOD_INPUTS = ["224", "300x250", "1x224x224", "4x300x301", "4096", "２２４", "9223372036854775807"]
# bn-inception's conv1 is a depthwise conv with groups = 3: it takes 3 channels (or a multiple of 3), so it
# gets the sizes that keep the image's 3 channels (a 1- or 4-channel input is an error for it, exit 2)
RGB_INPUTS = [size for size in GOOD_INPUTS if size.count("x") < 2]
GOOD_ROWS = ["inception3a", "inception3a.branch2", "inception3a.branch2.1", "conv1", "aux1.fc1", "avgpool", "fc",
             "inception5b.branch4", "maxpool1", "conv2.1"]


def valid_command_lines(files: dict[str, str]) -> st.SearchStrategy[list[str]]:
    """Command lines every option of which is valid: each must give a result (exit 0, or 1 for claims
    that do not hold), never an error."""
    every_spec = st.sampled_from([*GOOGLENETS, "bn-inception", "bn-inception:no-reduce", files["tiny.toml"],
                                  files["tiny.json"]])
    maybe = lambda draw, flag, pool: [flag, draw(pool)] if draw(st.booleans()) else []  # noqa: E731
    formats = st.sampled_from(FORMATS)
    depth = st.sampled_from(DEPTHS)
    inputs = st.sampled_from(GOOD_INPUTS)
    rgb_inputs = st.sampled_from(RGB_INPUTS)
    output = st.just(files["out"])

    @st.composite
    def line(draw: st.DrawFn) -> list[str]:
        command = draw(st.sampled_from(["report", "explain", "compare", "sweep", "verify", "paper-table", "specs"]))
        if command == "report":
            spec = draw(every_spec)
            sizes = st.just("3x5x4") if "tiny" in spec else rgb_inputs if "bn-inception" in spec else inputs
            argv = [spec, *maybe(draw, "--input", sizes),
                    *maybe(draw, "--depth", depth), *(["--aux"] if draw(st.booleans()) else []),
                    *maybe(draw, "--format", formats)]
        elif command == "explain":
            argv = [draw(st.sampled_from(GOOD_ROWS)), *maybe(draw, "--spec", st.sampled_from(GOOGLENETS)),
                    *maybe(draw, "--input", inputs)]
        elif command == "compare":
            if draw(st.booleans()):
                argv = [*draw(st.lists(st.sampled_from(GOOGLENETS), min_size=2, max_size=3)),
                        *maybe(draw, "--rows", st.sampled_from(["inception3a", "conv1,inception4e", "fc"]))]
            else:
                argv = draw(st.lists(every_spec, min_size=2, max_size=3))
            tiny = any("tiny" in a for a in argv)
            sizes = st.just("224") if tiny else rgb_inputs if any("bn-inception" in a for a in argv) else inputs
            argv += [*maybe(draw, "--input", sizes), *maybe(draw, "--depth", depth),
                     *maybe(draw, "--format", formats)]
        elif command == "sweep":
            argv = [draw(every_spec), "--input", draw(st.sampled_from(["200:260:20", "224", "1:301:100", "220:226",
                                                                        "224:512:96", "4096"])),
                    *maybe(draw, "--format", formats)]
        elif command == "verify":
            claims = draw(st.lists(st.sampled_from(VALID_CLAIMS), max_size=3))
            paths = draw(st.sampled_from([[], ["googlenet"], [files["claims.toml"]], ["googlenet", files["claims.toml"]]]))
            if not claims and paths in ([], ["googlenet"]):
                paths = [files["claims.toml"]]
            argv = [*paths, *(a for c in claims for a in ("--claim", c)), *maybe(draw, "--input", inputs),
                    *maybe(draw, "--k", st.sampled_from(["1000", "1024"])),
                    *maybe(draw, "--flops", st.sampled_from(["2macs", "macs"])),
                    *(["--no-derivation"] if draw(st.booleans()) else []),
                    *maybe(draw, "--format", st.sampled_from(["table", "json"]))]
        elif command == "paper-table":
            argv = maybe(draw, "--format", st.sampled_from(["table", "markdown", "csv", "json"]))
        else:
            argv = maybe(draw, "--format", st.sampled_from(["table", "json"]))
        if command != "specs":
            argv += maybe(draw, "--output", output)
        return [command, *argv]

    return line()


@fuzz(200)
@given(data=st.data())
def test_cli_valid_flag_combinations(files, data):
    argv = data.draw(valid_command_lines(files), label="argv")
    if os.path.exists(files["out"]):
        os.unlink(files["out"])
    with time_limit():
        code, out, err = run_main(argv, files["home"])
    event(f"{argv[0]}: exit {code}")
    assert code == 0 or (code == 1 and argv[0] == "verify"), (argv, code, err)
    assert err == "", (argv, err)
    text = Path(files["out"]).read_text(encoding="utf-8") if "--output" in argv else out
    assert text.strip() and (out == "" if "--output" in argv else True), argv
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "table"
    if fmt == "json":
        json.loads(text, parse_constant=lambda c: pytest.fail(f"JSON has {c}: {argv}"))
    elif fmt == "csv":
        table = list(csv.reader(io.StringIO(text)))
        assert len({len(row) for row in table}) == 1, argv  # every line has the header's columns


@st.composite
def commands_on_a_spec(draw: st.DrawFn, path: str) -> list[str]:
    """A command line over a grammar-built spec file: every analytic command, valid flags (now and
    then a chart: a few hundred milliseconds each)."""
    size = lambda: draw(st.sampled_from(["8", "17", "32", "64x48", "3x100x30", "1x17x90", "96", "1099511627776"]))  # noqa: E731
    maybe = lambda flag, pool: [flag, draw(pool)] if draw(st.booleans()) else []  # noqa: E731
    chart = str(Path(path).with_name("chart.png"))
    plot = lambda: ["--plot", chart] if draw(st.integers(0, 49)) == 31 else []  # 0 would come often  # noqa: E731
    node = st.sampled_from(["r0", "r1", "r2", "r3", "r1.branch1", "r2.branch2.1", "r1.0", "r3.1", "total"])
    command = draw(st.sampled_from(["report", "explain", "compare", "sweep", "verify"]))
    if command == "report":
        return ["report", path, *maybe("--input", st.just(size())), *maybe("--depth", st.sampled_from(DEPTHS)),
                *(["--aux"] if draw(st.booleans()) else []), *maybe("--format", st.sampled_from(FORMATS)), *plot()]
    if command == "explain":
        return ["explain", draw(node), "--spec", path, *maybe("--input", st.just(size()))]
    if command == "compare":
        other = draw(st.sampled_from([path, f"{path}:bn", f"{path}:width=0.5", f"{path}:naive", "googlenet"]))
        return ["compare", path, other, *maybe("--input", st.just(size())), *maybe("--depth", st.sampled_from(DEPTHS)),
                *maybe("--rows", st.sampled_from(["r0", "r1,r2"])), *maybe("--format", st.sampled_from(FORMATS)),
                *plot()]
    if command == "sweep":
        return ["sweep", path, "--input", draw(st.sampled_from(["1:64:7", "1:40", "8", "30:300:30"])),
                *maybe("--format", st.sampled_from(FORMATS)), *plot()]
    claim = f"{draw(node)}.{draw(st.sampled_from(QUANTITIES))} {draw(st.sampled_from(['=', '~']))} " + \
        draw(st.sampled_from(["0", "1", "1.5K", "3x3x8", "[8, 3, 3]", "1e3", "2,048"]))
    return ["verify", path, "--claim", claim, *maybe("--input", st.just(size())),
            *maybe("--format", st.sampled_from(["table", "json"]))]


@fuzz(300)
@given(spec=grammar_specs(), data=st.data(), changes=st.sampled_from([0, 0, 0, 1]))
def test_cli_on_random_specs(files, spec, data, changes):
    """Every analytic command over a grammar-built spec: a result or the clear error."""
    for _ in range(changes):
        spec = mutate(spec, data)
    path = Path(files["home"]) / "random.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    argv = data.draw(commands_on_a_spec(str(path)), label="argv")
    with time_limit(), warnings.catch_warnings():
        warnings.simplefilter("error")  # a library's warning would reach the user's terminal
        code, out, err = run_main(argv, files["home"])
    if code == 70:
        with time_limit(), working_folder(files["home"]):
            main(["--debug", *argv])
        pytest.fail(f"internal error for {argv}: {err}")
    event(f"{argv[0]}: exit {code}")
    assert "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1 and out == "", (argv, err)
        return
    assert code in (0, 1) and err == "" and out.strip(), (argv, code, err)
    if "json" in argv:
        json.loads(out, parse_constant=lambda c: pytest.fail(f"JSON has {c}: {argv}"))


@fuzz(8, campaign_share=0.03)
@given(spec=grammar_specs(), size=st.one_of(small_sizes, st.just(MAX_SIZE)), kind=st.sampled_from(["report", "compare",
                                                                                                  "sweep"]))
def test_plots_of_random_networks(folder, spec, size, kind):
    """--plot over grammar-built networks, at sizes up to 2^63 - 1: a PNG or the clear error."""
    from inception_calc.studies.compare import compare
    from inception_calc.report.plot import plot_comparison, plot_report, plot_sweep
    from inception_calc.studies.sweep import sweep

    network = outcome(lambda: network_from_dict(spec, "fuzz"), "load")
    if network is None:
        return
    path = folder / "chart.png"
    path.unlink(missing_ok=True)
    if kind == "report":
        draw = lambda: plot_report(analyze(network, size), str(path))  # noqa: E731
    elif kind == "compare":
        draw = lambda: plot_comparison(compare([network, network], size), str(path))  # noqa: E731
    else:
        start = min(size, MAX_SIZE - 32) if isinstance(size, int) else 8
        draw = lambda: plot_sweep(sweep(network, [start, start + 16, start + 32]), str(path))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matplotlib warning would reach the user's terminal
        drawn = outcome(lambda: draw() or True, "plot")
    if drawn:
        assert path.read_bytes().startswith(b"\x89PNG")
