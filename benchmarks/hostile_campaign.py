"""A hostile-input campaign (issue 16): thousands of generated bad inputs across every command, each
run as its own process with a memory cap and a timeout, then the counts.

    python benchmarks/hostile_campaign.py [--cases N] [--commands report,verify,...] [--seed S] [--jobs J]

Each case is a command line and the files it names (written to a fresh folder): spec and claims files
mutated from the built-ins and from small specs (bytes flipped, cut, repeated, control characters,
huge numbers, deep nesting, duplicate keys, long base chains, long names), Caffe prototxt (mutated,
or thousands of layers), networks at and past the layer limits (20,000 in a spec, 2,000 built in
torch), a TOML list of numbers just under the size limit, 2,000 claims of every kind against a network of thousands
of rows, special files (FIFOs, /dev/zero, folders, dangling links), and flags given hostile values
(long, control characters, huge numbers, long sweeps, the same output path twice). It counts:

* internal errors: exit 70;
* tracebacks: "Traceback" on stderr;
* other exits: anything but 0, 1, 2 (a signal, a crash);
* hangs: over the timeout (10 s);
* bad errors: exit 2 with other than one line on stderr, or a raw control character in it;
* peak memory: the largest RSS of any case (ru_maxrss of the child); the non-torch commands run under
  RLIMIT_AS of 1 GiB; check and bench (torch) run uncapped in address space, their RSS measured;
* temp files left: a ``.NAME.*.tmp`` beside an output after the case.

It prints one line per defect found and the counts; the exit status is 1 when any count but
peak memory is non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "inception_calc" / "specs"
TIMEOUT_S = 10
AS_LIMIT = 1 << 30  # 1 GiB of address space for the commands that import no torch
TORCH_COMMANDS = {"check", "bench"}
COMMANDS = ("report", "explain", "verify", "compare", "sweep", "paper-table", "specs", "check", "bench")

TINY = 'name = "tiny"\ninput = [3, 16, 16]\n[[rows]]\nname = "stem"\nkind = "conv"\nout = 4\nkernel = 3\n' \
       '[[rows]]\nname = "fc"\nkind = "linear"\nout = 10\n'
PROTOTXT = ('name: "tiny"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 16\ninput_dim: 16\n'
            'layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" '
            'convolution_param { num_output: 4 kernel_size: 3 } }\n'
            'layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }\n'
            'layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" '
            'pooling_param { pool: MAX kernel_size: 3 stride: 2 } }\n'
            'layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 10 } }\n')
NASTY_TEXT = ["\x1b[2J", "\x00", "\n", "\r", "\t", "\u202e", "\ud800", "é", "x" * 5000, "1e" + "9" * 3000,
              "9" * 5000, "-1", "0", "nan", "inf", "2**40", str(2 ** 64), "total", "..", "/", "a:b:c", ":", ""]
NASTY_SIZES = ["0", "-3", "1", "7", "3x224", "224x", "x", "1e5000", "9" * 30, "3x0x0", "1,2,3,4", "\x1b[2J",
               "224" * 1000, "3x2x2x2", "x".join(["9"] * 3), str(2 ** 63), "abc", " ", "1_000", "٣"]


def _mutate(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            del data[at:at + rng.randint(1, 40)]
        elif op == 1:
            data[at:at] = rng.choice(NASTY_TEXT).encode("utf-8", "surrogatepass")
        elif op == 2 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 3:
            piece = data[at:at + rng.randint(1, 200)]
            data[at:at] = piece * rng.randint(2, 50)
        elif op == 4:
            data[at:at] = rng.choice(["[", "{", "[[rows]]\n", "=", '"', "'''", "\n[defaults]\n"]).encode()
        elif op == 5:
            data = data[:at]
        elif op == 6:
            data[at:at] = rng.choice(['\nout = 1099511627776\n', '\nkernel = 99999999\n', '\nrepeat = 10000\n',
                                      '\nname = "0"\n', '\nname = "total"\n', '\ninput = [3, 224]\n',
                                      '\nbase = "googlenet"\n', '\nafter = "stem"\n']).encode()
        else:
            data += rng.choice(NASTY_TEXT).encode("utf-8", "surrogatepass")
    return bytes(data)


def _spec_file(rng: random.Random, folder: Path, i: int) -> str:
    """A path to a hostile spec: a mutated file, a special file, or a generated pathological one."""
    kind = rng.randrange(15)
    path = folder / f"s{i}.toml"
    if kind == 0:
        path = folder / f"s{i}.json"
        data = {"name": "j", "input": [3, 16, 16], "rows": [{"name": "r", "kind": "relu"}]}
        text = json.dumps(data)
        if rng.random() < 0.5:
            text = text.replace('"name": "j"', '"name": "j", "name": "k"')
        path.write_bytes(_mutate(rng, text) if rng.random() < 0.5 else text.encode())
    elif kind == 1:
        os.mkfifo(path)
    elif kind == 2:
        return rng.choice(["/dev/zero", "/dev/null", "/dev/urandom", str(folder), "/", "/proc/self/mem"])
    elif kind == 3:
        path.symlink_to(folder / "nowhere.toml")
    elif kind == 4:
        depth = rng.choice([40, 200, 600])
        (folder / f"b{i}_0.toml").write_text(TINY)
        for k in range(1, depth):
            (folder / f"b{i}_{k}.toml").write_text(f'base = "b{i}_{k - 1}.toml"\n')
        return str(folder / f"b{i}_{depth - 1}.toml")
    elif kind == 5:
        rows = rng.choice([2000, 5000])
        parts = ['name = "big"\ninput = [3, 8, 8]'] + [f'[[rows]]\nname = "r{k}"\nkind = "relu"' for k in range(rows)]
        parts += [f'[[rows]]\nname = "a{k}"\nkind = "aux"\nafter = "r{k}"\nlayers = [{{kind = "relu"}}]'
                  for k in range(rows)]
        path.write_text("\n".join(parts) + "\n")
    elif kind == 6:
        path.write_text("a = " + "[" * rng.choice([50, 1000, 100000]) + "]" * rng.choice([0, 1000]))
    elif kind == 7:
        path = folder / ("n" * rng.choice([255, 300, 5000]) + ".toml")
        return str(path)
    elif kind == 8:
        with open(path, "wb") as handle:
            handle.truncate(rng.choice([1024 * 1024 + 1, 10 * 1024 * 1024 + 1, 50 * 1024 * 1024]))
    elif kind == 12:  # a Caffe prototxt, mutated or repeated to thousands of layers
        path = folder / f"s{i}.prototxt"
        if rng.random() < 0.3:
            layer = 'layer {{ name: "r{k}" type: "ReLU" bottom: "conv1" top: "conv1" }}\n'
            head = PROTOTXT.split('layer { name: "pool1"')[0]
            path.write_text(head + "".join(layer.format(k=k) for k in range(rng.choice([1500, 12000]))))
        else:
            path.write_bytes(_mutate(rng, PROTOTXT))
    elif kind == 13:  # at and past the layer limits: conv rows (torch builds them), repeats
        rows = rng.choice([1500, 2100, 19000, 20001])
        if rng.random() < 0.5:
            parts = ['name = "wide"\ninput = [3, 8, 8]'] + [
                f'[[rows]]\nname = "r{k}"\nkind = "conv"\nout = {1 + k % 5}\nkernel = 1' for k in range(rows)]
        else:
            parts = ['name = "rep"\ninput = [3, 8, 8]', f'[[rows]]\nname = "r0"\nkind = "relu"\nrepeat = {min(rows, 10000)}', '[[rows]]\nname = "q0"\nkind = "relu"\nrepeat = 9000',
                     f'[[rows]]\nname = "s0"\nkind = "relu"\nrepeat = {rng.choice([1, 5000, 10000])}']
        path.write_text("\n".join(parts) + "\n")
    elif kind == 14:  # a deep TOML value of numbers, the slowest kind for the TOML reader
        path.write_text("a = [" + ",".join(["1"] * rng.choice([10_000, 520_000, 1_000_000])) + "]\n")  # 1.04 MB: just under 1 MiB
    else:
        source = rng.choice([TINY] + [p.read_text() for p in sorted(SPECS.glob("*.toml"))[:3]])
        path.write_bytes(_mutate(rng, source))
    return str(path)


def _claims_file(rng: random.Random, folder: Path, i: int) -> str:
    path = folder / f"c{i}.toml"
    kind = rng.randrange(5)
    if kind == 0:
        os.mkfifo(path)
    elif kind == 1:
        n = rng.choice([100, 20000])
        path.write_text("\n".join(f'[[claims]]\nclaim = "inception3a.weights = {k}"' for k in range(n)) + "\n")
    elif kind == 2:  # 2,000 failing claims of every kind against a network of thousands of rows
        spec = folder / f"w{i}.toml"
        rows = rng.choice([3000, 10000])
        spec.write_text("\n".join(['name = "wide"\ninput = [3, 8, 8]'] + [
            f'[[rows]]\nname = "r{k}"\nkind = "conv"\nout = {1 + k % 5}\nkernel = 1' for k in range(rows)]) + "\n")
        quantities = ["weights = 7", "macs ~ 1K", "rf = 3", "rf_stride = 2x2", "backward_macs = 5", "params = 0",
                      "out_shape = [2, 8, 8]"]
        claims = [f'spec = "{spec}"'] + [f'[[claims]]\nclaim = "r{rng.randrange(rows)}.{rng.choice(quantities)}"'
                                         for _ in range(1900)]
        claims += ['[[claims]]\nclaim = "total.macs = 5"', '[[claims]]\nclaim = "total.peak_bytes = 5"'] * 50
        path.write_text("\n".join(claims) + "\n")
    else:
        path.write_bytes(_mutate(rng, '[[claims]]\nclaim = "inception3a.weights = 163,328"\n'
                                      '[[claims]]\nclaim = "total.macs ~ 1.5G"\n'))
    return str(path)


def _outputs(rng: random.Random, folder: Path) -> list[str]:
    choice = rng.randrange(6)
    if choice == 0:
        return ["--output", str(folder / "same.png"), "--plot", str(folder / "same.png")]
    if choice == 1:
        link = folder / "dangling.txt"
        if not link.is_symlink():
            link.symlink_to(folder / "gone" / "x.txt")
        return ["--output", str(link)]
    if choice == 2:
        return ["--output", str(folder / "no" / "such" / "x.txt")]
    if choice == 3:
        return ["--output", "/dev/full"]
    if choice == 4:
        return ["--output", str(folder / ("o" * 300))]
    return ["--output", str(folder / "out.txt")]


def make_case(rng: random.Random, command: str, folder: Path, i: int) -> list[str]:
    nasty = rng.choice(NASTY_TEXT)
    size = rng.choice(NASTY_SIZES)
    spec = _spec_file(rng, folder, i) if rng.random() < 0.6 else rng.choice(["googlenet", "inception-v3", nasty,
                                                                             "googlenet:" + nasty, "nowhere"])
    extra = _outputs(rng, folder) if rng.random() < 0.4 else []
    if rng.random() < 0.3:
        extra += ["--input", size]
    if command == "report":
        args = ["report", spec, *rng.choice([[], ["--depth", "conv"], ["--rf", nasty], ["--format", "json"],
                                             ["--aux"], ["--plot", str(folder / "p.png")]])]
    elif command == "explain":
        args = ["explain", rng.choice(["inception3a", "conv1.conv", nasty, "total"]), "--spec", spec]
    elif command == "verify":
        args = ["verify", *rng.choice([["--claim", f"inception3a.weights = {nasty}"], ["--claim", nasty],
                                       [_claims_file(rng, folder, i)], ["--claim", f"{nasty}.macs = 1"],
                                       ["--claim", "total.weights = " + rng.choice(NASTY_SIZES)]]),
                *rng.choice([[], [spec]])]
    elif command == "compare":
        args = ["compare", spec, rng.choice(["googlenet", spec, nasty]), *rng.choice([[], ["--rows", nasty],
                                                                                     ["--depth", "conv"]])]
    elif command == "sweep":
        args = ["sweep", spec, "--input", rng.choice(["1:3000:1", "64:512:64", "0:0:0", size, f"{size}:{size}",
                                                      "1:" + "9" * 40 + ":1", "1:2000:1", "8:40:1"])]
    elif command == "paper-table":
        args = ["paper-table", *rng.choice([[], ["--format", nasty], [nasty], ["--format", "json"]])]
    elif command == "specs":
        args = ["specs", *rng.choice([[], ["--json"], [nasty], ["--bogus"]])]
    elif command == "check":
        args = ["check", spec, *rng.choice([[], ["--against", nasty], ["--depth", "branch"]])]
    else:  # bench
        args = ["bench", spec, "--device", "cpu", "--iters", "1", "--warmup", "0", "--repeats", "1",
                *rng.choice([[], ["--batch", rng.choice(["0", "-1", "1e9", "100000000", nasty])],
                             ["--save-json", str(folder / "no" / "r.json")], ["--dtype", nasty]])]
    return [a.replace("\x00", "\\x00") for a in (*args, *extra)]  # argv cannot hold a NUL


def _limit(cap: bool) -> None:
    if cap:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run_case(args: list[str], folder: Path) -> dict:
    args = [a.encode('utf-8', 'replace').decode('utf-8') for a in args]
    cap = args[0] not in TORCH_COMMANDS
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "inception_calc", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=folder,
                            preexec_fn=lambda: _limit(cap))
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
        hang = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        hang = True
    text = err.decode("utf-8", "replace")
    temps = [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    lines = text.splitlines()
    bad = proc.returncode == 2 and not hang and (len(lines) != 1 or not lines[0].isprintable())
    return {"args": args, "code": proc.returncode, "hang": hang, "err": text[-400:], "temps": temps, "bad": bad,
            "seconds": time.monotonic() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--torch-share", type=float, default=0.05,
                        help="the share of cases given to check and bench (slow: each imports torch)")
    parser.add_argument("--show-slowest", type=int, default=0, help="print the N slowest cases")
    opts = parser.parse_args()
    commands = [c for c in opts.commands.split(",") if c]
    rng = random.Random(opts.seed)
    light = [c for c in commands if c not in TORCH_COMMANDS]
    heavy = [c for c in commands if c in TORCH_COMMANDS]
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    cases = []
    for i in range(opts.cases):
        pool = heavy if heavy and (not light or rng.random() < opts.torch_share) else light
        command = rng.choice(pool)
        folder = root / f"case{i}"
        folder.mkdir()
        cases.append((make_case(rng, command, folder, i), folder))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with ThreadPoolExecutor(opts.jobs) as pool:
        results = list(pool.map(lambda case: run_case(*case), cases))
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    counts = {"cases": len(results), "internal errors (70)": 0, "tracebacks": 0, "other exits": 0, "hangs": 0,
              "bad error lines": 0, "temp files left": 0}
    by_command: dict[str, int] = {}
    for r in results:
        by_command[r["args"][0]] = by_command.get(r["args"][0], 0) + 1
        found = []
        if r["code"] == 70:
            found.append("internal error")
        if "Traceback" in r["err"]:
            found.append("traceback")
        if r["hang"]:
            found.append("hang")
        elif r["code"] not in (0, 1, 2, 70):
            found.append(f"exit {r['code']}")
        if r["bad"]:
            found.append("bad error line")
        if r["temps"]:
            found.append("temp file left")
        for key, hit in (("internal errors (70)", "internal error"), ("tracebacks", "traceback"), ("hangs", "hang"),
                         ("bad error lines", "bad error line"), ("temp files left", "temp file left")):
            counts[key] += hit in found
        counts["other exits"] += any(f.startswith("exit ") for f in found)
        if found:
            shown = [a if len(a) < 80 else a[:60] + "..." for a in r["args"]]
            print(f"DEFECT {', '.join(found)}: {shown!r}: {r['err'].strip()[-300:]!r}")
    for r in sorted(results, key=lambda r: -r["seconds"])[:opts.show_slowest]:
        shown = [a if len(a) < 80 else a[:60] + "..." for a in r["args"]]
        print(f"slow {r['seconds']:.1f} s (exit {r['code']}): {shown!r}")
    counts["peak RSS of any case (MiB)"] = round(max(peak_kib, before) / 1024, 1)
    counts["slowest case (s)"] = round(max(r["seconds"] for r in results), 1)
    print("cases per command:", ", ".join(f"{k} {v}" for k, v in sorted(by_command.items())))
    for key, value in counts.items():
        print(f"{key}: {value}")
    shutil.rmtree(root, ignore_errors=True)
    return 1 if any(counts[k] for k in counts if k not in ("cases", "peak RSS of any case (MiB)",
                                                           "slowest case (s)")) else 0


if __name__ == "__main__":
    sys.exit(main())
