#!/usr/bin/env bash
# libFuzzer campaign for one target of fuzz/PoIP.Network.Fuzz (FuzzTargets.cs), through SharpFuzz.
# Optional, by hand; not part of the build or CI (CI runs FuzzSmokeTests instead).
#
#   fuzz/libfuzzer.sh TARGET [RUNS] [more libFuzzer flags...]
#
# Needs: clang-14 and Debian's libclang-rt-14-dev (libFuzzer's runtime), and the sharpfuzz dotnet
# tool 2.3.0 (dotnet tool install SharpFuzz.CommandLine --tool-path /tmp/sharpfuzz-tool --version 2.3.0,
# or set SHARPFUZZ to its path). It
#   1. builds fuzz/libfuzzer-driver/driver.c with clang-14 and links it with -fsanitize=fuzzer,
#   2. publishes fuzz/PoIP.Network.Fuzz and instruments PoIP.Core.dll and PoIP.Network.dll there
#      with sharpfuzz (once; REBUILD=1 does it again, e.g. after a code change),
#   3. seeds the corpus $WORK/corpus/TARGET with the target's seeds when it is empty, and
#   4. runs libFuzzer: -runs=RUNS (default 1000000), -max_len per target, -timeout=10,
#      crash/timeout files under $WORK/artifacts/TARGET/, final stats printed.
# WORK defaults to /tmp/poip-libfuzzer. A crash file replays with
#   dotnet run -c Release --project fuzz/PoIP.Network.Fuzz -- run TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
target=$1
runs=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))

work=${WORK:-/tmp/poip-libfuzzer}
clang=${CLANG:-clang-14}
sharpfuzz=${SHARPFUZZ:-$(command -v sharpfuzz || echo /tmp/sharpfuzz-tool/sharpfuzz)}

case $target in
  varint) max_len=16 ;;
  multiaddr-binary|multiaddr-text) max_len=512 ;;
  multistream) max_len=1024 ;;
  noise-payload|noise-handshake|noise-transport|yamux-frames|identify) max_len=4096 ;;
  yamux-noise) max_len=300000 ;; # the bulk seed is ~290 KB (frames of 65,535 B take the in-place path)
  *) echo "unknown target '$target' (see FuzzTargets.All)" >&2; exit 2 ;;
esac

command -v "$clang" >/dev/null || { echo "$clang not found" >&2; exit 1; }
[ -x "$sharpfuzz" ] || { echo "sharpfuzz tool not found (set SHARPFUZZ)" >&2; exit 1; }

mkdir -p "$work"
driver=$work/poip-libfuzzer-driver
if [ ! -x "$driver" ] || [ fuzz/libfuzzer-driver/driver.c -nt "$driver" ] || [ "$0" -nt "$driver" ]; then
  # Compiled without coverage instrumentation (the driver's own branches would only add noise to
  # the managed edges), linked with libFuzzer's runtime and main.
  "$clang" -O2 -g -Wall -Wextra -Werror -c fuzz/libfuzzer-driver/driver.c -o "$driver.o"
  "$clang" -fsanitize=fuzzer "$driver.o" -o "$driver"
fi

publish=$work/publish
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$publish/.instrumented" ]; then
  rm -rf "$publish"
  dotnet publish fuzz/PoIP.Network.Fuzz -c Release -o "$publish" -nologo -v quiet
  for dll in PoIP.Core.dll PoIP.Network.dll; do
    "$sharpfuzz" "$publish/$dll"
  done
  touch "$publish/.instrumented"
fi

corpus=$work/corpus/$target
artifacts=$work/artifacts/$target
mkdir -p "$corpus" "$artifacts"
if [ -z "$(ls -A "$corpus")" ]; then
  "$publish/PoIP.Network.Fuzz" seeds "$target" "$corpus"
fi

# One processor as the .NET process sees it: it may then cap its thread pool at one worker
# (Program.cs SingleWorker: SharpFuzz's edge map assumes one thread runs instrumented code).
export DOTNET_PROCESSOR_COUNT=1
exec "$driver" --target="$publish/PoIP.Network.Fuzz" --target-arg=libfuzzer --target-arg="$target" \
  -runs="$runs" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$corpus"
