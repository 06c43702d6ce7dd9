#!/usr/bin/env bash
# check_tshark.sh - test (a): tshark dissects a generated capture with no malformed
# frames, no expert errors, no bad IPv4/UDP/TCP checksums or SCTP CRC32c, no TCP
# sequence-analysis findings and no out-of-order stamps, and every display filter
# given after the file matches at least one frame.
# usage: check_tshark.sh FILE FILTER...
set -uo pipefail
f=$1
shift
fail=0
ts() { tshark -r "$f" "$@" 2>/dev/null; }

n=$(ts -Y '_ws.malformed' | wc -l)
[ "$n" -eq 0 ] || { echo "FAIL $f: $n malformed frames"; fail=1; }

errs=$(ts -q -z expert,error | awk '/^Errors \(/ { gsub(/[^0-9]/, "", $2); print $2 }')
[ -z "$errs" ] || [ "$errs" -eq 0 ] || { echo "FAIL $f: $errs expert errors"; ts -q -z expert,error | head -20; fail=1; }

n=$(ts -o sctp.checksum:CRC-32C -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -o ip.check_checksum:TRUE \
    -Y 'sctp.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || ip.checksum.status == 0' |
    wc -l)
[ "$n" -eq 0 ] || { echo "FAIL $f: $n frames with a bad checksum"; fail=1; }

# TCP sessions must be consistent for Wireshark's sequence analysis (no lost segments,
# retransmissions, unseen ACKs or zero windows), and frames must be in time order.
for flt in 'tcp.analysis.flags' 'frame.time_delta < 0' 'sctp.retransmission'; do
    n=$(ts -Y "$flt" | wc -l)
    [ "$n" -eq 0 ] || { echo "FAIL $f: $n frames match '$flt'"; fail=1; }
done

for flt in "$@"; do
    n=$(ts -Y "$flt" | wc -l)
    if [ "$n" -eq 0 ]; then
        echo "FAIL $f: no frame matches '$flt'"
        fail=1
    else
        echo "ok   $f: $n frames match '$flt'"
    fi
done
exit $fail
