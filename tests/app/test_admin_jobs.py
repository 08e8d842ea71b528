"""The job lock across processes, and the gate's arithmetic."""

from __future__ import annotations

import multiprocessing

import pytest
from admin_support import SLOW, finished, wait_for, with_mnist

from app.jobs import JobBusy, JobManager, JobStore
from model.promotion import gate


def _start_in_a_process(home, barrier, results) -> None:
    manager = JobManager(home, gate_tolerance_pp=0.3, timeout_seconds=60)
    barrier.wait()
    try:
        record = manager.start({"force": False}, {**_config(), "epochs": 2})
        results.put(("started", record["id"]))
        manager._children[record["id"]].wait()  # stay its parent until it ends
    except JobBusy as busy:
        results.put(("busy", busy.job_id))


def _config() -> dict:
    from app.schemas import RetrainRequest

    return RetrainRequest(**{**SLOW, "epochs": 2}).train_config().to_dict()


def test_two_processes_starting_a_job_at_once_start_exactly_one(tmp_path):
    home = with_mnist(tmp_path / "home")
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_start_in_a_process, args=(home, barrier, results)) for _ in range(2)
    ]
    for p in processes:
        p.start()
    outcomes = sorted([results.get(timeout=60), results.get(timeout=60)])
    assert [o[0] for o in outcomes] == ["busy", "started"]
    assert outcomes[0][1] == outcomes[1][1]  # the 409 names the running job
    store = JobStore(home)
    job = wait_for(lambda: store.read(outcomes[1][1]), finished, timeout=120)
    assert job["status"] in {"succeeded", "rejected"}
    for p in processes:
        p.join(30)
        assert p.exitcode == 0


@pytest.mark.parametrize(
    ("candidate", "active", "passed"),
    [(0.98, 0.98, True), (0.977, 0.98, True), (0.9769, 0.98, False), (0.99, 0.98, True)],
)
def test_the_gate_allows_a_drop_of_at_most_the_tolerance(candidate, active, passed):
    verdict = gate(candidate, active, tolerance=0.003)
    assert verdict.passed is passed
    assert f"{candidate:.2%}" in verdict.reason and f"{active:.2%}" in verdict.reason
    assert ("passes" if passed else "fails") in verdict.reason


def test_the_gate_passes_when_there_is_nothing_to_compare_with():
    assert gate(0.5, None).passed
