"""Input sizes as people write them: ``224``, ``299x299``, ``3x299x299`` or a list, read as [C, H, W]."""

from __future__ import annotations

import re
from typing import Any

from inception_calc.core.errors import CalcError, quote
from inception_calc.core.fields import MAX_SIZE

_SIZE_PART = re.compile(r"\s*(\d+)\s*")  # digits (any script's: int() reads them); no sign, '_' or '.'


def input_size_parts(value: Any, where: str = "input") -> tuple[int, ...]:
    """The 1 to 3 sizes an input is written with (``224``, ``"299x299"``, ``"3x299x299"`` or a list),
    each a positive integer of at most :data:`~inception_calc.core.network.MAX_SIZE`; N and HxW leave the
    channels to the network (see :func:`parse_input`)."""
    fix = "write N (CxNxN), HxW (CxHxW) or CxHxW, e.g. 224, 3x299x299; C is the spec's input channels, 3 by default"
    if isinstance(value, str):
        parts = [_SIZE_PART.fullmatch(p) for p in value.lower().replace("×", "x").replace(",", "x").split("x")]
        if not all(parts):
            raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
        if any(len(m[1]) > 19 for m in parts):  # 2^63 - 1 has 19 digits; longer ones str -> int need not read
            raise CalcError(f"input size {quote(value)} is too large: at most 2^63 - 1 per side", where=where, fix=fix)
        numbers = [int(m[1]) for m in parts]
    elif isinstance(value, bool):
        raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
    elif isinstance(value, int):
        numbers = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        numbers = list(value)
    else:
        raise CalcError(f"cannot read input size {quote(value)}", where=where, fix=fix)
    if not 1 <= len(numbers) <= 3 or any(n <= 0 for n in numbers):
        raise CalcError(f"input size {quote(value)} must be 1 to 3 positive integers", where=where, fix=fix)
    if any(n > MAX_SIZE for n in numbers):
        raise CalcError(f"input size {quote(value)} is too large: at most 2^63 - 1 per side", where=where, fix=fix)
    return tuple(numbers)


def spec_input(value: Any, where: str = "input", channels: int = 3) -> tuple[int, int, int]:
    """A spec file's ``input``: as :func:`parse_input`, but a list of two sizes is refused, since
    ``[3, 224]`` could be C, H or H, W: a list in a spec is ``[N]`` or ``[C, H, W]``."""
    if isinstance(value, list) and len(value) == 2:
        raise CalcError(f"input size {quote(value)} is ambiguous: a list gives [C, H, W] (or [N])", where=where,
                        fix="write input = [3, 224, 224], or the text \"224x224\" for H x W")
    return parse_input(value, where, channels)


def parse_input(value: Any, where: str = "input", channels: int = 3) -> tuple[int, int, int]:
    """An input size as (C, H, W): N is C x N x N and HxW is C x H x W, with C = ``channels`` (the
    network's own input channels when a network is known, else 3)."""
    numbers = input_size_parts(value, where)
    if len(numbers) == 1:
        return (channels, numbers[0], numbers[0])
    if len(numbers) == 2:
        return (channels, numbers[0], numbers[1])
    return (numbers[0], numbers[1], numbers[2])
