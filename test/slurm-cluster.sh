#!/bin/sh
# A real single-node Slurm cluster for the tests, from Debian's slurm-wlm.
#
#   test/slurm-cluster.sh start DIR   configure under DIR, start slurmctld
#                                     and slurmd, wait for the node to be idle
#   test/slurm-cluster.sh stop DIR    stop both daemons and cancel every job
#   test/slurm-cluster.sh stop-ctld DIR   stop slurmctld only (jobs keep
#                                     running under slurmd; its state stays)
#   test/slurm-cluster.sh start-ctld DIR  start it again on the same state
#
# start writes DIR/env, to be sourced: it sets SLURM_CONF.  Accounting is
# off, as on many small clusters, so sacct answers that it is disabled.
# CALIB_TEST_MIN_JOB_AGE sets MinJobAge, the seconds a finished job stays
# in squeue (default 600, so that tests see every job end); a small value
# makes finished jobs leave squeue within seconds, as on production
# clusters.  CALIB_TEST_CRED_EXPIRE sets AuthInfo's cred_expire, which is
# also how long Slurm keeps a requeued job (a node that went down) from
# starting again: 120 s unless set.
# Needs root (slurmd runs jobs as their owner).
set -u

die() {
	echo "slurm-cluster: $*" >&2
	exit 1
}

# A TCP port nobody listens on, from a range of its own.
free_port() {
	_p=$1
	while [ "$_p" -lt $(($1 + 200)) ]; do
		if ! ss -Htln "sport = :$_p" 2>/dev/null | grep -q .; then
			echo "$_p"
			return
		fi
		_p=$((_p + 1))
	done
	die "no free port from $1"
}

# start_ctld DIR: slurmctld in the background, on DIR's saved state.
start_ctld() {
	slurmctld -D -i -f "$1/slurm.conf" >>"$1/log/slurmctld.out" 2>&1 &
	echo $! >"$1/slurmctld.bg"
}

# stop_daemon DIR NAME: SIGTERM, then SIGKILL after 20 s.
stop_daemon() {
	[ -f "$1/$2.bg" ] || return 0
	pid=$(cat "$1/$2.bg")
	kill "$pid" 2>/dev/null
	end=$(($(date +%s) + 20))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$end" ]; then
			kill -9 "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	rm -f "$1/$2.bg"
}

start() {
	dir=$1
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	command -v slurmctld >/dev/null && command -v slurmd >/dev/null ||
	    die "slurmctld and slurmd not found (apt-get install slurm-wlm)"
	mkdir -p "$dir/state" "$dir/spool" "$dir/log" || exit 1
	dir=$(cd "$dir" && pwd)
	# Spread the ports so that clusters of several test scripts never meet.
	base=$((20000 + ($$ % 200) * 50))
	ctld=$(free_port "$base")
	slurmd=$(free_port $((ctld + 1)))
	# Members of the tests mostly wait; more slots than cores keep the
	# cluster from serialising them (config_overrides lets slurmd agree).
	cpus=$(($(nproc) * 8))
	mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
	cat >"$dir/slurm.conf" <<EOF
ClusterName=calibtest
SlurmctldHost=localhost
SlurmctldPort=$ctld
SlurmdPort=$slurmd
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_min_interval=0
MpiDefault=none
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MaxArraySize=${CALIB_TEST_MAX_ARRAY:-1001}
MinJobAge=${CALIB_TEST_MIN_JOB_AGE:-600}
${CALIB_TEST_CRED_EXPIRE:+AuthInfo=cred_expire=$CALIB_TEST_CRED_EXPIRE}
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=other Nodes=localhost MaxTime=INFINITE State=UP
EOF
	echo "export SLURM_CONF='$dir/slurm.conf'" >"$dir/env"
	export SLURM_CONF="$dir/slurm.conf"
	start_ctld "$dir"
	slurmd -D -N localhost -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
	echo $! >"$dir/slurmd.bg"
	# Wait, with a deadline, for the node to take jobs.
	end=$(($(date +%s) + 60))
	while :; do
		state=$(sinfo -h -n localhost -o %t 2>/dev/null | head -n1)
		case $state in
		idle*|mix*|alloc*) break ;;
		esac
		if [ "$(date +%s)" -ge "$end" ]; then
			tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
			stop "$dir"
			die "node not idle after 60 s (state '$state')"
		fi
		sleep 0.2
	done
}

stop() {
	dir=$1
	[ -f "$dir/slurm.conf" ] || return 0
	export SLURM_CONF="$dir/slurm.conf"
	scancel --quiet --full --user=root >/dev/null 2>&1
	for d in slurmd slurmctld; do
		stop_daemon "$dir" $d
	done
	# Jobs' own processes die with slurmd's steps; catch stragglers.
	pkill -f "slurmstepd.*$dir" 2>/dev/null
	return 0
}

case ${1:-} in
start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
stop-ctld)
	[ $# -eq 2 ] || die "usage: $0 stop-ctld DIR"
	stop_daemon "$(cd "$2" && pwd)" slurmctld ;;
start-ctld)
	[ $# -eq 2 ] || die "usage: $0 start-ctld DIR"
	dir=$(cd "$2" && pwd)
	[ -f "$dir/slurm.conf" ] || die "no cluster in $dir"
	[ -f "$dir/slurmctld.bg" ] && kill -0 "$(cat "$dir/slurmctld.bg")" 2>/dev/null &&
	    die "slurmctld already runs"
	start_ctld "$dir"
	# Wait, with a deadline, for it to answer.
	end=$(($(date +%s) + 60))
	until SLURM_CONF=$dir/slurm.conf scontrol ping 2>/dev/null | grep -q UP; do
		[ "$(date +%s)" -ge "$end" ] && die "slurmctld does not answer after 60 s"
		sleep 0.2
	done ;;
*) die "usage: $0 start|stop|stop-ctld|start-ctld DIR" ;;
esac
