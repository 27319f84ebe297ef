"""inception_calc: exact, closed-form cost analysis of GoogLeNet (Inception v1) and its variants.

    >>> from inception_calc import analyze
    >>> a = analyze("googlenet")
    >>> a["inception3a"].weights, a["inception3a"].macs
    (163328, 128049152)

The analytic core (this package's top level) is standard library only; torch, fvcore and pandas
are imported by the functions that need them.
"""

from inception_calc.core.engine import analyze
from inception_calc.core.errors import CalcError
from inception_calc.core.sources import builtin_names, load_file, load_spec, network_from_dict
from inception_calc.core.inputs import parse_input
from inception_calc.core.receptive import ReceptiveField
from inception_calc.core.results import Analysis, Cost, Sums, Totals

__all__ = [
    "Analysis", "CalcError", "Cost", "ReceptiveField", "Sums", "Totals", "analyze", "builtin_names", "load_file", "load_spec",
    "network_from_dict", "parse_input",
]
from inception_calc.core import VERSION as __version__  # noqa: E402
