#!/usr/bin/env bash
# Make sure the system programs `infolinia serve` needs are installed (Debian/Ubuntu), for `make run`.
#
# RUN_PACKAGES entries are "debian-package:binary". When every binary is on PATH, nothing happens. Otherwise, as
# root with apt-get, the missing packages are installed non-interactively; else the script says what to install
# and exits 1.
set -euo pipefail

RUN_PACKAGES=(
    "espeak-ng:espeak-ng"  # speaks the voice prompts (made on the first start, into data/prompts)
)

say() { printf 'install-run-prereqs: %s\n' "$*" >&2; }

missing=()
for entry in "${RUN_PACKAGES[@]}"; do
    command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${missing[*]}"
    say "install with your package manager, on Debian/Ubuntu as root:"
    say "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
for entry in "${RUN_PACKAGES[@]}"; do
    command -v "${entry#*:}" >/dev/null 2>&1 || { say "still missing after install: ${entry%%:*}"; exit 1; }
done
