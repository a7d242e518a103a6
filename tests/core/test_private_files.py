"""Files that hold data or keys are created 0600 whatever the umask (issue 14, M4)."""

import os

import pytest

from refuge.core import private_files


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return oct(path.stat().st_mode & 0o777)


def test_new_files_are_0600_under_a_loose_umask(tmp_path, loose_umask):
    private_files.append_line(tmp_path / "sub" / "ledger.jsonl", '{"a": 1}')
    private_files.create_new(tmp_path / "backup")
    private_files.ensure(tmp_path / "db.sqlite3")
    for name in ("sub/ledger.jsonl", "backup", "db.sqlite3"):
        assert mode(tmp_path / name) == "0o600", name
    assert mode(tmp_path / "sub") == "0o700"


def test_an_existing_open_file_is_narrowed_and_kept(tmp_path, loose_umask):
    for name in ("ledger.jsonl", "db.sqlite3"):
        (tmp_path / name).write_text("kept\n")
        (tmp_path / name).chmod(0o644)
    private_files.append_line(tmp_path / "ledger.jsonl", "more")
    private_files.ensure(tmp_path / "db.sqlite3")
    assert (tmp_path / "ledger.jsonl").read_text() == "kept\nmore\n"
    assert (tmp_path / "db.sqlite3").read_text() == "kept\n"
    assert mode(tmp_path / "ledger.jsonl") == mode(tmp_path / "db.sqlite3") == "0o600"


def test_a_new_file_never_replaces_or_follows_an_existing_name(tmp_path):
    (tmp_path / "target").write_text("precious")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    for name in ("target", "link"):
        with pytest.raises(FileExistsError):
            private_files.create_new(tmp_path / name)
    assert (tmp_path / "target").read_text() == "precious"


def test_one_line_at_a_time(tmp_path):
    with pytest.raises(ValueError):
        private_files.append_line(tmp_path / "x", "two\nlines")
