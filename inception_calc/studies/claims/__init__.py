"""Hand calculations checked against the exact analysis: read claims, judge them, say why.

* :mod:`~inception_calc.studies.claims.grammar`: a claim, ``ROW[.BRANCH[.LAYER]].QUANTITY OP VALUE``,
  and the convention its value is read with;
* :mod:`~inception_calc.studies.claims.judge`: a claim judged against an analysis, with hints;
* :mod:`~inception_calc.studies.claims.files`: a claims file (TOML) read into claims.

The verdicts are rendered by :mod:`inception_calc.report.claims` (text and JSON), a layer above.
Standard library only (the verify command never imports torch).
"""

from inception_calc.studies.claims.files import CLAIM_FIELDS, FILE_FIELDS, Settings, claims_from_dict, load_claims
from inception_calc.studies.claims.grammar import (
    COUNTS, FIELDS, FLOPS_MEANINGS, GRAMMAR, K_VALUES, OPERATORS, QUANTITIES, SHAPES, TOTAL, Claim, Convention,
    check_convention, parse_claim,
)
from inception_calc.studies.claims.judge import Verdict, computed_value, evaluate, resolve, verify

__all__ = [
    "CLAIM_FIELDS", "COUNTS", "FIELDS", "FILE_FIELDS", "FLOPS_MEANINGS", "GRAMMAR", "K_VALUES", "OPERATORS", "QUANTITIES",
    "SHAPES", "TOTAL", "Claim", "Convention", "Settings", "Verdict", "check_convention", "claims_from_dict",
    "computed_value", "evaluate", "load_claims", "parse_claim", "resolve", "verify",
]
