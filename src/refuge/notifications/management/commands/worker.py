"""`refuge worker`: run background jobs and the scheduled checks (no cron needed).

With the database backend this is django-tasks-db's worker loop; with `REFUGE_TASKS_BACKEND=rq`
it is an RQ worker with its scheduler (jobs with a start time). Beside either, a thread ticks the
scheduler (refuge.notifications.scheduler), which is safe with any number of workers.
`refuge worker --check` exits 0 if some worker has ticked within three minutes (a health check).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string

from refuge.notifications import queue, scheduler

log = logging.getLogger("refuge.notifications")


class Command(BaseCommand):
    help = "Run the background worker and the scheduled jobs."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
        parser.add_argument("--tick", type=float, default=15.0, help="seconds between ticks")
        parser.add_argument("--no-scheduler", action="store_true")
        parser.add_argument("--batch", action="store_true", help="run what is due, then exit")
        parser.add_argument("--worker-id", default="")
        parser.add_argument("--check", action="store_true", help="health check, then exit")

    def handle(self, *args, interval, tick, no_scheduler, batch, worker_id, check, **options):
        if check:
            if not scheduler.healthy():
                raise CommandError("No worker has ticked in the last three minutes.")
            self.stdout.write("ok")
            return
        worker_id = worker_id or f"w-{get_random_string(12)}"
        stop = threading.Event()
        if not no_scheduler:
            if batch:
                scheduler.tick(worker_id=worker_id)
            else:
                threading.Thread(
                    target=self._tick_loop, args=(worker_id, tick, stop), daemon=True
                ).start()
        try:
            if queue.transactional():
                self._database(worker_id, interval, batch)
            else:
                self._rq(worker_id, batch)
        finally:
            stop.set()

    def _tick_loop(self, worker_id: str, every: float, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                scheduler.tick(worker_id=worker_id)
            except Exception:  # a database restart must not kill the scheduler thread
                log.exception("scheduler tick failed")
            finally:
                close_old_connections()
            stop.wait(every)
        connection.close()

    def _database(self, worker_id: str, interval: float, batch: bool) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=[settings.REFUGE_TASKS_QUEUE],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        if not batch:
            worker.configure_signals()
            self.stdout.write(f"Worker {worker_id} started (database queue).")
        worker.run()

    def _rq(self, worker_id: str, batch: bool) -> None:
        import django_rq
        from django_tasks_rq.backend import Job

        q = django_rq.get_queue(settings.REFUGE_TASKS_QUEUE, job_class=Job)
        from rq.worker import SimpleWorker

        # SimpleWorker runs jobs in this process: a forked work horse would share this
        # process's database connection (and on SQLite its locks) with its parent.
        worker = django_rq.get_worker(
            settings.REFUGE_TASKS_QUEUE, job_class=Job, worker_class=SimpleWorker, name=worker_id
        )
        if batch:
            # Jobs with a start time wait in RQ's scheduled registry; move the due ones first.
            from rq.registry import ScheduledJobRegistry

            registry = ScheduledJobRegistry(queue=q)
            for job_id in registry.get_jobs_to_schedule(int(time.time())):
                q.enqueue_job(q.fetch_job(job_id))
                registry.remove(job_id)
        else:
            self.stdout.write(f"Worker {worker_id} started (RQ).")
        worker.work(burst=batch, with_scheduler=not batch, logging_level="WARNING")
