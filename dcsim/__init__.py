"""dcsim: the application layer — config files, design-space sweep and the `dcsim` CLI.

Last stage of the flow (DESIGN §1): wires workloads → compression → simulator → reports.
"""

__version__ = "0.1.0"
