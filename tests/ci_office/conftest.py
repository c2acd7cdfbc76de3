"""CI Office test databases: the fixtures live in sandbox.ci_office.testing so other folders reuse them."""

from sandbox.ci_office.testing import (  # noqa: F401 (pytest fixtures)
    ci_office_backend,
    ci_office_engine,
    postgres_ci_office_engine,
    sqlite_ci_office_engine,
)
