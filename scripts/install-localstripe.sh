#!/usr/bin/env bash
# Installs the pinned localstripe (scripts/localstripe-requirements.txt) into
# <target>/test-tools/localstripe, exactly as the Rust test harness does
# (tests/src/localstripe.rs: a venv, pip --no-deps, requirements.txt marking
# the install), unless that very pin is installed already. Prints the command.
# The browser tests use it; the cargo tests install it themselves.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir/test-tools"
tools="$(cd "$target_dir/test-tools" && pwd)"
venv="$tools/localstripe"
requirements="$repo/scripts/localstripe-requirements.txt"

# The Rust harness takes the same lock while it installs.
exec 9>"$tools/localstripe.lock"
flock 9
if [ ! -x "$venv/bin/localstripe" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  cp "$requirements" "$tools/localstripe-requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$tools/localstripe-requirements.txt" >&2
  cp "$requirements" "$venv/requirements.txt"
fi
echo "$venv/bin/localstripe"
