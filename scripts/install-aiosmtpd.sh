#!/usr/bin/env bash
# Installs the pinned aiosmtpd (scripts/aiosmtpd-requirements.txt), the SMTP
# server the email tests send to, into <target>/test-tools/aiosmtpd, exactly
# as the Rust test harness does (tests/src/smtp.rs: a venv, pip --no-deps,
# requirements.txt marking the install), unless that very pin is installed
# already. Prints the venv's python. The cargo tests install it themselves;
# .ci/run calls this first so a missing python3-venv or PyPI fails early.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir/test-tools"
tools="$(cd "$target_dir/test-tools" && pwd)"
venv="$tools/aiosmtpd"
requirements="$repo/scripts/aiosmtpd-requirements.txt"

# The Rust harness takes the same lock while it installs.
exec 9>"$tools/aiosmtpd.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  cp "$requirements" "$tools/aiosmtpd-requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$tools/aiosmtpd-requirements.txt" >&2
  cp "$requirements" "$venv/requirements.txt"
fi
echo "$venv/bin/python"
