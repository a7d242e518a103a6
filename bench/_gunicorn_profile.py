"""Gunicorn hooks for `bench/telephony.py --profile DIR`: each worker runs under cProfile,
timed by its own CPU time (waits on PostgreSQL and on the other jobs of a shared machine do
not count), and writes its statistics to DIR when it exits (read them with pstats)."""

import cProfile
import os
import time


def post_worker_init(worker):
    worker.profile = cProfile.Profile(time.process_time)
    worker.profile.enable()


def worker_exit(server, worker):
    worker.profile.disable()
    path = os.path.join(os.environ["BENCH_PROFILE_DIR"], f"worker-{worker.pid}.prof")
    worker.profile.dump_stats(path)
