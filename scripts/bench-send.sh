#!/usr/bin/env bash
# bench-send.sh: end-to-end benchmarks of `smscast send` against `smscast sim` running in
# another process, on this machine only (127.0.0.1).
#
#   scripts/bench-send.sh              # both benchmarks
#   scripts/bench-send.sh throughput   # ROWS rows (default 200000) at --rate 0 --window 100
#   scripts/bench-send.sh pacing       # --rate 2000 for about 10 s
#   scripts/bench-send.sh journal      # throughput with the journal (the default) and with --journal off
#
# Throughput: a generated recipients file (csvin/gen) with the templates of
# testdata/templates.csv (one row in eight takes a three-part message), a CSV report and a
# summary (the receipt spool in the work directory, so runs neither read nor grow the user's);
# prints submit_sm (and rows) per second and the CPU time (user + system, from /usr/bin/time) per
# submit_sm. Target: at least 100,000 submit_sm per second.
# Pacing: 20,000 PDUs at --rate 2000; the achieved rate is measured from the simulator's
# --log (times of the first and the last accepted message) and the busiest one-second bucket
# from its summary. Target: within 1% of 2000, and no bucket above 2001.
# Journal: the throughput benchmark with --journal off, then with the journal; prints both
# rates and the journal's cost. Target: at most 30% of the throughput.
# SEND_GOMAXPROCS=N runs send with N Ps (default: one per core), e.g. 1 to see what the
# cross-core hand-overs cost on a 2-core machine that the simulator shares.
set -euo pipefail

cd "$(dirname "$0")/.."
what=${1:-all}
rows=${ROWS:-200000}
work=$(mktemp -d)
sim_pid=""
cleanup() {
	if [[ -n $sim_pid ]]; then kill "$sim_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/smscast" .
bin=$work/smscast

# start_sim ARGS... starts the simulator on a free port and sets sim_pid and sim_addr. It
# stands in for an SMSC on other hardware, so it gets one P (SIM_GOMAXPROCS, default 1): on
# a 2-core machine shared with send, a second P only adds cross-core wake-ups (about 1.5 us
# of the simulator's CPU per submit_sm).
start_sim() {
	GOMAXPROCS=${SIM_GOMAXPROCS:-1} "$bin" sim --listen 127.0.0.1:0 "$@" >"$work/sim.out" 2>"$work/sim.err" &
	sim_pid=$!
	for _ in $(seq 100); do
		sim_addr=$(head -n 1 "$work/sim.out" 2>/dev/null || true)
		[[ -n $sim_addr ]] && return 0
		sleep 0.05
	done
	echo "bench-send: the simulator did not start:" >&2
	cat "$work/sim.err" >&2
	exit 1
}

# stop_sim stops the simulator and prints its one-line JSON summary.
stop_sim() {
	kill -TERM "$sim_pid"
	wait "$sim_pid" || true
	sim_pid=""
	tail -n 1 "$work/sim.out"
}

# json_number KEY FILE prints the first number stored under "KEY" in FILE.
json_number() {
	grep -o "\"$1\": *[0-9.e+-]*" "$2" | head -n 1 | sed 's/.*: *//'
}

# send_extra holds flags added to the throughput run's send (the journal benchmark sets it).
send_extra=()

throughput() {
	echo "== throughput: $rows rows, --rate 0 --window 100, templates and a CSV report ${send_extra[*]}"
	go run ./csvin/gen -rows "$rows" >"$work/recipients.csv"
	start_sim --receipt-delay 0
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	set +e
	# SEND_GOMAXPROCS, when set, gives send that many Ps (default: Go's, one per core).
	${SEND_GOMAXPROCS:+env GOMAXPROCS=$SEND_GOMAXPROCS} /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" send --smsc "$sim_addr" \
		--recipients "$work/recipients.csv" --templates testdata/templates.csv --template welcome \
		--rate 0 --window 100 --wait 0 --report "$work/report.csv" --summary-json "$work/summary.json" --quiet \
		--spool "$work/spool" --force ${send_extra[@]+"${send_extra[@]}"} 2>"$work/send.err"
	status=$?
	set -e
	echo "smscast send exit status $status (3 is expected: the generated file has invalid rows)"
	if [[ $status -ne 0 && $status -ne 3 ]]; then cat "$work/send.err" >&2; exit 1; fi
	read -r wall user sys maxrss < <(tail -n 1 "$work/time")
	pdus=$(json_number parts_accepted "$work/summary.json")
	accepted_rows=$(grep -o '"accepted": *[0-9]*' "$work/summary.json" | head -n 1 | sed 's/.*: *//')
	duration=$(json_number duration_seconds "$work/summary.json")
	sim_cpu=$(awk -v tck="$(getconf CLK_TCK)" '{ print ($14 + $15) / tck }' "/proc/$sim_pid/stat") # utime + stime
	stop_sim >"$work/sim.summary"
	echo "load average before:    $load_before"
	awk -v p="$pdus" -v w="$wall" -v d="$duration" -v u="$user" -v s="$sys" -v m="$maxrss" -v sc="$sim_cpu" -v r="$accepted_rows" 'BEGIN {
		printf "submit_sm accepted      %d (rows accepted: %d)\n", p, r
		printf "process wall time       %.2f s (the run itself: %.2f s)\n", w, d
		printf "submit_sm per second    %.0f (whole process), %.0f (the run)\n", p / w, p / d
		printf "rows per second         %.0f (whole process), %.0f (the run)\n", r / w, r / d
		printf "CPU per submit_sm       %.2f us (user %.2f s + system %.2f s)\n", (u + s) * 1e6 / p, u, s
		printf "peak resident memory    %.0f MB\n", m / 1024
		printf "simulator CPU           %.2f us per submit_sm (%.2f s)\n", sc * 1e6 / p, sc
	}'
	echo "simulator: $(cat "$work/sim.summary")"
}

pacing() {
	echo "== pacing: --rate 2000 for about 10 s"
	# One-part messages, so that the simulator's log (one line per message) counts PDUs.
	awk 'BEGIN { print "msisdn"; for (i = 1; i <= 20000; i++) printf "+49151%08d\n", i }' >"$work/pace.csv"
	start_sim --log "$work/sim.jsonl"
	"$bin" send --smsc "$sim_addr" --recipients "$work/pace.csv" --text "Hello, this is a pacing test." --from smscast \
		--rate 2000 --window 100 --wait 0 --report "$work/pace-report.csv" --quiet 2>"$work/pace.err" || true
	stop_sim >"$work/sim.summary"
	first=$(head -n 1 "$work/sim.jsonl" | grep -o '"accepted":"[^"]*"' | cut -d'"' -f4)
	last=$(tail -n 1 "$work/sim.jsonl" | grep -o '"accepted":"[^"]*"' | cut -d'"' -f4)
	n=$(wc -l <"$work/sim.jsonl")
	t0=$(date -d "$first" +%s.%N)
	t1=$(date -d "$last" +%s.%N)
	peak=$(json_number max_submits_per_second "$work/sim.summary")
	awk -v n="$n" -v t0="$t0" -v t1="$t1" -v peak="$peak" 'BEGIN {
		rate = (n - 1) / (t1 - t0)
		printf "messages                %d over %.3f s\n", n, t1 - t0
		printf "achieved rate           %.1f/s (%.2f%% off 2000; target within 1%%)\n", rate, (rate - 2000) / 20
		printf "busiest second          %d submits (target at most 2001)\n", peak
	}'
}

journal_cost() {
	send_extra=(--journal off)
	throughput | tee "$work/off.txt"
	send_extra=(--journal "$work/report.csv.journal")
	throughput | tee "$work/on.txt"
	# Fields 4 and 7 of the line: submit_sm per second of the whole process and of the run.
	read -r off_all off_run < <(grep 'submit_sm per second' "$work/off.txt" | awk '{ print $4, $7 }')
	read -r on_all on_run < <(grep 'submit_sm per second' "$work/on.txt" | awk '{ print $4, $7 }')
	awk -v oa="$off_all" -v or="$off_run" -v na="$on_all" -v nr="$on_run" 'BEGIN {
		printf "== journal cost (target at most 30%%)\n"
		printf "whole process           %.0f submit_sm/s with the journal, %.0f with --journal off: %.1f%% less\n", na, oa, (oa - na) * 100 / oa
		printf "the run                 %.0f submit_sm/s with the journal, %.0f with --journal off: %.1f%% less\n", nr, or, (or - nr) * 100 / or
	}'
}

case $what in
throughput) throughput ;;
pacing) pacing ;;
journal) journal_cost ;;
all) throughput; pacing ;;
*) echo "usage: $0 [throughput|pacing|journal|all]" >&2; exit 2 ;;
esac
