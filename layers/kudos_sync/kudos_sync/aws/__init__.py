"""AWS adapters: DynamoDB state store, S3 image stage, tenant secrets, client factory, error mapping.

Only handlers and the CLI import this package (the composition root); the sync core sees the ports.
"""
