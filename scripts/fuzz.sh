#!/usr/bin/env bash
# Builds Retrace's libFuzzer targets (the Fuzz/ package) and runs each for a given time.
#
#   scripts/fuzz.sh TARGET|all [SECONDS] [--merge] [-- extra libFuzzer flags]
#
# TARGET is FuzzIdentity, FuzzCanonicalJSON, FuzzEvent, FuzzBundle, FuzzCheckpoint or FuzzHeadsMap (or all, one after
# the other); SECONDS defaults to 600 per target. Each run starts from a scratch copy of the committed
# seeds (Tests/FuzzCorpus/<TARGET>/), so runs never churn them; with --merge, the inputs of the run that
# reach code edges the committed files do not are added to the committed folder (libFuzzer -merge=1). Runs are
# niced (nice -n 19). A crash stops the run; the crashing input is kept under $FUZZ_WORK/artifacts
# and its path printed; replay it with: Fuzz/.build/release/<TARGET> <file>.
#
# Environment: FUZZ_WORK (scratch folder, default /tmp/retrace-fuzz), FUZZ_SANITIZERS (default
# fuzzer,address), FUZZ_JOBS (swift build -j, default 2), FUZZ_NO_BUILD=1 to reuse the last build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all_targets=(FuzzIdentity FuzzCanonicalJSON FuzzEvent FuzzBundle FuzzCheckpoint FuzzHeadsMap)

usage() {
    echo "usage: $0 TARGET|all [SECONDS] [--merge] [-- libFuzzer flags]" >&2
    echo "targets: ${all_targets[*]}" >&2
    exit 2
}

# Longest input worth trying per target: a little above its largest seed.
max_len() {
    case "$1" in
        FuzzIdentity) echo 256 ;;
        FuzzCanonicalJSON) echo 4096 ;;
        FuzzEvent) echo 8192 ;;
        FuzzBundle) echo 20000 ;;
        FuzzCheckpoint) echo 1024 ;;
        FuzzHeadsMap) echo 2048 ;;
    esac
}

[[ $# -ge 1 ]] || usage
which="$1"
shift
seconds=600
merge=0
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --merge) merge=1 ;;
        --) shift; extra=("$@"); break ;;
        *[!0-9]* | '') usage ;;
        *) seconds="$1" ;;
    esac
    shift
done
if [[ "$which" == all ]]; then
    targets=("${all_targets[@]}")
else
    [[ " ${all_targets[*]} " == *" $which "* ]] || usage
    targets=("$which")
fi

work="${FUZZ_WORK:-/tmp/retrace-fuzz}"
sanitizers="${FUZZ_SANITIZERS:-fuzzer,address}"
mkdir -p "$work/artifacts"

cd "$root/Fuzz"
if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
    echo "== building ${targets[*]} (-sanitize=$sanitizers, release)"
    for target in "${targets[@]}"; do
        nice -n 19 swift build -c release -j "${FUZZ_JOBS:-2}" -Xswiftc "-sanitize=$sanitizers" --product "$target"
    done
fi
bin="$(swift build -c release --show-bin-path)"

# Swift's own backtracer would intercept the crash before libFuzzer writes the crashing input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

status=0
for target in "${targets[@]}"; do
    seeds="$root/Tests/FuzzCorpus/$target"
    corpus="$work/corpus/$target"
    log="$work/$target.log"
    rm -rf "$corpus"
    mkdir -p "$corpus" "$work/artifacts/$target"
    cp "$seeds"/* "$corpus"/ 2>/dev/null || true
    echo "== $target: ${seconds}s, max_len $(max_len "$target"), $(ls "$corpus" | wc -l) seed files, log $log"
    set +e
    nice -n 19 "$bin/$target" "$corpus" \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=25 -rss_limit_mb=3072 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$target/" "${extra[@]}" >"$log" 2>&1
    code=$?
    set -e
    grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$log" || true
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true
    echo "   corpus after the run: $(ls "$corpus" | wc -l) files"
    if [[ $code -ne 0 ]]; then
        status=1
        echo "!! $target stopped with status $code; last lines of $log:"
        tail -40 "$log"
        ls -1 "$work/artifacts/$target/" | sed "s|^|   artifact: $work/artifacts/$target/|"
        continue
    fi
    if [[ $merge == 1 ]]; then
        # Adds to the committed folder only the run's inputs that reach code edges its files do not
        # (-use_counters=0: edges, not hit counts, which keeps the committed corpus to a few hundred files).
        before=$(ls "$seeds" | wc -l)
        nice -n 19 "$bin/$target" -merge=1 -use_counters=0 -max_len="$(max_len "$target")" "$seeds" "$corpus" \
            >"$work/$target.merge.log" 2>&1
        echo "   merged into Tests/FuzzCorpus/$target: $before -> $(ls "$seeds" | wc -l) files," \
            "$(du -sk "$seeds" | cut -f1) KiB"
    fi
done
exit $status
