"""Identifiers that must not be mixed up, and the tenant id rule enforced where a tenant enters."""

import re
from typing import Annotated, NewType

from pydantic import AfterValidator

Sku = NewType("Sku", str)
StyleCode = NewType("StyleCode", str)
BranchCode = NewType("BranchCode", str)
SourceCode = NewType("SourceCode", str)
MagentoEntityId = NewType("MagentoEntityId", int)
RunId = NewType("RunId", str)

# Lower-case letters, digits and hyphens, 2-32 characters, starting with a letter: valid in every place
# the id is used (secret names, DynamoDB keys, S3 prefixes, metric dimensions and CloudFormation
# logical ids once the template strips the hyphens).
TENANT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


class InvalidTenantIdError(ValueError):
    """A tenant id that does not follow TENANT_ID_PATTERN."""


def validate_tenant_id(value: str) -> str:
    """Return the tenant id unchanged, or raise InvalidTenantIdError naming the rule it breaks."""
    if not isinstance(value, str) or not TENANT_ID_PATTERN.fullmatch(value) or "--" in value:
        shown = value if isinstance(value, str) and len(value) <= 64 else "<invalid>"
        raise InvalidTenantIdError(
            f"tenant id {shown!r} is invalid: use 2-32 lower-case letters, digits and single hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    return value


TenantId = Annotated[str, AfterValidator(validate_tenant_id)]
"""A tenant id as a pydantic field type: validated wherever a model holding it is built."""
