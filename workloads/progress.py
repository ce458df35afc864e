"""Feedback during long work: which stage runs now, and how far a counted stage has got.

Part of `workloads`, the bottom layer, so that every layer above reports to one place: the
training loop (`workloads.training`: epoch k/n of a schedule), Deep Compression
(`compression.deep_compression`: prune step i, k-means, quantization fine-tuning, encoding),
the accuracy pipeline (`dcsim.accuracy`: evaluation) and the sweep (`dcsim.sweep`: settings,
points, each output file). Reporting only reads counters and the clock; it never touches a
tensor or a random generator, so the numbers are the same with and without it.

The application turns it on for a block of work with `reporting(enabled)`; code anywhere
below calls `stage(label)` (a block of work without a count: one line when it starts and one
with its duration when it ends), `counter(label, total, unit)` (counted work) or `note(text)`.
With no active reporter (library calls, tests, `--quiet`) all of these do nothing.

Two styles, chosen by whether the stream (stderr) is a terminal:
- **terminal**: a tqdm bar per counted stage, redrawn in place; stage lines print above it.
- **plain** (a pipe, a file, a CI log): one line per event, never a carriage return — stage
  start and end, counted work when it starts, at its milestones only (each epoch of a training
  schedule; every 10 % of sweep points) and when it ends, so a log stays short.

ETA: shown only where the remaining units cost what the finished ones did — the minibatch
steps of one training schedule (`eta=True`). Counts of unequal work (compression settings
whose first one trains the dense network, sweep points of different networks) show progress
and elapsed time but no ETA, rather than a wrong one.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

_ACTIVE: contextvars.ContextVar[_Reporter | None] = contextvars.ContextVar(
    "dcsim_progress", default=None
)

# tqdm formats: with an ETA (equal-cost steps) and without (unequal work).
_BAR_WITH_ETA = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}]"
)
_BAR_WITHOUT_ETA = "{desc}: {n_fmt}/{total_fmt} {unit} [{elapsed}]"


def format_seconds(seconds: float) -> str:
    """`4.2 s`, `3 min 07 s`, `1 h 02 min` — a duration for a progress line."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class _Reporter:
    def __init__(self, stream: TextIO, interactive: bool) -> None:
        self.stream, self.interactive = stream, interactive
        self.depth = 0

    def line(self, text: str) -> None:
        text = "  " * self.depth + text
        if self.interactive:
            from tqdm import tqdm

            tqdm.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()


class Counter:
    """Counted work: `update(n)` after each unit, `describe(text)` to change the detail shown
    (e.g. `epoch 2/3`), `close()` at the end (or use it as a context manager). A line is
    written in plain style when the count reaches one of `milestones` (and at the end)."""

    def __init__(
        self,
        reporter: _Reporter | None,
        label: str,
        total: int,
        unit: str,
        *,
        eta: bool,
        milestones: Iterable[int] | None,
    ) -> None:
        self.reporter, self.label, self.total, self.unit = reporter, label, int(total), unit
        self.count = 0
        self.detail = ""
        self.started = time.perf_counter()
        self.milestones = set(milestones) if milestones is not None else {self.total}
        self.bar = None
        self.closed = False
        if reporter is not None and reporter.interactive:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                desc="  " * reporter.depth + label,
                unit=unit,
                file=reporter.stream,
                leave=False,
                dynamic_ncols=True,
                smoothing=0.0,  # the mean rate of this stage, not the last few steps
                bar_format=_BAR_WITH_ETA if eta else _BAR_WITHOUT_ETA,
            )
        elif reporter is not None:
            reporter.line(f"{label}: {self.total} {unit} ...")

    def _elapsed(self) -> str:
        return format_seconds(time.perf_counter() - self.started)

    def describe(self, detail: str) -> None:
        self.detail = detail
        if self.bar is not None:
            self.bar.set_description_str(
                "  " * self.reporter.depth + f"{self.label} {detail}".rstrip(), refresh=False
            )

    def update(self, n: int = 1) -> None:
        before, self.count = self.count, self.count + n
        if self.reporter is None:
            return
        if self.bar is not None:
            self.bar.update(n)
        elif any(before < m <= self.count for m in self.milestones) and self.count < self.total:
            detail = f" {self.detail}" if self.detail else ""
            self.reporter.line(
                f"{self.label}{detail}: {self.count}/{self.total} {self.unit} ({self._elapsed()})"
            )

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.reporter is None:
            return
        if self.bar is not None:
            self.bar.close()
        self.reporter.line(
            f"{self.label}: {self.count}/{self.total} {self.unit} in {self._elapsed()}"
        )

    def __enter__(self) -> Counter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def reporting(
    enabled: bool = True, stream: TextIO | None = None, interactive: bool | None = None
) -> Iterator[None]:
    """Report progress of the work inside the block to `stream` (default stderr); terminal
    style when `interactive` (default: the stream is a TTY), else plain lines. `enabled=False`
    silences everything inside, also a reporter opened further out."""
    stream = stream if stream is not None else sys.stderr
    if interactive is None:
        isatty = getattr(stream, "isatty", None)
        interactive = bool(isatty and isatty())
    token = _ACTIVE.set(_Reporter(stream, interactive) if enabled else None)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active() -> bool:
    """Whether progress is being reported (callers may skip work done only for a message)."""
    return _ACTIVE.get() is not None


def note(text: str) -> None:
    """One line (e.g. `dense model: from the cache`)."""
    reporter = _ACTIVE.get()
    if reporter is not None:
        reporter.line(text)


@contextlib.contextmanager
def stage(label: str) -> Iterator[None]:
    """A block of work without a count: `label …` when it starts, `label: done in 4.2 s` when
    it ends; stages and counters inside are indented under it."""
    reporter = _ACTIVE.get()
    if reporter is None:
        yield
        return
    reporter.line(f"{label} ...")
    started = time.perf_counter()
    reporter.depth += 1
    try:
        yield
    finally:
        reporter.depth -= 1
    reporter.line(f"{label}: done in {format_seconds(time.perf_counter() - started)}")


def counter(
    label: str,
    total: int,
    unit: str,
    *,
    eta: bool = False,
    milestones: Iterable[int] | None = None,
) -> Counter:
    """Counted work of `total` units. `eta`: the units cost the same, so an ETA is honest.
    `milestones`: counts at which plain style writes a line (default: only the end)."""
    return Counter(_ACTIVE.get(), label, total, unit, eta=eta, milestones=milestones)


def percent_milestones(total: int, step_percent: int = 10) -> list[int]:
    """The counts at every `step_percent` % of `total` (for plain-style lines)."""
    return sorted({max(1, -(-total * p // 100)) for p in range(step_percent, 101, step_percent)})
