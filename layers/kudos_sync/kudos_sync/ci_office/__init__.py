"""CI Office adapter: SQLAlchemy Core over CI Office's SQL Server (SQLite and PostgreSQL in dev/CI).

- `schema`: every table and column name (the reference schema), `create_schema`, `drop_schema`
- `engine`: `create_ci_office_engine(settings)`
- `errors`: the one table mapping driver errors to Transient/Configuration/Record errors
- `catalogue`: `SqlCatalogueSource` (push reads)
- `ledger`: `SqlLedger` (pull writes, one transaction per document)
"""
