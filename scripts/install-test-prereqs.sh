#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu).
#
# Each entry of TEST_PACKAGES is "debian-package:binary,binary,...".  A package
# counts as present when every listed binary is found on PATH or in
# /usr/lib/postgresql/<version>/bin (Debian keeps the PostgreSQL server tools
# there).  An entry without binaries is checked with dpkg instead.
#
# When everything is present, apt is not touched at all.  Otherwise, as root,
# the missing packages are installed non-interactively; as a normal user the
# script prints what to install and exits 1.
set -euo pipefail

TEST_PACKAGES=(
    "postgresql:initdb,pg_ctl,postgres"
    "sip-tester:sipp"  # SIPp; its RFC 2833 DTMF and G.711 captures in /usr/share/sip-tester feed the RTP tests
    "baresip:baresip"  # the agent softphone of the SIP tests (tests/baresip.py drives it over ctrl_tcp)
    "espeak-ng:espeak-ng"  # spoken prompts
    "sox:sox"  # audio conversion and checks
    "chromium:chromium"  # headless browser of the end-to-end tests (Playwright drives /usr/bin/chromium)
)

export DEBIAN_FRONTEND=noninteractive

log() { printf 'install-test-prereqs: %s\n' "$*" >&2; }

# Directories searched besides PATH: every /usr/lib/postgresql/*/bin.
extra_dirs=()
for d in /usr/lib/postgresql/*/bin; do
    [[ -d "$d" ]] && extra_dirs+=("$d")
done

have_binary() {
    local name="$1" d
    command -v "$name" >/dev/null 2>&1 && return 0
    for d in "${extra_dirs[@]+"${extra_dirs[@]}"}"; do
        [[ -x "$d/$name" ]] && return 0
    done
    return 1
}

have_package() {
    local entry="$1" pkg bins bin
    pkg="${entry%%:*}"
    bins=""
    [[ "$entry" == *:* ]] && bins="${entry#*:}"
    if [[ -z "$bins" ]]; then
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]]
        return
    fi
    local IFS=','
    for bin in $bins; do
        have_binary "$bin" || return 1
    done
    return 0
}

missing=()
for entry in "${TEST_PACKAGES[@]}"; do
    if ! have_package "$entry"; then
        missing+=("${entry%%:*}")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    log "all test prerequisites present"
    exit 0
fi

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"

if [[ "$(id -u)" -ne 0 ]]; then
    log "missing system packages: ${missing[*]}"
    log "install them as root, e.g.:"
    log "    sudo apt-get update && sudo $install_cmd"
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    log "missing system packages: ${missing[*]}"
    log "apt-get not found: install the equivalent packages with this system's package manager"
    exit 1
fi

log "installing: ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null

# Re-check, so a package that does not provide what we expect fails loudly here.
extra_dirs=()
for d in /usr/lib/postgresql/*/bin; do
    [[ -d "$d" ]] && extra_dirs+=("$d")
done
still=()
for entry in "${TEST_PACKAGES[@]}"; do
    have_package "$entry" || still+=("$entry")
done
if [[ ${#still[@]} -gt 0 ]]; then
    log "still missing after install: ${still[*]}"
    exit 1
fi
log "done"
