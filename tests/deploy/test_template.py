"""template.yaml and templates/tenant.yaml: lint-clean, and what CloudFormation would create once both
transforms have run.

The root template is expanded offline (tests/deploy/expand.py: cfn-lint's AWS::LanguageExtensions, then
aws-sam-translator) for one, two, three and 200 tenants; each tenant's nested stack is
templates/tenant.yaml instantiated with the parameters the root passes it. Both are checked resource
by resource.
"""

import importlib.util
import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint, lint_file
from cfnlint.template.template import Template
from cfnlint.template.transforms._language_extensions import language_extension
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.config import BearerAuth, OAuthAuth, TenantConfig
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id
from pydantic import BaseModel

from tests.deploy.expand import (
    REGION,
    TENANT_STACK_TYPE,
    as_list,
    evaluate,
    expand_language_extensions,
    iter_strings,
    of_type,
    policy_statements,
    references,
    source_template,
    tenant_stack_id,
    tenant_stacks,
    tenant_template_source,
    translate,
    with_tenants,
)
from tests.deploy.sam import REPO, TEMPLATE, TENANT_TEMPLATE

pytestmark = pytest.mark.deploy

ONE = ("acme-nz",)
TWO = ("acme-nz", "bobs-shoes")
THREE = ("acme-nz", "bobs-shoes", "c3")
DIRECTIONS = ("push", "pull")
FUNCTION = {"push": "PushFunction", "pull": "PullFunction"}
ALARM_KINDS = ("Failed", "Stale", "Parked")
# Everything one tenant's nested stack (templates/tenant.yaml) holds.
PER_TENANT = {
    **{f"{d}Role": "AWS::IAM::Role" for d in ("Push", "Pull")},
    **{f"{d}LogGroup": "AWS::Logs::LogGroup" for d in ("Push", "Pull")},
    **{f"{d}Function": "AWS::Lambda::Function" for d in ("Push", "Pull")},
    **{f"{d}EventInvokeConfig": "AWS::Lambda::EventInvokeConfig" for d in ("Push", "Pull")},
    **{f"{d}SchedulePermission": "AWS::Lambda::Permission" for d in ("Push", "Pull")},
    "PushSchedule": "AWS::Events::Rule",
    "PullSchedule": "AWS::Events::Rule",
    **{f"{d}{kind}Alarm": "AWS::CloudWatch::Alarm" for d in ("Push", "Pull") for kind in ALARM_KINDS},
    "MisconfiguredAlarm": "AWS::CloudWatch::Alarm",
    "PushDriftAlarm": "AWS::CloudWatch::Alarm",
    "PushDashboard": "AWS::CloudWatch::Dashboard",
    "PullDashboard": "AWS::CloudWatch::Dashboard",
}
DATA_SERVICES = ("dynamodb:", "s3:", "secretsmanager:", "logs:", "sqs:")

# CloudFormation and service limits the capacity tests check against.
MAX_STACK_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_048_576  # template body in S3 (sam deploy uploads the processed template)
MAX_PARAMETER_VALUE_BYTES = 4_096  # one parameter value, so the whole Tenants list
MAX_STACK_NAME = 128
MAX_TENANT_ID = 32
MAX_RULE_NAME = 64  # EventBridge
MAX_ALARM_NAME = 255  # CloudWatch
MAX_DASHBOARD_NAME = 255
DOCUMENTED_TENANTS = 200  # docs/operations.md, capacity

# A made-up deployment to evaluate names and ARNs against (stack ids end in a UUID).
STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/kudos-sync-prod/4f1c2d3e-98ab-11ef-8c4d-0a1b2c3d4e5f"
)


def deployment(stack_name: str = "kudos-sync-prod") -> dict[str, Any]:
    """Values for the root stack's resources and parameters in a made-up deployment (a tenant's own
    resources: tests/deploy/test_isolation.py, `tenant_context`)."""
    account = "123456789012"
    return {
        "AWS::StackId": STACK_ID.replace("kudos-sync-prod", stack_name),
        "AWS::StackName": stack_name,
        "AWS::Region": REGION,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        **{
            f"{name}.Arn": f"arn:aws:lambda:{REGION}:{account}:function:{stack_name}-{name}-AbC123"
            for name in FUNCTION.values()
        },
        "AlarmTopic": f"arn:aws:sns:{REGION}:{account}:{stack_name}-AlarmTopic-AbC123",
        "StateTable": f"{stack_name}-StateTable-AbC123",
        "StateTable.Arn": f"arn:aws:dynamodb:{REGION}:{account}:table/{stack_name}-StateTable-AbC123",
        "ImageBucket": f"{stack_name}-imagebucket-abc123",
        "ImageBucket.Arn": f"arn:aws:s3:::{stack_name}-imagebucket-abc123",
        "DeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{account}:{stack_name}-DeadLetterQueue-AbC123",
        "Schedule": "rate(15 minutes)",
        "ScheduleState": "ENABLED",
        "StaleAfterMinutes": 60,
        "LogLevel": "INFO",
        "LogRetentionDays": 30,
        "ReservedConcurrency": 0,
        "SubnetIds": [""],
        "SecurityGroupIds": [""],
        "Mappings": source_template().get("Mappings", {}),
    }


def rule_arn(name: str, context: dict[str, Any]) -> str:
    partition, region, account = (context[f"AWS::{key}"] for key in ("Partition", "Region", "AccountId"))
    return f"arn:{partition}:events:{region}:{account}:rule/{name}"


def lint_matches(template: dict[str, Any]) -> list[str]:
    """cfn-lint errors, warnings and informational findings (a template passed as JSON text)."""
    config = ManualArgs(regions=[REGION], include_checks=["I"])
    return [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path or []))})"
        for m in lint(json.dumps(template), config=config)
    ]


def _is_not_equal(condition: dict[str, Any], left: Any, right: Any) -> bool:
    """`condition` is Fn::Not of Fn::Equals of left and right, in either order (SAM may swap them)."""
    [equals] = condition["Fn::Not"]
    operands = sorted(json.dumps(o, sort_keys=True) for o in equals["Fn::Equals"])
    return operands == sorted(json.dumps(o, sort_keys=True) for o in (left, right))


def _nested(tenants: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per tenant, the resources of its nested stack."""
    return {tenant: stack["Resources"] for tenant, stack in tenant_stacks(tenants).items()}


# --- lint ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TEMPLATE, TENANT_TEMPLATE], ids=["template.yaml", "templates/tenant.yaml"])
def test_cfn_lint_finds_nothing_in_the_templates_as_written(path: Any) -> None:
    """Linted as files, so cfn-lint also checks the root passes the nested template exactly the
    parameters it declares (E3043 resolves the local Location)."""
    matches = lint_file(path, config=ManualArgs(regions=[REGION], include_checks=["I"]))
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


@pytest.mark.parametrize("tenants", [ONE, THREE], ids=["1-tenant", "3-tenants"])
def test_cfn_lint_finds_nothing_once_tenants_are_expanded(tenants: tuple[str, ...]) -> None:
    assert lint_matches(with_tenants(source_template(), tenants)) == []


def test_tenant_template_is_plain_cloudformation_named_only_from_its_parameters() -> None:
    """No transform (the nested stacks need no CAPABILITY_AUTO_EXPAND of their own), and never its own
    AWS::StackName/StackId: those name the generated nested stack, not the one operators know."""
    template = tenant_template_source()
    assert "Transform" not in template
    assert {body["Type"] for body in template["Resources"].values()} <= set(PER_TENANT.values())
    assert not {"AWS::StackName", "AWS::StackId"} & references(template)


# --- tenants and logical ids ----------------------------------------------------------------------

TENANT_PATTERN = re.compile(source_template()["Parameters"]["Tenants"]["AllowedPattern"])


def _is_valid_tenant(candidate: str) -> bool:
    try:
        validate_tenant_id(candidate)
    except InvalidTenantIdError:
        return False
    return True


@pytest.mark.parametrize(
    "candidate",
    [
        "acme-nz",
        "ab",
        "a1",
        "a" * 32,
        "a-b-c",
        "a" * 33,
        "a",
        "1abc",
        "-ab",
        "ab-",
        "a--b",
        "Acme",
        "acme_nz",
        "acme nz",
        "",
    ],
)
def test_tenants_allowed_pattern_is_the_tenant_id_rule(candidate: str) -> None:
    assert bool(TENANT_PATTERN.fullmatch(candidate)) is _is_valid_tenant(candidate)


@given(st.text(alphabet="ab9-_A ", max_size=40))
def test_tenants_allowed_pattern_agrees_with_the_tenant_id_rule_on_any_text(candidate: str) -> None:
    assert bool(TENANT_PATTERN.fullmatch(candidate)) is _is_valid_tenant(candidate)


def test_nested_template_checks_the_tenant_id_with_the_same_pattern() -> None:
    tenant_id = tenant_template_source()["Parameters"]["TenantId"]
    assert tenant_id["AllowedPattern"] == source_template()["Parameters"]["Tenants"]["AllowedPattern"]


def test_tenants_is_a_comma_delimited_list_without_a_default() -> None:
    tenants = source_template()["Parameters"]["Tenants"]
    assert tenants["Type"] == "CommaDelimitedList"
    # No default: a stack deployed without Tenants must fail, not schedule a made-up tenant.
    assert "Default" not in tenants


def test_hyphenated_tenant_ids_make_alphanumeric_logical_ids_and_keep_the_id_in_the_event() -> None:
    tenants = ("acme-nz", "north-shore-2")
    resources = translate(tenants)["Resources"]
    assert all(re.fullmatch(r"[A-Za-z0-9]{1,255}", name) for name in resources)
    assert {"Tenantacmenz", "Tenantnorthshore2"} <= set(resources)
    inputs = {
        json.loads(t["Input"])["tenant"]
        for stack in _nested(tenants).values()
        for r in of_type(stack, "AWS::Events::Rule").values()
        for t in r["Properties"]["Targets"]
    }
    assert inputs == {"acme-nz", "north-shore-2"}


def test_two_ids_differing_only_by_hyphens_cannot_share_a_stack() -> None:
    """acme-nz and acmenz both become Tenantacmenz: the transform must refuse, not merge."""
    cfn = Template("template.yaml", with_tenants(source_template(), ("acme-nz", "acmenz")), regions=[REGION])
    matches, expanded = language_extension(cfn)
    assert expanded is None
    assert any("Duplicate" in m.message for m in matches)


# --- one nested stack per tenant --------------------------------------------------------------------


SHARED_PARAMETERS = {
    "ParentStackName": {"Ref": "AWS::StackName"},
    "StateTableName": {"Ref": "StateTable"},
    "StateTableArn": {"Fn::GetAtt": ["StateTable", "Arn"]},
    "ImageBucketName": {"Ref": "ImageBucket"},
    "ImageBucketArn": {"Fn::GetAtt": ["ImageBucket", "Arn"]},
    "DeadLetterQueueArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    "AlarmTopicArn": {"Ref": "AlarmTopic"},
    **{name: {"Ref": name} for name in ("Schedule", "ScheduleState", "StaleAfterMinutes")},
    **{name: {"Ref": name} for name in ("LogLevel", "LogRetentionDays", "ReservedConcurrency")},
}


@pytest.mark.parametrize("tenants", [ONE, THREE], ids=["1-tenant", "3-tenants"])
def test_each_tenant_is_one_nested_stack_of_the_tenant_template_and_nothing_else(
    tenants: tuple[str, ...],
) -> None:
    resources = translate(tenants)["Resources"]
    stacks = of_type(resources, TENANT_STACK_TYPE)
    assert set(stacks) == {tenant_stack_id(t) for t in tenants}
    # Nothing per tenant is left in the root stack, and no function: each tenant has its own.
    for kind in ("AWS::Events::Rule", "AWS::CloudWatch::Dashboard", "AWS::Lambda::Permission"):
        assert not any(t in json.dumps(body) for body in of_type(resources, kind).values() for t in tenants)
    for kind in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Lambda::Permission", "AWS::Logs::LogGroup"):
        assert not of_type(resources, kind), kind
    assert set(of_type(resources, "AWS::CloudWatch::Alarm")) == {"DeadLetterAlarm"}
    [layer] = of_type(resources, "AWS::Lambda::LayerVersion")
    for tenant in tenants:
        stack = stacks[tenant_stack_id(tenant)]
        assert "DependsOn" not in stack
        parameters = stack["Properties"]["Parameters"]
        assert parameters["TenantId"] == tenant
        assert parameters["LayerArn"] == {"Ref": layer}
        assert {k: parameters[k] for k in SHARED_PARAMETERS} == SHARED_PARAMETERS
        assert parameters["Network"]["Fn::FindInMap"][:3] == ["TenantNetworks", tenant, "Network"]
    for tenant, stack in _nested(tenants).items():
        assert {name: body["Type"] for name, body in stack.items()} == PER_TENANT, tenant


def test_the_source_template_has_one_foreach_resource_a_local_nested_template() -> None:
    [body] = source_template()["Resources"]["Fn::ForEach::Tenant"][2].values()
    assert body["Type"] == "AWS::Serverless::Application"
    # A local path: `sam build` copies it and `sam package` uploads it (tests/deploy/test_sam_cli.py).
    assert (TEMPLATE.parent / body["Properties"]["Location"]).resolve() == TENANT_TEMPLATE


# --- schedules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tenants", [ONE, THREE], ids=["1-tenant", "3-tenants"])
def test_each_tenant_gets_one_schedule_per_direction_with_its_id_as_input(tenants: tuple[str, ...]) -> None:
    for tenant, stack in _nested(tenants).items():
        rules = of_type(stack, "AWS::Events::Rule")
        assert len(rules) == 2
        for direction in DIRECTIONS:
            rule = rules[f"{direction.title()}Schedule"]["Properties"]
            assert rule["ScheduleExpression"] == {"Ref": "Schedule"}
            assert rule["State"] == {"Ref": "ScheduleState"}
            [target] = rule["Targets"]
            # The tenant's own function, in its own nested stack.
            assert target["Arn"] == {"Fn::GetAtt": [FUNCTION[direction], "Arn"]}
            assert json.loads(target["Input"]) == {"tenant": tenant}
            assert evaluate(rule["Name"], deployment()) == f"kudos-4f1c2d3e-{tenant}-{direction}"


@pytest.mark.parametrize("tenants", [ONE, ("acme-nz", "x-push", "y-pull")], ids=["1-tenant", "tricky-ids"])
def test_each_function_may_be_invoked_by_its_own_rule_only(tenants: tuple[str, ...]) -> None:
    for tenant, stack in _nested(tenants).items():
        permissions = of_type(stack, "AWS::Lambda::Permission")
        assert len(permissions) == 2, tenant
        for direction in DIRECTIONS:
            permission = permissions[f"{direction.title()}SchedulePermission"]["Properties"]
            assert permission["Action"] == "lambda:InvokeFunction"
            assert permission["Principal"] == "events.amazonaws.com"
            assert permission["FunctionName"] == {"Fn::GetAtt": [FUNCTION[direction], "Arn"]}
            assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
            assert permission["SourceArn"] == {"Fn::GetAtt": [f"{direction.title()}Schedule", "Arn"]}


def test_rule_name_prefix_is_the_same_everywhere_and_unique_per_stack() -> None:
    """The nested stacks' RuleNamePrefix and the ScheduleRuleNamePrefix output compute the same
    prefix; another stack (another stack id) gets another one."""
    template = translate(ONE)
    resources = template["Resources"]
    prefix = resources[tenant_stack_id("acme-nz")]["Properties"]["Parameters"]["RuleNamePrefix"]
    for context, expected in ((deployment(), "kudos-4f1c2d3e"), (_other_stack(), "kudos-0badf00d")):
        assert evaluate(prefix, context) == expected
        assert evaluate(template["Outputs"]["ScheduleRuleNamePrefix"]["Value"], context) == expected


def _other_stack() -> dict[str, Any]:
    return deployment("kudos-sync-dev") | {
        "AWS::StackId": STACK_ID.replace("kudos-sync-prod", "kudos-sync-dev").replace("4f1c2d3e", "0badf00d")
    }


def test_schedule_defaults_to_every_15_minutes() -> None:
    assert source_template()["Parameters"]["Schedule"]["Default"] == "rate(15 minutes)"


# --- alarms ---------------------------------------------------------------------------------------


def _alarm(resources: dict[str, Any], direction: str, kind: str) -> dict[str, Any]:
    return resources[f"{direction.title()}{kind}Alarm"]["Properties"]


def _dimensions(alarm: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


@pytest.mark.parametrize("tenants", [ONE, THREE], ids=["1-tenant", "3-tenants"])
def test_each_tenant_and_direction_has_failed_stale_and_parked_alarms_to_the_topic(
    tenants: tuple[str, ...],
) -> None:
    for tenant, stack in _nested(tenants).items():
        assert (
            len(of_type(stack, "AWS::CloudWatch::Alarm")) == 3 * 2 + 2
        )  # + misconfigured, + the push's drift alarm
        for direction in DIRECTIONS:
            for kind in ALARM_KINDS:
                alarm = _alarm(stack, direction, kind)
                assert alarm["Namespace"] == "KudosSync"
                assert _dimensions(alarm) == {
                    "service": "kudos-sync",
                    "tenant": tenant,
                    "direction": direction,
                }
                assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
                # Every alarm says when it clears too.
                assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
                # The name operators know: the root stack's name, not the nested stack's.
                assert evaluate(alarm["AlarmName"], deployment()) == (
                    f"kudos-sync-prod-{tenant}-{direction}-{kind.lower()}"
                )


def test_failed_alarm_fires_on_any_failed_run() -> None:
    alarm = _alarm(_nested(ONE)["acme-nz"], "push", "Failed")
    assert alarm["MetricName"] == "RunFailed"
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_stale_alarm_breaches_when_no_run_succeeded_within_the_threshold(direction: str) -> None:
    alarm = _alarm(_nested(ONE)["acme-nz"], direction, "Stale")
    assert alarm["MetricName"] == "RunSucceeded"
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Sum",
        "LessThanThreshold",
        1,
    )
    # Missing data (no run reported at all) counts as breaching.
    assert alarm["TreatMissingData"] == "breaching"
    # Every one-minute period of the last StaleAfterMinutes must lack a success.
    assert alarm["Period"] == 60
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == {"Ref": "StaleAfterMinutes"}
    assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_nested_stale_threshold_has_the_root_parameter_bounds() -> None:
    root = source_template()["Parameters"]["StaleAfterMinutes"]
    nested = tenant_template_source()["Parameters"]["StaleAfterMinutes"]
    assert (nested["MinValue"], nested["MaxValue"]) == (root["MinValue"], root["MaxValue"])
    root_state = source_template()["Parameters"]["ScheduleState"]["AllowedValues"]
    assert tenant_template_source()["Parameters"]["ScheduleState"]["AllowedValues"] == root_state


def test_drift_alarm_fires_when_drift_is_found_in_three_hourly_scans_running() -> None:
    alarm = _nested(ONE)["acme-nz"]["PushDriftAlarm"]["Properties"]
    assert alarm["MetricName"] == "DriftFound" and alarm["Namespace"] == "KudosSync"
    assert _dimensions(alarm) == {"service": "kudos-sync", "tenant": "acme-nz", "direction": "push"}
    assert (alarm["Statistic"], alarm["Period"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Sum",
        3600,
        "GreaterThanThreshold",
        0,
    )
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"


def test_parked_alarm_fires_while_any_record_is_parked() -> None:
    alarm = _alarm(_nested(ONE)["acme-nz"], "pull", "Parked")
    assert alarm["MetricName"] == "RecordsParked"
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    # A gauge each run reports: between runs the alarm keeps its state.
    assert alarm["TreatMissingData"] == "missing"


def _load_handler(direction: str) -> Any:
    path = REPO / "functions" / direction / "app.py"
    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO)} is not written yet")
    spec = importlib.util.spec_from_file_location(f"kudos_deploy_{direction}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::aws_lambda_powertools.warnings.PowertoolsUserWarning")
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_alarm_metrics_match_what_the_handler_emits(
    direction: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alarms on a metric the handler never emits with exactly these dimensions would never fire
    (or, for stale, always fire). Run the real handler with the run itself faked and read its EMF."""
    handler = _load_handler(direction)
    import kudos_sync.handler as shared
    from kudos_sync.domain.state import Direction, RunRecord, RunStatus

    started = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def fake_run(tenant: str, run_direction: Direction, deadline: Any, **_: Any) -> RunRecord:
        return RunRecord(
            tenant=tenant,
            direction=run_direction,
            run_id="run-1",
            started_at=started,
            finished_at=started + timedelta(seconds=42),
            status=RunStatus.SUCCEEDED,
            counts={"parked_total": 2},
        )

    monkeypatch.setattr(shared, "run_tenant", fake_run)
    context = SimpleNamespace(
        function_name=f"kudos-{direction}",
        memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:kudos-{direction}",
        aws_request_id="req-1",
        get_remaining_time_in_millis=lambda: 600_000,
    )
    try:
        handler.lambda_handler({"tenant": "acme-nz"}, context)
    finally:
        # Powertools keeps metric state per process: leave none behind for other tests.
        handler.metrics.clear_default_dimensions()
        handler.metrics.clear_metrics()
    emitted: set[tuple[str, str, frozenset[tuple[str, str]]]] = set()
    for line in capsys.readouterr().out.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((name, blob[name]) for name in dimension_set)
                emitted.update((directive["Namespace"], m["Name"], dims) for m in directive["Metrics"])

    stack = _nested(ONE)["acme-nz"]
    for kind in ALARM_KINDS:
        alarm = _alarm(stack, direction, kind)
        wanted = (alarm["Namespace"], alarm["MetricName"], frozenset(_dimensions(alarm).items()))
        assert wanted in emitted, f"{kind} alarm watches {wanted}; the handler emitted {sorted(emitted)}"
    for query in stack["MisconfiguredAlarm"]["Properties"]["Metrics"]:
        if "MetricStat" not in query or query["Id"] != direction:
            continue
        metric = query["MetricStat"]["Metric"]
        wanted = (metric["Namespace"], metric["MetricName"], frozenset(_dimensions(metric).items()))
        assert wanted in emitted, f"misconfigured alarm watches {wanted}; emitted {sorted(emitted)}"


# --- adding a tenant ------------------------------------------------------------------------------


def test_adding_a_third_tenant_adds_exactly_one_nested_stack_and_changes_nothing_else() -> None:
    two = translate(TWO)
    three = translate(THREE)
    added = set(three["Resources"]) - set(two["Resources"])
    assert added == {tenant_stack_id("c3")}
    assert three["Resources"][tenant_stack_id("c3")]["Type"] == TENANT_STACK_TYPE
    assert set(two["Resources"]) <= set(three["Resources"])
    for name, body in two["Resources"].items():
        assert three["Resources"][name] == body, f"{name} changed when a tenant was added"
    for section in ("Parameters", "Conditions", "Outputs", "Rules", "Metadata"):
        assert three.get(section) == two.get(section), section
    # The existing tenants' nested stacks get the same template and parameters, so CloudFormation
    # leaves them alone; the new one holds the tenant's 22 resources.
    assert tenant_stacks(THREE)["acme-nz"] == tenant_stacks(TWO)["acme-nz"]
    assert sorted(body["Type"] for body in _nested(THREE)["c3"].values()) == sorted(PER_TENANT.values())


def test_per_tenant_resources_refer_only_to_shared_resources_and_their_own() -> None:
    nested = _nested(TWO)
    root_parameters = set(source_template()["Parameters"])
    for tenant, stack in nested.items():
        for name, body in stack.items():
            refs = references(body) - root_parameters
            allowed = (
                set(stack)
                | {"StateTable", "ImageBucket", "DeadLetterQueue", "AlarmTopic"}
                | {r for r in refs if r.startswith("KudosSyncLayer")}  # SAM appends a content hash
                | {r for r in refs if r.startswith("AWS::")}
                | {"StackKey", "RuleNamePrefix"}  # Fn::Sub variables of the rule names
            )
            assert refs <= allowed, f"{tenant}/{name} refers to {refs - allowed}"
            other = next(t for t in TWO if t != tenant)
            assert not any(other in text for text in iter_strings(body)), f"{tenant}/{name} mentions {other}"


# --- capacity -------------------------------------------------------------------------------------


def _tenant_ids(count: int, length: int) -> tuple[str, ...]:
    """`count` distinct valid ids of exactly `length` characters."""
    ids = tuple(f"t{n:04d}".ljust(length, "x") for n in range(count))
    assert all(_is_valid_tenant(t) and len(t) == length for t in ids)
    return ids


def test_the_documented_200_tenants_fit_in_one_stack() -> None:
    """docs/operations.md promises 200 tenants per stack: the root stays far below CloudFormation's
    500 resources (shared resources + one nested stack per tenant) and each nested stack holds 22."""
    tenants = _tenant_ids(DOCUMENTED_TENANTS, 12)
    root = translate(tenants)
    shared = len(translate(ONE)["Resources"]) - 1
    assert len(root["Resources"]) == shared + DOCUMENTED_TENANTS < MAX_STACK_RESOURCES
    assert len(of_type(root["Resources"], TENANT_STACK_TYPE)) == DOCUMENTED_TENANTS
    # The most tenants the resource limit alone would allow (docs/operations.md quotes it).
    assert MAX_STACK_RESOURCES - shared == 488
    assert len(tenant_template_source()["Resources"]) == len(PER_TENANT) == 22
    # Each tenant's Network lookup repeats the stack's default: ~1.3 KB a tenant, 200 in a quarter MB.
    assert len(json.dumps(root).encode()) < MAX_TEMPLATE_BYTES / 3


def test_the_tenants_parameter_value_fits_200_ids_of_up_to_19_characters() -> None:
    """Tenants is one parameter value (4,096 bytes at most): 200 ids of 19 characters fit; ids of the
    maximum 32 characters allow 124 tenants (docs/operations.md)."""
    assert len(",".join(_tenant_ids(DOCUMENTED_TENANTS, 19))) <= MAX_PARAMETER_VALUE_BYTES
    assert len(",".join(_tenant_ids(DOCUMENTED_TENANTS, 20))) > MAX_PARAMETER_VALUE_BYTES
    assert len(",".join(_tenant_ids(124, MAX_TENANT_ID))) <= MAX_PARAMETER_VALUE_BYTES
    assert len(",".join(_tenant_ids(125, MAX_TENANT_ID))) > MAX_PARAMETER_VALUE_BYTES


def test_names_fit_for_the_longest_tenant_id_and_stack_name() -> None:
    """Rule names: prefix (14) + "-" + id (32) + "-push" = 52 <= 64, whatever the stack name. Alarm and
    dashboard names carry the stack name (up to 128 characters) and stay within 255."""
    tenant = "a" * MAX_TENANT_ID
    context = deployment("s" * MAX_STACK_NAME)
    stack = _nested((tenant,))[tenant]
    rules = [evaluate(stack[f"{d.title()}Schedule"]["Properties"]["Name"], context) for d in DIRECTIONS]
    assert max(map(len, rules)) == len("kudos-4f1c2d3e") + 1 + MAX_TENANT_ID + len("-push") == 52
    assert max(map(len, rules)) <= MAX_RULE_NAME
    assert all(re.fullmatch(r"[.\-_A-Za-z0-9]+", name) for name in rules)
    prefix = tenant_template_source()["Parameters"]["RuleNamePrefix"]
    assert prefix["MaxLength"] + 1 + MAX_TENANT_ID + len("-push") == MAX_RULE_NAME
    alarms = [
        evaluate(a["Properties"]["AlarmName"], context)
        for a in of_type(stack, "AWS::CloudWatch::Alarm").values()
    ]
    longest = MAX_STACK_NAME + 1 + MAX_TENANT_ID + len("-misconfigured")
    assert max(map(len, alarms)) == longest <= MAX_ALARM_NAME
    dashboards = [
        evaluate(d["Properties"]["DashboardName"], context)
        for d in of_type(stack, "AWS::CloudWatch::Dashboard").values()
    ]
    assert max(map(len, dashboards)) <= MAX_DASHBOARD_NAME
    assert all(re.fullmatch(r"[A-Za-z0-9_\-]+", name) for name in dashboards)


# --- IAM (what a role may reach: tests/deploy/test_isolation.py proves no tenant reaches another) ---


def _role_statements(direction: str) -> list[dict[str, Any]]:
    stack = _nested(ONE)["acme-nz"]
    return policy_statements(stack, f"{direction.title()}Role")


def _actions(statement: dict[str, Any]) -> list[str]:
    return [a.lower() for a in as_list(statement.get("Action", []))]


def _unconditional(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements, the VPC-only one taken from its Fn::If (as when the tenant has a network)."""
    out = []
    for statement in statements:
        if "Fn::If" in statement:
            condition, when_true, when_false = statement["Fn::If"]
            assert (condition, when_false) == ("HasVpc", {"Ref": "AWS::NoValue"})
            statement = when_true
        out.append(statement)
    return out


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_data_actions_never_have_a_wildcard_resource(direction: str) -> None:
    for statement in _unconditional(_role_statements(direction)):
        assert statement["Effect"] == "Allow"
        assert "NotResource" not in statement and "NotAction" not in statement
        if any(a.startswith(DATA_SERVICES) for a in _actions(statement)):
            resources = as_list(statement["Resource"])
            assert "*" not in resources, statement
            assert all(not a.endswith(":*") and a != "*" for a in _actions(statement)), statement
        else:  # Lambda's network interfaces: no resource narrower than * exists at creation
            assert {a.split(":")[0] for a in _actions(statement)} == {"ec2"}, statement


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_roles_have_no_managed_policies_and_trust_lambda_only(direction: str) -> None:
    """AWSLambdaBasicExecutionRole (and the VPC one) allow PutLogEvents on every log group."""
    role = _nested(ONE)["acme-nz"][f"{direction.title()}Role"]["Properties"]
    assert "ManagedPolicyArns" not in role
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_role_reads_its_own_tenants_secret_only(direction: str) -> None:
    secret_statements = [
        s for s in _role_statements(direction) if any(a.startswith("secretsmanager:") for a in _actions(s))
    ]
    [statement] = secret_statements
    assert _actions(statement) == ["secretsmanager:getsecretvalue"]
    [arn] = as_list(evaluate(statement["Resource"], deployment()))
    assert arn == f"arn:aws:secretsmanager:{REGION}:123456789012:secret:kudos-sync/tenants/acme-nz-??????"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_state_table_access_is_item_level_in_the_tenants_partition_and_never_the_index(
    direction: str,
) -> None:
    statements = [
        s for s in _role_statements(direction) if any(a.startswith("dynamodb:") for a in _actions(s))
    ]
    [statement] = statements
    assert as_list(statement["Resource"]) == [{"Fn::GetAtt": ["StateTable", "Arn"]}]
    assert set(_actions(statement)) == {
        "dynamodb:getitem",
        "dynamodb:batchgetitem",
        "dynamodb:query",
        "dynamodb:putitem",
        "dynamodb:updateitem",
        "dynamodb:deleteitem",
        "dynamodb:batchwriteitem",
    }
    assert evaluate(statement["Condition"], deployment()) == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["TENANT#acme-nz"]},
        "Null": {"dynamodb:LeadingKeys": "false"},
    }
    assert not any("gsi1" in text or "/index/" in text for text in iter_strings(statements))


def test_push_reads_and_writes_staged_images_only_under_its_tenants_prefix() -> None:
    statements = [s for s in _role_statements("push") if any(a.startswith("s3:") for a in _actions(s))]
    objects = [s for s in statements if "s3:getobject" in _actions(s)]
    listing = [s for s in statements if "s3:listbucket" in _actions(s)]
    assert len(statements) == 2
    [objects_statement] = objects
    [listing_statement] = listing
    assert set(_actions(objects_statement)) == {"s3:getobject", "s3:putobject"}
    assert evaluate(objects_statement["Resource"], deployment()) == (
        "arn:aws:s3:::kudos-sync-prod-imagebucket-abc123/tenants/acme-nz/*"
    )
    assert listing_statement["Resource"] == {"Fn::GetAtt": ["ImageBucket", "Arn"]}
    # No IfExists: a listing without a prefix would show every tenant's keys.
    assert evaluate(listing_statement["Condition"], deployment()) == {
        "StringLike": {"s3:prefix": ["tenants/acme-nz/*"]}
    }


def test_pull_has_no_s3_access() -> None:
    assert not [s for s in _role_statements("pull") if any(a.startswith("s3:") for a in _actions(s))]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_role_writes_its_own_log_group_and_needs_no_put_metric_data(direction: str) -> None:
    statements = _role_statements(direction)
    assert not [s for s in statements if "cloudwatch:putmetricdata" in _actions(s)]
    [logs] = [s for s in statements if any(a.startswith("logs:") for a in _actions(s))]
    assert set(_actions(logs)) == {"logs:createlogstream", "logs:putlogevents"}
    assert logs["Resource"] == {"Fn::GetAtt": [f"{direction.title()}LogGroup", "Arn"]}


# --- functions, layer and invocation --------------------------------------------------------------


@pytest.mark.parametrize(("direction", "timeout", "memory"), [("push", 900, 1024), ("pull", 600, 512)])
def test_each_tenant_has_functions_on_python312_with_the_layer_and_sized_timeouts(
    direction: str, timeout: int, memory: int
) -> None:
    stack = _nested(ONE)["acme-nz"]
    function = stack[FUNCTION[direction]]["Properties"]
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == "index.lambda_handler"
    assert function["Architectures"] == ["x86_64"]
    assert (function["Timeout"], function["MemorySize"]) == (timeout, memory)
    assert function["Role"] == {"Fn::GetAtt": [f"{direction.title()}Role", "Arn"]}
    [layer] = function["Layers"]
    assert layer["Ref"].startswith("KudosSyncLayer")
    assert function["Environment"]["Variables"] == {
        "KUDOS_TENANT": "acme-nz",
        "KUDOS_STATE_TABLE": {"Ref": "StateTable"},
        "KUDOS_IMAGE_BUCKET": {"Ref": "ImageBucket"},
        "POWERTOOLS_SERVICE_NAME": "kudos-sync",
        "POWERTOOLS_METRICS_NAMESPACE": "KudosSync",
        "LOG_LEVEL": {"Ref": "LogLevel"},
    }
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": f"{direction.title()}LogGroup"}}
    assert function["ReservedConcurrentExecutions"]["Fn::If"][0] == "HasReservedConcurrency"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_inline_function_code_is_functions_app_py_verbatim(direction: str) -> None:
    """The nested stack carries the three-line handler inline (no packaged artefact); it must be the
    file that is type-checked and tested."""
    function = tenant_template_source()["Resources"][FUNCTION[direction]]["Properties"]
    app = (REPO / "functions" / direction / "app.py").read_text()
    assert function["Code"]["ZipFile"] == app


def test_layer_is_built_from_layers_kudos_sync_by_the_python312_workflow() -> None:
    layer = source_template()["Resources"]["KudosSyncLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    assert layer["Properties"]["ContentUri"] == "layers/kudos_sync/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert (REPO / "layers" / "kudos_sync" / "requirements.txt").is_file()
    assert (REPO / "layers" / "kudos_sync" / "kudos_sync" / "__init__.py").is_file()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_failed_invocations_are_not_retried_and_land_in_the_encrypted_dead_letter_queue(
    direction: str,
) -> None:
    root = translate(ONE)["Resources"]
    stack = _nested(ONE)["acme-nz"]
    config = stack[f"{direction.title()}EventInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": FUNCTION[direction]}
    assert config["MaximumRetryAttempts"] == 0
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    assert root["DeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    sends = [s for s in _role_statements(direction) if "sqs:sendmessage" in _actions(s)]
    assert [as_list(s["Resource"]) for s in sends] == [[{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}]]
    dead_letters = root["DeadLetterAlarm"]["Properties"]
    assert dead_letters["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_vpc_config_comes_from_the_tenants_network(direction: str) -> None:
    stack = _nested(ONE)["acme-nz"]
    vpc = stack[FUNCTION[direction]]["Properties"]["VpcConfig"]
    assert vpc["Fn::If"][0] == "HasVpc"
    assert vpc["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    tenant_template = tenant_template_source()
    assert tenant_template["Conditions"]["HasVpc"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Network"}, "|"]}]}
    when_set = {"SubnetIds": ["subnet-0a", "subnet-0b"], "SecurityGroupIds": ["sg-0c"]}
    assert evaluate(vpc["Fn::If"][1], {**deployment(), **when_set}) == {
        "SubnetIds": ["subnet-0a", "subnet-0b"],
        "SecurityGroupIds": ["sg-0c"],
    }


def _network(tenant: str, **parameters: Any) -> str:
    root = translate((tenant,))["Resources"][tenant_stack_id(tenant)]["Properties"]["Parameters"]
    return str(evaluate(root["Network"], {**deployment(), **parameters}))


def test_a_tenant_without_a_network_of_its_own_gets_the_stacks_or_none() -> None:
    assert _network("acme-nz") == "|"
    given = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
    assert _network("acme-nz", **given) == "subnet-1;subnet-2|sg-1"


def test_a_tenant_listed_in_tenant_networks_gets_its_own_subnets_and_security_groups() -> None:
    mapping = source_template()["Mappings"]["TenantNetworks"]
    [(listed, entry)] = mapping.items()
    given = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert _network(listed, **given) == entry["Network"] != "subnet-1|sg-1"
    pattern = re.compile(tenant_template_source()["Parameters"]["Network"]["AllowedPattern"])
    assert pattern.fullmatch(entry["Network"]) and pattern.fullmatch("|")
    assert not pattern.fullmatch("subnet-1|") and not pattern.fullmatch("|sg-1")


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_log_groups_are_the_tenants_own_and_keep_logs_for_the_retention_parameter(direction: str) -> None:
    group = _nested(ONE)["acme-nz"][f"{direction.title()}LogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    name = evaluate(group["Properties"]["LogGroupName"], deployment())
    assert name == f"/kudos-sync/kudos-sync-prod/acme-nz/{direction}"


# --- data and alarm plumbing ----------------------------------------------------------------------


def test_state_table_keeps_its_keys_index_ttl_and_data() -> None:
    table = translate(ONE)["Resources"]["StateTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    [index] = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1"
    assert index["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_image_bucket_is_private_encrypted_tls_only_expiring_and_retained() -> None:
    resources = translate(ONE)["Resources"]
    bucket = resources["ImageBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    lifecycle = properties["LifecycleConfiguration"]["Rules"]
    assert any("NoncurrentVersionExpiration" in r for r in lifecycle)
    assert any("ExpirationInDays" in r for r in lifecycle)
    [statement] = resources["ImageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_alarms_can_use() -> None:
    resources = translate(ONE)["Resources"]
    topic = resources["AlarmTopic"]["Properties"]
    # Not alias/aws/sns: that key's policy does not let CloudWatch alarms publish to the topic.
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    statements = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert [set(s["Action"]) for s in cloudwatch] == [{"kms:Decrypt", "kms:GenerateDataKey*"}]
    assert resources["AlarmTopicKey"]["Properties"]["EnableKeyRotation"] is True


def test_email_subscription_exists_only_when_an_address_is_given() -> None:
    template = translate(ONE)
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert _is_not_equal(template["Conditions"]["HasAlarmEmail"], {"Ref": "AlarmEmail"}, "")


@pytest.mark.parametrize("tenants", [ONE, THREE], ids=["1-tenant", "3-tenants"])
def test_each_tenant_and_direction_has_a_dashboard_of_runs_failures_parked_and_lag(
    tenants: tuple[str, ...],
) -> None:
    for tenant, stack in _nested(tenants).items():
        assert len(of_type(stack, "AWS::CloudWatch::Dashboard")) == 2
        for direction in DIRECTIONS:
            dashboard = stack[f"{direction.title()}Dashboard"]["Properties"]
            name = evaluate(dashboard["DashboardName"], deployment())
            assert name == f"kudos-sync-prod-{tenant}-{direction}"
            body = json.loads(evaluate(dashboard["DashboardBody"], deployment()))
            shown = {
                (metric[0], metric[1], tuple(metric[2:8]))
                for widget in body["widgets"]
                for metric in widget["properties"]["metrics"]
            }
            dims = ("service", "kudos-sync", "tenant", tenant, "direction", direction)
            for name in (
                "RunSucceeded",
                "RunPartial",
                "RunFailed",
                "Misconfigured",
                "RecordsParked",
                "LagSeconds",
            ):
                assert ("KudosSync", name, dims) in shown


def test_the_fleet_dashboard_shows_every_tenants_failures_partials_misconfiguration_and_parked() -> None:
    resources = translate(THREE)["Resources"]
    dashboard = resources["FleetDashboard"]["Properties"]
    assert evaluate(dashboard["DashboardName"], deployment()) == "kudos-sync-prod-fleet"
    body = json.loads(evaluate(dashboard["DashboardBody"], deployment()))
    expressions = [m[0]["expression"] for w in body["widgets"] for m in w["properties"]["metrics"]]
    for name in ("RunFailed", "RunPartial", "Misconfigured", "RecordsParked"):
        # SEARCH over the handler's dimensions: every tenant, present and future, without a tenant name.
        assert any(
            f'MetricName="{name}"' in e and "{KudosSync,service,tenant,direction}" in e for e in expressions
        )
    assert not any(t in json.dumps(body) for t in THREE)


def test_outputs_name_the_table_bucket_topic_and_each_tenants_functions() -> None:
    outputs = translate(ONE)["Outputs"]
    assert outputs["StateTableName"]["Value"] == {"Ref": "StateTable"}
    assert outputs["ImageBucketName"]["Value"] == {"Ref": "ImageBucket"}
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    nested = tenant_template_source()["Outputs"]
    assert nested["PushFunctionName"]["Value"] == {"Ref": "PushFunction"}
    assert nested["PullFunctionName"]["Value"] == {"Ref": "PullFunction"}


def test_language_extensions_run_before_the_serverless_transform() -> None:
    assert source_template()["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    assert "Fn::ForEach::Tenant" in source_template()["Resources"]
    assert not any(k.startswith("Fn::ForEach") for k in expand_language_extensions(ONE)["Resources"])


# --- samconfig.toml -------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_samconfig_deploys_each_environment_with_valid_tenants(environment: str) -> None:
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    glob = config[environment]["global"]["parameters"]
    deploy = config[environment]["deploy"]["parameters"]
    build = config[environment]["build"]["parameters"]
    assert glob["stack_name"] == f"kudos-sync-{environment}"
    assert glob["region"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is (environment == "prod")
    assert build["language_extensions"] is True
    # sam deploy packages the template, and must expand Fn::ForEach to find the nested template.
    assert deploy["language_extensions"] is True
    assert config[environment]["package"]["parameters"]["language_extensions"] is True
    overrides = dict(item.split("=", 1) for item in glob["parameter_overrides"])
    tenants = overrides["Tenants"].split(",")
    assert tenants and all(_is_valid_tenant(t) for t in tenants)
    assert set(overrides) <= set(source_template()["Parameters"])


def _missing_fields(model: type[BaseModel], value: dict[str, Any], where: str = "") -> list[str]:
    gaps: list[str] = []
    for name, field in model.model_fields.items():
        if name not in value:
            gaps.append(where + name)
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            gaps += _missing_fields(field.annotation, value[name], f"{where}{name}.")
    return gaps


def test_operations_guide_secret_example_is_a_valid_tenant_config_naming_every_field() -> None:
    guide = (REPO / "docs" / "operations.md").read_text()
    block = re.search(r"tenant-secret-example.*?```json\n(.*?)```", guide, re.DOTALL)
    assert block, "docs/operations.md: the secret example must follow its marker comment"
    example = json.loads(block.group(1))
    assert TenantConfig.from_secret("acme-nz", example).tenant == "acme-nz"
    gaps = _missing_fields(TenantConfig, example)
    gaps += [
        f"magento.auth.{name}" for name in OAuthAuth.model_fields if name not in example["magento"]["auth"]
    ]
    assert gaps == [], f"the secret example in docs/operations.md lacks {gaps}"
    # The other kind of Magento auth is described in the field table.
    assert all(f'"{name}"' in guide for name in BearerAuth.model_fields)


# --- TLS only ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "target", "service"),
    [
        ("ImageBucketPolicy", "ImageBucket", "s3"),
        ("DeadLetterQueuePolicy", "DeadLetterQueue", "sqs"),
        ("AlarmTopicPolicy", "AlarmTopic", "sns"),
    ],
)
def test_bucket_queue_and_topic_deny_every_request_without_tls(
    policy: str, target: str, service: str
) -> None:
    resources = translate(ONE)["Resources"]
    properties = resources[policy]["Properties"]
    attached = properties.get("Bucket") or properties.get("Queues") or properties.get("Topics")
    assert target in references(attached)
    denials = [s for s in properties["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    [deny] = denials
    assert deny["Principal"] == "*" and deny["Action"] == f"{service}:*"
    assert target in references(deny["Resource"])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_topic_policy_keeps_cloudwatch_alarms_publishing_from_this_account_only() -> None:
    statements = translate(ONE)["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [alarms] = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert alarms["Effect"] == "Allow" and alarms["Action"] == "sns:Publish"
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
