#!/usr/bin/env bash
# Installs what building and driving the desktop app needs, then builds the
# window's files (ui/dist, embedded into the app at compile time). Safe to
# run again: it only installs what is missing. Used by the README's two
# commands and by .ci/run before clippy (the Tauri crate needs both).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: WebKitGTK to build the app; Xvfb, the WebKit WebDriver
# and ImageMagick to drive it headless in the tests.
packages=(pkg-config libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver imagemagick)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup-desktop: installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup-desktop: Node.js 20+ and npm are needed (apt-get install nodejs npm)" >&2
    exit 1
fi

# npm packages exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
# Built again only when a source is newer than the last build: the Tauri
# crate embeds ui/dist, so a rebuilt dist recompiles the app (CI runs this
# script three times).
stale=$(find ui -path ui/node_modules -prune -o -path ui/dist -prune -o -path ui/e2e -prune \
    -o -type f -newer ui/dist/index.html -print -quit 2>/dev/null || true)
if [ ! -f ui/dist/index.html ] || [ -n "$stale" ]; then
    (cd ui && npx vite build --logLevel warn)
fi

# The WebDriver bridge for Tauri (a crate's binary, from crates.io).
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
    cargo install tauri-driver --locked --quiet
fi
