"""Suite-wide settings. Folder conftests bring their own fixtures (sandbox, CI Office, local AWS)."""

import os

from hypothesis import HealthCheck, settings

# Property tests run on 2-core CI machines next to other workers: no per-example deadline.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Never let a developer's real AWS credentials or profile reach a test.
for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(name, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "KudosSync")
os.environ.setdefault("POWERTOOLS_DEV", "false")
