import pytest
from django.core.management import CommandError, call_command


def test_the_demo_code_command_is_refused_outside_the_demo(personas):
    with pytest.raises(CommandError, match="only in the demo"):
        call_command("totp_code", "caseworker-a")


def test_the_demo_command_is_refused_outside_the_demo(db):
    with pytest.raises(CommandError, match="REFUGE_MODE=demo"):
        call_command("demo", "--no-serve")
