#!/usr/bin/env bash
# Builds and runs the rusqlite example: run.sh EXTENSION WORKDIR DATADIR
# (scripts/test-bindings.sh). Exit 77: skipped. Offline, Debian's crates as the only registry.
# packages: cargo rustc librust-rusqlite-dev
set -euo pipefail
[ -x /usr/bin/cargo ] && [ -d /usr/share/cargo/registry ] && ls -d /usr/share/cargo/registry/rusqlite-* >/dev/null 2>&1 ||
  { echo "no /usr/bin/cargo or rusqlite in /usr/share/cargo/registry (cargo, librust-rusqlite-dev)" >&2; exit 77; }
out="$2/rust"
mkdir -p "$out/cargo-home"
cat > "$out/cargo-home/config.toml" <<'TOML'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
TOML
# Debian's cargo and rustc (a rustup toolchain first on PATH would be another compiler).
# A copy of the crate, so that cargo writes its Cargo.lock there, not into the source tree.
mkdir -p "$out/crate"
cp -r "$(dirname "$0")/Cargo.toml" "$(dirname "$0")/src" "$out/crate/"
PATH=/usr/bin:$PATH CARGO_HOME="$out/cargo-home" CARGO_TARGET_DIR="$out/target" \
  cargo build --quiet --offline --release --manifest-path "$out/crate/Cargo.toml"
exec "$out/target/release/bebr-knn" "$1" "$3"
