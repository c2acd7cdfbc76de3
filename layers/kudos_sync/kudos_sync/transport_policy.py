"""The TLS policy for a SQL Server connection, as pure rules over the URL's parts: which options would
weaken encryption, and when that is refused (off loopback). The settings check it when a secret is
loaded (`config.py`) and the CI Office adapter again when it connects (`ci_office/transport.py`), so
both name the same options the same way. No SQLAlchemy here: the settings must not import an adapter.
"""

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from kudos_sync.loopback import is_loopback

MIN_TDS_VERSION = (7, 4)

_OFF = frozenset({"false", "off", "no", "0", "request", "optional"})
_ON = frozenset({"true", "on", "yes", "1"})
_TRUST_OPTIONS = frozenset({"trustservercertificate", "trust_server_certificate", "trust-server-certificate"})
_TDS_VERSION = re.compile(r"^(\d+)\.(\d+)$")


def url_parts(raw_url: str) -> tuple[str, str, dict[str, str]]:
    """(backend, host, query options) of a database URL such as `mssql+pymssql://u:p@host:1433/db?x=y`:
    the backend is the scheme before `+`, option names lower-cased, the last of a repeated option."""
    parts = urlsplit(raw_url)
    backend = parts.scheme.split("+", 1)[0].lower()
    query = {name.lower(): value.strip().lower() for name, value in parse_qsl(parts.query)}
    return backend, parts.hostname or "", query


def weakening_options(query: Mapping[str, str], encrypt: bool) -> list[str]:
    """Each option (names lower-cased) or setting that would weaken TLS, as a sentence naming it."""
    found: list[str] = []
    tds = query.get("tds_version")
    if tds is not None:
        match = _TDS_VERSION.match(tds)
        if not match or (int(match.group(1)), int(match.group(2))) < MIN_TDS_VERSION:
            found.append(f"tds_version={tds} (TLS needs TDS 7.4 or later)")
    for name in ("encrypt", "encryption"):
        if query.get(name) in _OFF:
            found.append(f"{name}={query[name]} (encryption must be required)")
    for name in sorted(_TRUST_OPTIONS & set(query)):
        if query[name] in _ON:
            found.append(f"{name}={query[name]} (the server certificate must be validated)")
    if not encrypt:
        found.append("ci_office.encrypt=false (encryption must be required)")
    return found


def transport_problem(host: str, query: Mapping[str, str], encrypt: bool) -> str | None:
    """Why a SQL Server at `host` with these options is refused, or None: options that weaken TLS,
    unless the host is loopback. Names the options, never the URL (it holds the password)."""
    if is_loopback(host):
        return None
    found = weakening_options(query, encrypt)
    if not found:
        return None
    return (
        "; ".join(found)
        + " refused: TLS to a SQL Server off this machine is required (allowed on loopback only)"
    )
