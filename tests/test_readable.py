"""Numbers as people read them and the rough edges a new user hit (issue 15, parts 4 and 5): the
format from --output's suffix, nearest names for explain, params % and MACs % against their totals,
weights that depend on the input size, --units, --plot formats, specs with their variants,
--columns and the terminal's width, and the Analysis's own summary and tables.

Every expected value is derived here from the analysis's own counts or by hand (in a comment),
never typed in from the tool's output.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from inception_calc.cli.main import main

GOLDEN = Path(__file__).parent / "golden"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    return err


# ----------------------------------------------------------------------------- a. -o FILE.json|.csv|.md


@pytest.mark.parametrize("suffix, golden", [(".json", "googlenet_224_layer.json"), (".csv", "googlenet_224_layer.csv"),
                                            (".md", "googlenet_224_layer.md"), (".txt", "googlenet_224_layer.txt"),
                                            ("", "googlenet_224_layer.txt"), (".JSON", "googlenet_224_layer.json")])
def test_the_output_suffix_picks_the_format(capsys, tmp_path, suffix, golden):
    target = tmp_path / f"report{suffix}"
    code, out, err = cli(capsys, "report", "-o", str(target))
    assert (code, out, err) == (0, "", "")
    assert target.read_text(encoding="utf-8") == (GOLDEN / golden).read_text(encoding="utf-8")


def test_a_format_that_agrees_with_the_suffix_is_fine(capsys, tmp_path):
    target = tmp_path / "r.csv"
    assert cli(capsys, "report", "--format", "csv", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == (GOLDEN / "googlenet_224_layer.csv").read_text(encoding="utf-8")
    neutral = tmp_path / "r.txt"  # .txt names no format: any --format may go there
    assert cli(capsys, "report", "--format", "json", "-o", str(neutral))[0] == 0
    assert json.loads(neutral.read_text(encoding="utf-8"))["spec"] == "googlenet"


@pytest.mark.parametrize("argv, says", [
    (("report", "-o", "{d}/r.xlsx"), "--output {d}/r.xlsx: will not write a .xlsx file: this command writes "
                                     "table, markdown, csv, json; give a file ending in .md"),
    (("report", "--format", "csv", "-o", "{d}/r.json"), "--output {d}/r.json: the suffix names json, but --format csv"),
    (("report", "--format", "table", "-o", "{d}/r.md"), "the suffix names markdown, but --format table"),
    (("verify", "--claim", "conv1.weights = 9408", "-o", "{d}/v.csv"), "will not write a .csv file: this command "
                                                                        "writes table, json"),
    (("explain", "conv1", "-o", "{d}/e.json"), "will not write a .json file: this command writes text"),
    (("export-spec", "googlenet", "-o", "{d}/s.json"), "will not write a .json file: this command writes toml"),
    (("sweep", "--input", "224:256:32", "-o", "{d}/s.html"), "will not write a .html file"),
    (("compare", "googlenet", "googlenet:bn", "-o", "{d}/c.toml"), "will not write a .toml file"),
    (("paper-table", "--format", "json", "-o", "{d}/p.csv"), "the suffix names csv, but --format json"),
])
def test_a_suffix_it_will_not_write_is_one_line_and_no_file(capsys, tmp_path, argv, says):
    argv = tuple(a.format(d=tmp_path) for a in argv)
    err = one_line_error(capsys, *argv)
    assert says.format(d=tmp_path) in err
    assert list(tmp_path.iterdir()) == []  # refused before any work: nothing written


def test_every_command_with_output_resolves_a_suffix(capsys, tmp_path):
    """verify, paper-table, sweep, compare, explain and export-spec each write what the suffix names."""
    v = tmp_path / "v.json"
    assert cli(capsys, "verify", "--claim", "conv1.weights = 9408", "-o", str(v))[0] == 0  # 7*7*3*64 = 9,408
    assert json.loads(v.read_text())["holds"] == 1
    p = tmp_path / "p.md"
    assert cli(capsys, "paper-table", "-o", str(p))[0] == 0
    assert p.read_text().lstrip().startswith(("|", "**", "#", "_"))
    s = tmp_path / "s.csv"
    assert cli(capsys, "sweep", "--input", "224:256:32", "-o", str(s))[0] == 0
    assert len({len(r) for r in csv.reader(io.StringIO(s.read_text()))}) == 1
    e = tmp_path / "e.txt"
    assert cli(capsys, "explain", "conv1", "-o", str(e))[0] == 0 and "conv1" in e.read_text()
    t = tmp_path / "s.toml"
    assert cli(capsys, "export-spec", "googlenet", "-o", str(t))[0] == 0 and "[[rows]]" in t.read_text()


# ----------------------------------------------------------------------------- b. nearest names


def test_explain_of_a_misspelt_row_suggests_the_nearest_names(capsys):
    err = one_line_error(capsys, "explain", "incep3a")
    assert "no row, branch or layer named 'incep3a' in googlenet; did you mean 'inception3a'" in err  # first: nearest
    err = one_line_error(capsys, "explain", "inception3x")  # one letter from 3a and 3b alike
    hint = err.split("did you mean ")[1].split("?")[0]
    assert {"'inception3a'", "'inception3b'"} <= set(hint.replace(" or ", ", ").split(", "))


def test_explain_of_a_misspelt_part_suggests_the_nearest_parts(capsys):
    err = one_line_error(capsys, "explain", "inception3a.brnch2")
    assert "has no part 'brnch2'; did you mean 'branch2'" in err


def test_verify_and_explain_share_one_hint(capsys):
    verify = one_line_error(capsys, "verify", "--claim", "incepton3a.weights = 1")
    explain = one_line_error(capsys, "explain", "incepton3a")
    assert "did you mean 'inception3a'" in verify and "did you mean 'inception3a'" in explain


def test_did_you_mean_has_one_home():
    """Every "did you mean" comes from core.errors.did_you_mean: no other module calls difflib."""
    from conftest import ROOT

    callers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "inception_calc").rglob("*.py")
                     if "get_close_matches" in p.read_text(encoding="utf-8"))
    assert callers == ["inception_calc/core/errors.py"]


def test_did_you_mean_forms():
    from inception_calc.core.errors import did_you_mean

    assert did_you_mean("kernal", ("kernel", "stride")) == "did you mean 'kernel'? "
    assert did_you_mean("zzz", ("kernel", "stride")) == ""
    # each ratio 2 * 2 / (2 + 3) = 0.8, xyz's 0; difflib puts equal ratios' later name first
    assert did_you_mean("ab", ("abc", "abd", "abe", "xyz"), n=3) == "did you mean 'abe', 'abd' or 'abc'? "
    assert did_you_mean("ab", ("abc", "abd"), n=3) == "did you mean 'abd' or 'abc'? "


# ----------------------------------------------------------------------------- c. MACs % and params %

AUX_SPEC = """name = "auxy"
input = [3, 8, 8]
[[rows]]
name = "stem"
kind = "conv"
out = 4
kernel = 3
pad = 1
[[rows]]
name = "head"
kind = "aux"
after = "stem"
layers = [{ name = "fc", kind = "linear", out = 100 }]
[[rows]]
name = "fc"
kind = "linear"
out = 10
"""
# stem: 3*3*3*4 = 108 weights + 4 biases = 112 params; MACs 8*8*108 = 6,912
# fc (main): 4*8*8 = 256 in, 256*10 = 2,560 weights + 10 = 2,570 params and 2,560 MACs
# head (aux): 256*100 = 25,600 weights + 100 = 25,700 params and 25,600 MACs
# inference: 2,682 params, 9,472 MACs; training: 28,382 params, 35,072 MACs
# head's MACs: 25,600 / 35,072 = 73.0% of the training total (270.3% of inference's, were it against that)


def _markdown_cells(text: str) -> dict[str, dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    titles = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.replace("&nbsp;", " ").strip().strip("*").strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(titles, cells))
    return rows


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1)


def test_aux_rows_shares_are_of_the_training_total(tmp_path):
    from inception_calc import analyze
    from inception_calc.report.analysis import to_markdown

    spec = tmp_path / "auxy.toml"
    spec.write_text(AUX_SPEC, encoding="utf-8")
    analysis = analyze(str(spec))
    assert (analysis.totals.inference.params, analysis.totals.inference.macs) == (2682, 9472)  # by hand above
    assert (analysis.totals.training.params, analysis.totals.training.macs) == (28382, 35072)
    rows = _markdown_cells(to_markdown(analysis, aux=True, titles=("name", "params %", "MACs %")))
    assert rows["head"] == {"name": "head", "params %": "90.6%", "MACs %": "73.0%"}  # 25,700/28,382; 25,600/35,072
    assert rows["stem"] == {"name": "stem", "params %": "4.2%", "MACs %": "73.0%"}  # 112/2,682; 6,912/9,472
    assert rows["fc"] == {"name": "fc", "params %": "95.8%", "MACs %": "27.0%"}  # 2,570/2,682; 2,560/9,472
    assert rows["total (inference)"]["MACs %"] == rows["total (inference)"]["params %"] == "100.0%"


@pytest.mark.parametrize("spec, size, depth", [("googlenet", None, "layer"), ("googlenet", "3x300x250", "branch"),
                                               ("inception-v3", None, "layer"), ("inception-resnet-v2", None, "layer")])
def test_shares_add_up_to_100_percent_of_their_total(spec, size, depth):
    """Each row's MACs % and params % against the sums of the rows themselves (not the totals the
    renderer uses): the main rows add up to 100% of the inference total, the main rows' share of the
    training total plus the aux rows' shown shares to 100% of the training total (to rounding:
    0.05% a row)."""
    from inception_calc import analyze
    from inception_calc.report.analysis import to_markdown

    analysis = analyze(spec, size)
    shown = _markdown_cells(to_markdown(analysis, depth, aux=True, titles=("name", "params %", "MACs %")))
    main = [r for r in analysis.rows if not r.aux]
    aux = [r for r in analysis.rows if r.aux]
    for quantity, title in (("macs", "MACs %"), ("params", "params %")):
        inference = sum(getattr(r, quantity) for r in main)
        training = inference + sum(getattr(r, quantity) for r in aux)
        cells = {r.name: float(shown[r.name][title].rstrip("%")) for r in analysis.rows}
        assert abs(sum(cells[r.name] for r in main) - 100) <= 0.05 * len(main), (quantity, spec)
        assert abs(100 * inference / training + sum(cells[r.name] for r in aux) - 100) <= 0.05 * (len(aux) + 1)
        for r in main:
            assert cells[r.name] == _share(getattr(r, quantity), inference), r.name
        for r in aux:
            assert cells[r.name] == _share(getattr(r, quantity), training), r.name


def test_the_default_table_is_unchanged_by_the_params_column():
    """params % is chosen with columns: the default table (its golden file) has the columns it had."""
    from inception_calc import analyze
    from inception_calc.report.analysis import to_table

    assert to_table(analyze("googlenet")) == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- d. weights that follow the input size


def test_a_linear_after_a_flattened_map_is_warned_in_text_and_json(capsys):
    """GoogLeNet at 299, by hand: conv1 7x7/2 pad 3: (299 + 6 - 7) // 2 + 1 = 150; the 3x3/2 ceil
    pools: ceil(147 / 2) + 1 = 75, ceil(72 / 2) + 1 = 37, ceil(34 / 2) + 1 = 18, ceil(15 / 2) + 1 = 9;
    avgpool 7x7/1: 9 - 7 + 1 = 3. So fc sees 3 * 3 * 1024 = 9,216 features: 9,216 * 1000 =
    9,216,000 weights, where 224's 1x1 map gives 1,024 * 1000 = 1,024,000."""
    code, out, _ = cli(capsys, "report", "--input", "299", "--format", "json")
    warnings = json.loads(out)["warnings"]
    fc = [w for w in warnings if w.startswith("fc's")]
    assert fc == ["fc's weights follow the input size: 9,216,000 at input 3x299x299, 1,024,000 at the spec's own "
                  "3x224x224 (its input, 3x3x1024, is flattened; it is 1x1x1024 there)"]
    # the aux heads' fc1 (the heads are analysed whether shown or not): 5x5/3 ceil pool over 4a's
    # 18x18 map: ceil(13 / 3) + 1 = 6, so 6 * 6 * 128 = 4,608 in, 4,608 * 1024 = 4,718,592 weights
    # (224: 14x14 -> ceil(9 / 3) + 1 = 4, 4 * 4 * 128 * 1024 = 2,097,152)
    assert any(w.startswith("aux1.fc1's weights follow the input size: 4,718,592 at input 3x299x299, 2,097,152 ")
               for w in warnings)
    code, text, _ = cli(capsys, "report", "--input", "299")
    assert f"note: {fc[0]}" in text


def test_no_such_warning_at_the_spec_s_own_size_or_behind_an_adaptive_pool(capsys):
    from inception_calc import analyze

    assert analyze("googlenet").sized_weights == ()
    assert analyze("googlenet", "1x224x224").sized_weights == ()  # other channels, same size: conv1 differs, no note
    assert analyze("googlenet-torchvision", "3x320x288").sized_weights == ()  # adaptive pools: fc sees 1x1 anyway
    assert analyze("inception-v3", "3x331x331").sized_weights == ()
    assert analyze("googlenet", "3x256x256").sized_weights[-1].startswith("fc's weights follow the input size: "
                                                                          "4,096,000 at")  # 2x2x1024 * 1000


# ----------------------------------------------------------------------------- e. --units exact|auto


@pytest.mark.parametrize("n, text", [
    (0, "0"), (64, "64"), (999, "999"), (1000, "1.00K"), (1005, "1.01K"),  # 1.005 rounds half up
    (9408, "9.41K"),  # conv1's weights, 7*7*3*64: 9.408K
    (9995, "10.0K"), (99_950, "100K"), (999_499, "999K"), (999_500, "1.00M"),  # rounding carries into the next digit/unit
    (118_013_952, "118M"),  # conv1's MACs, 112*112*9,408
    (1_582_671_872, "1.58G"), (10**12, "1.00T"), (2**63 - 1, "9,223,372T"), (-9408, "-9.41K"),
])
def test_auto_count(n, text):
    from inception_calc.core.values import auto_count

    assert auto_count(n) == text


def test_units_auto_in_table_and_markdown_states_the_base(capsys):
    from inception_calc import analyze
    from inception_calc.core.values import auto_count

    analysis = analyze("googlenet")
    for fmt in ("table", "markdown"):
        code, out, _ = cli(capsys, "report", "--units", "auto", "--format", fmt)
        assert code == 0 and "K = 10^3, M = 10^6, G = 10^9" in out
    code, out, _ = cli(capsys, "report", "--units", "auto", "--format", "markdown")
    rows = _markdown_cells(out)
    conv2 = analysis["conv2"]
    assert rows["conv2"]["weights"] == auto_count(conv2.weights) == "115K"  # 1*1*64*64 + 3*3*64*192 = 114,688
    assert rows["total (inference)"]["MACs"] == auto_count(analysis.totals.inference.macs)
    assert rows["total (inference)"]["MACs"] == f"{analysis.totals.inference.macs / 1e9:.2f}G"


def test_units_leave_csv_json_and_the_default_exact(capsys):
    for fmt, golden in (("csv", "googlenet_224_layer.csv"), ("json", "googlenet_224_layer.json")):
        code, out, _ = cli(capsys, "report", "--units", "auto", "--format", fmt)
        assert out == (GOLDEN / golden).read_text(encoding="utf-8")
    assert cli(capsys, "report", "--units", "exact")[1] == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")
    err = one_line_error(capsys, "report", "--units", "si")
    assert "argument --units: invalid choice: 'si'" in err


# ----------------------------------------------------------------------------- f. --plot .png/.svg/.pdf, --depth


@pytest.mark.parametrize("name, magic", [("chart.png", b"\x89PNG\r\n\x1a\n"), ("chart.svg", b"<?xml"),
                                         ("chart.pdf", b"%PDF-"), ("CHART.SVG", b"<?xml")])
def test_plot_writes_the_format_its_suffix_names(capsys, tmp_path, name, magic):
    pytest.importorskip("matplotlib")
    target = tmp_path / name
    code, out, err = cli(capsys, "report", "--plot", str(target))
    assert code == 0 and err == ""
    data = target.read_bytes()
    assert data.startswith(magic)
    if name.lower().endswith(".svg"):
        assert b"<svg" in data[:2000]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_plot_refuses_another_suffix(capsys, tmp_path):
    err = one_line_error(capsys, "report", "--plot", str(tmp_path / "chart.gif"))
    assert "is not a .png, .svg or .pdf file" in err


@pytest.mark.parametrize("depth, bars", [
    ("layer", 12),  # conv1, conv2, the 9 Inception rows, fc (pools, LRN, dropout have no weights)
    ("branch", 39),  # conv1, conv2 (a stack: no branches), 9 rows x 4 branches (branch4's pool_proj conv), fc
    ("conv", 58),  # conv1, conv2's 2 layers, 9 rows x 6 convolutions (1 + 2 + 2 + 1), fc
])
def test_the_plot_honours_depth(tmp_path, depth, bars):
    """A bar per finest node down to --depth; their MACs add up to the total. matplotlib's SVG
    writes each tick label as a comment (``<!-- inception3a.branch1 -->``) above its glyphs."""
    pytest.importorskip("matplotlib")
    import re

    from inception_calc import analyze
    from inception_calc.report.plot import leaves

    analysis = analyze("googlenet")
    drawn = [n for r in analysis.shown_rows(False) for n in leaves(r, depth) if n.macs or n.weights]
    assert len(drawn) == bars
    assert sum(n.macs for n in drawn) == analysis.totals.inference.macs
    target = tmp_path / "c.svg"
    assert main(["report", "--depth", depth, "--plot", str(target), "-o", str(tmp_path / "r.txt")]) == 0
    labels = re.findall(r"<!-- ([A-Za-z_][\w.]*) -->", target.read_text(encoding="utf-8"))
    assert [n.name for n in drawn] == [x for x in labels if x in {n.name for n in drawn}][:bars]
    assert {n.name for n in drawn} <= set(labels)


# ----------------------------------------------------------------------------- g. specs lists the variants


def test_specs_lists_every_variant_and_each_one_loads(capsys):
    from inception_calc.core.sources import load_spec
    from inception_calc.core.variants import VARIANTS

    code, out, _ = cli(capsys, "specs")
    assert code == 0
    listed = out.split("variants, after any spec: ")[1].splitlines()[1:]
    assert [line.split()[0] for line in listed] == [f"{n}=F" if k.takes_value else n for n, k in VARIANTS.items()]
    for line, (name, kind) in zip(listed, VARIANTS.items()):
        assert line.endswith(kind.help)
        assert load_spec(f"googlenet:{name}=0.5" if kind.takes_value else f"googlenet:{name}").rows  # as listed, it loads
    data = json.loads(cli(capsys, "specs", "--format", "json")[1])
    assert isinstance(data, list) and data[0]["name"]  # the JSON stays the list of specs it was


# ----------------------------------------------------------------------------- h. --columns, the terminal's width


def test_columns_chooses_and_orders_as_the_table_does(capsys):
    from inception_calc import analyze

    code, out, _ = cli(capsys, "report", "--columns", "macs%,name,MACs %,params%", "--format", "markdown")
    rows = _markdown_cells(out)
    assert list(rows["conv1"]) == ["name", "params %", "MACs %"]  # the table's order, each once
    analysis = analyze("googlenet")
    assert rows["conv1"]["params %"] == f"{100 * 9472 / analysis.totals.inference.params:.1f}%"  # 7*7*3*64 + 64


def test_an_unknown_column_lists_the_known(capsys):
    err = one_line_error(capsys, "report", "--columns", "name,macz")
    assert "--columns: unknown column 'macz'; did you mean 'macs'" in err and "known columns: name, layer, in" in err


def _on_a_terminal(columns: int, *argv: str) -> str:
    """The report as a terminal of ``columns`` characters shows it (a pseudo-terminal; COLUMNS is
    what shutil.get_terminal_size reads first)."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "inception_calc", *argv], stdout=slave, stderr=subprocess.PIPE,
                            env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_a_terminal_gets_a_table_that_fits_its_width():
    text = _on_a_terminal(100, "report")
    table = text.split("\n\n")[1].splitlines()
    assert max(len(line) for line in table) <= 100
    assert table[0].split()[:1] == ["name"] and "MACs" in table[0] and "params" in table[0]
    assert "layer" not in table[0].split()  # the widest column went first (after in)
    wide = _on_a_terminal(400, "report")
    assert wide == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")  # room: every column


def test_a_pipe_gets_every_column_whatever_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    assert cli(capsys, "report")[1] == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- i. repr, to_table, to_markdown


def test_repr_is_a_short_summary():
    from inception_calc import analyze

    analysis = analyze("googlenet")
    main_rows = [r for r in analysis.rows if not r.aux]
    t = analysis.totals.inference
    assert repr(analysis) == (f"<Analysis googlenet at 3x224x224: {len(main_rows)} rows + 2 aux heads, "
                              f"{t.params:,} params, {t.macs:,} MACs (inference)>")
    assert len(main_rows) == 20  # conv1, maxpool1, lrn1, conv2, lrn2, maxpool2, 3a, 3b, maxpool3, 4a-4e, maxpool4, 5a, 5b, avgpool, dropout, fc
    assert "\n" not in repr(analysis) and len(repr(analysis)) < 200
    assert repr(analyze("googlenet-torchvision")).count("aux") == 1


def test_to_table_and_to_markdown_are_the_report(capsys):
    from inception_calc import analyze

    analysis = analyze("googlenet")
    assert analysis.to_table() == (GOLDEN / "googlenet_224_layer.txt").read_text(encoding="utf-8")
    assert analysis.to_markdown() == (GOLDEN / "googlenet_224_layer.md").read_text(encoding="utf-8")
    assert analysis.to_table(columns="name,macs%", units="auto") == cli(
        capsys, "report", "--columns", "name,macs%", "--units", "auto")[1]
    assert analysis.to_markdown(columns=("name", "params %")) == cli(
        capsys, "report", "--format", "markdown", "--columns", "name,params%")[1]
    from inception_calc.core.errors import CalcError

    with pytest.raises(CalcError, match="columns: unknown column 'nope'"):
        analysis.to_table(columns="name,nope")
