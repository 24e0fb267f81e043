#!/usr/bin/env bash
# Checks what bebr.so needs from the host's libraries, so it loads on older systems
# (docs/install.md): no libstdc++ or libgcc_s (they are linked in, BEBR_STATIC_RUNTIME), hence no
# GLIBCXX_, CXXABI_ or GCC_ symbol version, and no GLIBC_ version above the stated highest.
#   bash scripts/check-symbols.sh build/bebr.so 2.34
# Prints the libraries and the highest version needed from each; exits 1 when a rule is broken.
set -euo pipefail
so="$1"
max_glibc="$2"
[ -f "$so" ] || { echo "check-symbols: no $so" >&2; exit 2; }

needed="$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')"
# The version needs (.gnu.version_r): "File: libc.so.6" lines, then "Name: GLIBC_2.14" lines.
needs="$(readelf -V --wide "$so" | awk '
  /Version needs section/ { on = 1; next }
  /Version (definition|symbols) section/ { on = 0 }
  on && /File:/ { for (i = 1; i <= NF; i++) if ($i == "File:") file = $(i + 1) }
  on && /Name:/ { for (i = 1; i <= NF; i++) if ($i == "Name:") print file, $(i + 1) }')"

status=0
echo "bebr.so needs: $(echo $needed)"
for lib in $needed; do
  highest="$(echo "$needs" | awk -v f="$lib" '$1 == f { print $2 }' | sort -V | tail -n 1)"
  echo "  $lib: highest symbol version ${highest:-(none)}"
done
case " $(echo $needed) " in
  *" libstdc++.so"* | *" libgcc_s.so"*)
    echo "check-symbols: needs the shared C++ runtime (expected it linked in)"
    status=1
    ;;
esac
cxx="$(echo "$needs" | awk '$2 ~ /^(GLIBCXX|CXXABI|GCC)_/ { print $2 }' | sort -uV)"
if [ -n "$cxx" ]; then
  echo "check-symbols: needs C++ runtime versions: $(echo $cxx)"
  status=1
fi
glibc="$(echo "$needs" | awk '$2 ~ /^GLIBC_[0-9]/ { sub(/^GLIBC_/, "", $2); print $2 }' | sort -V | tail -n 1)"
if [ -n "$glibc" ] && [ "$(printf '%s\n%s\n' "$glibc" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
  echo "check-symbols: needs GLIBC_$glibc; the stated highest is GLIBC_$max_glibc"
  echo "$needs" | awk '$2 ~ /^GLIBC_/' | sort -V -k2 | tail -n 5
  status=1
fi
[ $status -eq 0 ] && echo "ok: highest GLIBC_${glibc:-none} (allowed: $max_glibc), no C++ runtime versions"
exit $status
