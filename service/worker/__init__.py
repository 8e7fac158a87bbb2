"""Background work, queued in the database: `register_handler`, `enqueue`, `Worker`."""

from service.core.jobs import enqueue
from service.worker.queue import JobContext, register_handler, unregister_handler
from service.worker.runner import Worker, WorkerThread, run_in_process

__all__ = [
    "JobContext",
    "Worker",
    "WorkerThread",
    "enqueue",
    "register_handler",
    "run_in_process",
    "unregister_handler",
]
