#!/usr/bin/env bash
# check_cli.sh - mw-scengen rejects bad arguments and unwritable outputs with a one-line
# error and a non-zero exit, and --help succeeds.
# usage: check_cli.sh MW_SCENGEN
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$bin" --help > "$tmp/help" || { echo "FAIL --help exit"; fail=1; }
grep -q "gtpdoor" "$tmp/help" || { echo "FAIL --help lacks the injection list"; fail=1; }
bad() {
    local err
    err=$("$bin" "$@" 2>&1 >/dev/null)
    local rc=$?
    if [ $rc -eq 0 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [ -z "$err" ]; then
        echo "FAIL expected a one-line error and non-zero exit for: $* (rc=$rc: $err)"
        fail=1
    else
        echo "ok   $* -> $err"
    fi
}
bad
bad -o "$tmp/x.pcap" --seed abc
bad -o "$tmp/x.pcap" --days 0
bad -o "$tmp/x.pcap" --start 2026-13-01
bad -o "$tmp/x.pcap" --base-stations 0
bad -o "$tmp/x.pcap" --scale -1
bad -o "$tmp/x.pcap" --inject nosuchthing
bad -o "$tmp/x.pcap" --inject beacon:bs=enb-999
bad -o "$tmp/x.pcap" --inject beacon:period=abc
bad -o "$tmp/x.pcap" --inject beacon:start=12:00,end=11:00
bad -o "$tmp/x.pcap" --inject exfil:colour=red
bad -o "$tmp/x.pcap" --bogus
bad -o /nonexistent-dir/x.pcap
bad -o "$tmp/x.pcap" --truth /nonexistent-dir/t.json
bad -o "$tmp/x.pcap" --inventory /nonexistent-dir/s.yaml
bad -o "$tmp/x.pcap" --scenario /nonexistent-dir/s.txt
exit $fail
