"""LocalAws builds its table from template.yaml, points the environment at moto and puts it back."""

import os
from collections.abc import Mapping
from typing import Any

from kudos_sync.aws.clients import CLIENT_CONFIG, IMAGE_BUCKET_ENV, STATE_TABLE_ENV

from sandbox.aws import LocalAws, load_template, state_table_definition


def _template_table() -> dict[str, Any]:
    properties: dict[str, Any] = load_template()["Resources"]["StateTable"]["Properties"]
    return properties


def test_given_local_aws_then_state_table_matches_template(local_aws: LocalAws) -> None:
    expected = _template_table()
    described = local_aws.clients().dynamodb.describe_table(TableName=local_aws.table_name)["Table"]
    assert described["KeySchema"] == expected["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )

    def indexes(table: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]]

    assert indexes(described) == indexes(expected)
    assert described["BillingModeSummary"]["BillingMode"] == expected["BillingMode"]
    ttl = local_aws.clients().dynamodb.describe_time_to_live(TableName=local_aws.table_name)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": expected["TimeToLiveSpecification"]["AttributeName"],
    }


def test_given_new_table_then_it_is_empty_and_built_the_same_way(local_aws: LocalAws) -> None:
    dynamodb = local_aws.clients().dynamodb
    first, second = local_aws.new_table(), local_aws.new_table()
    assert first != second
    assert dynamodb.scan(TableName=first)["Items"] == []
    assert (
        dynamodb.describe_table(TableName=first)["Table"]["KeySchema"]
        == dynamodb.describe_table(TableName=local_aws.table_name)["Table"]["KeySchema"]
    )


def test_given_local_aws_then_environment_points_at_it_and_clients_use_it(local_aws: LocalAws) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == local_aws.endpoint_url
    assert os.environ[STATE_TABLE_ENV] == local_aws.table_name
    assert os.environ[IMAGE_BUCKET_ENV] == local_aws.bucket
    clients = local_aws.clients()
    assert clients.dynamodb.meta.endpoint_url == local_aws.endpoint_url
    assert clients.dynamodb.meta.config.connect_timeout == CLIENT_CONFIG.connect_timeout == 3
    assert clients.dynamodb.meta.config.read_timeout == 10
    assert clients.s3.head_bucket(Bucket=local_aws.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_given_a_second_local_aws_when_it_exits_then_the_environment_is_restored(local_aws: LocalAws) -> None:
    before = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", STATE_TABLE_ENV, IMAGE_BUCKET_ENV)}
    with LocalAws() as inner:
        assert os.environ["AWS_ENDPOINT_URL"] == inner.endpoint_url != local_aws.endpoint_url
    assert {name: os.environ.get(name) for name in before} == before


def test_table_definition_tolerates_short_tags_and_other_resources() -> None:
    template = """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  Tenants: {Type: CommaDelimitedList}
Resources:
  Fn::ForEach::Tenant:
    - TenantId
    - !Ref Tenants
    - PushFunction${TenantId}:
        Type: AWS::Serverless::Function
        Properties:
          Environment: {Variables: {KUDOS_STATE_TABLE: !Ref StateTable}}
  StateTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-state"
      BillingMode: !If [Provisioned, PROVISIONED, PAY_PER_REQUEST]
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
"""
    from cfnlint.decode import decode_str

    decoded, _ = decode_str(template)
    definition = state_table_definition(decoded)
    assert definition.create_table_args["BillingMode"] == "PAY_PER_REQUEST"
    assert definition.key_schema == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert "TableName" not in definition.create_table_args
    assert definition.ttl_attribute is None
