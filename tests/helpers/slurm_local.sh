#!/bin/sh
# A one-node SLURM cluster on this machine for the runner specs (as root):
#   sh slurm_local.sh start DIR   munge (if not running) + slurmctld + slurmd
#                                 with a private slurm.conf in DIR; waits
#                                 until the node is idle (at most 60 s)
#   sh slurm_local.sh stop DIR    stops the daemons started by start (by pid)
# Prints why and exits 1 when something does not come up.
set -u
cmd=$1 dir=$2
conf=$dir/slurm.conf

fail() { echo "slurm_local: $*" >&2; for f in "$dir"/log/*.log; do [ -f "$f" ] && tail -5 "$f" >&2; done; exit 1; }

stop() {
  for p in slurmd slurmctld; do
    if [ -f "$dir/$p.pid" ]; then
      pid=$(cat "$dir/$p.pid")
      kill "$pid" 2>/dev/null
      i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
      kill -9 "$pid" 2>/dev/null
      rm -f "$dir/$p.pid"
    fi
  done
  if [ -f "$dir/munged.pid" ]; then
    kill "$(cat "$dir/munged.pid")" 2>/dev/null
    rm -f "$dir/munged.pid"
  fi
}

case $cmd in
start)
  [ "$(id -u)" = 0 ] || fail "must run as root (slurmd runs jobs as their user)"
  for t in munged slurmctld slurmd sbatch sinfo; do
    command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || fail "$t not installed (apt-get install slurm-wlm munge)"
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  # munge: one key shared by the daemons and the clients
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  [ -f /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  if ! munge -n >/dev/null 2>&1; then
    su -s /bin/sh munge -c /usr/sbin/munged || fail "munged did not start"
    cat /run/munge/munged.pid > "$dir/munged.pid" 2>/dev/null
    i=0; until munge -n >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 50 ] && fail "munge does not answer"; sleep 0.1; done
  fi
  h=$(hostname -s)
  # free ports: the first pair from 16817 on that nothing listens to
  port=16817
  while ss -ltn 2>/dev/null | grep -q ":$port \|:$((port+1)) "; do port=$((port+2)); done
  cat > "$conf" <<CONF
ClusterName=medulatest
SlurmctldHost=$h
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/ctld.log
SlurmdLogFile=$dir/log/d.log
SlurmctldPort=$port
SlurmdPort=$((port+1))
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$h CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$h Default=YES MaxTime=INFINITE State=UP
CONF
  SLURM_CONF=$conf /usr/sbin/slurmctld -f "$conf" || fail "slurmctld did not start"
  SLURM_CONF=$conf /usr/sbin/slurmd -f "$conf" || fail "slurmd did not start"
  i=0
  until SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null | grep -q '^idle'; do
    i=$((i+1)); [ $i -gt 120 ] && { stop; fail "the node did not become idle within 60 s"; }
    sleep 0.5
  done
  ;;
stop) stop ;;
*) echo "usage: slurm_local.sh start|stop DIR" >&2; exit 2 ;;
esac
