#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a bounded time each, one after another.
#
#   fuzz/run.sh                      # every target, 60 s each
#   FUZZ_SECONDS=300 fuzz/run.sh mapping_plan
#   FUZZ_SANITIZER=none fuzz/run.sh  # when the address sanitizer does not build
#
# cargo-fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept
# them. The corpus grows in fuzz/corpus/<target>, seeded from fuzz/seeds/<target>; a crash
# leaves its input in fuzz/artifacts/<target> and makes this script fail.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(ghl_webhook tovuti_webhook mapping_plan config_load)
fi

dict_for() {
    case "$1" in
        mapping_plan) echo "-dict=json.dict" ;;
        config_load) echo "-dict=toml.dict" ;;
        *) echo "" ;;
    esac
}

export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    seeds=()
    if [ -d "seeds/$target" ]; then
        seeds=("seeds/$target")
    fi
    dict="$(dict_for "$target")"
    echo "== $target: ${seconds}s (sanitizer: $sanitizer)"
    # shellcheck disable=SC2086 # an empty $dict must vanish, not become an empty argument
    cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 $dict
done
