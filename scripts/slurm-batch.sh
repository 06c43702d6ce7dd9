#!/usr/bin/env bash
# slurm-batch.sh - a night of `mastwatch batch` as a Slurm job array, for sites without MPI
# (docs/BATCH.md "Across machines"). OUTDIR and the spool must be on a file system every node
# sees.
#
#   scripts/slurm-batch.sh submit --tasks N --config BATCH.yaml -o OUTDIR [--night D] [--train] SPOOL...
#       sbatch's an array of N tasks, then a merge job that runs after all of them (afterany).
#   scripts/slurm-batch.sh task  ...same options...   one array task ($SLURM_ARRAY_TASK_ID)
#   scripts/slurm-batch.sh merge ...same options...   the final job
#
# Task K analyzes the spool's captures whose stem (file name without .gz/.zst and
# .pcap/.pcapng/.cap) hashes to K (cksum mod N), with its own `mastwatch batch` into its own
# output tree OUTDIR.shards/K: its own lock and state, so tasks never wait for each other.
# Captures of one stem land in one shard, so their results names are decided together exactly
# as in one batch. The merge job takes OUTDIR's lock (flock state/lock, the batch's own lock:
# no batch can run on OUTDIR meanwhile), moves the shards' results into OUTDIR/NIGHT, appends
# their complete state lines to OUTDIR/state/done.tsv, releases the lock and runs
# `mastwatch batch` over the whole spool: nothing is left to analyze unless a task failed or a
# file was named in a way only the batch's own scan recognises (those it analyzes now), and
# it rebuilds the one index, night.json and (--train) the models. Rerunning a task or the
# merge is safe: a shard skips what its state says is done; merged lines are removed from the
# shard's state as they are moved.
# Environment: MW_BIN (default: mastwatch in PATH), SBATCH_ARGS (extra sbatch options).
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
mode=$1; shift
tasks="${SLURM_ARRAY_TASK_COUNT:-}" config="" outdir="" night="" train=() spool=()
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    -o) outdir=$2; shift 2 ;;
    --night) night=$2; shift 2 ;;
    --train) train=(--train); shift ;;
    -*) usage ;;
    *) spool+=("$1"); shift ;;
  esac
done
[ -n "$config" ] && [ -n "$outdir" ] && [ ${#spool[@]} -gt 0 ] || usage
mw=${MW_BIN:-mastwatch}
shards="$outdir.shards"

stem() { # file name without .gz/.zst, then without .pcapng/.pcap/.cap
  local s=${1##*/}
  s=${s%.gz}; s=${s%.zst}
  case "$s" in *.pcapng) s=${s%.pcapng} ;; *.pcap) s=${s%.pcap} ;; *.cap) s=${s%.cap} ;; esac
  printf '%s' "$s"
}

# the shard's captures: named like captures (the batch's scan also takes pcap/gzip/zstd magic;
# such files are left to the merge job's batch)
shard_files() {
  local k=$1 f h
  find "${spool[@]}" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
      -o -name '*.pcap.gz' -o -name '*.pcapng.gz' -o -name '*.cap.gz' -o -name '*.pcap.zst' \
      -o -name '*.pcapng.zst' -o -name '*.cap.zst' \) -not -path '*/.*' -print0 |
    while IFS= read -r -d '' f; do
      h=$(stem "$f" | cksum | cut -d' ' -f1)
      [ $((h % tasks)) -eq "$k" ] && printf '%s\0' "$f"
    done
  return 0
}

case "$mode" in
  submit)
    [ -n "$tasks" ] || usage
    [ -n "$night" ] || night=$(date +%F)  # every task files under the same night
    jid=$(sbatch --parsable ${SBATCH_ARGS:-} --array=0-$((tasks - 1)) --job-name=mw-batch \
        --wrap="$(printf '%q ' "$0" task --night "$night" "${args[@]}")")
    sbatch --parsable ${SBATCH_ARGS:-} --dependency=afterany:"${jid%%;*}" \
        --job-name=mw-batch-merge \
        --wrap="$(printf '%q ' "$0" merge --night "$night" "${args[@]}")"
    ;;
  task)
    [ -n "$tasks" ] && [ -n "$night" ] && [ -n "${SLURM_ARRAY_TASK_ID:-}" ] || usage
    k=$SLURM_ARRAY_TASK_ID
    mapfile -d '' files < <(shard_files "$k")
    [ ${#files[@]} -gt 0 ] || { echo "slurm-batch: task $k: no captures" >&2; exit 0; }
    mkdir -p "$shards/$k"
    # findings (1) and failed captures (3) are the merge job's to report
    rc=0; "$mw" batch --config "$config" -o "$shards/$k" --night "$night" -q \
        --jobs "${SLURM_CPUS_PER_TASK:-1}" "${files[@]}" || rc=$?
    [ "$rc" -le 3 ] || exit "$rc"
    ;;
  merge)
    [ -n "$night" ] || usage
    mkdir -p "$outdir/state" "$outdir/$night"
    (
      flock -n 9 || { echo "slurm-batch: another batch holds $outdir" >&2; exit 3; }
      for d in "$shards"/*/; do
        st="$d/state/done.tsv"
        [ -f "$st" ] || continue
        # only complete lines (a task killed while appending leaves a torn last one)
        if [ -n "$(tail -c1 "$st")" ]; then lines=$(head -n -1 "$st"); else lines=$(cat "$st"); fi
        if [ -d "$d/$night/captures" ]; then
          (cd "$d/$night" && find captures -type f ! -name '*.partial*' -print0 |
            while IFS= read -r -d '' f; do
              mkdir -p "$outdir/$night/$(dirname "$f")"; mv -f "$f" "$outdir/$night/$f"
            done)
          sync -f "$outdir/$night"
        fi
        if [ -n "$lines" ]; then
          printf '%s\n' "$lines" >> "$outdir/state/done.tsv"
          sync "$outdir/state/done.tsv"
        fi
        rm -f "$st"
      done
    ) 9>>"$outdir/state/lock"
    exec "$mw" batch --config "$config" -o "$outdir" --night "$night" -q "${train[@]}" "${spool[@]}"
    ;;
  *) usage ;;
esac
