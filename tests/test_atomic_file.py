"""Atomic writes: complete file or none, usual permissions, no temp files left behind."""

import os

import pytest

from workloads.atomic_file import atomic_path, default_file_mode


def test_atomic_path_replaces_with_usual_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as temp:
        temp.write_text("new")
        assert target.read_text() == "old"  # readers see the old file until the end
    assert target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == default_file_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_keeps_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_missing_folder_is_an_error_and_nothing_is_created(tmp_path):
    with pytest.raises(OSError), atomic_path(tmp_path / "missing" / "x") as temp:
        temp.write_text("x")
    assert not (tmp_path / "missing").exists()


def test_default_mode_follows_umask():
    old = os.umask(0o027)
    try:
        assert default_file_mode() == 0o640
    finally:
        os.umask(old)


def test_errors_name_the_users_path_not_the_hidden_temp_file(tmp_path):
    from dcsim.cli import _one_line

    missing = tmp_path / "missing" / "model.dcz"
    with pytest.raises(OSError) as info, atomic_path(missing) as temp:
        temp.write_text("x")
    assert info.value.filename == str(missing)
    assert _one_line(info.value) == f"{missing}: No such file or directory"
    folder = tmp_path / "a-folder.dcz"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info, atomic_path(folder) as temp:
        temp.write_text("x")
    assert info.value.filename == str(folder) and ".tmp" not in _one_line(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.dcz"]


def test_stale_temp_files_are_found_by_name(tmp_path):
    from workloads.atomic_file import stale_temp_files

    for name in (".results.csv.abc123.tmp", ".report.html.x.tmp", ".other.tmp", "results.csv"):
        (tmp_path / name).write_text("x")
    found = stale_temp_files(tmp_path, ["results.csv", "report.html"])
    assert [p.name for p in found] == [".report.html.x.tmp", ".results.csv.abc123.tmp"]
