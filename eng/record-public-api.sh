#!/usr/bin/env bash
# Records public API changes in src/*/PublicAPI.Unshipped.txt (docs/packaging.md):
#  - adds what is public and not listed (RS0016, by its code fix: dotnet format analyzers);
#  - removes what is listed and gone (RS0017 has no code fix: the lines the build names are deleted).
# usage: eng/record-public-api.sh [PoIP.Network PoIP.Core ...]   (default: every project under src/)
set -euo pipefail
cd "$(dirname "$0")/.."
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
  mapfile -t projects < <(ls src)
fi
for name in "${projects[@]}"; do
  project="src/$name/$name.csproj"
  echo "recording $project"
  dotnet format analyzers "$project" --diagnostics RS0016 --severity warn
  # RS0017 "Symbol 'X' is part of the declared API, but is either not public or could not be found"
  dotnet build "$project" -c Release -nologo -v q -p:TreatWarningsAsErrors=false 2>&1 \
    | { grep -oE "PublicAPI\.(Shipped|Unshipped)\.txt\([0-9]+,[0-9]+\): (error|warning) RS0017: Symbol '[^']+'" || true; } \
    | sed -E "s/^(PublicAPI\.[A-Za-z]+\.txt)\([0-9]+,[0-9]+\): [a-z]+ RS0017: Symbol '(.*)'$/\1\t\2/" \
    | sort -u | while IFS=$'\t' read -r file symbol; do
        grep -vxF -- "$symbol" "src/$name/$file" > "src/$name/$file.tmp" || true
        mv "src/$name/$file.tmp" "src/$name/$file"
        echo "  removed from $file: $symbol"
      done
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt'
