"""The names the energy and area tables are keyed by: energy actions and components, area
components.

Part of `simulator` (DESIGN §4), beneath the accelerator spec and both tables: an
`Accelerator`'s `[energy]` / `[area]` override keys are checked against these names
(`<action>_pj`, `<component>_um2`; `simulator.accelerator`), `simulator.energy_table` and
`simulator.area_table` build one entry per name in this order, `simulator.layer_events` counts
events per action, and the sweep's result table (`dcsim.result_table`) has columns keyed by
them. The formulas, numbers and sources live in the tables; this module holds only the names.
"""

#: Energy actions: one row of the energy table each (energy per event); the event counts of a
#: layer are keyed by them.
ACTIONS: tuple[str, ...] = (
    "sparse_sram_read",
    "pointer_read",
    "activation_sram_read",
    "activation_sram_write",
    "codebook_lookup",
    "codebook_decode",
    "mac",
    "register_access",
    "register_bit",
    "clock_bit",
    "lnzd_op",
    "fifo_access",
    "sram_leakage_cycle",
    "flop_leakage_cycle",
    "arithmetic_leakage_cycle",
    "dram_bit",
)
#: Energy components: what `simulator.energy_table.energy_by_component` sums the actions into.
COMPONENTS: tuple[str, ...] = (
    "sparse_sram",
    "pointer_sram",
    "activation_sram",
    "codebook",
    "mac",
    "registers",
    "clock",
    "lnzd",
    "fifo",
    "leakage",
    "dram",
)

#: Area components: one row of the area table each (area per instance × instances).
AREA_COMPONENTS: tuple[str, ...] = (
    "sparse_sram",
    "sparse_registers",
    "pointer_sram",
    "pointer_registers",
    "codebook",
    "multiplier",
    "adders",
    "pipeline_registers",
    "activation_registers",
    "activation_sram",
    "fifo",
    "lnzd",
)

__all__ = ["ACTIONS", "AREA_COMPONENTS", "COMPONENTS"]
