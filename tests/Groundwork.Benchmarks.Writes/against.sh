#!/usr/bin/env bash
# Times 64 lists written in parallel on an earlier commit and on this checkout, alternately, with the same program
# (ParallelWrites.cs and Program.cs of this folder, built in both trees), so both sides see the same machine.
#
#   bash tests/Groundwork.Benchmarks.Writes/against.sh [commit] [pairs]
#
# commit: the earlier tree (default 5fd3af6, the release before the resource kit); pairs: runs of each (default 3).
# Prints each run's median of five timed rounds (64 new lists, 100 adds each) and the ratio of each pair, then the median ratio.
set -euo pipefail
base="${1:-5fd3af6}"
pairs="${2:-3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
work="$(mktemp -d)"
cleanup() {
    git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

git -C "$root" worktree add --quiet --detach "$work/base" "$base"
mkdir -p "$work/base/tests/Groundwork.Benchmarks.Writes"
cp "$here"/*.cs "$here"/*.csproj "$work/base/tests/Groundwork.Benchmarks.Writes/"

# The earlier tree's analyzers may differ: its build only has to compile the same two files.
dotnet build -c Release --nologo -v q -p:TreatWarningsAsErrors=false "$work/base/tests/Groundwork.Benchmarks.Writes" >"$work/build-base.log" ||
    { cat "$work/build-base.log"; exit 1; }
dotnet build -c Release --nologo -v q "$here" >"$work/build-this.log" || { cat "$work/build-this.log"; exit 1; }

run() { # tree -> median mutations/s (the program's last line)
    local out="$work/run.log"
    (cd "$1/tests/Groundwork.Benchmarks.Writes" && dotnet "bin/Release/net10.0/Groundwork.Benchmarks.Writes.dll" >"$out" 2>&1) ||
        { cat "$out" >&2; exit 1; }
    sed 's/^/    /' "$out" | grep -v '^    median' >&2
    awk '/^median /{print $2}' "$out"
}

echo "| pair | $base (mutations/s) | this checkout (mutations/s) | ratio |"
echo "|---:|---:|---:|---:|"
ratios=()
for i in $(seq 1 "$pairs"); do
    echo "  run $i of $base:" >&2
    before="$(run "$work/base")"
    echo "  run $i of this checkout:" >&2
    after="$(run "$root")"
    ratio="$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a / b }')"
    ratios+=("$ratio")
    echo "| $i | $before | $after | ${ratio}x |"
done
median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
echo "median ratio: ${median}x"
