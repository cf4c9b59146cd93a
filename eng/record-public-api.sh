#!/usr/bin/env bash
# Records public API changes in src/*/PublicAPI.Unshipped.txt (docs/packaging.md):
#  - adds what is public and not listed (RS0016),
#  - removes what is listed and gone (RS0017),
# both read from a full (non-incremental) build of each project, with warnings not treated as errors so
# every diagnostic is reported. (Earlier this used `dotnet format analyzers` for RS0016; on records whose
# signature changed it dropped the compiler-made members, so the build output is the one source now.)
# usage: eng/record-public-api.sh [PoIP.Network PoIP.Core ...]   (default: every project under src/, in dependency order)
set -uo pipefail
cd "$(dirname "$0")/.."
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
  projects=(PoIP.Core PoIP.Inference PoIP.Network PoIP.Economics PoIP.Hosting PoIP.Gateway PoIP.Testing)
fi
for name in "${projects[@]}"; do
  project="src/$name/$name.csproj"
  file="src/$name/PublicAPI.Unshipped.txt"
  out=$(dotnet build "$project" -c Release --no-incremental -nologo -v q -p:TreatWarningsAsErrors=false 2>&1)
  added=$(printf '%s\n' "$out" | grep -oE "RS0016: Symbol '[^']+' is not part" | sed -E "s/^RS0016: Symbol '(.*)' is not part$/\1/" | sort -u)
  removed=$(printf '%s\n' "$out" | grep -oE "RS0017: Symbol '[^']+'" | sed -E "s/^RS0017: Symbol '(.*)'$/\1/" | sort -u)
  [ -n "$added" ] && printf '%s\n' "$added" >> "$file"
  if [ -n "$removed" ]; then
    while IFS= read -r symbol; do
      grep -vxF -- "$symbol" "$file" > "$file.tmp" || true
      mv "$file.tmp" "$file"
    done <<< "$removed"
  fi
  echo "$name: +$(printf '%s' "$added" | grep -c .) -$(printf '%s' "$removed" | grep -c .)"
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt'
