"""The TLS policy for CI Office's SQL Server (pymssql over FreeTDS).

Every connection to a SQL Server that is not on this machine is encrypted before the login is sent,
and the server's certificate is checked:

- TDS 7.4 and `encryption=require`: TLS is negotiated in PRELOGIN, before LOGIN7 (which carries the
  password, only obfuscated), or the connection fails. Below 7.1 there is no PRELOGIN at all and the
  login goes out in clear, so any `tds_version` under 7.4 is refused.
- The certificate is validated, host name included, against the tenant's own CA (`ca_bundle_pem` in
  its secret, for a server certificate from the office's private CA) or else the public CAs that
  ship with the layer (certifi). FreeTDS takes this from a configuration file only: the shipped
  `freetds.conf.in` is filled with the CA file and pointed to by FREETDSCONF. That variable is
  process-wide, which fits: a Lambda function serves one tenant (templates/tenant.yaml).
- URL options that would weaken this (`tds_version` below 7.4, `encrypt`/`encryption` off,
  `trust_server_certificate`) and `ci_office.encrypt: false` are refused with a configuration error
  naming the option, unless the host is loopback (a local test server or an SSH tunnel's end).
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import certifi
from sqlalchemy.engine import URL

from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.transport_policy import transport_problem

FREETDS_TEMPLATE = Path(__file__).with_name("freetds.conf.in")
FREETDSCONF = "FREETDSCONF"  # FreeTDS reads its configuration file from here on every login


def _query(url: URL) -> dict[str, str]:
    """The URL's query options, names lower-cased, last value of a repeated option."""
    out: dict[str, str] = {}
    for name, value in url.query.items():
        values = value if isinstance(value, tuple) else (value,)
        out[name.lower()] = str(values[-1]).strip().lower() if values else ""
    return out


def check_mssql_transport(url: URL, encrypt: bool) -> None:
    """Raise ConfigurationError for a URL the policy (`transport_policy.py`) refuses."""
    problem = transport_problem(url.host or "", _query(url), encrypt)
    if problem:
        raise ConfigurationError(f"CI Office url: {problem}")


def mssql_connect_args(url: URL, encrypt: bool, ca_bundle_pem: str | None) -> dict[str, Any]:
    """pymssql's connection arguments for this URL under the policy above (checked first). Options
    the URL sets itself are left to it (they only get here on loopback)."""
    check_mssql_transport(url, encrypt)
    query = _query(url)
    args: dict[str, Any] = {}
    if "tds_version" not in query:
        args["tds_version"] = "7.4"
    if not {"encrypt", "encryption"} & set(query):
        # FreeTDS "require": TLS before the login, or no connection. "off" only gets here on loopback.
        args["encryption"] = "require" if encrypt else "off"
    os.environ[FREETDSCONF] = str(freetds_conf(ca_bundle_pem))
    return args


def freetds_conf(ca_bundle_pem: str | None) -> Path:
    """A FreeTDS configuration (the shipped template filled in) whose CA file is the tenant's PEM or
    the public CAs shipped with the layer. Written once per CA, readable by this user only."""
    # Per user: on a shared machine another user's directory of the same name must not be reused.
    directory = Path(tempfile.gettempdir()) / f"kudos-sync-freetds-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    if ca_bundle_pem:
        digest = _digest(ca_bundle_pem)
        ca_file = directory / f"ca-{digest}.pem"
        _write_private(ca_file, ca_bundle_pem)
    else:
        digest, ca_file = "public", Path(certifi.where())
    conf = directory / f"freetds-{digest}.conf"
    _write_private(conf, FREETDS_TEMPLATE.read_text(encoding="ascii").format(ca_file=ca_file))
    return conf


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
