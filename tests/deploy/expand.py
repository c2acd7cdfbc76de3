"""template.yaml expanded offline the way CloudFormation does at deploy, for assertions on the result.

1. cfn-lint decodes the template and runs its implementation of the AWS::LanguageExtensions transform
   (Fn::ForEach over Tenants; cfn-lint takes the collection from the parameter's Default, so the tenants
   under test are put there).
2. aws-sam-translator turns the Serverless resources into plain CloudFormation, as the
   AWS::Serverless-2016-10-31 transform does (local CodeUri/ContentUri/Location swapped for S3 URIs, as
   `sam package` would; managed policies are referenced by ARN, so the policy loader has nothing to load).
   Each tenant becomes one AWS::CloudFormation::Stack (logical id Tenant<id without hyphens>).
3. tenant_stacks() instantiates templates/tenant.yaml once per tenant with the parameters the root
   stack passes to that nested stack: a Ref to a parameter becomes the value passed (a literal such as
   the tenant id, or the root's own Ref/GetAtt), and ${Parameter} in Fn::Sub likewise. The result reads
   like a single-stack template: a role's table is {"Fn::GetAtt": ["StateTable", "Arn"]}, an alarm's
   action {"Ref": "AlarmTopic"}, the tenant dimension "acme-nz".
4. evaluate() resolves what is left (Fn::Sub, Fn::Select, Fn::Split, pseudo parameters, GetAtt of the
   functions) for one made-up stack, to check concrete names and ARNs: rule names against
   EventBridge's 64 characters and against the functions' permissions.

Results are cached per tenant tuple; callers get deep copies.
"""

import copy
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any
from unittest import mock

from cfnlint.decode import decode
from cfnlint.template.template import Template
from cfnlint.template.transforms._language_extensions import language_extension
from samtranslator.translator.transform import transform as sam_transform

from tests.deploy.sam import TEMPLATE, TENANT_TEMPLATE

REGION = "us-east-1"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
# What `sam package` would put in the nested stacks' Location (an S3 URL; the key hashes the content).
TENANT_TEMPLATE_URL = "https://s3.us-east-1.amazonaws.com/deploy-bucket/tenant.template"
TENANT_STACK_TYPE = "AWS::CloudFormation::Stack"

Resources = dict[str, dict[str, Any]]


class NoManagedPolicies:
    """Stands in for samtranslator's ManagedPolicyLoader (which would call IAM)."""

    def load(self) -> dict[str, str]:
        return {}


def _decode(path: Any) -> dict[str, Any]:
    template, matches = decode(str(path))
    assert not matches, [str(m) for m in matches]
    assert template is not None
    return json.loads(json.dumps(template))  # plain dicts and strs, no cfn-lint node types


@cache
def _source() -> dict[str, Any]:
    return _decode(TEMPLATE)


@cache
def _tenant_source() -> dict[str, Any]:
    return _decode(TENANT_TEMPLATE)


def tenant_template_source() -> dict[str, Any]:
    """templates/tenant.yaml as written (one tenant's nested stack, plain CloudFormation)."""
    return copy.deepcopy(_tenant_source())


def source_template() -> dict[str, Any]:
    """template.yaml as written (Fn::ForEach and Serverless resources intact)."""
    return copy.deepcopy(_source())


def with_tenants(template: dict[str, Any], tenants: Sequence[str]) -> dict[str, Any]:
    """A copy of the template whose Tenants parameter defaults to `tenants`."""
    result = copy.deepcopy(template)
    result["Parameters"]["Tenants"]["Default"] = ",".join(tenants)
    return result


@cache
def _expanded(tenants: tuple[str, ...]) -> dict[str, Any]:
    cfn = Template(str(TEMPLATE), with_tenants(_source(), tenants), regions=[REGION])
    matches, expanded = language_extension(cfn)
    assert not matches, [str(m) for m in matches]
    expanded = json.loads(json.dumps(expanded))
    # The Default was only the way to hand cfn-lint the tenants; CloudFormation gets them as a value.
    expanded["Parameters"]["Tenants"] = copy.deepcopy(_source()["Parameters"]["Tenants"])
    return expanded


def expand_language_extensions(tenants: Sequence[str]) -> dict[str, Any]:
    """The template after AWS::LanguageExtensions only (Serverless resources still there)."""
    return copy.deepcopy(_expanded(tuple(tenants)))


@cache
def _translated(tenants: tuple[str, ...]) -> dict[str, Any]:
    expanded = copy.deepcopy(_expanded(tenants))
    transforms = expanded.get("Transform")
    assert transforms == ["AWS::LanguageExtensions", SAM_TRANSFORM], transforms
    expanded["Transform"] = SAM_TRANSFORM
    for resource in expanded["Resources"].values():
        properties = resource.get("Properties", {})
        if "CodeUri" in properties:
            properties["CodeUri"] = "s3://deploy-bucket/function.zip"
        if "ContentUri" in properties:
            properties["ContentUri"] = "s3://deploy-bucket/layer.zip"
        if resource["Type"] == "AWS::Serverless::Application":
            assert (TEMPLATE.parent / properties["Location"]).resolve() == TENANT_TEMPLATE
            properties["Location"] = TENANT_TEMPLATE_URL
    parameters = {"Tenants": list(tenants), "AWS::Region": REGION}
    # samtranslator insists on a boto3 session region even when AWS::Region is given.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}):
        return sam_transform(expanded, parameters, NoManagedPolicies())  # type: ignore[arg-type]


def translate(tenants: Sequence[str]) -> dict[str, Any]:
    """Plain CloudFormation, as CloudFormation sees it after both transforms."""
    return copy.deepcopy(_translated(tuple(tenants)))


def tenant_stack_id(tenant: str) -> str:
    """The root stack's logical id of a tenant's nested stack."""
    return "Tenant" + logical_id_suffix(tenant)


@cache
def _tenant_stacks(tenants: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    resources = _translated(tenants)["Resources"]
    stacks = {}
    for tenant in tenants:
        stack = resources[tenant_stack_id(tenant)]
        assert stack["Type"] == TENANT_STACK_TYPE, stack["Type"]
        assert stack["Properties"]["TemplateURL"] == TENANT_TEMPLATE_URL
        stacks[tenant] = instantiate(_tenant_source(), stack["Properties"]["Parameters"])
    return stacks


def tenant_stacks(tenants: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per tenant, templates/tenant.yaml with the parameters its nested stack gets from the root."""
    return copy.deepcopy(_tenant_stacks(tuple(tenants)))


def instantiate(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """`template` with each Ref to one of its parameters, and each ${Parameter} in Fn::Sub, replaced by
    the value in `parameters` (values may be intrinsics of the parent stack). Every parameter the
    template declares must be given, and nothing else (as CloudFormation requires without defaults)."""
    declared = set(template.get("Parameters", {}))
    given = set(parameters)
    assert given == declared, {"unknown": sorted(given - declared), "missing": sorted(declared - given)}
    result = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        result[section] = _substitute(result.get(section, {}), parameters)
    return result


def _substitute(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_substitute(item, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return copy.deepcopy(parameters[value["Ref"]])
    if set(value) == {"Fn::Sub"}:
        return _substitute_sub(value["Fn::Sub"], parameters)
    return {key: _substitute(item, parameters) for key, item in value.items()}


def _substitute_sub(sub: Any, parameters: dict[str, Any]) -> Any:
    text, variables = (sub[0], dict(sub[1])) if isinstance(sub, list) else (sub, {})
    variables = {name: _substitute(item, parameters) for name, item in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables or name not in parameters:
            return match.group(0)
        given = parameters[name]
        if isinstance(given, str):
            return given.replace("${", "${!")
        if isinstance(given, (int, float)):
            return str(given)
        if set(given) == {"Ref"}:
            return "${" + given["Ref"] + "}"
        if set(given) == {"Fn::GetAtt"}:
            target = given["Fn::GetAtt"]
            return "${" + (".".join(target) if isinstance(target, list) else target) + "}"
        variables[name] = copy.deepcopy(given)
        return match.group(0)

    text = re.sub(r"\$\{([^}!]+)\}", replace, text)
    if variables:
        return {"Fn::Sub": [text, variables]}
    if "${" not in text:
        return text
    return {"Fn::Sub": text}


def evaluate(value: Any, context: dict[str, Any]) -> Any:
    """Resolve intrinsics for one made-up deployment. `context` maps pseudo parameters (AWS::StackId,
    AWS::StackName, AWS::Region, AWS::AccountId, AWS::Partition), parameters and "<Resource>.<Attr>"
    to values, and "Mappings" to the template's mappings (for Fn::FindInMap, DefaultValue included);
    anything else raises KeyError."""
    if isinstance(value, list):
        return [evaluate(item, context) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        [(key, inner)] = value.items()
        if key == "Ref":
            return context[inner]
        if key == "Fn::GetAtt":
            return context[".".join(inner) if isinstance(inner, list) else inner]
        if key == "Fn::Select":
            index, items = evaluate(inner, context)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = evaluate(inner, context)
            return text.split(separator)
        if key == "Fn::Join":
            separator, items = evaluate(inner, context)
            return separator.join(items)
        if key == "Fn::FindInMap":
            name, top, second = evaluate(inner[:3], context)
            found = context["Mappings"].get(name, {}).get(top, {})
            if second in found:
                return found[second]
            return evaluate(inner[3]["DefaultValue"], context)
        if key == "Fn::Sub":
            text, variables = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
            local = {**context, **{k: evaluate(v, context) for k, v in variables.items()}}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(local[m.group(1)]), text).replace("${!", "${")
    return {key: evaluate(item, context) for key, item in value.items()}


def logical_id_suffix(tenant: str) -> str:
    """What &{tenant} becomes in a logical id: the id with every non-alphanumeric dropped."""
    return "".join(ch for ch in tenant if ch.isalnum())


def of_type(resources: Resources, resource_type: str) -> Resources:
    return {name: body for name, body in resources.items() if body["Type"] == resource_type}


def policy_statements(resources: Resources, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies of one IAM role."""
    role = resources[role_id]
    assert role["Type"] == "AWS::IAM::Role"
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_strings(item)


def references(value: Any) -> set[str]:
    """Logical ids a value points at through Ref, Fn::GetAtt or ${X}/${X.Attr} in Fn::Sub."""
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                if key == "Ref" and isinstance(inner, str):
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                    found.add(target)
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) else inner
                    found.update(_sub_names(text))
                walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)

    walk(value)
    return found


def _sub_names(text: str) -> Iterable[str]:
    for name in re.findall(r"\$\{([^}!]+)\}", text):
        yield name.split(".")[0]
