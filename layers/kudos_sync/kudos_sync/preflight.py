"""`kudos-sync check`: onboarding preflight for a tenant. Each finding says what to fix.

Reads only: the secret (already parsed by the caller), Magento (store views, attributes, MSI sources,
root category) and CI Office (tables, web branch, tender types, cash-sale customer, and the database
itself: version, collation, isolation options, lock timeout, rights, reference tables and keys).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from kudos_sync.ci_office import schema as ci
from kudos_sync.ci_office.errors import classify as classify_db_error
from kudos_sync.ci_office.errors import translate as translate_db_error
from kudos_sync.ci_office.server import ServerFacts, describe_server, schema_problems
from kudos_sync.config import GuestPolicy, OAuthAuth, TenantConfig
from kudos_sync.domain.errors import ConfigurationError, SyncError, TransientError
from kudos_sync.magento.auth import BearerSigner, OAuthSigner, RequestSigner, bearer_for
from kudos_sync.magento.client import MagentoClient
from kudos_sync.magento.errors import MagentoConfigurationError


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""


def _attempt(
    check: str, fix: str, probe: Callable[[], tuple[bool, str]], *, system: "System | None" = None
) -> Finding:
    """Run one probe. The fix suggested fits the failure: a network fix when the system did not answer,
    a credentials fix when it refused the login, else `fix` (the store's or database's setup)."""
    try:
        ok, detail = probe()
    except SyncError as exc:
        return Finding(check, False, str(exc), _fix_for(exc, system, fix))
    except Exception as exc:  # a preflight reports every problem rather than stopping at the first
        mapped = translate_db_errors_of(exc) if system is System.CI_OFFICE else None
        if mapped is not None:
            return Finding(check, False, str(mapped), _fix_for(mapped, system, fix))
        return Finding(check, False, f"{type(exc).__name__}: {exc}", fix)
    return Finding(check, ok, detail, "" if ok else fix)


class System(StrEnum):
    MAGENTO = "magento"
    CI_OFFICE = "ci_office"


NETWORK_FIX = {
    System.MAGENTO: "Magento did not answer: check magento.base_url, DNS and that this machine (and the "
    "functions' VPC/NAT) can reach the store on 443; retry when the store is up",
    System.CI_OFFICE: "SQL Server did not answer: check the host and port in ci_office.url, the VPN or "
    "Direct Connect, and that the firewall lets this machine (and the VPC) reach port 1433",
}
CREDENTIALS_FIX = {
    System.MAGENTO: "Magento refused the credentials: check the integration is active and its four OAuth "
    "keys are in magento.auth (bearer tokens need Stores > Configuration > Services > OAuth > Allow "
    "OAuth Access Tokens to be used as standalone Bearer tokens) and that it is granted the APIs named",
    System.CI_OFFICE: "SQL Server refused the login: check the user, password and database in "
    "ci_office.url and that the login may read the catalogue",
}


# magento/errors.py's reasons for a refused login or a missing grant.
CREDENTIAL_REASONS = frozenset({"unauthenticated", "not_authorized", "credentials_rejected", "forbidden"})


def _fix_for(exc: SyncError, system: "System | None", setup_fix: str) -> str:
    if system is None:
        return setup_fix
    if isinstance(exc, TransientError):
        return NETWORK_FIX[system]
    reason = getattr(exc, "reason", "")
    if isinstance(exc, ConfigurationError) and (reason in CREDENTIAL_REASONS or system is System.CI_OFFICE):
        return CREDENTIALS_FIX[system]
    return setup_fix


def translate_db_errors_of(exc: Exception) -> SyncError | None:
    """A CI Office driver error as the sync's failure class (ci_office/errors.py is the table)."""
    if classify_db_error(exc) is None:
        return None
    return translate_db_error(exc, "connecting for the preflight", ConfigurationError)


def check_magento(config: TenantConfig, magento: MagentoClient) -> list[Finding]:
    settings = config.magento
    findings: list[Finding] = []

    def store_views() -> tuple[bool, str]:
        views: list[dict[str, Any]] = magento.get("/V1/store/storeViews", record="store views")
        codes = sorted(str(v.get("code")) for v in views)
        return settings.store_code in codes, f"store views {codes}; configured {settings.store_code!r}"

    findings.append(
        _attempt(
            "magento credentials and store code",
            "check the integration is active and its four OAuth keys are in the secret (bearer tokens need "
            "Stores > Configuration > Services > OAuth > Allow OAuth Access Tokens to be used as standalone "
            "Bearer tokens); set magento.store_code to one of the store views listed",
            store_views,
            system=System.MAGENTO,
        )
    )
    if not findings[-1].ok and findings[-1].fix in (
        NETWORK_FIX[System.MAGENTO],
        CREDENTIALS_FIX[System.MAGENTO],
    ):
        return findings  # the other Magento checks would only repeat it (and suggest the wrong fix)
    for code in (settings.colour_attribute, settings.size_attribute):

        def attribute(code: str = code) -> tuple[bool, str]:
            found = magento.get(
                "/V1/products/attributes/{code}", path={"code": code}, record=f"attribute {code}"
            )
            return True, f"attribute {code!r} has id {found.get('attribute_id')}"

        findings.append(
            _attempt(
                f"magento attribute {code}",
                f"create a dropdown attribute {code!r} in Magento, "
                "or set magento.colour_attribute / magento.size_attribute",
                attribute,
            )
        )

    def sources() -> tuple[bool, str]:
        found = magento.get(
            "/V1/inventory/sources", query=[("searchCriteria[pageSize]", "500")], record="sources"
        )
        codes = {str(item.get("source_code")) for item in found.get("items", [])}
        missing = sorted(set(config.branch_sources.values()) - codes)
        return not missing, f"missing MSI sources {missing}" if missing else f"MSI sources {sorted(codes)}"

    findings.append(
        _attempt(
            "magento MSI sources", "create the missing sources in Magento or fix branch_sources", sources
        )
    )

    def root_category() -> tuple[bool, str]:
        found = magento.get(
            "/V1/categories/{id}", path={"id": settings.root_category_id}, record="root category"
        )
        return True, f"root category {settings.root_category_id} is {found.get('name')!r}"

    findings.append(
        _attempt(
            "magento root category", "set magento.root_category_id to an existing category", root_category
        )
    )
    return findings


def check_ci_office(config: TenantConfig, engine: Engine) -> list[Finding]:
    findings: list[Finding] = []
    expected = sorted(table.name for table in ci.metadata.sorted_tables)

    def tables() -> tuple[bool, str]:
        present = set(inspect(engine).get_table_names())
        missing = [name for name in expected if name not in present]
        return not missing, f"missing tables {missing}" if missing else f"{len(expected)} tables present"

    findings.append(
        _attempt(
            "ci office connection and tables",
            "check ci_office.url (host, port 1433, database, login) and that the VPC can reach SQL Server; "
            "the tables named are the ones kudos_sync/ci_office/schema.py maps",
            tables,
            system=System.CI_OFFICE,
        )
    )
    if not findings[-1].ok:
        return findings

    def web_branch() -> tuple[bool, str]:
        with engine.connect() as conn:
            codes = set(conn.execute(select(ci.branches.c.code)).scalars())
        unmapped = sorted(set(config.branch_sources) - codes)
        ok = config.ci_office.web_branch in codes and not unmapped
        return (
            ok,
            f"branches {sorted(codes)}; web branch {config.ci_office.web_branch!r}; "
            f"unknown in branch_sources {unmapped}",
        )

    findings.append(
        _attempt(
            "ci office branches", "fix ci_office.web_branch or branch_sources to name CI branches", web_branch
        )
    )

    def tenders() -> tuple[bool, str]:
        with engine.connect() as conn:
            codes = set(conn.execute(select(ci.tender_types.c.code)).scalars())
        missing = sorted(set(config.payment_mapping.values()) - codes)
        return (
            not missing,
            f"unknown tender types {missing}"
            if missing
            else f"{len(config.payment_mapping)} payment methods mapped",
        )

    findings.append(
        _attempt("ci office tender types", "map Magento payment methods to existing CI tender types", tenders)
    )
    if config.guest_policy is GuestPolicy.CASH_SALE:

        def cash_sale() -> tuple[bool, str]:
            with engine.connect() as conn:
                found = conn.execute(
                    select(ci.customers.c.code).where(ci.customers.c.code == config.cash_sale_customer_code)
                ).first()
            return found is not None, f"cash-sale customer {config.cash_sale_customer_code!r}"

        findings.append(
            _attempt(
                "ci office cash-sale customer",
                "create the customer or fix cash_sale_customer_code",
                cash_sale,
            )
        )
    return findings + check_sql_server(config, engine)


def check_sql_server(config: TenantConfig, engine: Engine) -> list[Finding]:
    """The database behind CI Office (SQL Server in production; on PostgreSQL and SQLite what
    applies): its version, collation, isolation options and lock timeout are reported with advice;
    missing rights and reference tables or unique keys not as expected are problems to fix."""
    reach = "check ci_office.url and the login's rights"
    try:
        facts = describe_server(engine)
    except SyncError as exc:
        return [Finding("ci office server", False, str(exc), reach)]
    except Exception as exc:  # a preflight reports rather than stops
        return [Finding("ci office server", False, type(exc).__name__, reach)]
    findings = [
        Finding("ci office server", True, f"{facts.dialect} {facts.version}"),
        _collation_finding(facts),
        _isolation_finding(facts, config.ci_office.lock_timeout_seconds),
    ]
    if facts.lock_timeout_ms is not None:
        wanted = config.ci_office.lock_timeout_seconds * 1000
        ok = facts.lock_timeout_ms == wanted
        findings.append(
            Finding(
                "ci office lock timeout",
                ok,
                f"{facts.lock_timeout_ms} ms on the sync's connections (configured {wanted} ms)",
                ""
                if ok
                else "something resets the session's options (a proxy, a logon trigger): let it stand",
            )
        )
    missing = ", ".join(facts.missing_rights)
    findings.append(
        Finding(
            "ci office rights",
            not missing,
            f"missing {missing}" if missing else "the login has the rights the sync needs",
            "GRANT them to the sync's login (docs/operations.md, SQL Server checklist)" if missing else "",
        )
    )
    return findings + _schema_findings(engine)


def _collation_finding(facts: ServerFacts) -> Finding:
    case = "case-insensitive" if facts.case_insensitive else "case-sensitive"
    advice = ""
    if facts.dialect == "mssql" and not facts.case_insensitive:
        advice = (
            "CI Office normally runs a _CI_ collation; here SKUs that differ only in case are two codes to "
            "CI Office and one to Magento, so the push parks them: have the retailer rename such SKUs"
        )
    detail = f"{facts.collation} ({case}); the sync compares codes ignoring case and trailing spaces"
    return Finding("ci office collation", True, detail, advice)


def _isolation_finding(facts: ServerFacts, lock_timeout_seconds: int) -> Finding:
    waits = f"a read waits for a till's lock at most {lock_timeout_seconds} s, then the next run retries"
    never = "reads see the last committed rows and never wait for the tills"
    if facts.dialect != "mssql":
        return Finding("ci office reads and tills", True, never if facts.reads_versioned else waits)
    options = (
        f"READ_COMMITTED_SNAPSHOT {'ON' if facts.read_committed_snapshot else 'OFF'}, "
        f"ALLOW_SNAPSHOT_ISOLATION {facts.snapshot_isolation}"
    )
    advice = (
        ""
        if facts.reads_versioned
        else "recommended, with the retailer's DBA at a quiet time: ALTER DATABASE CURRENT SET "
        "READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE (reads then neither wait for nor block the tills)"
    )
    detail = f"{options}: {never if facts.reads_versioned else waits}"
    return Finding("ci office reads and tills", True, detail, advice)


def _schema_findings(engine: Engine) -> list[Finding]:
    check = "ci office reference schema"
    try:
        problems = schema_problems(engine)
    except Exception as exc:  # a preflight reports rather than stops
        return [Finding(check, False, f"the tables could not be inspected ({type(exc).__name__})", "")]
    if not problems:
        return [Finding(check, True, "tables, columns and unique keys as expected")]
    return [Finding(check, False, problem.problem, problem.fix) for problem in problems]


SUPPORTED_RELEASES = "2.4.2 to 2.4.7"
_RELEASE_PROBE = "/V1/store/storeViews"


def check_magento_version(config: TenantConfig, magento: MagentoClient) -> list[Finding]:
    """Which release line the store behaves as, told from what it accepts.

    Magento never reports its patch level over REST, but 2.4.4 changed two things the service meets:
    HMAC-SHA1 signatures are refused (2.4.2 and 2.4.3 accept them beside HMAC-SHA256) and an integration
    token works as a bearer token only when the store allows it (always before 2.4.4). One probe per
    question, on a cheap read; the run itself always signs with HMAC-SHA256, which every release takes.
    """
    settings = config.magento
    auth = settings.auth

    def accepted(signer: RequestSigner) -> bool:
        probe = MagentoClient(settings, magento.sync, session=magento.session, signer=signer)
        try:
            probe.get(_RELEASE_PROBE, record="release probe")
        except MagentoConfigurationError as exc:
            if exc.status in (400, 401):
                return False
            raise
        finally:
            probe.close()
        return True

    def release() -> tuple[bool, str]:
        if isinstance(auth, OAuthAuth):
            sha1 = accepted(OAuthSigner(auth, "HMAC-SHA1"))
            bearer = accepted(bearer_for(auth))
            line = (
                "2.4.2 or 2.4.3 (HMAC-SHA1 still accepted)" if sha1 else "2.4.4 or newer (HMAC-SHA1 refused)"
            )
            as_bearer = "also works" if bearer else "does not work"
            return (
                True,
                f"Magento {line}; signing HMAC-SHA256; the token alone {as_bearer} as a bearer token",
            )
        if accepted(BearerSigner(auth)):
            return True, "bearer token accepted (2.4.2/2.4.3, or 2.4.4+ allowing standalone bearer tokens)"
        return False, "bearer token refused: Magento 2.4.4+ that does not allow standalone bearer tokens"

    return [
        _attempt(
            f"magento release ({SUPPORTED_RELEASES} supported)",
            "on 2.4.4+ set Stores > Configuration > Services > OAuth > Consumer Settings > Allow OAuth "
            "Access Tokens to be used as standalone Bearer tokens to Yes, or store the four OAuth "
            "credentials instead",
            release,
        )
    ]


# Orders read to find the payment methods a store takes: the most recent ones, one page.
PAYMENT_SAMPLE_ORDERS = 200
PAYMENT_SAMPLE_DAYS = 90


def recent_payment_methods(magento: MagentoClient, now_iso: str) -> dict[str, int]:
    """Payment method codes of the store's most recent orders (at most PAYMENT_SAMPLE_ORDERS, created
    since `now_iso`), with how many orders used each."""
    found = magento.get(
        "/V1/orders",
        query=[
            ("searchCriteria[filter_groups][0][filters][0][field]", "created_at"),
            ("searchCriteria[filter_groups][0][filters][0][value]", now_iso),
            ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gteq"),
            ("searchCriteria[sortOrders][0][field]", "created_at"),
            ("searchCriteria[sortOrders][0][direction]", "DESC"),
            ("searchCriteria[pageSize]", str(PAYMENT_SAMPLE_ORDERS)),
            ("searchCriteria[currentPage]", "1"),
        ],
        record="recent orders",
    )
    methods: dict[str, int] = {}
    for order in found.get("items") or []:
        payment = order.get("payment") if isinstance(order, dict) else None
        method = payment.get("method") if isinstance(payment, dict) else None
        if method:
            methods[str(method)] = methods.get(str(method), 0) + 1
    return methods


def check_payment_mapping(config: TenantConfig, magento: MagentoClient) -> list[Finding]:
    """Fails on an empty mapping, or one missing a payment method the store's recent orders used: the
    first pull would park every such invoice."""
    from kudos_sync.clock import SystemClock

    since = (SystemClock().now() - timedelta(days=PAYMENT_SAMPLE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")

    def mapping() -> tuple[bool, str]:
        methods = recent_payment_methods(magento, since)
        mapped = set(config.payment_mapping)
        missing = sorted(set(methods) - mapped)
        seen = ", ".join(f"{m} ({n})" for m, n in sorted(methods.items())) or "none"
        if not mapped:
            return False, f"payment_mapping is empty; methods in recent orders: {seen}"
        if missing:
            return False, f"no tender for {missing} (seen in recent orders: {seen})"
        return True, f"{len(mapped)} methods mapped; recent orders used: {seen}"

    return [
        _attempt(
            "payment mapping",
            'add each method to payment_mapping in the secret, e.g. "payment_mapping": '
            '{"checkmo": "BANK"}, with a CI tender code (tender types in CI Office); invoices paid by an '
            "unmapped method are parked by the pull",
            mapping,
            system=System.MAGENTO,
        )
    ]
