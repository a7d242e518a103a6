import os
import subprocess
import sys

from refuge.cli import main

CODE = "import django; django.setup(); from django.conf import settings; print(settings.MODE)"


def _run(env_extra, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFUGE_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "refuge.settings", **env_extra})
    return subprocess.run(
        [sys.executable, "-c", CODE], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_keys(tmp_path):
    r = _run({"REFUGE_MODE": "production"}, tmp_path)
    assert r.returncode != 0
    assert "will not start without its keys" in r.stderr and "REFUGE_MASTER_KEY" in r.stderr


def test_production_reads_keys_from_files(tmp_path):
    import base64

    for name, value in {
        "secret": "s" * 50,
        "master": "k1:" + base64.b64encode(b"m" * 32).decode(),
        "blind": base64.b64encode(b"b" * 32).decode(),
    }.items():
        (tmp_path / name).write_text(value)
    r = _run(
        {
            "REFUGE_MODE": "production",
            "REFUGE_SECRET_KEY_FILE": str(tmp_path / "secret"),
            "REFUGE_MASTER_KEY_FILE": str(tmp_path / "master"),
            "REFUGE_BLIND_INDEX_KEY_FILE": str(tmp_path / "blind"),
        },
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "production"


def test_demo_generates_its_own_private_secrets_once(tmp_path):
    home = tmp_path / "var"
    r = _run({"REFUGE_MODE": "demo", "REFUGE_HOME": str(home)}, tmp_path)
    assert r.returncode == 0, r.stderr
    secrets_file = home / "secrets.env"
    first = secrets_file.read_text()
    assert "REFUGE_MASTER_KEY=" in first and oct(secrets_file.stat().st_mode)[-3:] == "600"
    _run({"REFUGE_MODE": "demo", "REFUGE_HOME": str(home)}, tmp_path)
    assert secrets_file.read_text() == first


def test_an_unknown_mode_is_refused(tmp_path):
    r = _run({"REFUGE_MODE": "staging"}, tmp_path)
    assert r.returncode != 0 and "REFUGE_MODE must be" in r.stderr


def test_the_refuge_command_maps_hyphenated_names(db, capsys):
    main(["refuge", "audit-verify"])
    assert "Audit chain intact" in capsys.readouterr().out
