#!/usr/bin/env bash
# A single-node Slurm cluster for testing the brmacro Slurm profile (DESIGN §7b).
#
#   tests/cluster/slurm.sh start    install (if needed), configure and start munge, slurmctld, slurmd
#   tests/cluster/slurm.sh status   show which daemons run and the node state; exit 0 iff the node takes jobs
#   tests/cluster/slurm.sh stop     stop only the daemons this script started (by the PIDs it recorded)
#
# Runs as root (it installs Debian packages and starts daemons). No systemd is assumed: the daemons are
# started directly. Idempotent: `start` on a running cluster does nothing; `stop` twice is harmless.
# The configuration written to /etc/slurm/slurm.conf carries a marker line; a slurm.conf without that
# marker (someone else's cluster) is never overwritten.
#
# Environment:
#   BRMACRO_SLURM_STATE   where this script keeps the PIDs of the daemons it started
#                         (default /var/lib/brmacro-slurm)
#   BRMACRO_SLURM_TIMEOUT seconds to wait for the node to become ready (default 60)
set -euo pipefail

STATE=${BRMACRO_SLURM_STATE:-/var/lib/brmacro-slurm}
TIMEOUT=${BRMACRO_SLURM_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
MARKER="# managed-by: brmacro tests/cluster/slurm.sh"
PARTITION=brmacro
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
LOGDIR=/var/log/slurm

log() { printf 'slurm.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (installs packages and starts daemons)"; }

# PID recorded in a pid file, if that process is alive and runs the expected program.
alive_pid() {
    local pidfile=$1 prog=$2 pid
    [[ -r $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid && -r /proc/$pid/comm ]] || return 1
    [[ $(cat "/proc/$pid/comm") == "$prog"* ]] || return 1
    printf '%s\n' "$pid"
}

install_packages() {
    local missing=()
    for bin in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch; do
        [[ -x $bin ]] || missing+=("$bin")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    }
}

write_config() {
    if [[ -e $CONF ]] && ! grep -qxF "$MARKER" "$CONF"; then
        die "$CONF exists and was not written by this script; refusing to overwrite it"
    fi
    local host node_line cpus mem
    host=$(hostname -s)
    # `slurmd -C` reports this machine's real topology and memory; use it as the node definition.
    node_line=$(slurmd -C | head -n1)
    [[ $node_line == NodeName=* ]] || die "slurmd -C gave no node line: $node_line"
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
    mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
    local tmp
    tmp=$(mktemp "$CONF.XXXXXX")
    cat >"$tmp" <<EOF
$MARKER
# Single-node test cluster (DESIGN §7b): no cgroups, no accounting daemon.
ClusterName=brmacro
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for 10 min: the Snakemake plugin reads their state there.
MinJobAge=600
InactiveLimit=0
KillWait=10
Waittime=0
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
${node_line} State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    chmod 0644 "$tmp"
    mv -f "$tmp" "$CONF"
    log "wrote $CONF (node $host: $cpus CPUs, ${mem} MB)"
}

start_munge() {
    if alive_pid "$MUNGE_PID" munged >/dev/null; then
        log "munged already running"
        return 0
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    [[ -s /etc/munge/munge.key ]] || {
        log "creating /etc/munge/munge.key"
        (umask 077; dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none)
        chown munge:munge /etc/munge/munge.key
    }
    runuser -u munge -- /usr/sbin/munged
    local pid
    pid=$(alive_pid "$MUNGE_PID" munged) || die "munged did not start (see /var/log/munge/munged.log)"
    echo "$pid" >"$STATE/munged.pid"
    munge -n | unmunge >/dev/null || die "munge round trip failed"
}

start_daemon() {
    local prog=$1 pidfile=$2
    if alive_pid "$pidfile" "$prog" >/dev/null; then
        log "$prog already running"
        return 0
    fi
    "/usr/sbin/$prog"
    local pid="" i
    for ((i = 0; i < 50; i++)); do
        pid=$(alive_pid "$pidfile" "$prog") && break
        sleep 0.2
    done
    [[ -n $pid ]] || die "$prog did not start (see $LOGDIR/$prog.log)"
    echo "$pid" >"$STATE/$prog.pid"
}

wait_ready() {
    local i state
    for ((i = 0; i < TIMEOUT * 2; i++)); do
        state=$(sinfo -h -p "$PARTITION" -o '%t' 2>/dev/null | head -n1 || true)
        case $state in
            idle | mix | alloc) log "node ready (state $state)"; return 0 ;;
            drain* | down*)
                scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    die "node not ready after ${TIMEOUT}s (last state: ${state:-none}); see $LOGDIR/"
}

cmd_start() {
    need_root
    install_packages
    mkdir -p "$STATE" "$LOGDIR"
    write_config
    start_munge
    start_daemon slurmctld "$CTLD_PID"
    start_daemon slurmd "$SLURMD_PID"
    wait_ready
}

cmd_stop() {
    need_root
    local prog pid i
    # Reverse order of start; only processes whose PID this script recorded, and only if still that program.
    for prog in slurmd slurmctld munged; do
        [[ -r $STATE/$prog.pid ]] || continue
        if pid=$(alive_pid "$STATE/$prog.pid" "$prog"); then
            kill -TERM "$pid"
            for ((i = 0; i < 50; i++)); do
                [[ -d /proc/$pid ]] || break
                sleep 0.2
            done
            [[ -d /proc/$pid ]] && { log "$prog ($pid) ignored TERM; sending KILL"; kill -KILL "$pid"; }
            log "stopped $prog ($pid)"
        fi
        rm -f "$STATE/$prog.pid"
    done
}

cmd_status() {
    local rc=0 prog file pid
    for prog in munged slurmctld slurmd; do
        case $prog in
            munged) file=$MUNGE_PID ;; slurmctld) file=$CTLD_PID ;; slurmd) file=$SLURMD_PID ;;
        esac
        if pid=$(alive_pid "$file" "$prog"); then
            local owner="not started by this script"
            [[ -r $STATE/$prog.pid && $(cat "$STATE/$prog.pid") == "$pid" ]] && owner="started by this script"
            echo "$prog: running (pid $pid, $owner)"
        else
            echo "$prog: not running"
            rc=1
        fi
    done
    if ((rc == 0)); then
        sinfo -p "$PARTITION" || rc=1
        state=$(sinfo -h -p "$PARTITION" -o '%t' 2>/dev/null | head -n1 || true)
        [[ $state == idle || $state == mix || $state == alloc ]] || rc=1
    fi
    return "$rc"
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
