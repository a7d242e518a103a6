"""SPEC.md R: a process killed in the middle of a placement leaves no half-done state."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("crash_script.py")


def run(step, home):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REFUGE_") and k != "DATABASE_URL"
    }
    env.update(
        {
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "REFUGE_MODE": "demo",
            "REFUGE_HOME": str(home),
        }
    )
    return subprocess.run(
        [sys.executable, str(SCRIPT), step],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def state(out):
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_kill_during_accept_or_arrival_leaves_nothing_half_done(tmp_path):
    setup = run("setup", tmp_path)
    assert setup.returncode == 0, setup.stderr[-2000:]
    before = state(run("state", tmp_path))
    assert before == {
        "referral": "open",
        "targets": [["holding", True], ["holding", True]],
        "client_org": "hub",
        "stays": 0,
    }

    killed = run("accept", tmp_path)
    assert killed.returncode == -signal.SIGKILL
    assert state(run("state", tmp_path)) == before  # the accept never half-happened

    done = run("finish", tmp_path)  # accept again, then arrive: the hold is still there for her
    assert done.returncode == 0, done.stderr[-2000:]
    assert state(done) == {
        "referral": "arrived",
        "targets": [["arrived", False], ["withdrawn", False]],
        "client_org": "shelter",
        "stays": 1,
    }


def test_a_kill_between_moving_the_case_and_admitting_her_rolls_back(tmp_path):
    assert run("setup", tmp_path).returncode == 0
    accepted = run("accept_ok", tmp_path)
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    before = state(accepted)
    assert before == {
        "referral": "accepted",
        "targets": [["accepted", True], ["withdrawn", False]],
        "client_org": "hub",
        "stays": 0,
    }
    killed = run("arrive", tmp_path)
    assert killed.returncode == -signal.SIGKILL
    assert state(run("state", tmp_path)) == before  # her case did not move without her stay
    done = run("finish", tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert state(done)["stays"] == 1 and state(done)["client_org"] == "shelter"
