#!/usr/bin/env bash
# Creates (or reuses) the project's Python virtualenv with the pinned test
# servers and independent clients: moto (the AWS emulator the tests run behind
# tandem-sim), boto3 and the AWS CLI (independent judges of what the sandbox
# serves). Idempotent: a matching venv is left alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TANDEM_VENV:-$root/.venv}"
req="$root/scripts/requirements-test.txt"
stamp="$venv/.tandem-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
