#!/usr/bin/env bash
# Prints the path of a Python 3.12 interpreter, or explains what to install.
# The Lambda runtime is python3.12, so development and tests use the same minor version.
set -u
is312() { [ -x "$1" ] || command -v "$1" >/dev/null 2>&1 || return 1; "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON312:-}" ] && candidates+=("$PYTHON312")
candidates+=(python3.12)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.12*/bin/python3.12; do candidates+=("$p"); done
fi
if command -v uv >/dev/null 2>&1; then
  p=$(uv python find 3.12 2>/dev/null) && candidates+=("$p")
fi
candidates+=(/usr/bin/python3.12 /usr/local/bin/python3.12 /opt/homebrew/bin/python3.12 python3 python)
for c in "${candidates[@]}"; do
  if is312 "$c"; then
    command -v "$c" 2>/dev/null || echo "$c"
    exit 0
  fi
done
cat >&2 <<'MSG'
Python 3.12 was not found (the Lambda runtime is python3.12).
Install it with one of:
  Debian/Ubuntu:  sudo apt-get install python3.12 python3.12-venv
  pyenv:          pyenv install 3.12
  uv:             uv python install 3.12
  macOS:          brew install python@3.12
or point PYTHON312 at an interpreter:  make install PYTHON312=/path/to/python3.12
MSG
exit 1
