"""CI Office sandbox: demo data (`demo_data`), test databases and fixtures (`testing`), and
`python -m sandbox.ci_office` to seed a database."""
