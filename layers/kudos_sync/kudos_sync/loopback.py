"""Whether a host is this machine: the one place plain http, unverified TLS and weakened SQL Server
transport are allowed (local sandboxes, tests, the near end of an SSH tunnel)."""

import ipaddress


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1); a name that merely contains one, such
    as `127.0.0.1.nip.io` or `localhost.example.com`, is not."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
