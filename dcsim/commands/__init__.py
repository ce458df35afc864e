"""Sub-commands of the `dcsim` CLI, one module each (see `dcsim.cli.COMMAND_MODULES`)."""
