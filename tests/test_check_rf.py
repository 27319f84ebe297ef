"""check --rf: every node's receptive field measured by gradients on the built network equals the analysis's.

Expected values come from the gradient measurement (pytorch/receptive.py): a node is exact when the
input rows and columns where the gradient of each measured unit is nonzero equal the analytic span
clipped to the rows some unit reaches. Sizes: each spec's own or a small one, the ceil-rounding
sizes of GoogLeNet and BN-Inception (224: maxpool1 adds a last window reaching 4 past the far side,
the near side padding 3), non-square sizes, and the even sizes at which a floor-rounded 3x3/2
leaves the input's last row or column unreached (Inception-v3 331x300, v4 140x150, ResNet-v2
140x152, Xception 100x110: small, as the measurement's time grows with the input's area).

Each case is measured once, when a test first asks for it, and shared by every test of the module.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytest.importorskip("torch")

from inception_calc.cli.main import main
from inception_calc.core.engine import analyze
from inception_calc.core.receptive import ReceptiveField, far_padding, receptive_fields
from inception_calc.pytorch.receptive import EXACT, FLAGGED, MISMATCH, _node, check_receptive_fields, reach

pytestmark = pytest.mark.torch

CASES = [
    ("googlenet", "224"), ("googlenet", "229x240"), ("googlenet-torchvision", "224"),
    ("bn-inception", "230x211"), ("inception-v3", "331x300"), ("inception-v3", "139"),
    ("inception-v4", "140x150"), ("inception-resnet-v2", "140x152"), ("xception", "100x110"),
]
UNREACHED = {"inception-v3", "inception-v4", "inception-resnet-v2", "xception"}  # at the even sizes above


class Measured(dict):
    """check_receptive_fields of a case, measured the first time it is read and kept."""

    def __missing__(self, case: tuple[str, str]):
        result = self[case] = check_receptive_fields(*case)
        return result


@pytest.fixture(scope="module")
def checks():
    return Measured()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}@{c[1]}")
def test_every_row_branch_and_layer_is_exact(checks, case):
    result = checks[case]
    analysis = analyze(case[0], case[1])
    assert result.measured_on == f"{analysis.spec}:width=1/4096"
    assert {r.name for r in analysis.rows} <= {n.name for n in result.nodes if n.level == "row"}
    assert set(receptive_fields(analysis)) == {n.name for n in result.nodes}
    bad = [(n.name, n.note) for n in result.nodes if n.verdict == MISMATCH]
    assert bad == [] and result.ok
    flagged = {n.name for n in result.nodes if n.verdict == FLAGGED}
    # torchvision GoogLeNet's auxiliary adaptive pools 14x14 -> 4x4 at 224: the analysis says over-estimate
    assert flagged == ({"aux1.pool", "aux1.conv", "aux2.pool", "aux2.conv"} if case[0] == "googlenet-torchvision"
                       else set())
    assert all(n.verdict == EXACT for n in result.nodes if n.level == "row")


def test_even_sizes_leave_the_last_row_unreached_and_still_match(checks):
    for case in CASES:
        unreached = [n for n in checks[case].nodes if any(n.unreached)]
        assert bool(unreached) == (case[0] in UNREACHED and case[1] != "139"), case
    # Inception-v3 at 331x300: Conv2d_1a_3x3 (3x3/2, no padding) has (331 - 3) // 2 + 1 = 165 rows, the last
    # seeing 328 .. 330 (every row reached), and (300 - 3) // 2 + 1 = 149 columns, the last seeing 296 .. 298:
    # column 299 unreached
    first = next(n for n in checks[("inception-v3", "331x300")].nodes if n.name == "Conv2d_1a_3x3")
    assert first.unreached == (0, 1)
    assert [a.reach for a in first.axes] == [(0, 330), (0, 298)]
    # the analytic span of the last unit names the input's last column; the measurement does not
    assert first.analytic.span(148, 1) == (296, 298) and first.axes[1].measured[-1] == (148, (296, 298))


def test_hand_derived_googlenet_fields_are_measured(checks):
    nodes = {n.name: n for n in checks[("googlenet", "224")].nodes}
    # inception3a's 1x1 branch keeps maxpool2's field: conv1 7x7/2 pad 3 (7, 2, 3); maxpool1 3x3/2: 7 + 2 x 2 = 11,
    # stride 4, padding 3; conv2 3x3 pad 1: 11 + 2 x 4 = 19, padding 3 + 4 = 7; maxpool2 3x3/2: 19 + 2 x 4 = 27,
    # stride 8, padding 7
    branch = nodes["inception3a.branch1"]
    assert [a.derived for a in branch.axes] == [(27, 8, 7), (27, 8, 7)]
    # its 5x5 branch: 27 + 4 x 8 = 59, padding 7 + 2 x 8 = 23; so is the concatenation's
    assert [a.derived for a in nodes["inception3a"].axes] == [(59, 8, 23), (59, 8, 23)]
    # ceil rounding at 224: maxpool1's last unit (55) sees 55 x 4 - 3 = 217 .. 227, 4 past row 223; the near side
    # pads 3. Measured: rows 217 .. 223, the span clipped to the input
    pool = nodes["maxpool1"]
    assert far_padding(pool.analytic, 224, 56, 0) == 4 and pool.analytic.padding == (3, 3)
    assert pool.axes[0].measured[-1] == (55, (217, 223))


def test_a_wrong_field_is_a_mismatch(checks):
    """The reconciliation can fail: the measured spans against a field one row off, and one of the wrong size."""
    result = checks[("inception-v3", "331x300")]
    analysis = analyze("inception-v3", "331x300")
    spans = reach(analysis.network, analysis.input)
    node = next(n for n in result.nodes if n.name == "Mixed_5b")
    measured = [list(a.measured) for a in node.axes]
    assert _node(node.name, node.level, node.analytic, spans[node.name], measured, (331, 300)).verdict == EXACT
    f = node.analytic
    for wrong in (replace(f, padding=(f.padding[0] + 1, f.padding[1])), replace(f, size=(f.size[0], f.size[1] - 2))):
        again = _node(node.name, node.level, wrong, spans[node.name], measured, (331, 300))
        assert again.verdict == MISMATCH and "measured" in again.note
    assert isinstance(f, ReceptiveField)


def test_cli_json_and_exit_codes(capsys):
    assert main(["check", "inception-v3", "--rf", "--input", "139", "--format", "json", "--depth", "branch"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["measured_on"] == "inception-v3:width=1/4096" and data["input"] == [3, 139, 139]
    names = {n["name"]: n for n in data["nodes"]}
    assert names["Mixed_5b"]["verdict"] == "exact" and names["Mixed_5b"]["level"] == "row"
    assert main(["check", "inception-v3", "--rf", "--input", "139", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("name,level,verdict,axis")
    assert main(["check", "googlenet", "--rf", "--against", "torchvision"]) == 2
    assert "--against: receptive fields are measured on the built network only" in capsys.readouterr().err


def test_the_thread_count_is_put_back():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert check_receptive_fields("inception-v3", "139").ok  # measured on one thread
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
