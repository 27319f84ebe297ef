"""Every generated file and block is what scripts/docgen.py makes now, and the registry covers
every marker and golden file; these tests never write into the checkout (regenerate with
``python scripts/docgen.py``). Entries that need torch, torchvision or fvcore skip without them;
machine-dependent entries (docs/cross-check.md's versions and timings) are never compared, only
required to be there. The machinery itself is tested on a temporary checkout."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, script
from inception_calc.core.errors import CalcError

docgen = script("scripts/docgen.py")
kit = script("scripts/docgen_kit.py")
Entry = kit.Entry

COMPARED = [e for e in docgen.REGISTRY if not e.machine]
MACHINE = [e for e in docgen.REGISTRY if e.machine]


# ----------------------------------------------------------------------------- the checkout's entries

@pytest.mark.parametrize("entry", COMPARED, ids=lambda e: e.name)
def test_entry_is_current(entry):
    for module in entry.needs:
        pytest.importorskip(module)
    text = kit.read(ROOT, entry.target)
    assert kit.current(entry, text) == entry.make(), (
        f"{entry.name} is stale: run python scripts/docgen.py {entry.name}\n{kit.diff(entry, ROOT)}")


@pytest.mark.parametrize("entry", MACHINE, ids=lambda e: e.name)
def test_machine_entry_is_there(entry):  # never compared: it records the machine that last wrote its file
    assert kit.current(entry, kit.read(ROOT, entry.target)).strip(), f"{entry.name} is empty"


def test_registry_covers_every_marker_and_golden_file():
    assert kit.coverage_problems(docgen.REGISTRY, ROOT) == []


def test_registry_has_the_generated_files_it_replaced_the_old_generators_for():
    names = {e.name for e in docgen.REGISTRY}
    assert {"docs/derivations.md", "docs/paper-table.md#paper-table", "docs/cross-check.md#figures",
            "docs/gpu-h200/summary.md", "docs/gpu-h200/summary.json", "docs/bench.md#gpu-h200-summary"} <= names
    assert len([n for n in names if n.startswith("tests/golden/")]) == 6  # 4 formats at layer depth + branch + conv


def test_default_selection_is_what_check_compares():
    # so that `docgen.py && docgen.py --check` holds on any machine: the default write selects exactly the
    # entries that are compared, and a machine-dependent one only by its exact name
    assert kit.select([], docgen.REGISTRY) == COMPARED
    page = "docs/cross-check.md"
    assert kit.select([page], docgen.REGISTRY) == [e for e in COMPARED if e.target == page]
    assert kit.select(["docs/cross-check.md#timing"], docgen.REGISTRY) == [e for e in MACHINE if e.block == "timing"]


def test_cli_lists_and_refuses_an_unknown_name():
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "scripts" / "docgen.py"), *args], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)

    listed = run("--list")
    assert listed.returncode == 0
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [e.name for e in docgen.REGISTRY]
    assert "docs/cross-check.md#timing\tpython benchmarks/bench_check.py\t(needs torch, torchvision, fvcore; " \
           "records wall times)" in listed.stdout.splitlines()
    unknown = run("--check", "docs/nowhere.md")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr == ("docgen: error: docgen NAME: no entry 'docs/nowhere.md'; give an entry's name, a "
                              "generated file or a pattern (python scripts/docgen.py --list)\n")
    checked = run("--check", "docs/json.md")
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


# ----------------------------------------------------------------------------- the machinery, on a temporary checkout

DOC = "# Title\n\n<!-- generated: one -->\nold\n<!-- end generated: one -->\nprose\n<!-- generated: two -->\n" \
      "<!-- end generated: two -->\n"


def fake(tmp_path, doc: str = DOC) -> tuple[Entry, ...]:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(doc, encoding="utf-8")
    (tmp_path / "tests" / "golden").mkdir(parents=True)
    (tmp_path / "tests" / "golden" / "g.txt").write_text("golden\n", encoding="utf-8")
    return (Entry("docs/a.md", lambda: "new\n", "a test", "one"),
            Entry("docs/a.md", lambda: "", "a test", "two"),
            Entry("tests/golden/g.txt", lambda: "golden\n", "a test"),
            Entry("docs/a.md", lambda: "machine\n", "a test", "three", machine="a machine"))


def test_blocks_are_the_lines_between_their_markers():
    spans = kit.blocks(DOC, "a.md")
    assert [DOC[a:b] for a, b in spans.values()] == ["old\n", ""] and list(spans) == ["one", "two"]


@pytest.mark.parametrize("text, message", [
    ("<!-- generated: a -->\nx\n", "a.md:1: block 'a' is never closed"),
    ("<!-- end generated: a -->\n", "a.md:1: '<!-- end generated: a -->' closes no open block 'a'"),
    ("<!-- generated: a -->\n<!-- generated: b -->\n", "a.md:2: block 'b' starts inside block 'a' (line 1)"),
    ("<!-- generated: a -->\n<!-- end generated: b -->\n", "a.md:2: '<!-- end generated: b -->' closes no open block"),
    ("<!-- generated: a -->\n<!-- end generated: a -->\n<!-- generated: a -->\n<!-- end generated: a -->\n",
     "a.md:3: block 'a' appears twice"),
    ("text\n<!--generated: a-->\n", "a.md:2: a malformed marker '<!--generated: a-->'"),
    ("  <!-- generated: a -->\n", "a.md:1: a malformed marker"),
    ("<!-- generated: a --> and more\n", "a.md:1: a malformed marker"),
])
def test_bad_markers(text, message):
    with pytest.raises(CalcError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        kit.blocks(text, "a.md")


def test_a_mention_inside_a_line_is_no_marker():
    assert kit.blocks("write `<!-- generated: NAME -->` above the block\n", "a.md") == {}


def test_check_lists_the_stale_and_writes_nothing(tmp_path):
    registry = fake(tmp_path)
    before = (tmp_path / "docs" / "a.md").read_bytes()
    assert [e.name for e in kit.stale(registry[:3], tmp_path)] == ["docs/a.md#one"]  # "old\n" != "new\n"; two is ""
    assert (tmp_path / "docs" / "a.md").read_bytes() == before
    assert "-old\n+new\n" in kit.diff(registry[0], tmp_path)


def test_write_replaces_the_blocks_and_the_machine_record_of_a_changed_file(tmp_path):
    registry = fake(tmp_path, DOC + "<!-- generated: three -->\nrecorded\n<!-- end generated: three -->\n")
    log: list[str] = []
    assert kit.write(kit.select([], registry), registry, tmp_path, log.append) == ["docs/a.md"]
    assert (tmp_path / "docs" / "a.md").read_text() == DOC.replace("old", "new") + \
        "<!-- generated: three -->\nmachine\n<!-- end generated: three -->\n"
    assert log == ["wrote docs/a.md (blocks one, two, three)"]
    assert kit.stale(registry, tmp_path) == []
    assert kit.write(kit.select([], registry), registry, tmp_path, log.append) == []  # current: nothing written


def test_a_machine_record_is_not_rewritten_when_its_file_is_current(tmp_path):
    registry = fake(tmp_path, DOC.replace("old", "new") + "<!-- generated: three -->\nrecorded\n"
                                                          "<!-- end generated: three -->\n")
    assert kit.stale(registry, tmp_path) == []  # "recorded" is not compared with "machine"
    assert kit.write(kit.select([], registry), registry, tmp_path) == []
    assert kit.write(kit.select(["docs/a.md#three"], registry), registry, tmp_path, lambda _: None) == ["docs/a.md"]
    assert "\nmachine\n" in (tmp_path / "docs" / "a.md").read_text()


def test_nothing_is_written_when_an_entry_fails(tmp_path):
    def broken() -> str:
        raise CalcError("exit 1", where="a command", fix="make it succeed")

    registry = fake(tmp_path)
    registry = (registry[0], Entry("tests/golden/g.txt", broken, "a test"))
    before = (tmp_path / "docs" / "a.md").read_bytes()
    with pytest.raises(CalcError, match="a command: exit 1"):
        kit.write(registry, registry, tmp_path)
    assert (tmp_path / "docs" / "a.md").read_bytes() == before


def test_an_entry_without_its_block_is_an_error(tmp_path):
    registry = fake(tmp_path, "no blocks\n")
    with pytest.raises(CalcError, match="docs/a.md: no block 'one'; add '<!-- generated: one -->'"):
        kit.stale(registry[:1], tmp_path)


def test_an_entry_whose_needs_are_missing_is_skipped(tmp_path):
    registry = fake(tmp_path)
    needy = Entry("docs/a.md", lambda: "new\n", "a test", "one", needs=("no_such_module_here",))
    log: list[str] = []
    assert kit.stale([needy], tmp_path, log.append) == [] and kit.write([needy], registry, tmp_path, log.append) == []
    assert log == ["skipped docs/a.md#one: needs no_such_module_here"] * 2


def test_coverage_names_orphans_missing_blocks_golden_files_and_old_markers(tmp_path):
    registry = fake(tmp_path, DOC + "<!-- output of: inception-calc report -->\n")
    (tmp_path / "tests" / "golden" / "h.txt").write_text("h\n")
    assert kit.coverage_problems(registry[:1] + registry[2:], tmp_path) == [
        "docs/a.md:9: a marker of a replaced syntax; use '<!-- generated: NAME -->' ... '<!-- end generated: NAME -->'"
        " and a registry entry",
        "docs/a.md#two: a block no entry makes; add an entry to scripts/docgen.py or remove the markers",
        "docs/a.md#three: an entry without its block; add its markers to docs/a.md",
        "tests/golden/h.txt: a golden file no entry makes; register it in scripts/docgen.py",
    ]


@pytest.mark.parametrize("names, picked", [
    ([], ["docs/a.md#one", "docs/a.md#two", "tests/golden/g.txt"]),
    (["docs/a.md"], ["docs/a.md#one", "docs/a.md#two"]),
    (["tests/golden/*"], ["tests/golden/g.txt"]),
    (["docs/a.md#t*"], ["docs/a.md#two"]),
    (["docs/a.md#three"], ["docs/a.md#three"]),
])
def test_select(tmp_path, names, picked):
    assert [e.name for e in kit.select(names, fake(tmp_path))] == picked
