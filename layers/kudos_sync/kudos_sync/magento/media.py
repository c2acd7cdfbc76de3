"""How our gallery entries look in Magento: the label carries the image's content hash, and the main
image carries the image roles. The catalogue adapter writes and reads this; nothing else needs to."""

import re

IMAGE_ROLES = ("image", "small_image", "thumbnail")
_SHA_IN_LABEL = re.compile(r"sha256:([0-9a-f]{64})")


def media_label(title: str, sha256: str) -> str:
    """The entry's label: what a person sees, then the hash a re-run recognises it by."""
    return f"{title} sha256:{sha256}"


def sha_in_label(label: str) -> str | None:
    """The content hash a label of ours carries; None for an entry someone else made."""
    match = _SHA_IN_LABEL.search(label)
    return match.group(1) if match else None


def roles_of(main: bool) -> tuple[str, ...]:
    return IMAGE_ROLES if main else ()
