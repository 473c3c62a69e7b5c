#!/usr/bin/env bash
# interop.sh: check smscast's SMPP against an SMPP implementation written by other people,
# node-smpp (npm "smpp" 0.5.1), on 127.0.0.1 only.
#
#   a. node-smpp is the SMSC (interop/smsc.js); `smscast send` sends a campaign to it (GSM 7-bit
#      with extension characters, UCS-2 with emoji, Latin-1, long texts split with udh, udh16,
#      sar and payload); interop/check_smsc.js compares every submit_sm node-smpp decoded with our own
#      reading of the octets and with the expected bytes, and checks smscast's reports
#      (accepted, node's message ids, DELIVRD/UNDELIV from node's receipts).
#   b. node-smpp is the ESME (interop/esme.js) against `smscast sim --listen 127.0.0.1:0`:
#      bind, submits (GSM, UCS-2, Latin-1, 2-part UDH, SAR, message_payload, a reject, an
#      undeliverable), receipts matched by receipted_message_id and answered, enquire_link, an
#      unknown command, unbind; then SIGTERM and the sim's JSON summary and message log.
#   interop/selftest.js reruns the (a) checker on copies of the records with planted defects
#   (a wrong €, a lost part, a bad UDH, a bad SAR number, a pending row) and expects it to fail.
#
# Needs go, node (≥ 18) and npm. npm installs smpp@0.5.1 into SMSCAST_INTEROP_CACHE (default
# ~/.cache/smscast-interop), never into the repository. Exit status 0 when every check passed.
# Usage: scripts/interop.sh   (from anywhere; KEEP=1 keeps the work directory for inspection)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS="$ROOT/interop"
CACHE=${SMSCAST_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smscast-interop}
NPM_DIR="$CACHE/smpp-0.5.1"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smscast-interop.XXXXXX")
SYSTEM_ID=interop
PASSWORD=ip$((RANDOM % 100000)) # a throwaway test password, at most 8 characters (C(9))
START=$(date +%s)
PASSED=0
FAILED=0

cleanup() {
	local pid
	for pid in $(jobs -p); do # only what this script started and is still running
		kill "$pid" 2>/dev/null
	done
	if [[ -n ${KEEP:-} ]]; then
		echo "# work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1"
	[[ -n ${2:-} && -f $2 ]] && sed 's/^/    /' "$2" | tail -n 20
}
die() {
	fail "$1" "${2:-}"
	finish
}
finish() {
	echo "interop: $PASSED passed, $FAILED failed ($(($(date +%s) - START)) s)"
	if ((FAILED > 0)); then
		[[ -z ${KEEP:-} ]] && echo "# rerun with KEEP=1 to keep the PDU records in the work directory"
		exit 1
	fi
	exit 0
}

# tally runs a node check script, prints its lines and adds its ok / not ok lines to the count.
tally() {
	local out=$WORK/tally.$RANDOM
	"$@" >"$out" 2>&1
	cat "$out"
	PASSED=$((PASSED + $(grep -c '^ok - ' "$out")))
	FAILED=$((FAILED + $(grep -c '^not ok - ' "$out")))
	if ! grep -q '^# ' "$out"; then
		fail "${*:0:120} ran to the end" "$out"
	fi
}

# first_line waits (at most 10 s) for the first line of FILE and prints it.
first_line() {
	local i
	for i in $(seq 100); do
		if [[ -s $1 ]] && (($(wc -l <"$1") >= 1)); then
			head -n 1 "$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop sends SIGTERM to PID, a child of this shell, and waits at most 10 s for it; STOP_RC is
# its exit status, or "timeout" (then it was killed).
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			STOP_RC=$?
			return
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	STOP_RC=timeout
}

for tool in go node npm timeout; do
	command -v "$tool" >/dev/null || die "$tool is installed (needed by the interop check)"
done

# node-smpp, pinned; installed once into the cache, outside the repository.
if [[ $(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/smpp/package.json" 2>/dev/null) != 0.5.1 ]]; then
	mkdir -p "$NPM_DIR"
	echo '{"private": true}' >"$NPM_DIR/package.json"
	if ! timeout 180 npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save smpp@0.5.1 >"$WORK/npm.log" 2>&1; then
		die "npm install smpp@0.5.1 into $NPM_DIR" "$WORK/npm.log"
	fi
fi
export NODE_PATH="$NPM_DIR/node_modules"
pass "node-smpp $(node -p 'require("smpp/package.json").version') in $NPM_DIR"

BIN=$WORK/smscast
T0=$SECONDS
if ! (cd "$ROOT" && timeout 300 go build -o "$BIN" .) >"$WORK/build.log" 2>&1; then
	die "go build smscast" "$WORK/build.log"
fi
pass "go build smscast ($((SECONDS - T0)) s)"

# --- a. node-smpp as the SMSC, smscast send as the ESME ------------------------------------------
T0=$SECONDS
A=$WORK/a
mkdir -p "$A"
INTEROP_PASSWORD=$PASSWORD node "$HARNESS/smsc.js" --out "$A/records.jsonl" --system-id "$SYSTEM_ID" >"$A/smsc.out" 2>&1 &
SMSC_PID=$!
if ! SMSC_ADDR=$(first_line "$A/smsc.out") || [[ ! $SMSC_ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]]; then
	die "node-smpp SMSC (interop/smsc.js) listens on 127.0.0.1" "$A/smsc.out"
fi
for run in $(node -p 'require(process.argv[1]).RUNS.map((r) => r.name).join(" ")' "$HARNESS/lib.js"); do
	node "$HARNESS/campaign_csv.js" "$run" "$A"
	read -r split encoding < <(node -p 'const r = require(process.argv[1]).RUNS.find((r) => r.name === process.argv[2]); `${r.split} ${r.encoding || "auto"}`' "$HARNESS/lib.js" "$run")
	# Even sessions answer the bind without sc_interface_version, as node-smpp does out of the
	# box, yet take TLVs: the case --assume-tlv-support is for (sar and payload need TLVs).
	SMSCAST_PASSWORD=$PASSWORD timeout 60 "$BIN" send --assume-tlv-support \
		--smsc "$SMSC_ADDR" --system-id "$SYSTEM_ID" \
		--recipients "$A/$run.recipients.csv" --templates "$A/$run.templates.csv" \
		--split "$split" --encoding "$encoding" --rate 0 --window 10 --resp-timeout 10s --give-up-after 10s --wait 10s \
		--report "$A/$run.report.jsonl" --report-format jsonl --summary-json "$A/$run.summary.json" --inbox "$A/$run.inbox.csv" \
		--progress-interval 10s --quiet >"$A/$run.log" 2>&1 </dev/null
	echo $? >"$A/$run.rc"
done
stop "$SMSC_PID"
if [[ $STOP_RC == 0 ]]; then
	pass "node-smpp SMSC stopped cleanly; the campaign took $((SECONDS - T0)) s"
else
	fail "node-smpp SMSC stopped cleanly (status $STOP_RC)" "$A/smsc.out"
fi
tally node "$HARNESS/check_smsc.js" --records "$A/records.jsonl" --dir "$A" --system-id "$SYSTEM_ID"
# The same checker on copies with planted defects must fail, or its passes prove nothing.
tally node "$HARNESS/selftest.js" --records "$A/records.jsonl" --dir "$A" --system-id "$SYSTEM_ID"

# --- b. node-smpp as the ESME, smscast sim as the SMSC ---------------------------------------------
T0=$SECONDS
B=$WORK/b
mkdir -p "$B"
if ! "$BIN" sim --help >"$B/help.txt" 2>&1; then
	fail "smscast has a sim command (smscast sim --help)" "$B/help.txt"
	finish
fi
SMSCAST_SIM_PASSWORD=$PASSWORD "$BIN" sim --listen 127.0.0.1:0 --system-id "$SYSTEM_ID" \
	--reject-prefix 4917198 --undeliv-prefix 4917199 --log "$B/sim.jsonl" >"$B/sim.out" 2>"$B/sim.err" </dev/null &
SIM_PID=$!
if ! SIM_ADDR=$(first_line "$B/sim.out") || [[ ! $SIM_ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]]; then
	fail "smscast sim --listen 127.0.0.1:0 prints its address first" "$B/sim.out"
	cat "$B/sim.err"
	finish
fi
pass "smscast sim listens on $SIM_ADDR"
INTEROP_PASSWORD=$PASSWORD tally timeout 60 node "$HARNESS/esme.js" run --addr "$SIM_ADDR" --system-id "$SYSTEM_ID" --expect "$B/expect.json"
stop "$SIM_PID"
if [[ -f $B/expect.json ]]; then
	tally node "$HARNESS/esme.js" summary --expect "$B/expect.json" --stdout "$B/sim.out" --log "$B/sim.jsonl" --rc "$STOP_RC"
else
	fail "esme.js wrote what the simulator must report"
fi
[[ -s $B/sim.err ]] && sed 's/^/# sim stderr: /' "$B/sim.err" | tail -n 5
echo "# check b took $((SECONDS - T0)) s"
finish
