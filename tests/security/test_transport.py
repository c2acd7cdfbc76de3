"""Transport security: TLS verification on by default for Magento and SQL Server, and a plain-http
Magento URL refused unless it is loopback, through the settings loader, the composition root and the
`kudos-sync` command line."""

import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pymssql
import pytest
import requests
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.cli import app
from kudos_sync.config import CiOfficeSettings, MagentoSettings, SyncSettings, TenantConfig
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.magento.client import MagentoClient
from kudos_sync.service import tenant_adapters
from pydantic import SecretStr
from typer.testing import CliRunner

from sandbox.aws import LocalAws

PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUKudosTestOnlyNotARealCertificate0wCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n"
)


class RecordingSession(requests.Session):
    """Answers every request with `[]` and remembers the TLS settings it was sent with."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append({"url": request.url, **kwargs})
        response = requests.Response()
        response.status_code = 200
        response._content = b"[]"
        response.headers["Content-Type"] = "application/json"
        response.request = request
        return response


def _magento(**settings: Any) -> MagentoSettings:
    return MagentoSettings.model_validate(
        {"base_url": "https://shop.example.com", "auth": {"kind": "bearer", "token": "t"}, **settings}
    )


def _tenant_payload(base_url: str, ci_url: str = "sqlite:///ci.db", **ci: Any) -> dict[str, Any]:
    return {
        "magento": {
            "base_url": base_url,
            "auth": {
                "kind": "oauth",
                "consumer_key": secrets.token_hex(8),
                "consumer_secret": secrets.token_hex(8),
                "access_token": secrets.token_hex(8),
                "access_token_secret": secrets.token_hex(8),
            },
        },
        "ci_office": {"url": ci_url, **ci},
        "branch_sources": {"WEB": "web"},
    }


def _tenant() -> str:
    return f"tls-{secrets.token_hex(4)}"


# ---------------------------------------------------------------- Magento TLS


def test_given_default_settings_then_every_magento_request_verifies_tls() -> None:
    session = RecordingSession()
    client = MagentoClient(_magento(), SyncSettings(), session=session)
    client.get("/V1/store/storeViews")
    assert session.sent and all(sent["verify"] is True for sent in session.sent)
    assert session.verify is True
    assert session.sent[0]["url"].startswith("https://")


def test_given_a_private_ca_then_requests_verify_against_that_bundle_only() -> None:
    session = RecordingSession()
    client = MagentoClient(_magento(ca_bundle_pem=PEM), SyncSettings(), session=session)
    client.get("/V1/store/storeViews")
    bundle = session.sent[0]["verify"]
    assert isinstance(bundle, str) and Path(bundle).read_text(encoding="ascii") == PEM
    client.close()
    assert not Path(bundle).exists(), "the CA bundle file outlived the client"


def test_given_verification_switched_off_on_loopback_then_it_is_off_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = RecordingSession()
    with caplog.at_level("WARNING"):
        client = MagentoClient(
            _magento(base_url="https://127.0.0.1:8443", verify_tls=False), SyncSettings(), session=session
        )
    client.get("/V1/store/storeViews")
    assert session.sent[0]["verify"] is False
    assert "verification is OFF" in caplog.text


@pytest.mark.parametrize("host", ["shop.example.com", "10.0.0.8", "127.0.0.1.nip.io"])
def test_given_verification_switched_off_off_loopback_then_the_settings_are_refused(host: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        TenantConfig.from_secret(
            "acme",
            _tenant_payload(f"https://{host}")
            | {"magento": {**_tenant_payload(f"https://{host}")["magento"], "verify_tls": False}},
        )
    assert "verify_tls" in str(raised.value) and "ca_bundle_pem" in str(raised.value)


@pytest.mark.parametrize(
    "base_url",
    ["https://admin:hunter2@shop.example.com", "https://token@shop.example.com", "http://u:p@127.0.0.1"],
)
def test_given_credentials_in_the_magento_url_then_refused_without_echoing_them(base_url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        TenantConfig.from_secret("acme", _tenant_payload(base_url))
    message = str(raised.value)
    assert "magento.base_url" in message and "credentials" in message
    assert "hunter2" not in message and "token@" not in message


def test_given_a_tenant_secret_when_the_composition_root_builds_the_client_then_it_verifies_tls(
    local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = _tenant()
    local_aws.put_tenant_secret(tenant, _tenant_payload("https://shop.example.com"))
    sent: list[dict[str, Any]] = []

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(kwargs)
        return RecordingSession.send(RecordingSession(), request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    with tenant_adapters(tenant) as adapters:
        adapters.magento.get("/V1/store/storeViews")
        assert adapters.magento.session.verify is True
    assert sent and sent[0]["verify"] is True


# ---------------------------------------------------------------- SQL Server encryption


@pytest.fixture
def pymssql_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """pymssql.connect replaced: records the connection arguments, then refuses (no server needed)."""
    calls: list[dict[str, Any]] = []

    def connect(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        raise pymssql.OperationalError(20009, b"DB-Lib error message 20009: unable to connect (test)")

    monkeypatch.setattr(pymssql, "connect", connect)
    yield calls


def _try_connect(settings: CiOfficeSettings) -> None:
    engine = create_ci_office_engine(settings)
    try:
        with pytest.raises(Exception), engine.connect():  # noqa: B017 (the fake refuses every connection)
            pass
    finally:
        engine.dispose()


def test_given_default_settings_then_sql_server_connections_require_encryption(
    pymssql_calls: list[dict[str, Any]],
) -> None:
    settings = CiOfficeSettings(url=SecretStr("mssql+pymssql://kudos:pw@ci.example.com:1433/ci"))
    assert settings.encrypt is True
    _try_connect(settings)
    assert pymssql_calls and pymssql_calls[0].get("encryption") == "require"
    assert str(pymssql_calls[0].get("host")).startswith("ci.example.com")


def test_given_default_settings_then_tds_74_and_the_shipped_freetds_conf_with_public_cas(
    pymssql_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FREETDSCONF", raising=False)
    _try_connect(CiOfficeSettings(url=SecretStr("mssql+pymssql://kudos:pw@ci.example.com/ci")))
    assert pymssql_calls[0]["tds_version"] == "7.4"
    conf = Path(os.environ["FREETDSCONF"]).read_text()
    assert "encryption = require" in conf and "check certificate hostname = yes" in conf
    assert f"ca file = {certifi.where()}" in conf


def test_given_the_tenants_ca_then_freetds_validates_the_server_against_it_only(
    pymssql_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FREETDSCONF", raising=False)
    settings = CiOfficeSettings(
        url=SecretStr("mssql+pymssql://kudos:pw@ci.example.com/ci"), ca_bundle_pem=PEM
    )
    _try_connect(settings)
    conf = Path(os.environ["FREETDSCONF"])
    [ca_line] = [line for line in conf.read_text().splitlines() if line.strip().startswith("ca file")]
    ca_file = Path(ca_line.split("=", 1)[1].strip())
    assert ca_file.read_text() == PEM and ca_file != Path(certifi.where())
    assert oct(conf.stat().st_mode & 0o777) == "0o600" and oct(ca_file.stat().st_mode & 0o777) == "0o600"


WEAKENING = [
    ("?tds_version=7.0", {}, "tds_version=7.0"),
    ("?tds_version=7.3", {}, "tds_version=7.3"),
    ("?tds_version=auto", {}, "tds_version=auto"),
    ("?encrypt=false", {}, "encrypt=false"),
    ("?encryption=off", {}, "encryption=off"),
    ("?Encryption=Request", {}, "encryption=request"),
    ("?TrustServerCertificate=yes", {}, "trustservercertificate=yes"),
    ("?trust_server_certificate=true", {}, "trust_server_certificate=true"),
    ("", {"encrypt": False}, "ci_office.encrypt=false"),
]


@pytest.mark.parametrize(("query", "settings", "named"), WEAKENING)
def test_given_an_option_that_weakens_tls_off_loopback_then_refused_naming_it(
    query: str, settings: dict[str, Any], named: str, pymssql_calls: list[dict[str, Any]]
) -> None:
    password = secrets.token_hex(8)
    payload = _tenant_payload(
        "https://shop.example.com", f"mssql+pymssql://kudos:{password}@ci.example.com/ci{query}"
    )
    payload["ci_office"].update(settings)
    with pytest.raises(ConfigurationError) as raised:
        TenantConfig.from_secret("acme", payload)
    message = str(raised.value)
    assert named in message and "loopback" in message
    assert password not in message
    # The engine refuses it too, should settings reach it another way.
    url = SecretStr(f"mssql+pymssql://kudos:{password}@ci.example.com/ci{query}")
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        create_ci_office_engine(
            CiOfficeSettings.model_construct(
                url=url, encrypt=settings.get("encrypt", True), ca_bundle_pem=None, login_timeout_seconds=2
            )
        )
    assert not pymssql_calls


@pytest.mark.parametrize(("query", "settings", "named"), WEAKENING)
def test_given_the_same_option_on_loopback_then_it_is_allowed(
    query: str, settings: dict[str, Any], named: str
) -> None:
    payload = _tenant_payload(
        "https://shop.example.com", f"mssql+pymssql://kudos:pw@127.0.0.1:1433/ci{query}"
    )
    payload["ci_office"].update(settings)
    assert TenantConfig.from_secret("acme", payload).ci_office.encrypt is settings.get("encrypt", True)


def test_given_tds_80_or_strict_encryption_off_loopback_then_accepted() -> None:
    for query in ("?tds_version=8.0", "?encryption=strict", "?tds_version=7.4&encryption=require"):
        url = f"mssql+pymssql://kudos:pw@ci.example.com/ci{query}"
        assert TenantConfig.from_secret("acme", _tenant_payload("https://shop.example.com", url))


def test_given_a_tenant_secret_when_the_composition_root_builds_the_engine_then_it_requires_encryption(
    local_aws: LocalAws, pymssql_calls: list[dict[str, Any]]
) -> None:
    tenant = _tenant()
    local_aws.put_tenant_secret(
        tenant, _tenant_payload("https://shop.example.com", "mssql+pymssql://kudos:pw@ci.example.com/ci")
    )
    with tenant_adapters(tenant) as adapters, pytest.raises(Exception), adapters.ci_office_engine().connect():  # noqa: B017
        pass
    assert pymssql_calls[0].get("encryption") == "require"


# ---------------------------------------------------------------- https only (but loopback)

REFUSED = (
    "http://shop.example.com",
    "HTTP://SHOP.EXAMPLE.COM",
    "http://127.0.0.1.nip.io",
    "http://localhost.example.com",
    "http://10.0.0.8:8080",
    "ftp://shop.example.com",
    "shop.example.com",
)
ALLOWED = ("https://shop.example.com", "http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080")


@pytest.mark.parametrize("url", REFUSED)
def test_given_a_non_https_magento_url_when_loaded_then_it_is_refused_without_echoing_it(url: str) -> None:
    token = secrets.token_hex(6)
    with pytest.raises(ConfigurationError) as raised:
        TenantConfig.from_secret("acme", _tenant_payload(f"{url}/{token}"))
    message = str(raised.value)
    assert "magento.base_url" in message
    assert token not in message


@pytest.mark.parametrize("url", ALLOWED)
def test_given_https_or_loopback_when_loaded_then_it_is_accepted(url: str) -> None:
    assert TenantConfig.from_secret("acme", _tenant_payload(url)).magento.base_url == url


@pytest.mark.parametrize("command", ["check", "run"])
def test_given_a_stored_http_url_when_the_cli_runs_then_it_stops_before_any_request(
    local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    tenant = _tenant()
    token = secrets.token_hex(6)
    local_aws.put_tenant_secret(tenant, _tenant_payload(f"http://shop.example.com/{token}"), validate=False)
    sent: list[str] = []
    monkeypatch.setattr(requests.Session, "send", lambda self, request, **kw: sent.append(request.url))
    args = [command, "--tenant", tenant] + (["--direction", "push"] if command == "run" else [])

    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})

    assert result.exit_code != 0
    assert "base_url" in result.output and "https" in result.output, result.output
    assert token not in result.output
    assert not sent, f"a request went out: {sent}"


def test_given_a_stored_loopback_http_url_when_loaded_from_secrets_manager_then_it_is_accepted(
    local_aws: LocalAws,
) -> None:
    tenant = _tenant()
    local_aws.put_tenant_secret(tenant, _tenant_payload("http://127.0.0.1:8080"))
    with tenant_adapters(tenant) as adapters:
        assert adapters.config.magento.base_url == "http://127.0.0.1:8080"
    assert json.dumps({"ok": True})
