"""Start-up with and without a federation key; the federation commands."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command

from refuge.federation import sealing, signing
from refuge.federation.models import OutboxMessage, Peer, SharingOrganisation
from tests.core.test_settings import _run

PRODUCTION = {
    "REFUGE_MODE": "production",
    "REFUGE_SECRET_KEY": "s" * 50,
    "REFUGE_MASTER_KEY": "k1:" + base64.b64encode(b"m" * 32).decode(),
    "REFUGE_BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(),
}
CODE = (
    "import django; django.setup(); from refuge.federation import conf; "
    "print(conf.enabled()); print(conf.identity().public_key if conf.enabled() else '')"
)


def _python(env, cwd):
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith(("REFUGE_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", CODE],
        env={**base, "DJANGO_SETTINGS_MODULE": "refuge.settings", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_key_starts_with_federation_off(tmp_path):
    r = _python(PRODUCTION, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "False"


def test_production_with_a_key_needs_a_name_and_an_address(tmp_path):
    r = _python({**PRODUCTION, "REFUGE_FEDERATION_KEY": signing.new_seed()}, tmp_path)
    assert r.returncode != 0
    assert "REFUGE_FEDERATION_NAME" in r.stderr and "REFUGE_BASE_URL" in r.stderr


def test_production_with_a_key_from_a_file(tmp_path):
    seed = signing.new_seed()
    (tmp_path / "fed").write_text(seed)
    r = _python(
        {
            **PRODUCTION,
            "REFUGE_FEDERATION_KEY_FILE": str(tmp_path / "fed"),
            "REFUGE_FEDERATION_NAME": "moscow",
            "REFUGE_BASE_URL": "https://refuge.example.org",
        },
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", signing.public_key_text(signing.private_key(seed))]


def test_the_demo_generates_a_federation_key(tmp_path):
    home = tmp_path / "var"
    r = _run({"REFUGE_MODE": "demo", "REFUGE_HOME": str(home)}, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "REFUGE_FEDERATION_KEY=" in (home / "secrets.env").read_text()
    assert "REFUGE_FEDERATION_SEALING_KEY=" in (home / "secrets.env").read_text()


def test_identity_prints_name_url_and_key(db):
    out = io.StringIO()
    call_command("federation_identity", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["name"] == "refuge-test" and len(signing.unb64(body["public_key"])) == 32
    assert len(signing.unb64(body["sealing_key"])) == 32
    assert body["sealing_key"] != body["public_key"]
    text = io.StringIO()
    call_command("federation_identity", stdout=text)
    assert f"--sealing-key {body['sealing_key']}" in text.getvalue()


def test_without_a_sealing_key_identity_says_records_cannot_come_here(db, settings):
    settings.REFUGE_FEDERATION_SEALING_KEY = ""
    out = io.StringIO()
    call_command("federation_identity", stdout=out)
    assert "sealing_key: none" in out.getvalue() and "--sealing-key" not in out.getvalue()


def test_trust_takes_a_sealing_key_and_says_when_there_is_none(db):
    key = signing.public_key_text(signing.private_key(signing.new_seed()))
    seal = sealing.public_key_text(sealing.private_key(signing.new_seed()))
    out = io.StringIO()
    call_command(
        "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", key,
        "--no-hello", stdout=out,
    )  # fmt: skip
    assert "no sealing key" in out.getvalue()
    assert Peer.objects.get(name="czech").sealing_key == ""  # an old trust record still works
    call_command(
        "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", key,
        "--sealing-key", seal, "--no-hello", stdout=io.StringIO(),
    )  # fmt: skip
    assert Peer.objects.get(name="czech").sealing_key == seal
    call_command(  # trusted again without one: the key kept stays
        "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", key,
        "--no-hello", stdout=io.StringIO(),
    )  # fmt: skip
    assert Peer.objects.get(name="czech").sealing_key == seal
    new = signing.public_key_text(signing.private_key(signing.new_seed()))
    call_command(  # a rotated signing key drops the sealing key it did not come with
        "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", new,
        "--rotate", "--no-hello", stdout=io.StringIO(),
    )  # fmt: skip
    assert Peer.objects.get(name="czech").sealing_key == ""
    with pytest.raises(CommandError, match="X25519"):
        call_command(
            "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", new,
            "--sealing-key", "abc", stdout=io.StringIO(),
        )  # fmt: skip


def test_identity_refuses_when_federation_is_off(db, settings):
    settings.REFUGE_FEDERATION_KEY = ""
    with pytest.raises(CommandError, match="Federation is off"):
        call_command("federation_identity")


def test_trust_and_untrust_from_the_command_line(db):
    key = signing.public_key_text(signing.private_key(signing.new_seed()))
    call_command(
        "federation_trust", "--name", "czech", "--url", "https://cz.test", "--key", key,
        stdout=io.StringIO(),
    )  # fmt: skip
    peer = Peer.objects.get(name="czech")
    assert peer.trusted and OutboxMessage.objects.filter(peer=peer, kind="hello").exists()
    call_command("federation_trust", "--untrust", "czech", stdout=io.StringIO())
    peer.refresh_from_db()
    assert not peer.trusted
    assert OutboxMessage.objects.get(peer=peer).status == "cancelled"


def test_trust_from_the_command_line_with_a_title(db):
    key = signing.public_key_text(signing.private_key(signing.new_seed()))
    call_command(
        "federation_trust", "--name", "kg", "--title", "Crisis centres of Kyrgyzstan",
        "--url", "https://kg.test", "--key", key, "--no-hello", stdout=io.StringIO(),
    )  # fmt: skip
    assert Peer.objects.get(name="kg").label == "Crisis centres of Kyrgyzstan"


def test_trust_refuses_a_bad_key(db):
    with pytest.raises(CommandError, match="Ed25519"):
        call_command(
            "federation_trust", "--name", "x", "--url", "https://x.test", "--key", "abc",
            stdout=io.StringIO(),
        )  # fmt: skip


def test_share_opts_an_organisation_in_and_out(orgs):
    call_command("federation_share", "--org", orgs["b"].slug, stdout=io.StringIO())
    assert SharingOrganisation.objects.filter(organisation=orgs["b"]).exists()
    call_command("federation_share", "--org", orgs["b"].slug, "--stop", stdout=io.StringIO())
    assert not SharingOrganisation.objects.exists()
