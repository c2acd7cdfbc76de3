"""On the wire: what the SQL Server client sends to a fake server on 127.0.0.1 (tests/security/
tds_capture.py), with the settings the sync builds its engine from.

With the defaults (TDS 7.4, encryption required) the password leaves in none of its forms, plain,
UTF-16 or LOGIN7's nibble-swap-and-XOR obfuscation, whatever encryption the server offers: the client
stops at PRELOGIN when the server offers none, and starts TLS before LOGIN7 when it does. The positive
control (TDS 7.0, allowed on loopback only) shows the capture would find it.
"""

import secrets

import pytest
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.config import CiOfficeSettings
from pydantic import SecretStr

from tests.security.tds_capture import (
    ENCRYPT_NOT_SUP,
    ENCRYPT_ON,
    PRELOGIN,
    FakeTdsServer,
    password_forms,
)


def _connect(port: int, password: str, query: str = "", **settings: object) -> None:
    url = f"mssql+pymssql://kudos:{password}@127.0.0.1:{port}/ci{query}"
    engine = create_ci_office_engine(
        CiOfficeSettings.model_validate({"url": SecretStr(url), "login_timeout_seconds": 2, **settings})
    )
    try:
        with pytest.raises(Exception), engine.connect():  # noqa: B017 (the fake never lets a login finish)
            pass
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "offer", [ENCRYPT_NOT_SUP, ENCRYPT_ON], ids=["server-offers-no-tls", "server-offers-tls"]
)
def test_given_default_settings_when_connecting_then_the_password_leaves_in_no_form(offer: int) -> None:
    password = f"Pw{secrets.token_hex(10)}"
    with FakeTdsServer(offer, timeout=6) as server:
        _connect(server.port, password)
    assert server.packet_types[:1] == [PRELOGIN], "the client should open with PRELOGIN (TDS 7.4)"
    found = [form for form, data in password_forms(password).items() if data in server.received]
    assert not found, f"the password left in clear as {found}"
    if offer == ENCRYPT_NOT_SUP:
        assert 0x10 not in server.packet_types, "LOGIN7 was sent to a server without TLS"


def test_positive_control_an_old_tds_version_on_loopback_sends_the_login_where_the_capture_finds_it() -> None:
    password = f"Pw{secrets.token_hex(10)}"
    with FakeTdsServer(ENCRYPT_NOT_SUP, timeout=6) as server:
        _connect(server.port, password, "?tds_version=7.0")
    assert password_forms(password)["login7"] in server.received
