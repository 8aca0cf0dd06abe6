#!/usr/bin/env bash
# System packages the tests need, installed only when missing (Debian/Ubuntu; `make test` runs this
# before pytest, CI runs it as root). Quick and silent when everything is already there.
#
#   chromium          a real headless browser: tests/report opens the HTML cost report in it
#   fonts-dejavu-core text fonts for that browser's screenshots (no boxes instead of letters)
#
# Without root (and without password-less sudo) nothing is installed: the script says what is
# missing and exits 0, and the tests that need it are skipped with that reason.
set -euo pipefail

PACKAGES=(chromium fonts-dejavu-core)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system_deps: apt-get not found; install these yourself: ${missing[*]}" >&2
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "system_deps: not root; skipping install of: ${missing[*]} (tests that need them will be skipped)" >&2
    exit 0
fi

echo "system_deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when a package cannot be found in the ones already on disk.
for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1 || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$')" ]; then
        "${SUDO[@]}" apt-get update -qq
        break
    fi
done
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # The lists on disk may be stale (a package version no longer on the mirror): refresh once, retry.
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
