"""The last step of every push: park what this run found wrong, unpark what synced since."""

from collections.abc import Sequence
from datetime import datetime

from kudos_sync.domain.desired import Problem
from kudos_sync.domain.state import PUSH_STREAMS, ParkedRecord
from kudos_sync.sync.ports import StateStore
from kudos_sync.sync.push.context import Tally
from kudos_sync.sync.push.results import PushProblem


def problem_fields(problem: Problem) -> dict[str, str]:
    return {"stream": problem.stream, "key": problem.key, "field": problem.field, "reason": problem.reason}


def push_problem(problem: Problem) -> PushProblem:
    return PushProblem(stream=problem.stream, key=problem.key, field=problem.field, reason=problem.reason)


def parked_push_records(state: StateStore) -> list[ParkedRecord]:
    return [record for record in state.list_parked() if record.stream in PUSH_STREAMS]


def settle_parked(
    state: StateStore, tally: Tally, parked_before: Sequence[ParkedRecord], now: datetime
) -> None:
    """Park this run's problems (the store counts attempts) and unpark records that synced. Nothing is
    unparked after a partial run: what the deadline cut off is not known to be fine yet, and a record
    of a product that failed was not tried."""
    for (stream, key), problems in tally.problems.items():
        fields = ", ".join(dict.fromkeys(p.field for p in problems if p.field))
        reason = "; ".join(dict.fromkeys(p.reason for p in problems))
        state.park(
            ParkedRecord(
                stream=stream,
                key=key,
                reason=reason,
                field=fields,
                payload={"problems": [problem_fields(p) for p in problems]},
                first_seen=now,
                last_seen=now,
            )
        )
    tally.counts.parked = len(tally.problems)
    if tally.partial:
        return
    for record in parked_before:
        if (record.stream, record.key) in tally.problems:
            continue
        if record.stream != "products" and record.key.split("@", 1)[0] in tally.failed_products:
            continue  # not tried this run: its product failed
        state.unpark(record.stream, record.key)
        tally.counts.unparked += 1


def problem_list(tally: Tally) -> list[PushProblem]:
    return [push_problem(problem) for problems in tally.problems.values() for problem in problems]
