"""Exit codes and the one line a failing command prints."""

import pytest
from kudos_sync.cli.app import Stream
from kudos_sync.cli.exits import EXIT_CODE_MEANINGS, ExitCode, StackNotSetError, failure_for
from kudos_sync.domain.errors import ConfigurationError, LeaseHeldError, RecordError, TransientError
from kudos_sync.domain.ids import InvalidTenantIdError
from kudos_sync.domain.state import PUSH_STREAMS
from kudos_sync.sync.pull import STREAMS


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigurationError("secret kudos-sync/tenants/acme-nz does not exist"), ExitCode.CONFIGURATION),
        (StackNotSetError("environment variable KUDOS_STATE_TABLE not set"), ExitCode.CONFIGURATION),
        (
            TransientError("Magento GET /V1/store/storeViews: ConnectionError (no response)"),
            ExitCode.TRANSIENT,
        ),
        (LeaseHeldError("lease held"), ExitCode.TRANSIENT),
        (RecordError("one record"), ExitCode.CONFIGURATION),
        (InvalidTenantIdError("tenant id 'X' is invalid"), ExitCode.USAGE),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (ZeroDivisionError("secret=hunter2"), ExitCode.INTERNAL),
    ],
)
def test_each_failure_class_has_its_own_exit_code_and_a_one_line_message(
    exc: BaseException, code: ExitCode
) -> None:
    failure = failure_for(exc, "acme-nz")
    assert failure.code is code
    line = failure.line()
    assert "\n" not in line and "Traceback" not in line
    assert "acme-nz" in line or code is ExitCode.USAGE or isinstance(exc, StackNotSetError)
    assert failure.as_json()["exit_code"] == int(code)


def test_an_unexpected_exception_is_named_by_type_never_by_its_text() -> None:
    failure = failure_for(ValueError("password=hunter2"), "acme-nz")
    assert "hunter2" not in failure.line() and "ValueError" in failure.line()


def test_the_fix_fits_the_failure() -> None:
    assert "network" in failure_for(TransientError("x"), "acme-nz").fix
    assert "kudos-sync check --tenant acme-nz" in failure_for(ConfigurationError("x"), "acme-nz").fix
    assert "export KUDOS_STATE_TABLE" in failure_for(StackNotSetError("x"), None).fix


def test_exit_codes_are_distinct_and_each_documented() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode) == len(EXIT_CODE_MEANINGS)
    assert ExitCode.USAGE == 2  # click's own code for a usage error


def test_the_streams_offered_are_exactly_the_syncs_streams() -> None:
    assert {s.value for s in Stream} == set(PUSH_STREAMS) | set(STREAMS)
