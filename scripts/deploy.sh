#!/usr/bin/env bash
# Deploys the stack: the one command operators run (docs/operations.md, Deploying).
#
#   scripts/deploy.sh                                   # samconfig.toml's dev environment
#   scripts/deploy.sh --config-env prod                 # prod: sam deploy shows the change set and asks
#   scripts/deploy.sh --config-env prod --s3-bucket B   # artifacts in bucket B instead of resolve_s3's
#   scripts/deploy.sh --config-env dev -- --no-execute-changeset   # after --: more sam deploy options
#
# 1. sam build --config-env <env> --language-extensions (Tenants and the rest come from samconfig.toml)
# 2. scripts/package_nested.py: uploads templates/tenant.yaml to the deployment bucket under
#    kudos-sync/templates/tenant-<sha256>.yaml and puts that URL in the nested stacks' Location in
#    .aws-sam/build/template.yaml (SAM CLI 1.170 leaves it a local path inside Fn::ForEach)
# 3. sam deploy --config-env <env> --template-file .aws-sam/build/template.yaml
#
# SAM CLI runs from .venv-sam (scripts/sam-venv.sh creates it when missing); AWS credentials and
# profile come from the environment as usual.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
env=dev
bucket=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config-env) env="${2:?--config-env needs a value}"; shift 2 ;;
    --config-env=*) env="${1#*=}"; shift ;;
    --s3-bucket) bucket="${2:?--s3-bucket needs a value}"; shift 2 ;;
    --s3-bucket=*) bucket="${1#*=}"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if ! grep -q "^\[$env\.deploy\.parameters\]" samconfig.toml; then
  echo "deploy.sh: samconfig.toml has no [$env.deploy.parameters]" >&2
  exit 2
fi

# Print each command, then run it.
run() { printf '+'; printf ' %q' "$@"; printf '\n'; "$@"; }

echo "== SAM CLI (.venv-sam)"
sam="$(scripts/sam-venv.sh)"
# `sam build`'s python3.12 workflow runs whichever python3.12 is first on PATH.
py312="$(scripts/find-python312.sh)"
PATH="$(dirname "$py312"):$PATH"
export PATH

echo "== build ($env)"
run "$sam" build --config-env "$env" --language-extensions

echo "== nested tenant template"
package_args=(--config-env "$env" --template .aws-sam/build/template.yaml)
deploy_args=(--config-env "$env" --template-file .aws-sam/build/template.yaml)
if [ -n "$bucket" ]; then
  package_args+=(--s3-bucket "$bucket")
  deploy_args+=(--no-resolve-s3 --s3-bucket "$bucket")
fi
run "$(dirname "$sam")/python" scripts/package_nested.py "${package_args[@]}"

echo "== deploy ($env)"
run "$sam" deploy "${deploy_args[@]}" ${extra[@]+"${extra[@]}"}
