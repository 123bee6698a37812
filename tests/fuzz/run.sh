#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs each fuzz target for N seconds from a copy of its checked-in corpus.
# Any crash, leak or sanitizer report fails. Usage: run.sh DIR SECONDS TARGET...
set -u
dir=$1
seconds=$2
shift 2
failed=0
for target in "$@"; do
    work="$dir/work/$target"
    rm -rf "$work"
    mkdir -p "$work"
    cp tests/fuzz/corpus/"$target"/* "$work"/
    if "$dir/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 -max_len=8192 \
        -artifact_prefix="$dir/crash-$target-" "$work" > "$dir/$target.log" 2>&1; then
        execs=$(grep -m1 'stat::number_of_executed_units' "$dir/$target.log" | awk '{print $2}')
        cov=$(grep -o 'cov: [0-9]*' "$dir/$target.log" | tail -n 1)
        echo "fuzz: $target: $execs runs in ${seconds}s, $cov, no crash"
    else
        echo "fuzz: $target: FAILED; see $dir/$target.log"
        tail -n 30 "$dir/$target.log"
        failed=1
    fi
done
exit $failed
