"""template.yaml expanded offline the way CloudFormation does at deploy, for assertions on the result.

1. cfn-lint decodes the template and runs its implementation of the AWS::LanguageExtensions transform
   (Fn::ForEach over Tenants; cfn-lint takes the collection from the parameter's Default, so the tenants
   under test are put there).
2. aws-sam-translator turns the Serverless resources into plain CloudFormation, as the
   AWS::Serverless-2016-10-31 transform does (local CodeUri/ContentUri swapped for S3 URIs, as
   `sam package` would; managed policies are referenced by ARN, so the policy loader has nothing to load).

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

from tests.deploy.sam import TEMPLATE

REGION = "us-east-1"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

Resources = dict[str, dict[str, Any]]


class NoManagedPolicies:
    """Stands in for samtranslator's ManagedPolicyLoader (which would call IAM)."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def _source() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE))
    assert not matches, [str(m) for m in matches]
    assert template is not None
    return json.loads(json.dumps(template))  # plain dicts and strs, no cfn-lint node types


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
    parameters = {"Tenants": list(tenants), "AWS::Region": REGION}
    # samtranslator insists on a boto3 session region even when AWS::Region is given.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}):
        return sam_transform(expanded, parameters, NoManagedPolicies())  # type: ignore[arg-type]


def translate(tenants: Sequence[str]) -> dict[str, Any]:
    """Plain CloudFormation, as CloudFormation sees it after both transforms."""
    return copy.deepcopy(_translated(tuple(tenants)))


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
