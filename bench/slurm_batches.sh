#!/usr/bin/env bash
# The long-backfill route "one job per batch of sessions" (docs/cluster.md) on the test cluster, against one local
# run of the same range, byte for byte (issue 16, item 3). As root (it starts tests/cluster/slurm.sh's cluster).
#
#   bench/slurm_batches.sh [START END1 START2 END]    default: October 2026 as 2026-10-01..10-15 + 10-16..10-30
#
# Two chained sbatch jobs (`--dependency=afterany`), each one Snakemake process with profiles/default on 2 CPUs,
# in one working directory; then START..END through the executor profile (profiles/slurm) in the batch layout
# (one Slurm job per session group and month: its `runtime` from rules/common.smk's batch_resources) in a third;
# then one local run of START..END in another; then every Parquet and report file of the three is compared with
# cmp. Prints the wall times, the jobs' states and run times, and how many rule-job logs
# each Slurm job wrote. PYTHON: interpreter with brmacro + snakemake (default .venv/bin/python); the executor
# plugin is used from it when installed (`pip install -e ".[cluster]"`), else the `cluster` extra's two pinned
# plugins are installed without dependencies into a folder of the run, on PYTHONPATH for the plugin run only.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
SM=$(dirname "$PY")/snakemake
START=${1:-2026-10-01} END1=${2:-2026-10-15} START2=${3:-2026-10-16} END=${4:-2026-10-30}
BASE=$(mktemp -d "${TMPDIR:-/tmp}/brmacro-slurm-batches.XXXXXX")
cp -rp "$REPO/src" "$BASE/src"
export PYTHONPATH=$BASE/src  # both runs import one frozen copy of the library
for wd in "$BASE/slurm" "$BASE/plugin" "$BASE/local"; do
    mkdir -p "$wd"; cp -p "$REPO/Snakefile" "$wd/"; cp -rp "$REPO/rules" "$REPO/config" "$REPO/profiles" "$wd/"
done
STARTED=0
if ! "$REPO/tests/cluster/slurm.sh" status >/dev/null 2>&1; then "$REPO/tests/cluster/slurm.sh" start; STARTED=1; fi
trap '((STARTED)) && "$REPO/tests/cluster/slurm.sh" stop || true' EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
batch() {  # start end dependency name
    local dep=(); [[ -n $3 ]] && dep=(--dependency="afterany:$3")
    (cd "$BASE/slurm" && sbatch --parsable "${dep[@]}" --job-name="$4" --cpus-per-task=2 --mem=4000 --time=60 \
        --output="$BASE/$4.out" --wrap "$SM --workflow-profile profiles/default --cores \${SLURM_CPUS_PER_TASK} \
        --keep-going --rerun-incomplete --config start=$1 end=$2")
}
t0=$(date +%s.%N)
J1=$(batch "$START" "$END1" "" batch1)
J2=$(batch "$START2" "$END" "$J1" batch2)
while squeue -h -j "$J1,$J2" -t PD,R,CG 2>/dev/null | grep -q .; do sleep 5; done
t1=$(date +%s.%N)
for j in $J1 $J2; do
    state=$(squeue -h -t all -j "$j" -o '%T %M' | head -n1)
    echo "slurm job $j: $state"
    [[ $state == COMPLETED* ]] || { tail -n 40 "$BASE"/batch*.out; exit 1; }
done
echo "two chained batch jobs $START..$END: $(secs "$t0" "$t1") s wall"
PLUGIN_PATH=$PYTHONPATH
if ! "$PY" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null; then
    mapfile -t PINS < <("$PY" -c 'import tomllib, sys; print(*tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]["cluster"], sep="\n")' "$REPO/pyproject.toml")
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$BASE/plugins" "${PINS[@]}"
    PLUGIN_PATH=$BASE/plugins:$PYTHONPATH
fi
t0=$(date +%s.%N)
(cd "$BASE/plugin" && env $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/-u \1/p') PYTHONPATH="$PLUGIN_PATH" \
    "$SM" --workflow-profile profiles/slurm --retries 0 --config "start=$START" "end=$END" layout=batch \
    >"$BASE/plugin.out" 2>&1) || { tail -n 40 "$BASE/plugin.out"; exit 1; }
t1=$(date +%s.%N)
ids=$(sed -n 's/.*has been submitted with SLURM jobid \([0-9]*\).*/\1/p' "$BASE/plugin.out" | sort -n | tr '\n' ' ')
echo "profiles/slurm, batch layout $START..$END: $(wc -w <<<"$ids") Slurm jobs, $(secs "$t0" "$t1") s wall"
for j in $ids; do
    squeue -h -t all -j "$j" -o '%T %M %j' | head -n1 | sed "s/^/  slurm job $j: /"
done
grep -h "runtime=" "$BASE/plugin.out" | sort | uniq -c | head -n 8 || true
t0=$(date +%s.%N)
(cd "$BASE/local" && "$SM" --workflow-profile profiles/default --cores 2 --config "start=$START" "end=$END" \
    >"$BASE/local.out" 2>&1)
t1=$(date +%s.%N)
echo "one local run $START..$END: $(secs "$t0" "$t1") s wall"
n=0 differ=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    for other in slurm plugin; do
        cmp -s "$f" "$BASE/$other/${f#"$BASE/local/"}" ||
            { differ=$((differ + 1)); echo "DIFFERS ($other): ${f#"$BASE/local/"}"; }
    done
done < <(find "$BASE/local/results" -type f \( -name '*.parquet' -o -name 'report.html' -o -name 'report.md' \) -print0)
count() { find "$BASE/$1/results" -type f \( -name '*.parquet' -o -name 'report.html' -o -name 'report.md' \) | wc -l; }
ns=$(count slurm) np=$(count plugin)
echo "artifacts: local $n, slurm (chained sbatch) $ns, plugin (batch layout) $np, differing $differ"
for other in slurm plugin; do
    echo "rule-job logs per Slurm job ($other):"; grep -rhs "slurm_job_id=" "$BASE/$other/results/logs" |
        sed -n 's/.*slurm_job_id=\([0-9]*\).*/\1/p' | sort | uniq -c
done
echo "largest process peak RSS a batch job logged (plugin): $(grep -rhos 'process peak RSS [0-9]* MB' \
    "$BASE"/plugin/results/logs/batch_* | awk '{print $4}' | sort -n | tail -n1) MB"
rm -rf "$BASE"
((differ == 0 && n == ns && n == np))
