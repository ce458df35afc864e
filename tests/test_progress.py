"""workloads.progress: silent without a reporter, plain one-line events on a non-terminal
stream (no carriage returns), tqdm bars on a terminal, ETA only where it is honest; and the
training loop's epoch lines."""

from __future__ import annotations

import io

import torch

from workloads import progress
from workloads.training import TensorData, TrainingSettings, train_steps


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_written_without_a_reporter_or_when_disabled(capsys):
    def work():
        progress.note("a note")
        with progress.stage("a stage"):
            with progress.counter("count", 3, "steps", eta=True) as shown:
                for _ in range(3):
                    shown.update()

    work()
    stream = io.StringIO()
    with progress.reporting(enabled=False, stream=stream):
        work()
    with progress.reporting(stream=stream, interactive=False):
        with progress.reporting(enabled=False):  # --quiet inside a reporting caller
            work()
    assert stream.getvalue() == ""
    assert capsys.readouterr() == ("", "")


def test_plain_style_is_one_line_per_event_at_milestones_only():
    stream = io.StringIO()
    with progress.reporting(stream=stream):  # a StringIO is not a terminal: plain style
        progress.note("dense: from the cache")
        with progress.stage("pruning"):
            with progress.counter("retraining", 10, "steps", milestones=(4, 8, 10)) as shown:
                shown.describe("epoch 1/3")
                for step in range(10):
                    if step == 4:
                        shown.describe("epoch 2/3")
                    shown.update()
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == "dense: from the cache"
    assert lines[1] == "pruning ..."
    assert lines[2] == "  retraining: 10 steps ..."
    assert lines[3].startswith("  retraining epoch 1/3: 4/10 steps (")
    assert lines[4].startswith("  retraining epoch 2/3: 8/10 steps (")
    assert lines[5].startswith("  retraining: 10/10 steps in ")
    assert lines[6].startswith("pruning: done in ") and lines[6].endswith(" s")
    assert len(lines) == 7


def test_terminal_style_draws_tqdm_bars_with_eta_only_when_asked():
    stream = FakeTerminal()
    with progress.reporting(stream=stream):
        with progress.counter("training", 4, "steps", eta=True) as shown:
            assert shown.bar is not None
            shown.update(2)
            shown.bar.refresh()
            with_eta = stream.getvalue()
            shown.update(2)
        with progress.counter("sweep", 4, "points") as shown:
            shown.update(2)
            shown.bar.refresh()
            without_eta = stream.getvalue()[len(with_eta) :]
            shown.update(2)
    assert "\r" in with_eta and "2/4 steps" in with_eta and "<" in with_eta  # elapsed<remaining
    assert "2/4 points" in without_eta and "<" not in without_eta
    assert "training: 4/4 steps in " in stream.getvalue()


def test_percent_milestones():
    assert progress.percent_milestones(20) == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert progress.percent_milestones(3) == [1, 2, 3]
    assert progress.percent_milestones(1) == [1]


def test_format_seconds():
    assert progress.format_seconds(4.25) == "4.2 s"
    assert progress.format_seconds(187) == "3 min 07 s"
    assert progress.format_seconds(3720) == "1 h 02 min"


def _tiny_training(seed: int):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the Linear's init
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    data = TensorData(
        torch.randn(10, 12, generator=generator),
        torch.randint(0, 3, (10,), generator=generator),
        {"tiny": seed},
    )
    return model, data


def test_training_reports_each_epoch_and_progress_changes_no_weight():
    settings = TrainingSettings(epochs=3, batch_size=4, learning_rate=1e-2)  # 3 steps/epoch
    quiet_model, data = _tiny_training(0)
    train_steps(quiet_model, list(quiet_model.parameters()), data, settings, seed=1)
    shown_model, data = _tiny_training(0)
    stream = io.StringIO()
    with progress.reporting(stream=stream):
        train_steps(
            shown_model, list(shown_model.parameters()), data, settings, seed=1, label="tiny"
        )
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:3]] == [
        "tiny: 9 steps ...",
        "tiny epoch 1/3: 3/9 steps",
        "tiny epoch 2/3: 6/9 steps",
    ]
    assert lines[3].startswith("tiny: 9/9 steps in ") and len(lines) == 4
    for a, b in zip(quiet_model.parameters(), shown_model.parameters(), strict=True):
        assert torch.equal(a, b)
