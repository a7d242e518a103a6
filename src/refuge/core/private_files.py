"""Files that only the service's own user may read: the SQLite database, backups, the audit
checkpoints and the shred ledger (ASVS 14.1, issue 14 M4/L4).

Modes are given when a file is created (``os.open`` with 0600), never left to the umask, and a
file found readable by others is narrowed at once. No Django import: settings use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create the directory (0700) if it is missing. An existing directory keeps its mode: it
    may be shared on purpose (a backup volume); the files in it are 0600 either way."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)


def narrow(path: Path) -> None:
    """Take group and other permissions off an existing file (a database made by an older
    version, with the umask's 0644)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & 0o700)


def create_new(path: Path) -> None:
    """Create an empty file with mode 0600; refuse (FileExistsError) if the name is taken, so
    an existing file is never overwritten and nobody can put a symlink there first."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    os.close(fd)


def ensure(path: Path) -> None:
    """The file exists with mode 0600 (created empty if missing, narrowed if too open)."""
    private_dir(path.parent)
    # A symlink is followed here (an operator may point the database at another volume); the
    # folder is 0700, so nobody else can plant one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append one line durably (one write with O_APPEND, then fsync) to a 0600 file."""
    if "\n" in line:
        raise ValueError("one line at a time")
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[str]:
    """The file's lines, or none if it does not exist yet."""
    try:
        with path.open(encoding="utf-8") as fh:
            return [line.rstrip("\n") for line in fh if line.strip()]
    except FileNotFoundError:
        return []
