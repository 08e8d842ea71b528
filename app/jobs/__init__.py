"""Training jobs: one at a time per data home, each in its own OS process at lower CPU priority.

``store`` keeps every job's record and event stream on disk and holds the one-job lock,
``manager`` starts, cancels and reaps job processes from a server worker, and ``process`` is the
job process itself (train, gate, promote). The names below are what the rest of the app uses.
"""

from app.jobs.manager import JobFinished, JobManager, is_job_process
from app.jobs.store import ACTIVE, FETCHING, FINAL, JobBusy, JobNotFound, JobStore

__all__ = [
    "ACTIVE",
    "FETCHING",
    "FINAL",
    "JobBusy",
    "JobFinished",
    "JobManager",
    "JobNotFound",
    "JobStore",
    "is_job_process",
]
