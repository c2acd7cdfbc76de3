"""Tenant isolation, proven on the expanded templates: for 1, 3 and 200 tenants, no statement of any
policy of tenant A's roles allows anything on a resource of tenant B, condition keys included.

Every tenant's role statements are resolved for a made-up deployment (tests/deploy/expand.py) and put
through a small IAM evaluator (`allows`): actions and resources with IAM's `*`/`?` wildcards, and the
condition operators the templates use. An operator it does not know fails the test, so a new condition
cannot slip past unexamined. Each proof is paired with the same evaluator allowing tenant A its own
secret, items, images and logs, so a broken evaluator cannot pass by denying everything.

What this proves is the policy text. That AWS enforces it as read here is the documented IAM
semantics; docs/operations.md (security model) says which parts are also exercised at run time.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from tests.deploy.expand import as_list, evaluate, of_type, tenant_stacks, translate
from tests.deploy.test_template import DIRECTIONS, deployment

pytestmark = pytest.mark.deploy

ACCOUNT = "123456789012"
STACK = "kudos-sync-prod"
# Ids that are prefixes of one another, the case a careless wildcard gets wrong.
THREE = ("acme", "acme-nz", "acme-nz-2")
# Tenants that are not deployed at all: a one-tenant stack's roles must not reach them either.
OUTSIDERS = ("acme-n", "acme-nz-x", "b")
SHA = "0" * 64


@dataclass(frozen=True)
class Attempt:
    """One request a run could make: an action on a resource, with its request context."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)
    label: str = ""


# ---------------------------------------------------------------- the evaluator


def _matches(pattern: str, value: str) -> bool:
    """IAM's wildcard match (case-sensitive for resources and condition values)."""
    return fnmatch.fnmatchcase(value, pattern)


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    wanted = [str(v) for v in as_list(expected)]
    present = key in context
    values = context.get(key, [])
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base == "Null":
        [flag] = wanted
        return (not present) is (flag == "true")
    if if_exists and not present:
        return True
    if base.startswith("ForAllValues:"):
        compare = base.split(":", 1)[1]
        return all(_single(compare, value, wanted) for value in values)
    if base.startswith("ForAnyValue:"):
        compare = base.split(":", 1)[1]
        return any(_single(compare, value, wanted) for value in values)
    if not present:
        return False
    return any(_single(base, value, wanted) for value in values)


def _single(operator: str, value: str, wanted: list[str]) -> bool:
    if operator == "StringEquals":
        return value in wanted
    if operator == "StringLike":
        return any(_matches(pattern, value) for pattern in wanted)
    if operator == "Bool":
        return value.lower() in [w.lower() for w in wanted]
    raise AssertionError(f"condition operator {operator} is not known to this proof: add it")


def allows(statement: dict[str, Any], attempt: Attempt) -> bool:
    """Whether an Allow statement grants the attempt (Deny statements grant nothing)."""
    assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
    if statement["Effect"] != "Allow":
        return False
    if not any(_action_matches(a, attempt.action) for a in as_list(statement["Action"])):
        return False
    if not any(_matches(r, attempt.resource) for r in as_list(statement["Resource"])):
        return False
    return conditions_hold(statement, attempt)


def conditions_hold(statement: dict[str, Any], attempt: Attempt) -> bool:
    return all(
        _condition_holds(operator, key, expected, attempt.context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


# ---------------------------------------------------------------- the deployment under test


def _context(tenant: str, stack: dict[str, Any]) -> dict[str, Any]:
    """Values for the tenant's own resources (its log groups' ARNs from their names)."""
    context = deployment(STACK)
    resources = stack["Resources"]
    for direction in DIRECTIONS:
        group = f"{direction.title()}LogGroup"
        name = evaluate(resources[group]["Properties"]["LogGroupName"], context)
        context[f"{group}.Arn"] = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}:*"
        context[group] = name
    context["Network"] = "subnet-1|sg-1"
    return context


def _statements(stack: dict[str, Any], role: str) -> Iterator[dict[str, Any]]:
    """The role's statements, each Fn::If taken on both sides (a VPC-only statement included)."""
    for policy in stack["Resources"][role]["Properties"]["Policies"]:
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            if "Fn::If" in statement:
                _, when_true, when_false = statement["Fn::If"]
                assert when_false == {"Ref": "AWS::NoValue"}
                statement = when_true
            yield statement


@cache
def _resolved(tenants: tuple[str, ...]) -> dict[str, dict[str, Role]]:
    """Per tenant and role, its statements resolved for the deployment."""
    root = translate(tenants)["Resources"]
    assert not of_type(root, "AWS::IAM::Role") and not of_type(root, "AWS::IAM::Policy")
    out: dict[str, dict[str, Role]] = {}
    for tenant, stack in tenant_stacks(tenants).items():
        resources = stack["Resources"]
        roles = of_type(resources, "AWS::IAM::Role")
        assert set(roles) == {"PushRole", "PullRole"}
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User"):
            assert not of_type(resources, kind), kind
        assert all("ManagedPolicyArns" not in body["Properties"] for body in roles.values())
        context = _context(tenant, stack)
        out[tenant] = {
            role: Role([Compiled(evaluate(s, context)) for s in _statements(stack, role)]) for role in roles
        }
    return out


@cache
def _bucket() -> str:
    return str(deployment(STACK)["ImageBucket.Arn"])


@cache
def _table() -> str:
    return str(deployment(STACK)["StateTable.Arn"])


def reaches_of(tenant: str) -> list[Attempt]:
    """What a run of `tenant` must be able to do with its own data."""
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:kudos-sync/tenants/{tenant}-AbC123"
    own = {"dynamodb:LeadingKeys": [f"TENANT#{tenant}"]}
    return [
        Attempt("secretsmanager:GetSecretValue", secret, label="secret"),
        Attempt("dynamodb:GetItem", _table(), own, "item"),
        Attempt("dynamodb:Query", _table(), own, "query"),
        Attempt("dynamodb:BatchWriteItem", _table(), own, "batch write"),
    ]


def push_reaches_of(tenant: str) -> list[Attempt]:
    return [
        Attempt("s3:GetObject", f"{_bucket()}/tenants/{tenant}/images/{SHA}.jpg", label="image"),
        Attempt("s3:PutObject", f"{_bucket()}/tenants/{tenant}/images/{SHA}.jpg", label="image"),
        Attempt("s3:ListBucket", _bucket(), {"s3:prefix": [f"tenants/{tenant}/images/"]}, "listing"),
    ]


def log_attempts(tenant: str, direction: str) -> list[Attempt]:
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/kudos-sync/{STACK}/{tenant}/{direction}"
    stream = f"{group}:log-stream:2026/12/04/[$LATEST]0123"
    return [
        Attempt("logs:PutLogEvents", stream, label=f"{direction} log"),
        Attempt("logs:CreateLogStream", stream, label=f"{direction} log"),
    ]


def attempts_on(other: str) -> list[Attempt]:
    """Everything a run could try against another tenant's data."""
    theirs = {"dynamodb:LeadingKeys": [f"TENANT#{other}"]}
    both = {"dynamodb:LeadingKeys": [f"TENANT#{other}", "TENANT#x"]}
    secrets = [
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:kudos-sync/tenants/{other}-{suffix}"
        for suffix in ("AbC123", "zzzzzz")
    ]
    items = [
        Attempt(action, _table(), context, f"{action} in {other}'s partition")
        for action in (
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        )
        for context in (theirs, both)
    ]
    return [
        *(Attempt("secretsmanager:GetSecretValue", arn, label="secret") for arn in secrets),
        *(Attempt("secretsmanager:DescribeSecret", arn, label="secret") for arn in secrets),
        *items,
        Attempt("s3:GetObject", f"{_bucket()}/tenants/{other}/images/{SHA}.jpg", label="image"),
        Attempt("s3:PutObject", f"{_bucket()}/tenants/{other}/images/{SHA}.jpg", label="image"),
        Attempt("s3:ListBucket", _bucket(), {"s3:prefix": [f"tenants/{other}/"]}, "listing"),
        *log_attempts(other, "push"),
        *log_attempts(other, "pull"),
    ]


def fleet_attempts() -> list[Attempt]:
    """What only the operator may do: every tenant at once (gsi1, scans, a listing of the bucket)."""
    return [
        Attempt("dynamodb:Query", f"{_table()}/index/gsi1", {"dynamodb:LeadingKeys": ["PARKED"]}, "gsi1"),
        Attempt("dynamodb:Query", f"{_table()}/index/gsi1", {}, "gsi1"),
        Attempt("dynamodb:Scan", _table(), {}, "scan"),
        Attempt("dynamodb:Query", _table(), {}, "query naming no key"),
        Attempt("s3:ListBucket", _bucket(), {}, "listing without a prefix"),
        Attempt("s3:ListBucket", _bucket(), {"s3:prefix": ["tenants/"]}, "listing of every tenant"),
        Attempt("secretsmanager:ListSecrets", "*", label="secret listing"),
    ]


class Compiled:
    """A statement ready for millions of checks (200 x 200 tenants): the same answer as `allows`,
    with its action test cached per action name and its resources compiled once."""

    def __init__(self, statement: dict[str, Any]) -> None:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
        self.statement = statement
        self.sid = str(statement.get("Sid", "?"))
        self._actions: dict[str, bool] = {}
        self._resources = re.compile(
            "|".join(f"(?:{fnmatch.translate(r)})" for r in as_list(statement["Resource"]))
        )

    def allows(self, attempt: Attempt) -> bool:
        action = self._actions.get(attempt.action)
        if action is None:
            patterns = as_list(self.statement["Action"])
            action = self._actions[attempt.action] = any(_action_matches(p, attempt.action) for p in patterns)
        if not action or not self._resources.fullmatch(attempt.resource):
            return False
        return self.statement["Effect"] == "Allow" and conditions_hold(self.statement, attempt)


class Role:
    """A role's statements, indexed by the action names asked about so far."""

    def __init__(self, statements: list[Compiled]) -> None:
        self.statements = statements
        self._by_action: dict[str, list[Compiled]] = {}

    def granted(self, attempt: Attempt) -> list[str]:
        """The Sids of the statements that allow the attempt."""
        candidates = self._by_action.get(attempt.action)
        if candidates is None:
            candidates = self._by_action[attempt.action] = [
                s
                for s in self.statements
                if any(_action_matches(p, attempt.action) for p in as_list(s.statement["Action"]))
            ]
        return [s.sid for s in candidates if s.allows(attempt)]


def _granted(role: Role, attempt: Attempt) -> list[str]:
    return role.granted(attempt)


# ---------------------------------------------------------------- the evaluator itself


def test_the_evaluator_reads_wildcards_and_conditions_as_iam_does() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": "arn:aws:s3:::b",
        "Condition": {"StringLike": {"s3:prefix": ["tenants/a/*"]}},
    }
    assert allows(statement, Attempt("s3:listbucket", "arn:aws:s3:::b", {"s3:prefix": ["tenants/a/x"]}))
    assert not allows(statement, Attempt("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["tenants/ab/"]}))
    assert not allows(statement, Attempt("s3:ListBucket", "arn:aws:s3:::b", {}))
    if_exists = {**statement, "Condition": {"StringLikeIfExists": {"s3:prefix": ["tenants/a/*"]}}}
    assert allows(if_exists, Attempt("s3:ListBucket", "arn:aws:s3:::b", {}))
    assert _matches("secret:t/acme-??????", "secret:t/acme-AbC123")
    assert not _matches("secret:t/acme-??????", "secret:t/acme-nz-AbC123")
    assert _matches("secret:t/acme-*", "secret:t/acme-nz-AbC123")  # why the policy uses ??????
    keys = {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["TENANT#a"]},
        "Null": {"dynamodb:LeadingKeys": "false"},
    }
    items = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "t", "Condition": keys}
    assert allows(items, Attempt("dynamodb:GetItem", "t", {"dynamodb:LeadingKeys": ["TENANT#a"]}))
    assert not allows(items, Attempt("dynamodb:GetItem", "t", {"dynamodb:LeadingKeys": ["TENANT#a", "X"]}))
    assert not allows(items, Attempt("dynamodb:GetItem", "t", {}))  # ForAllValues alone would allow
    with pytest.raises(AssertionError, match="not known"):
        _condition_holds("NumericLessThan", "k", ["1"], {"k": ["0"]})


# ---------------------------------------------------------------- the proofs


@pytest.mark.parametrize(
    "tenants",
    [("acme-nz",), THREE, tuple(f"t{n:03d}-shop" for n in range(200))],
    ids=["1-tenant", "3-tenants", "200-tenants"],
)
def test_no_statement_of_a_tenants_roles_reaches_another_tenants_data(tenants: tuple[str, ...]) -> None:
    resolved = _resolved(tenants)
    outsiders = [o for o in OUTSIDERS if o not in tenants]
    others_of = {t: [o for o in tenants if o != t] + outsiders for t in tenants}
    fleet = fleet_attempts()
    # Every other tenant's attempts, built once (200 x 200 pairs).
    theirs = {other: attempts_on(other) for other in set(tenants) | set(OUTSIDERS)}
    leaks: list[str] = []
    for tenant, roles in resolved.items():
        for role, statements in roles.items():
            direction = role.removesuffix("Role").lower()
            # Its own data: reachable (else this proof could pass by denying everything).
            own = reaches_of(tenant) + log_attempts(tenant, direction)
            own += push_reaches_of(tenant) if direction == "push" else []
            missing = [a.label for a in own if not _granted(statements, a)]
            assert not missing, f"{tenant}/{role} cannot reach its own {missing}"
            # Everyone else's, and the fleet-wide reads: nothing.
            for other in others_of[tenant]:
                leaks += [
                    f"{tenant}/{role} -> {other}: {a.action} {a.label} via {_granted(statements, a)}"
                    for a in theirs[other]
                    if _granted(statements, a)
                ]
            leaks += [
                f"{tenant}/{role}: {a.action} ({a.label}) via {_granted(statements, a)}"
                for a in fleet
                if _granted(statements, a)
            ]
        assert not leaks, leaks[:20]
    # The pull role has no image access of its own tenant either.
    for tenant, roles in resolved.items():
        assert not any(_granted(roles["PullRole"], a) for a in push_reaches_of(tenant)), tenant


def test_a_wildcard_secret_policy_would_be_caught() -> None:
    """The proof fails on the policy the stack had before tenant roles (one role, every secret)."""
    shared = {
        "Sid": "ReadTenantSecrets",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:kudos-sync/tenants/*",
    }
    assert any(allows(shared, a) for a in attempts_on("bobs-shoes"))
    table = {"Sid": "StateTable", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": _table()}
    assert any(allows(table, a) for a in fleet_attempts())
