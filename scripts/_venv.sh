# Sourced by the scripts: makes sure .venv exists with the pinned dependencies installed.
# Needs only Python 3.11+ on the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "s2sadmin needs Python 3.11 or newer (none found on PATH)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  "$(find_python)" -m venv .venv
fi
# What to install: the runtime dependencies only (the demo), or also the test tools when the caller
# sets VENV_EXTRAS=dev before sourcing this (scripts/test, .ci/run).
extras="${VENV_EXTRAS:-}"
hash=$(sha256sum pyproject.toml | cut -c1-16)
stamp=".venv/.installed-$hash-${extras:-runtime}"
# Reinstall only when pyproject.toml changed since the last install of the same extras.
if [ ! -f "$stamp" ]; then
  if [ -n "$extras" ]; then
    echo "==> Installing dependencies and the $extras tools into .venv (pinned in pyproject.toml)"
  else
    echo "==> Installing the dependencies into .venv (pinned in pyproject.toml; the test tools come with ./scripts/test)"
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  # Stamps of an older pyproject.toml are stale; the extras installed with this one stay valid.
  find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash-*" -delete
  touch "$stamp"
  # The test tools come on top of the runtime ones: the runtime stamp holds too.
  touch ".venv/.installed-$hash-runtime"
fi
