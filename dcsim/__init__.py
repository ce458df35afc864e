"""dcsim: the application layer — config files, design-space sweep, the `dcsim` CLI and the
Python API.

Last stage of the flow (DESIGN §1): wires workloads → compression → simulator → reports.

Python API (each function's docstring states its units and what it raises; the CLI commands
call the same functions)::

    import dcsim
    net = dcsim.network("lenet-5")                      # or an nn.Module, file.py:factory, .onnx
    model = dcsim.compress(net, "generic")              # .storage() DataFrame, .save("m.dcz")
    table = dcsim.simulate(model, "eie", model="analytical")   # the sweep table's rows
    results = dcsim.explore({...} or "sweep.toml", out=None)   # the tidy sweep table
    dcsim.figures(results)["pareto-energy"].show()
    dcsim.energy_table("edge-16"); dcsim.validate("fifo-depth")

The API functions are imported on first use, so `import dcsim` loads neither torch, numba
nor pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first access, PEP 562)
_API: dict[str, str] = {
    "network": "dcsim.api",
    "accelerator": "dcsim.api",
    "compress": "dcsim.api",
    "simulate": "dcsim.api",
    "CompressedModel": "dcsim.api",
    "explore": "dcsim.api_results",
    "figures": "dcsim.api_results",
    "energy_table": "dcsim.api_results",
    "validate": "dcsim.api_results",
    "ConfigError": "dcsim.config",
}

__all__ = [
    "CompressedModel",
    "ConfigError",
    "__version__",
    "accelerator",
    "compress",
    "energy_table",
    "explore",
    "figures",
    "network",
    "simulate",
    "validate",
]

if TYPE_CHECKING:
    from dcsim.api import CompressedModel, accelerator, compress, network, simulate
    from dcsim.api_results import energy_table, explore, figures, validate
    from dcsim.config import ConfigError


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'dcsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
