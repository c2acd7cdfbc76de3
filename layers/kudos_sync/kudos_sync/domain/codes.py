"""How two CI codes are compared: the one rule for style codes, SKUs, branch and tender codes and
customer e-mails wherever Python compares them.

CI Office runs on SQL Server under a case-insensitive collation (`Latin1_General_CI_AS` and the like),
which holds `TEE1`, `tee1` and `TEE1 ` as one value: case is ignored and so are trailing spaces (ANSI
padding); accents still count. Magento's MySQL compares SKUs the same way. A join or a foreign key
that matched in SQL must therefore match in Python too, or a row is dropped in a dict lookup; and two
codes that differ only in case or trailing spaces are one code to both systems, so they are reported
rather than merged.
"""


def code_key(code: str) -> str:
    """The value two CI codes are compared by: trailing spaces dropped, lower case.
    `code_key("TEE1-BLK-S ") == code_key("tee1-blk-s")`."""
    return code.rstrip(" ").lower()


def same_code(left: str, right: str) -> bool:
    """Whether SQL Server (case-insensitive collation) would hold these two codes equal."""
    return code_key(left) == code_key(right)
