"""Numbers and shapes as people write them, read with the precision they are written to.

A count is read into a :class:`WrittenNumber`: the exact value it names (a ``Fraction``, so
``0.16M`` is exactly 160,000 and no float rounding creeps in) and the *unit of its last written
digit* (``0.16M`` -> 0.01M = 10,000; ``159K`` -> 1K; ``1.28e8`` -> 0.01e8 = 1,000,000; ``163,328``
-> 1). The unit is what ``~`` ("equal at the written precision") and the paper-table rule use.

Forms (docs/claims.md has the full list):

* integers ``163328``, ``163,328`` (commas in groups of three), ``163_328``;
* decimals ``2.7``; scientific ``1.28e8``, ``1.28E+8``, ``1.28x10^8``, ``1.28×10^8``, ``1.28*10^8``;
* suffixes ``K``/``k`` (one K), ``M`` (K^2), ``G`` (K^3), ``T`` (K^4), where K is 1000 or 1024 by
  convention; ``B`` (billion, always 10^9), ``万`` (10^4) and ``亿`` (10^8), always decimal.

A shape is ``28x28x256`` (H x W x C, as the paper's Table 1 writes it; ``×`` and ``*`` work too),
``28x28`` (H x W only: the channels are not compared), or ``[256, 28, 28]`` / ``(256, 28, 28)``
(C, H, W, as the JSON output and the engine write shapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from inception_calc.core.errors import CalcError, quote

BINARY_SUFFIXES = {"K": 1, "k": 1, "M": 2, "G": 3, "T": 4}  # powers of K (1000 or 1024)
DECIMAL_SUFFIXES = {"B": 10**9, "万": 10**4, "亿": 10**8}  # the same whatever K is
MAX_DIGITS = MAX_EXPONENT = 1000  # a number as written is at most 10^2000: exact, printable, quick to read
NUMBER_FORMS = "163328, 163,328, 0.16M, 159K, 2.7k, 1.28e8, 1.28x10^8, 1.5B, 1.28亿"
SHAPE_FORMS = "28x28x256 (H x W x C), 28x28 (H x W), [256, 28, 28] (C, H, W)"


def grouped(n: int) -> str:
    """A count as tables write it: ``163,328``."""
    return f"{n:,}"


UNITS = ("exact", "auto")
"""How a table writes a count: ``exact`` every digit (``1,582,671,872``); ``auto`` three significant
digits with a decimal suffix (``1.58G``), the base stated once (:data:`AUTO_UNITS_NOTE`)."""
AUTO_SUFFIXES = ((10**3, "K"), (10**6, "M"), (10**9, "G"), (10**12, "T"))
AUTO_UNITS_NOTE = "units: K = 10^3, M = 10^6, G = 10^9, T = 10^12 (decimal), 3 significant digits; --units exact gives every digit"


def auto_count(n: int) -> str:
    """A count to three significant digits with a decimal suffix: ``9,408`` -> ``9.41K``,
    ``118,013,952`` -> ``118M``, ``1,582,671,872`` -> ``1.58G``; below 1,000 exact (``64``); one
    that rounds up to 1,000 of a unit takes the next (``999,999`` -> ``1.00M``), and beyond 999T
    the T count is grouped (``9,223,372T``). Integer arithmetic, rounding half up: exact at any size."""
    if abs(n) < 1000:
        return str(n)
    sign, n = ("-" if n < 0 else ""), abs(n)
    k = max(i for i, (base, _) in enumerate(AUTO_SUFFIXES) if n >= base)
    decimals = None
    while True:
        base, suffix = AUTO_SUFFIXES[k]
        if decimals is None:
            decimals = max(0, 3 - len(str(n // base)))
        scaled = (2 * n * 10**decimals + base) // (2 * base)
        if len(str(scaled)) > 3 and decimals > 0:  # 9.995K rounds to 10.0K: one decimal fewer
            decimals -= 1
        elif scaled >= 1000 and n < 1000 * base and k + 1 < len(AUTO_SUFFIXES):  # 999.9K: 1.00M
            k, decimals = k + 1, None
        else:
            break
    text = f"{scaled:,}" if not decimals else f"{scaled // 10**decimals}.{scaled % 10**decimals:0{decimals}d}"
    return f"{sign}{text}{suffix}"


def count_writer(units: str):
    """The function a table writes its counts with: :func:`grouped` for ``exact``, :func:`auto_count`
    for ``auto`` (:data:`UNITS`)."""
    if units not in UNITS:
        raise CalcError(f"unknown units {quote(units)}", where="units", fix=f"give one of {', '.join(UNITS)}")
    return grouped if units == "exact" else auto_count


def hwc(shape: tuple[int, ...] | list[int]) -> str:
    """[C, H, W] as the paper writes it: ``28x28x192``."""
    c, h, w = shape
    return f"{h}x{w}x{c}"


def percent(part: int, whole: int) -> str:
    """``part`` as a share of ``whole``, one decimal (``-`` when the whole is 0)."""
    return f"{100 * part / whole:.1f}%" if whole else "-"

_NUMBER = re.compile(
    r"""^(?P<int>\d{1,3}(?:,\d{3})+|\d+(?:_\d{3})+|\d*)        # 163,328 | 163_328 | 163328 | (empty before .5)
        (?:\.(?P<frac>\d+))?                                    # .16
        (?:[eE](?P<exp>[+-]?\d+)                                # e8
          |\s*[x×*·]\s*10\s*(?:\^|\*\*)\s*(?P<exp10>[+-]?\d+)   # x10^8
        )?
        \s*(?P<suffix>[KkMGTB万亿])?$""",
    re.VERBOSE,
)
_HWC = re.compile(r"^(\d+)\s*[x×*]\s*(\d+)(?:\s*[x×*]\s*(\d+))?$")
_CHW = re.compile(r"^[\[(]\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*[\])]$")


@dataclass(frozen=True)
class WrittenNumber:
    """A count as written: its exact ``value``, the ``unit`` of its last written digit, the text,
    the K its suffix was read with (None when it has no K-dependent suffix) and the ``scale`` of
    its suffix or exponent (``value / scale`` is the figure as written: 159 for ``159K``)."""

    text: str
    value: Fraction
    unit: Fraction
    k: int | None = None
    scale: Fraction = Fraction(1)  # what the suffix or exponent multiplies by: 1000 for K, 10**8 for e8

    def interval(self) -> tuple[Fraction, Fraction]:
        """[value - unit/2, value + unit/2]: the values that round to the written figure at its
        precision. Both ends are included: a value exactly halfway rounds either way, since we
        cannot know which way the writer rounded ties."""
        return precision_interval(self.value, self.unit)


@dataclass(frozen=True)
class WrittenShape:
    """A shape as written: ``channels`` is None when only H x W was written; ``order`` says which
    order it was written in ("HWC", "HW" or "CHW")."""

    text: str
    channels: int | None
    height: int
    width: int
    order: str

    def chw(self) -> tuple[int | None, int, int]:
        return (self.channels, self.height, self.width)

    def matches(self, shape: tuple[int, int, int]) -> bool:
        c, h, w = shape
        return (self.height, self.width) == (h, w) and self.channels in (None, c)


Written = WrittenNumber | WrittenShape


def precision_interval(value: Fraction, unit: Fraction) -> tuple[Fraction, Fraction]:
    """[v - u/2, v + u/2]: the numbers that round to ``value`` at precision ``unit``."""
    return value - unit / 2, value + unit / 2


def within_precision(computed: int | Fraction, value: Fraction, unit: Fraction) -> bool:
    """|computed - v| <= u/2: ``computed`` rounds to the written figure (ties either way)."""
    low, high = precision_interval(value, unit)
    return low <= computed <= high


def parse_number(text: str, k: int = 1000, where: str = "value") -> WrittenNumber:
    """Read a count as people write it (see the module docstring); K-suffixes use ``k``."""
    match = _NUMBER.match(text.strip())
    if not match or not (match["int"] or match["frac"]):
        raise CalcError(f"cannot read {quote(text)} as a number", where=where, fix=f"write it as one of: {NUMBER_FORMS}")
    if (match["exp"] or match["exp10"]) and match["suffix"]:
        raise CalcError(f"{quote(text)} has both an exponent and a suffix", where=where,
                        fix="write one of them, e.g. 1.28e8 or 128M")
    digits = match["int"].replace(",", "").replace("_", "") or "0"
    frac = match["frac"] or ""
    written_exponent = (match["exp"] or match["exp10"] or "0").lstrip("+-").lstrip("0")
    if len(digits) + len(frac) > MAX_DIGITS or len(written_exponent) > len(str(MAX_EXPONENT)) \
            or int(written_exponent or 0) > MAX_EXPONENT:
        raise CalcError(f"{quote(text)} has more than {MAX_DIGITS} digits or an exponent beyond "
                        f"±{MAX_EXPONENT}", where=where, fix="no count of a network comes near such a number")
    value = Fraction(int(digits + frac), 10 ** len(frac))
    unit = Fraction(1, 10 ** len(frac))
    exponent = int(match["exp"] or match["exp10"] or 0)
    scale = Fraction(10) ** exponent
    suffix = match["suffix"]
    used_k = None
    if suffix in BINARY_SUFFIXES:
        scale *= k ** BINARY_SUFFIXES[suffix]
        used_k = k
    elif suffix:
        scale *= DECIMAL_SUFFIXES[suffix]
    return WrittenNumber(text.strip(), value * scale, unit * scale, used_k, scale)


def parse_shape(text: str, where: str = "value") -> WrittenShape:
    """Read ``28x28x256`` (H x W x C), ``28x28`` (H x W) or ``[256, 28, 28]`` (C, H, W)."""
    stripped = text.strip()
    if len(stripped) > 3 * MAX_DIGITS:
        raise CalcError(f"{quote(text)} is too long to be a shape", where=where, fix=f"write it as one of: {SHAPE_FORMS}")
    if match := _HWC.match(stripped):
        h, w, c = match.groups()
        return WrittenShape(stripped, int(c) if c else None, int(h), int(w), "HWC" if c else "HW")
    if match := _CHW.match(stripped):
        c, h, w = match.groups()
        return WrittenShape(stripped, int(c), int(h), int(w), "CHW")
    raise CalcError(f"cannot read {quote(text)} as a shape", where=where, fix=f"write it as one of: {SHAPE_FORMS}")


def looks_like_shape(text: str) -> bool:
    stripped = text.strip()
    return bool(_HWC.match(stripped) or _CHW.match(stripped))


def parse_written(text: str, k: int = 1000, where: str = "value") -> Written:
    """A shape when the text has the form of one, else a number."""
    return parse_shape(text, where) if looks_like_shape(text) else parse_number(text, k, where)


def plain(value: Fraction | int, max_places: int = 4) -> str:
    """An exact number for people: ``163,328``; ``159.5``; ``2,764.8``; a fraction that does not end
    within ``max_places`` decimals is shown to that many places with ``~``."""
    value = Fraction(value)
    if value.denominator == 1:
        return f"{value.numerator:,}"
    for places in range(1, max_places + 1):
        scaled = value * 10**places
        if scaled.denominator == 1:
            whole, rest = divmod(abs(scaled.numerator), 10**places)
            sign = "-" if value < 0 else ""
            return f"{sign}{whole:,}.{rest:0{places}d}"
    return f"~{float(value):,.{max_places}f}"
