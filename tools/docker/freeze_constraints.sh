#!/usr/bin/env bash
# Regenerate constraints.txt: the exact versions (pip freeze) of the runtime dependency closure of
# `pip install .` on Python 3.11 (the Python of airbyte/python-connector-base 4.0.x), resolved today.
# Run it after changing install_requires in setup.py, then rebuild and run `make docker-test`.
#   tools/docker/freeze_constraints.sh          PYTHON=/path/to/python3.11 to choose the interpreter
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "constraints.txt is for Python 3.11; set PYTHON=" >&2; exit 1; }

tmp=$(mktemp -d -t source-twilio-freeze.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --no-cache-dir "$repo"
"$tmp/venv/bin/python" -m pip check
{
  # shellcheck disable=SC2016 # backquotes are literal here
  echo '# Exact versions of the runtime dependency closure of `pip install .` on Python 3.11 (pip freeze).'
  echo '# The Dockerfile installs exactly these; the Makefile installs with -c constraints.txt.'
  echo '# Regenerate after changing install_requires in setup.py: tools/docker/freeze_constraints.sh'
  # setuptools stays: airbyte-cdk requires it at run time. pip is the installer's, not a dependency.
  "$tmp/venv/bin/python" -m pip freeze --all --exclude pip --exclude source-twilio
} >"$repo/constraints.txt"
echo "wrote $repo/constraints.txt ($(grep -vc '^#' "$repo/constraints.txt") packages)"
