# A private single-node Slurm on this machine, for tests and benchmarks (sourced; bash). No systemd:
# munged with a fresh key, slurmctld and slurmd from one slurm.conf, every file (key, socket, state,
# spool, logs, pid files) under one directory, private ports. Runs as root (SlurmUser=root).
#
#   slurm_up DIR     starts munged, slurmctld, slurmd; exports SLURM_CONF; waits until the node is idle
#   slurm_down       stops every daemon slurm_up started (cancelling jobs first); safe to call twice,
#                    and from an EXIT trap after a failure half-way through slurm_up
#   slurm_wait JOB.. waits until the jobs (array tasks included) have left the queue
#
# The configuration is the smallest that runs jobs on a machine without cgroups or systemd:
# proctrack/linuxproc (a job's processes are found through their parents, so signals at a time limit
# reach torn and its children), task/none, select/cons_tres, no accounting. KillWait is 5 s: SIGTERM
# at a time limit, SIGKILL five seconds later.

SLURM_DIR=""
SLURM_PIDS=()

_slurm_free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

slurm_up() {
  SLURM_DIR=$1
  mkdir -p "$SLURM_DIR"/{munge,state,spool,log}
  chmod 700 "$SLURM_DIR" "$SLURM_DIR/munge"
  local host; host=$(hostname -s)
  dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$SLURM_DIR/munge/munge.key"
  munged --force --key-file="$SLURM_DIR/munge/munge.key" --socket="$SLURM_DIR/munge/munge.socket" \
    --pid-file="$SLURM_DIR/munge/munged.pid" --log-file="$SLURM_DIR/log/munged.log" \
    --seed-file="$SLURM_DIR/munge/munged.seed" || return 1
  SLURM_PIDS+=("$(cat "$SLURM_DIR/munge/munged.pid")")
  local ctld_port slurmd_port
  ctld_port=$(_slurm_free_port) && slurmd_port=$(_slurm_free_port) || return 1
  : > "$SLURM_DIR/plugstack.conf"
  cat > "$SLURM_DIR/slurm.conf" <<CONF
ClusterName=torntest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.socket
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
PlugStackConfig=$SLURM_DIR/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=torn Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$SLURM_DIR/slurm.conf
  slurmctld -c -f "$SLURM_CONF" || return 1
  for _ in $(seq 50); do [ -s "$SLURM_DIR/slurmctld.pid" ] && break; sleep 0.1; done
  SLURM_PIDS+=("$(cat "$SLURM_DIR/slurmctld.pid")")
  slurmd -f "$SLURM_CONF" || return 1
  for _ in $(seq 50); do [ -s "$SLURM_DIR/slurmd.pid" ] && break; sleep 0.1; done
  SLURM_PIDS+=("$(cat "$SLURM_DIR/slurmd.pid")")
  for _ in $(seq 150); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then return 0; fi
    sleep 0.2
  done
  echo "slurm: the node did not come up idle in 30 s" >&2
  return 1
}

slurm_down() {
  [ -n "$SLURM_DIR" ] || return 0
  # Jobs first (their processes end with them), while slurmctld can still say when they are gone.
  scancel --full --quiet --user=root 2>/dev/null || true
  for _ in $(seq 100); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  local pid
  # Reverse order: slurmd, slurmctld, munged.
  for ((i = ${#SLURM_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${SLURM_PIDS[i]}
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  for ((i = ${#SLURM_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${SLURM_PIDS[i]}
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  SLURM_PIDS=()
  SLURM_DIR=""
}

# The state of a job or array task as Slurm tells it (PENDING, RUNNING, COMPLETED, TIMEOUT, ...), or
# GONE when it left the controller's memory.
slurm_state() {
  scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1 | grep . || echo GONE
}

# slurm_wait TIMEOUT_S JOB...: until none of the jobs is pending, running or completing.
slurm_wait() {
  local timeout=$1; shift
  local end=$((SECONDS + timeout)) j busy
  while [ $SECONDS -lt $end ]; do
    busy=0
    for j in "$@"; do
      case $(slurm_state "$j") in PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED) busy=1 ;; esac
    done
    [ $busy -eq 0 ] && return 0
    sleep 1
  done
  echo "slurm: jobs $* still busy after ${timeout} s" >&2
  return 1
}
