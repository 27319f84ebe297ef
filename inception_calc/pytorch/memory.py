"""How much memory building and running a network needs, estimated from its analysis before torch
allocates any of it: ``check``, ``bench`` and ``--train`` refuse, with the estimate and the limit,
what the machine cannot hold, instead of asking torch for terabytes (a conv with 2^40 output
channels) and failing deep inside it.

The estimate is a lower bound, so that nothing that would run is refused: the parameters, plus
for each image of a batch its input and the largest output of any layer (a forward without
gradients keeps little more than one layer's input and output at a time), each element
``element_bytes`` bytes (4 for fp32). The limit is the smaller of the physical memory and the
process's address-space limit (``ulimit -v``); for CUDA, the device's total memory.
No torch at import time (docs/architecture.md).
"""

from __future__ import annotations

import math
import os
import resource

from inception_calc.core.errors import CalcError
from inception_calc.core.results import Analysis, Cost


def _largest_output(rows: tuple[Cost, ...]) -> int:
    largest, stack = 0, list(rows)
    while stack:
        cost = stack.pop()
        largest = max(largest, math.prod(cost.out_shape))
        stack.extend(cost.children)
    return largest


def needed_bytes(analysis: Analysis, batch: int = 1, element_bytes: int = 4) -> int:
    """The least memory a forward of ``batch`` images needs: params + batch x (input + largest output)."""
    params = sum(r.weights + r.biases + r.bn for r in analysis.rows)
    per_image = math.prod(analysis.input) + _largest_output(analysis.rows)
    return (params + batch * per_image) * element_bytes


def memory_limit(device: str = "cpu") -> int:
    """The bytes this process can have: the smaller of the machine's memory and ``ulimit -v``
    (on CUDA, the device's total memory, asked of torch)."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory)
    limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    return limit


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n < 10**15 else f"{n:.3g} bytes"


def require_memory(analysis: Analysis, batch: int = 1, element_bytes: int = 4, device: str = "cpu",
                   where: str = "spec") -> None:
    """Refuse, before anything is allocated, a build or batch whose least memory is over the limit
    (``batch`` 0: the parameters alone)."""
    need, limit = needed_bytes(analysis, batch, element_bytes), memory_limit(device)
    if need > limit:
        c, h, w = analysis.input
        what = f"batch {batch}" if batch else "its parameters alone"
        raise CalcError(f"{analysis.spec} at {c}x{h}x{w}, {what}, needs at least {_gb(need)} "
                        f"(parameters{' and the largest layer output' if batch else ''}), more than the {_gb(limit)} {device} memory here",
                        where=where, fix="give a smaller network, input or batch")
