#!/usr/bin/env bash
# End-to-end check of the Slurm profile on a real (single-node) Slurm cluster.
#
#   tests/cluster/run_slurm_check.sh [SESSION]
#
# 1. starts the test cluster (tests/cluster/slurm.sh start; as root);
# 2. runs the demo pipeline for one session locally (profiles/default, no Slurm) in a fresh copy of
#    the workflow, cold: the reference;
# 3. runs the same session, cold, as ONE Slurm job (sbatch wrapping snakemake with the local profile, the
#    layout docs/cluster.md recommends for the daily run), and checks that every job log records a
#    numeric slurm_job_id that is this job's and that squeue reports it COMPLETED;
# 4. runs the same session through profiles/slurm (snakemake-executor-plugin-slurm) as a daily run on a
#    persistent results/: a copy of the reference's results/ and .snakemake/metadata *without* the
#    session's own partitions (the earlier sessions its fan-out reads stay), so the plugin builds exactly
#    the session's 23 rule jobs, in the profile's groups (one `session` and one `book` Slurm job); checks
#    the logs and states the same way, and that no other session was rebuilt;
# 5. compares every artifact (Parquet, report.html, report.md) of the three runs byte for byte;
# 6. prints the wall times and the number of Slurm jobs submitted; exits non-zero on any failure.
#
# Why the plugin route runs warm: a cold plugin run of one session is 132 rule jobs (the fan-out of
# earlier sessions), each a fresh interpreter on the node: 400-470 s on the one 2-core test node, most of
# CI's Slurm time. The cold one-session graph under Slurm is covered by the sbatch route (3.); the plugin
# route covers what is the plugin's own (submission, groups, srun job steps, status polling, logs).
#
# Environment:
#   BRMACRO_SLURM_SESSION  session to build (default 2026-11-24; the argument wins)
#   BRMACRO_SLURM_WORKDIR  parent of the temporary working directories (default: $TMPDIR or /tmp;
#                          on a real multi-node cluster it must be on the shared filesystem)
#   BRMACRO_SLURM_KEEP=1   keep the working directories (their path is printed)
#   PYTHON                 interpreter whose environment has brmacro + snakemake (default .venv/bin/python)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
SNAKEMAKE=$(dirname "$PY")/snakemake
SESSION=${1:-${BRMACRO_SLURM_SESSION:-2026-11-24}}
PARENT=${BRMACRO_SLURM_WORKDIR:-${TMPDIR:-/tmp}}
SLURM_SH=$REPO/tests/cluster/slurm.sh

say() { printf 'run_slurm_check: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[[ -x $SNAKEMAKE ]] || fail "no snakemake next to $PY"
"$PY" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null ||
    fail "snakemake-executor-plugin-slurm is not installed in $(dirname "$PY")/.. (pip install -e '.[cluster]')"

# Start the cluster unless it already runs; stop it at the end only if this script started it.
STARTED_CLUSTER=0
if "$SLURM_SH" status >/dev/null 2>&1; then
    say "Slurm already running; leaving it running afterwards"
else
    "$SLURM_SH" start
    STARTED_CLUSTER=1
fi

BASE=$(mktemp -d "$PARENT/brmacro-slurm-check.XXXXXX")
cleanup() {
    local rc=$?
    # Cancel whatever this run submitted and is still queued or running (after a failure or Ctrl-C).
    local ids
    ids=$(sed -n 's/.*has been submitted with SLURM jobid \([0-9]*\).*/\1/p' "$BASE/slurm.out" 2>/dev/null || true)
    ids+=" ${SBATCH_ID:-}"
    for id in $ids; do
        [[ $(squeue -h -j "$id" -o '%t' 2>/dev/null) =~ ^(PD|R|CG|S)$ ]] && scancel "$id" 2>/dev/null
    done
    if [[ ${BRMACRO_SLURM_KEEP:-0} == 1 ]]; then
        say "kept working directories under $BASE"
    else
        rm -rf "$BASE"
    fi
    ((STARTED_CLUSTER)) && "$SLURM_SH" stop || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A working directory holding the workflow's files, as tests/conftest.py:workflow_copy does.
workflow_copy() {
    mkdir -p "$1"
    cp -p "$REPO/Snakefile" "$1/"
    cp -rp "$REPO/rules" "$REPO/config" "$REPO/profiles" "$1/"
}

# Snakemake and the job environment must not inherit an enclosing Slurm job (e.g. CI under sbatch).
clean_env() { env $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/-u \1/p') PYTHONHASHSEED=0 "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Every job log under $1/results/logs must record slurm_job_id=<one of the ids in $2 (space separated)>.
check_logs() {
    local wd=$1 ids=" $2 " n=0 id f
    while IFS= read -r -d '' f; do
        id=$(sed -n 's/.*slurm_job_id=\([^ ]*\).*/\1/p' "$f" | head -n1)
        [[ $id =~ ^[0-9]+$ ]] || fail "$f: no numeric slurm_job_id (got '${id}')"
        [[ $ids == *" $id "* ]] || fail "$f: slurm_job_id=$id is not a job this run submitted ($2)"
        n=$((n + 1))
    done < <(find "$wd/results/logs" -name '*.log' -print0)
    ((n > 0)) || fail "$wd: no job logs"
    echo "$n"
}

# Every Slurm job in $1 (space separated) must be COMPLETED (squeue keeps them MinJobAge=600 s).
# Wait for Slurm job $1 to end, asking its state every second; fail (showing the tail of its output $2) unless
# it COMPLETED. Not `sbatch --wait`: it asks at growing intervals, so a job of ~15 s was reported done at 42 s
# (docs/cluster.md).
wait_job() {
    local id=$1 out=$2 state
    while :; do
        state=$(squeue -h -t all -j "$id" -o '%T' 2>/dev/null | head -n1)
        case $state in
            PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED) sleep 1 ;;
            COMPLETED) return 0 ;;
            *) tail -n 60 "$out" 2>/dev/null; fail "Slurm job $id ended '${state:-unknown}' (output: $out)" ;;
        esac
    done
}

check_completed() {
    local id state
    for id in $1; do
        state=$(squeue -h -t all -j "$id" -o '%T' 2>/dev/null | head -n1)
        [[ $state == COMPLETED ]] || fail "Slurm job $id is '${state:-unknown}', not COMPLETED"
    done
}

say "session $SESSION; working directories under $BASE"

# All three runs import one frozen copy of the library (jobs inherit PYTHONPATH), and use copies of the
# workflow files made now: an edit of the source tree while the check runs cannot make them differ.
cp -rp "$REPO/src" "$BASE/src"
export PYTHONPATH=$BASE/src${PYTHONPATH:+:$PYTHONPATH}
[[ $("$PY" -c 'import brmacro; print(brmacro.__file__)') == "$BASE/src/"* ]] ||
    fail "PYTHONPATH=$BASE/src does not take precedence over the installed brmacro"
WD_SLURM=$BASE/slurm WD_SBATCH=$BASE/sbatch WD_LOCAL=$BASE/local
for wd in "$WD_SLURM" "$WD_SBATCH" "$WD_LOCAL"; do workflow_copy "$wd"; done

# --- 1. locally, without Slurm (the reference) -----------------------------------------------------------------
t0=$(now)
if ! (cd "$WD_LOCAL" && clean_env "$SNAKEMAKE" --workflow-profile profiles/default --config "date=$SESSION" \
    >"$BASE/local.out" 2>&1); then
    tail -n 60 "$BASE/local.out"
    fail "local snakemake run failed (output: $BASE/local.out)"
fi
t1=$(now)
T_LOCAL=$(elapsed "$t0" "$t1")
say "local (profiles/default): ${T_LOCAL} s"

# --- 2. the whole run, cold, as one Slurm job (sbatch wrapping snakemake, local profile) -----------------
t0=$(now)
SBATCH_ID=""
SBATCH_ID=$(cd "$WD_SBATCH" && clean_env sbatch --parsable --job-name=brmacro-check \
    --cpus-per-task=2 --mem=4000 --time=30 --output="$BASE/sbatch.out" \
    --wrap "$SNAKEMAKE --workflow-profile profiles/default --cores \${SLURM_CPUS_PER_TASK} --config date=$SESSION") ||
    fail "sbatch refused the job"
SBATCH_ID=${SBATCH_ID%%;*}
wait_job "$SBATCH_ID" "$BASE/sbatch.out"
t1=$(now)
T_SBATCH=$(elapsed "$t0" "$t1")
N_SBATCH_RULEJOBS=$(check_logs "$WD_SBATCH" "$SBATCH_ID")
check_completed "$SBATCH_ID"
say "sbatch-wrapped: $N_SBATCH_RULEJOBS rule jobs in 1 Slurm job (id $SBATCH_ID); ${T_SBATCH} s"

# --- 3. through the Slurm executor profile, as a daily run on a persistent results/ ---------------
# Seed the plugin's directory with the reference's partitions of every other session and Snakemake's
# metadata of them (mtimes kept), as yesterday's results/ would hold them.
mkdir -p "$WD_SLURM/results" "$WD_SLURM/.snakemake"
for layer in $("$PY" -c 'from brmacro.pipeline import LAYERS; print(*LAYERS)'); do
    [[ -d $WD_LOCAL/results/$layer ]] && cp -rp "$WD_LOCAL/results/$layer" "$WD_SLURM/results/"
done
find "$WD_SLURM/results" -depth -type d -name "date=$SESSION" -exec rm -rf {} +
cp -rp "$WD_LOCAL/.snakemake/metadata" "$WD_SLURM/.snakemake/"
t0=$(now)
# --retries 0: a failure here is a failure of the check; do not resubmit whole groups (the rules' retries
# are for flaky live sources, and the demo source is deterministic).
if ! (cd "$WD_SLURM" && clean_env "$SNAKEMAKE" --workflow-profile profiles/slurm --retries 0 --config "date=$SESSION" \
    >"$BASE/slurm.out" 2>&1); then
    tail -n 60 "$BASE/slurm.out"
    fail "snakemake with profiles/slurm failed (full output: $BASE/slurm.out; set BRMACRO_SLURM_KEEP=1)"
fi
t1=$(now)
T_SLURM=$(elapsed "$t0" "$t1")
SLURM_IDS=$(sed -n 's/.*has been submitted with SLURM jobid \([0-9]*\).*/\1/p' "$BASE/slurm.out" | sort -n | tr '\n' ' ')
N_SLURM=$(wc -w <<<"$SLURM_IDS")
((N_SLURM > 0)) || fail "profiles/slurm submitted no Slurm job"
N_RULEJOBS=$(check_logs "$WD_SLURM" "$SLURM_IDS")
check_completed "$SLURM_IDS"
# Exactly the session's own rule jobs, one log per step, none of another session.
OTHER_LOGS=$(find "$WD_SLURM/results/logs" -name '*.log' ! -name "$SESSION.log" | head -n 3)
[[ -z $OTHER_LOGS ]] || fail "profiles/slurm rebuilt partitions of other sessions: $OTHER_LOGS"
N_STEPS=$("$PY" -c 'from brmacro.pipeline import STEPS; print(len(STEPS))')
((N_RULEJOBS == N_STEPS)) || fail "profiles/slurm ran $N_RULEJOBS rule jobs, expected the session's $N_STEPS"
say "profiles/slurm: $N_RULEJOBS rule jobs in $N_SLURM Slurm jobs (ids $SLURM_IDS), all COMPLETED; ${T_SLURM} s"

# --- 4. byte-for-byte comparison of every artifact -----------------------------------------------
"$PY" - "$WD_LOCAL/results" "$WD_SLURM/results" "$WD_SBATCH/results" <<'EOF' || fail "artifacts differ"
import sys
from pathlib import Path

from brmacro.pipeline import LAYERS

def artifacts(root: Path) -> dict[str, bytes]:
    """Every file of every partition (Parquet tables, report.html/.md): logs, benchmarks, run status excluded."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for layer in LAYERS
        for p in sorted((root / layer).rglob("*"))
        if p.is_file()
    }

ref_root, *others = (Path(a) for a in sys.argv[1:])
ref = artifacts(ref_root)
n_parquet = sum(k.endswith(".parquet") for k in ref)
if not n_parquet or not any(k.endswith("report.html") for k in ref):
    sys.exit(f"reference run {ref_root} has no Parquet artifact or no report.html")
bad = 0
for root in others:
    got = artifacts(root)
    for k in sorted(ref.keys() - got.keys()):
        print(f"  missing in {root}: {k}"); bad += 1
    for k in sorted(got.keys() - ref.keys()):
        print(f"  extra in {root}: {k}"); bad += 1
    for k in sorted(ref.keys() & got.keys()):
        if ref[k] != got[k]:
            print(f"  differs: {root}/{k}"); bad += 1
print(f"run_slurm_check: compared {len(ref)} artifacts ({n_parquet} Parquet) of {len(others) + 1} runs: "
      + ("identical" if not bad else f"{bad} differences"))
sys.exit(1 if bad else 0)
EOF

say "OK session=$SESSION slurm_jobs=$N_SLURM rule_jobs=$N_RULEJOBS" \
    "wall_s: profiles/slurm=$T_SLURM sbatch_wrapped=$T_SBATCH local=$T_LOCAL"
