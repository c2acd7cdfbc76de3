#!/usr/bin/env bash
# Creates (or reuses) .venv-sam, the AWS SAM CLI in its own virtual environment, and prints the path
# of its `sam`. SAM CLI pins its own pydantic, boto3 and friends, so it cannot share .venv with the
# project. It uses the same Python 3.12 as .venv (scripts/find-python312.sh): `sam build` for the
# python3.12 runtime needs that interpreter anyway.
#
#   scripts/sam-venv.sh                          # create if missing or outdated; print the sam path
#   scripts/sam-venv.sh --force                  # recreate
#   SAM_CLI_VERSION=1.171.0 scripts/sam-venv.sh  # another version (recreates the venv)
#
# Creating it takes about half a minute with a warm pip cache. Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${KUDOS_SAM_VENV:-$root/.venv-sam}"
# Pinned so every machine builds and lints with the same SAM CLI (bump deliberately).
spec="aws-sam-cli==${SAM_CLI_VERSION:-1.170.0}"
stamp="$venv/.installed"

if [ "${1:-}" = "--force" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$spec" ]; then
  py="$("$root/scripts/find-python312.sh")"
  echo "creating $venv with $spec on $py" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
  SAM_CLI_TELEMETRY=0 "$venv/bin/sam" --version >&2
  echo "$spec" > "$stamp"
fi
echo "$venv/bin/sam"
