"""sweep: the size range, totals per size, the smallest input, skipped sizes and their reasons."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from inception_calc import CalcError, analyze
from inception_calc.cli.main import main
from inception_calc.report.sweep import notes, render
from inception_calc.studies.sweep import sizes_in, sweep


def test_sizes_in():
    assert sizes_in("96:512:32") == tuple(range(96, 513, 32))  # 96, 128, ..., 512: 14 sizes, 512 included
    assert len(sizes_in("96:512:32")) == 14                     # (512 - 96) / 32 + 1
    assert sizes_in("96:500:32")[-1] == 480                     # 500 is not on the step: stops at 480
    assert sizes_in("224") == (224,)
    assert sizes_in("5:7") == (5, 6, 7)


@pytest.mark.parametrize("text, message", [
    ("a:b", "cannot read the size range 'a:b'"),
    ("1:2:3:4", "cannot read the size range"),
    ("10:5", "STOP 5 is below START 10"),
    ("0:10:1", "START and STEP must be positive"),
    ("10:20:0", "START and STEP must be positive"),
    ("1:100000:1", "gives 100000 sizes, more than 2000"),
])
def test_bad_ranges(text, message, capsys):
    with pytest.raises(CalcError, match=message) as error:
        sizes_in(text)
    assert error.value.where == "sizes"  # the library names its parameter; the command line, its flag
    assert main(["sweep", "googlenet", "--input", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inception-calc sweep: error: --input: ") and message in err


@pytest.mark.parametrize("sizes, message", [
    ([0], "a size must be a positive integer of at most 2^63 - 1, got 0"),
    ([224, True], "got True"),
    ([2**63], "got 9223372036854775808"),       # 2^63 - 1 is the largest
    ("224", "sizes must be integers, got the text '224'"),
    (range(1, 10**9), "more than 2000 sizes"),  # refused before a billion sizes are listed
])
def test_bad_sizes(sizes, message):
    with pytest.raises(CalcError, match=re.escape(message)) as error:
        sweep("googlenet", sizes)
    assert error.value.where == "sizes"


def test_googlenet_sweep():
    result = sweep("googlenet", sizes_in("96:512:32"))
    # The smallest input: the fixed 7x7 average pool needs a 7x7 map after maxpool4. At 223: conv1
    # floor((223+6-7)/2)+1 = 112, pool1 ceil(109/2)+1 = 56, pool2 ceil(53/2)+1 = 28, pool3 ceil(25/2)+1 = 14,
    # pool4 ceil(11/2)+1 = 7. At 222: 111, 55, 27, 13, then ceil(10/2)+1 = 6: too small.
    assert result.smallest == 223
    assert [p.size for p in result.points if p.skipped] == [96, 128, 160, 192]
    assert all(p.skipped == "too small" for p in result.points if p.skipped)
    at = {p.size: p.totals for p in result.measured}
    assert at[224] == analyze("googlenet", 224).totals.inference
    # at 256 the map after maxpool4 is 8x8 (conv1 128, 64, 32, 16, 8), the 7x7/1 pool gives 2x2, and fc sees
    # 1,024 * 2 * 2 = 4,096 features: 4,096,000 weights instead of 1,024,000, 3,072,000 more
    assert at[256].weights - at[224].weights == 3_072_000
    lines = "\n".join(notes(result))
    assert "smallest input googlenet accepts: 3x223x223" in lines
    assert "skipped, too small: 96, 128, 160, 192" in lines
    assert "weights change with the input size" in lines


def test_formats(capsys):
    assert main(["sweep", "googlenet:bn", "--input", "192:256:32", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["size"], r["skipped"]) for r in rows] == [("192", "too small"), ("224", ""), ("256", "")]
    assert int(rows[1]["bn"]) == 14_560  # 2 x 7,280 conv channels (test_variants)
    result = sweep("googlenet", (224,))
    data = json.loads(render(result, "json"))
    assert data["smallest_input"] == 223 and data["points"][0]["totals"]["macs"] == 1_582_671_872
    assert "| 3x224x224 |" in render(result, "markdown")


def test_bn_inception_smallest_input():
    # at 199: conv1 100, pool1 50, pool2 25, 3c floor((25+2-3)/2)+1 = 13, 4e floor((13+2-3)/2)+1 = 7: the
    # 7x7 pool fits. At 198: 99, 49, 24, 12, 6: too small.
    result = sweep("bn-inception", range(197, 202))
    assert result.smallest == 199
    assert [p.size for p in result.points if p.skipped] == [197, 198]


def test_sizes_that_cannot_concatenate(tmp_path):
    # A stride-2 conv (pad 1) beside a stride-2 max pool (pad 0, ceil), as the Caffe BN-Inception port has
    # them: conv floor((N-1)/2)+1, pool ceil((N-3)/2)+1. N = 5: 3 vs 2; N = 6: 3 vs 3; N = 7: 4 vs 3.
    spec = tmp_path / "port.toml"
    spec.write_text('name = "port"\n[[rows]]\nname = "mix"\nkind = "concat"\nbranches = [\n'
                    '  { layers = [ { kind = "conv", out = 4, kernel = 3, stride = 2, pad = 1 } ] },\n'
                    '  { layers = [ { kind = "maxpool", kernel = 3, stride = 2, rounding = "ceil" } ] },\n]\n',
                    encoding="utf-8")
    result = sweep(str(spec), range(4, 9))
    assert [p.size for p in result.measured] == [4, 6, 8]
    assert "cannot be concatenated" in next(p.skipped for p in result.points if p.size == 5)
    # the smallest input that runs: N = 3 gives conv floor(2/2)+1 = 2 beside pool ceil(0/2)+1 = 1 (no
    # concatenation); N = 4 gives conv floor(3/2)+1 = 2 beside pool ceil(1/2)+1 = 2
    assert result.smallest == 4
    assert "smallest input port accepts: 3x4x4" in notes(result)[0]
