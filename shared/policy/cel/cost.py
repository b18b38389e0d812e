"""CEL cost: the apiserver's limits and cel-go's cost units, shared by the load-time estimate
(`checker`) and the run-time meter (`meter`).

cel-go charges 1 per variable, field selection and ordinary function call, nothing for a
literal or for ``&&``/``||``/``?:`` themselves, and for string work a tenth of a unit per
character (``size * 0.1``, rounded up): comparing, concatenating, searching. A comprehension
(``all``, ``exists``...) costs its range, plus per element its loop condition and step (the
accumulator reads and the helper calls cel-go's macro expansion adds) and the predicate.
Kubernetes' library adds its own prices (lowerAscii, split, quantity...).
"""

from __future__ import annotations

import math
from typing import Final

MAX_COST: Final = 2**64 - 1
"""cel-go's saturating uint64: an unknown size or an overflowing product."""

PER_CALL_LIMIT: Final = 1_000_000
"""Run time: the most one evaluation of one rule may cost (``PerCallLimit``, ~0.1 s)."""
RUNTIME_BUDGET: Final = 10_000_000
"""Run time: the most all rules together may cost for one object (``RuntimeCELCostBudget``)."""
ESTIMATED_COST_LIMIT: Final = 10_000_000
"""Load time: the most one rule may be estimated to cost, times how often it can run
(``StaticEstimatedCostLimit``)."""
ESTIMATED_CRD_COST_LIMIT: Final = 100_000_000
"""Load time: the most all rules and messageExpressions of one schema may be estimated to cost
(``StaticEstimatedCRDCostLimit``)."""

STRING_TRAVERSAL_FACTOR: Final = 0.1
REGEX_LENGTH_FACTOR: Final = 0.25
LIST_CREATE_COST: Final = 10
MAP_CREATE_COST: Final = 30

#: Extra cost per element of a comprehension beyond its predicate (cel-go's macro expansions:
#: ``all``: loop condition ``@not_strictly_false(acc)`` 2 + step ``acc && p`` 1; ``exists``:
#: ``@not_strictly_false(!acc)`` 3 + ``acc || p`` 1; ``exists_one``: ``p ? acc + 1 : acc`` 2;
#: ``map``: ``acc + [t]`` 12; ``filter``: ``p ? acc + [x] : acc`` 13).
MACRO_STEP_COST: Final = {"all": 3, "exists": 4, "exists_one": 2, "map": 12, "filter": 13}
#: Cost of a comprehension outside its loop: accumulator init and result.
MACRO_BASE_COST: Final = {"all": 1, "exists": 1, "exists_one": 2, "map": 11, "filter": 11}


def add(a: int, b: int) -> int:
    """Saturating addition."""
    return min(a + b, MAX_COST)


def mul(a: int, b: int) -> int:
    """Saturating multiplication."""
    return min(a * b, MAX_COST)


def traversal(size: int, factor: float = STRING_TRAVERSAL_FACTOR) -> int:
    """``ceil(size * factor)``, saturating (cel-go's ``MultiplyByCostFactor``)."""
    if size >= MAX_COST:
        return MAX_COST
    return min(math.ceil(size * factor), MAX_COST)


def exceeds_message(name: str, cost: int, limit: int) -> str:
    """The apiserver's ``getCostErrorMessage``."""
    factor = cost / limit
    if factor > 100.0:
        shown = "more than 100x"
    elif factor < 1.5:
        shown = f"{factor:f}x"
    else:
        shown = f"{factor:.1f}x"
    return (
        f"{name} exceeds budget by factor of {shown} (try simplifying the rule, or adding "
        "maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )
