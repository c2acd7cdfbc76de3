"""Local AWS for tests, the demo and benchmarks: moto in server mode on 127.0.0.1.

The code under test reaches it through AWS_ENDPOINT_URL, exactly as it reaches AWS, so the adapters'
production paths run. The state table is built from the StateTable resource in template.yaml (never a
second copy of its keys), so tests cannot drift from the stack.

    with LocalAws() as aws:                  # one moto server; env set; table and bucket created
        store = aws.clients().state_store("acme")
        table = aws.new_table()               # a fresh, empty table from the template: cheap

For pytest, wrap the plain generator functions below in fixtures, one moto server per worker:

    local_aws = pytest.fixture(scope="session", name="local_aws")(local_aws_session)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import boto3
from cfnlint.decode import decode_str
from kudos_sync.aws.clients import IMAGE_BUCKET_ENV, STATE_TABLE_ENV, AwsClients, aws_clients
from kudos_sync.aws.secrets import clear_secret_cache, store_tenant_secret
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"
STATE_TABLE_RESOURCE = "StateTable"
REGION = "us-east-1"

_GSI_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
_DEFAULT_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


class StateTableDefinition:
    """The StateTable resource of template.yaml as CreateTable arguments plus its TTL attribute."""

    def __init__(self, create_table_args: dict[str, Any], ttl_attribute: str | None) -> None:
        self.create_table_args = create_table_args
        self.ttl_attribute = ttl_attribute

    @property
    def key_schema(self) -> list[dict[str, str]]:
        return list(self.create_table_args["KeySchema"])


def _plain(value: Any) -> Any:
    """cfn-lint's decoded nodes (dict_node, str_node) as plain Python values."""
    return json.loads(json.dumps(value))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml decoded with cfn-lint's loader, which understands !Ref, !Sub, !GetAtt and friends."""
    template, problems = decode_str(path.read_text(encoding="utf-8"))
    if template is None:
        raise ValueError(f"{path} does not parse: {[str(p) for p in problems]}")
    return dict(template)


def state_table_definition(template: Mapping[str, Any] | None = None) -> StateTableDefinition:
    """CreateTable arguments (without TableName) taken from the StateTable resource."""
    template = load_template() if template is None else template
    resource = template.get("Resources", {}).get(STATE_TABLE_RESOURCE)
    if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"template has no AWS::DynamoDB::Table resource named {STATE_TABLE_RESOURCE}")
    props = _plain(resource["Properties"])
    billing = props.get("BillingMode")
    # An intrinsic (e.g. !Ref BillingMode) cannot be resolved here; on-demand is the stack's default.
    billing = billing if isinstance(billing, str) else "PAY_PER_REQUEST"
    args: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": billing,
    }
    indexes = []
    for index in props.get("GlobalSecondaryIndexes", []):
        spec = {key: index[key] for key in _GSI_KEYS if key in index}
        if billing == "PROVISIONED":
            spec.setdefault("ProvisionedThroughput", _DEFAULT_THROUGHPUT)
        indexes.append(spec)
    if indexes:
        args["GlobalSecondaryIndexes"] = indexes
    if billing == "PROVISIONED":
        args["ProvisionedThroughput"] = props.get("ProvisionedThroughput", _DEFAULT_THROUGHPUT)
    ttl = props.get("TimeToLiveSpecification") or {}
    ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled", False) is True else None
    return StateTableDefinition(args, ttl_attribute)


class _HostCachingDispatcher(DomainDispatcherApplication):
    """moto resolves the Host header by listing its own package directory (a hundred-odd stat calls)
    on every request; that CPU competed with the code being measured. The answer for a host never
    changes, so it is kept."""

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backend_of_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backend_of_host:
            self._backend_of_host[host] = super().get_backend_for_host(host)
        return self._backend_of_host[host]


class _SerialMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer that handles one request at a time.

    moto checks a ConditionExpression and then writes, without a lock, so two threads can both pass
    the same condition: real DynamoDB never allows that, and the lease contract depends on it. Serving
    requests one at a time restores DynamoDB's atomic conditional writes (moto is GIL-bound anyway).
    Overrides a private method of moto's server: revisit if a moto upgrade changes it.
    """

    def _server_entry(self) -> None:
        app = _HostCachingDispatcher(create_backend_app)
        lock = threading.Lock()

        def serial_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            self._ip_address, self._port, serial_app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def _free_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class LocalAws:
    """moto server on 127.0.0.1 (a free port), the environment pointing at it, a state table built from
    template.yaml and an image bucket. The previous environment is restored on exit."""

    def __init__(self, *, template_path: Path = TEMPLATE_PATH, port: int = 0) -> None:
        self._template_path = template_path
        self._port = port
        self._server: _SerialMotoServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self._definition: StateTableDefinition | None = None
        self._admin_clients: dict[str, Any] = {}
        self.endpoint_url = ""
        self.table_name = ""
        self.bucket = ""
        self.region = REGION

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalAws:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request
        self._server = _SerialMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.table_name = _free_name("kudos-state")
        self.bucket = _free_name("kudos-images")
        self._set_env(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": None,
                "AWS_PROFILE": None,
                STATE_TABLE_ENV: self.table_name,
                IMAGE_BUCKET_ENV: self.bucket,
            }
        )
        clear_secret_cache()  # Powertools keeps its client: make it pick up this endpoint
        try:
            self._definition = state_table_definition(load_template(self._template_path))
            self.create_table(self.table_name)
            self.create_bucket(self.bucket)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._admin_clients = {}
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        clear_secret_cache()

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_env[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    # ------------------------------------------------------------ clients and resources

    def _admin(self, service: Literal["dynamodb", "s3"]) -> Any:
        """Clients for setting resources up, kept for the life of the server (building one costs ~0.1 s)."""
        if service not in self._admin_clients:
            session = boto3.session.Session(
                region_name=self.region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self._admin_clients[service] = session.client(service, endpoint_url=self.endpoint_url)
        return self._admin_clients[service]

    def clients(self, *, table_name: str | None = None, bucket: str | None = None) -> AwsClients:
        """The production client factory (kudos_sync.aws.clients), pointed here by the environment."""
        table, image_bucket = table_name or self.table_name, bucket or self.bucket
        return aws_clients(self.region, table_name=table, bucket=image_bucket, endpoint_url=self.endpoint_url)

    @property
    def definition(self) -> StateTableDefinition:
        if self._definition is None:
            raise RuntimeError("LocalAws is not started")
        return self._definition

    def create_table(self, name: str) -> str:
        dynamodb = self._admin("dynamodb")
        dynamodb.create_table(TableName=name, **self.definition.create_table_args)
        if self.definition.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": self.definition.ttl_attribute, "Enabled": True},
            )
        return name

    def new_table(self) -> str:
        """A fresh, empty state table built from template.yaml; returns its name."""
        return self.create_table(_free_name("kudos-state"))

    def create_bucket(self, name: str) -> str:
        self._admin("s3").create_bucket(Bucket=name)
        return name

    def new_bucket(self) -> str:
        return self.create_bucket(_free_name("kudos-images"))

    def put_tenant_secret(self, tenant: str, payload: dict[str, Any], *, validate: bool = True) -> str:
        """Store a tenant's settings as the stack would hold them; returns the secret's ARN.
        Also forgets Powertools' cached secrets, so a changed value is read at once."""
        arn: str = store_tenant_secret(self.clients().secretsmanager, tenant, payload, validate=validate)
        clear_secret_cache()  # the next load_tenant_config in this process reads the new value
        return arn


# ---------------------------------------------------------------- fixtures as plain functions


_shared: LocalAws | None = None
_shared_users = 0
_shared_lock = threading.Lock()


def local_aws_session() -> Iterator[LocalAws]:
    """The process's one LocalAws, for a session-scoped fixture: one moto server per pytest-xdist worker
    (each worker is a process) however many conftest files ask for it; stopped when the last user ends.
    Tests take a fresh table from it (`fresh_table`) instead of sharing data."""
    global _shared, _shared_users
    with _shared_lock:
        if _shared is None:
            _shared = LocalAws().__enter__()
        _shared_users += 1
        aws = _shared
    try:
        yield aws
    finally:
        with _shared_lock:
            _shared_users -= 1
            if _shared_users == 0 and _shared is not None:
                _shared.__exit__(None, None, None)
                _shared = None


def fresh_table(aws: LocalAws) -> str:
    """A new empty state table for one test (create_table on moto takes milliseconds)."""
    return aws.new_table()
