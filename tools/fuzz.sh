#!/usr/bin/env bash
# Fuzz the parsers of untrusted input (tests/fuzz/fuzz_parsers.py) for FUZZ_SECONDS seconds (default 60).
# Coverage-guided with atheris (tests/requirements-fuzz.txt, installed into the test venv on first use); set
# FUZZ_ENGINE=random to use seeded random mutation instead. Not part of tools/test.sh.
#   tools/fuzz.sh                  # 60 s with atheris
#   FUZZ_SECONDS=600 tools/fuzz.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv
link_collection
if [ "${FUZZ_ENGINE:-atheris}" = atheris ] && ! "$VENV/bin/python" -c "import atheris" 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/tests/requirements-fuzz.txt"
fi
corpus="$BUILD/fuzz-corpus"
export FUZZ_CORPUS="$corpus" FUZZ_SECONDS="${FUZZ_SECONDS:-60}" PYTHONPATH="$BUILD/collections"
if [ "${FUZZ_ENGINE:-atheris}" = random ]; then
  exec "$VENV/bin/python" -c "import sys; sys.modules['atheris'] = None; import runpy; runpy.run_path('$ROOT/tests/fuzz/fuzz_parsers.py', run_name='__main__')"
fi
exec "$VENV/bin/python" "$ROOT/tests/fuzz/fuzz_parsers.py"
