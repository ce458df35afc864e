"""The user's files and folders, checked with one-line errors that name them.

Shared plumbing for every stage that reads a file the user named (sweep configs, recipes,
accelerator specs, weights, containers, data folders) or writes one (`--out`): a missing path,
a directory where a file is expected (or the reverse), unreadable bytes, text that is not
UTF-8, TOML that does not parse, an empty file and an output place that cannot be written each
become one `InputFileError` (a ValueError) that names what the path is for, the path, and what
is allowed — never a bare `'utf-8' codec can't decode …` or the name of a hidden temp file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


class InputFileError(ValueError):
    """A user's input file or folder that cannot be used; the message is one line."""


def _bad(what: str, path: Path, problem: str, allowed: str) -> InputFileError:
    return InputFileError(f"{what} {str(path)!r} {problem}; allowed: {allowed}")


def input_file(path: str | os.PathLike, what: str, allowed: str = "a file") -> Path:
    """`path` as a Path to an existing file (not a directory), else an InputFileError."""
    path = Path(path)
    if path.is_dir():
        raise _bad(what, path, "is a directory", allowed)
    if not path.exists():
        raise _bad(what, path, "does not exist", allowed)
    if not path.is_file():
        raise _bad(what, path, "is not a regular file", allowed)
    return path


def input_folder(path: str | os.PathLike, what: str, allowed: str = "a folder") -> Path:
    """`path` as a Path to an existing directory, else an InputFileError."""
    path = Path(path)
    if not path.exists():
        raise _bad(what, path, "does not exist", allowed)
    if not path.is_dir():
        raise _bad(what, path, "is a file, not a folder", allowed)
    return path


def read_bytes(path: str | os.PathLike, what: str, allowed: str = "a file") -> bytes:
    """The bytes of the file at `path`, with the checks of `input_file`."""
    path = input_file(path, what, allowed)
    try:
        return path.read_bytes()
    except OSError as error:
        raise _bad(what, path, f"cannot be read ({error.strerror or error})", allowed) from None


def read_text(path: str | os.PathLike, what: str, allowed: str = "a UTF-8 text file") -> str:
    """The UTF-8 text of the file at `path`; bytes that are not UTF-8 are an InputFileError
    naming the file and the first bad byte."""
    data = read_bytes(path, what, allowed)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise _bad(
            what,
            Path(path),
            f"is not UTF-8 text (byte 0x{byte:02x} at offset {error.start})",
            allowed,
        ) from None


def parse_toml(text: str, what: str, source: str, allowed: str = "a TOML file") -> dict:
    """`text` parsed as TOML (data, never code); a syntax error or an empty document is an
    InputFileError naming `source`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputFileError(
            f"{what} {source!r} is not valid TOML ({' '.join(str(error).split())}); "
            f"allowed: {allowed}"
        ) from None
    if not data:
        raise InputFileError(f"{what} {source!r} is empty (no keys); allowed: {allowed}")
    return data


def read_toml(path: str | os.PathLike, what: str, allowed: str = "a TOML file") -> dict:
    """The TOML file at `path` as a dict, with the checks of `read_text` and `parse_toml`."""
    return parse_toml(read_text(path, what, allowed), what, str(path), allowed)


def output_file(path: str | os.PathLike, what: str) -> Path:
    """`path` as a place a file can be written: not a directory, in an existing, writable
    folder. Checked before the work that produces the file, so a typo costs nothing."""
    path = Path(path)
    folder = path.parent
    allowed = "a file path in an existing, writable folder"
    if path.is_dir():
        raise _bad(what, path, "is a directory", allowed)
    if not folder.is_dir():
        raise _bad(what, path, f"is in {str(folder)!r}, which is not an existing folder", allowed)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _bad(what, path, f"cannot be written (folder {str(folder)!r} is read-only)", allowed)
    return path


def output_folder(path: str | os.PathLike, what: str) -> Path:
    """`path` as a folder outputs can be written to: an existing writable folder, or a path
    whose nearest existing ancestor is a writable folder (it will be created)."""
    path = Path(path)
    allowed = "a folder path (created if missing) whose parent can be written"
    if path.exists():
        if not path.is_dir():
            raise _bad(what, path, "is a file, not a folder", allowed)
        if not os.access(path, os.W_OK | os.X_OK):
            raise _bad(what, path, "is a read-only folder", allowed)
        return path
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _bad(what, path, f"is inside the file {str(ancestor)!r}", allowed)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _bad(
            what, path, f"cannot be created (folder {str(ancestor)!r} is read-only)", allowed
        )
    return path
