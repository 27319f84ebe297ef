"""Every error docs/errors.md lists, shown by running the tool (scripts/error_examples.py): the exit
status, one line on stderr with where, what and fix, nothing on stdout, the message the docs promise;
and the last-resort handler for an unexpected exception (exit 70), with --debug its traceback."""

from __future__ import annotations

import pytest

from conftest import script
from inception_calc.cli.main import main

examples = script("scripts/error_examples.py")

ALL = [(group, example) for group, items in examples.GROUPS.items() for example in items]


@pytest.mark.parametrize("group, example", ALL, ids=[f"{g}: {e.title}" for g, e in ALL])
def test_error_example(group, example):
    if "--plot" in example.argv:
        pytest.importorskip("matplotlib")  # the plot extra: without it, --plot stops before its own checks
    code, out, err = examples.run(example)
    assert code == example.code, (code, out, err)
    if code in (0, 1):
        assert example.expect in out and err == ""
        return
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert out == "", out
    line = lines[0]
    assert example.expect in line, line
    if code == 2:  # COMMAND: error: WHERE: WHAT; FIX
        head, _, rest = line.partition(": error: ")
        assert head.startswith("inception-calc") and ": " in rest and "; " in rest, line


def test_docs_show_every_group():
    # one block of docs/errors.md per group (tests/test_generated.py: each is there and current)
    sources = {e.name: e.source for e in script("scripts/docgen.py").REGISTRY if e.target == "docs/errors.md"}
    assert sources == {f"docs/errors.md#{group}": f"python scripts/error_examples.py {group}"
                       for group in examples.GROUPS}


def test_an_unexpected_exception_is_one_line_and_exit_70(monkeypatch, capsys):
    """No known input reaches the last-resort handler (the fuzz tests try); a stand-in bug shows
    what it prints."""
    import inception_calc.cli.explain as explain

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(explain, "run", broken)
    assert main(["explain", "inception3a"]) == 70
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("inception-calc explain: internal error: KeyError: 'a bug'; "
                            "please report it with --debug output\n")
    with pytest.raises(KeyError):
        main(["--debug", "explain", "inception3a"])  # --debug: the traceback, for a developer
    with pytest.raises(KeyError):
        main(["explain", "inception3a", "--debug"])
