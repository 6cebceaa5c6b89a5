#!/usr/bin/env bash
# bench/run.sh — side-by-side benchmark of barrage against wrk, vegeta, hey
# and fortio on this machine. See bench/README.md for the rounds and knobs.
#
# Every knob is an environment variable; the defaults are what
# bench/RESULTS.md was measured with. Output: a table on stdout, the report
# bench/out/results-<date>.md and the raw runs under bench/out/<date>/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${OUT:-$HERE/out}
GOBIN_DIR=${BIN_DIR:-$HERE/out/bin}     # where the peers are installed

DURATION=${DURATION:-10}                 # s, throughput round, every tool
ROUNDS=${ROUNDS:-3}                      # rounds of every phase, tools interleaved
CONNS=${CONNS:-64}                       # connections / workers
PHASES=${PHASES:-"throughput open co faults"}   # add "memory" or set MEMORY=1
TOOLS=${TOOLS:-"barrage wrk vegeta hey fortio"}
OPEN_RATE=${OPEN_RATE:-20000}            # rps, rate-accuracy round
OPEN_DURATION=${OPEN_DURATION:-10}       # s
OPEN_MAX_INFLIGHT=${OPEN_MAX_INFLIGHT:-0}      # barrage max_inflight (0 = barrage's default)
VEGETA_OPEN_MAX_WORKERS=${VEGETA_OPEN_MAX_WORKERS:-$OPEN_MAX_INFLIGHT}  # 0 = vegeta's default (unbounded)
CO_RATE=${CO_RATE:-2000}                 # rps, coordinated-omission round
CO_DURATION=${CO_DURATION:-12}           # s
CO_MAX_INFLIGHT=${CO_MAX_INFLIGHT:-4000}
CO_PHASE=${CO_PHASE:-1.0}                # s into the stall period at which load starts
STALL_MS=${STALL_MS:-500}
STALL_EVERY_S=${STALL_EVERY_S:-5}
MEMORY=${MEMORY:-0}                      # 1: also run the memory-flatness round (long)
MEM_SMALL=${MEM_SMALL:-1000000}          # requests
MEM_LARGE=${MEM_LARGE:-10000000}         # requests
TARGET_CPU=${TARGET_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
PORT=${PORT:-18300}                      # first target port; every run gets the next one
IDLE_MIN=${IDLE_MIN:-0.85}               # wait until both CPUs are at least this idle before a run
IDLE_WAIT=${IDLE_WAIT:-180}              # s, give up waiting after this (and note it)
SKIP_INSTALL=${SKIP_INSTALL:-0}

VEGETA_VERSION=v12.13.0
HEY_VERSION=v0.1.5
FORTIO_VERSION=v1.66.0

if [[ $MEMORY == 1 && " $PHASES " != *" memory "* ]]; then PHASES="$PHASES memory"; fi

LIB=$HERE/lib/benchlib.py
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
note() { log "NOTE: $*"; printf '%s\n' "$*" >>"$NOTES"; }

# write_report: the Markdown report of $RUN_DIR (results.jsonl + meta.json).
write_report() {
	local cmds
	cmds=$(for f in "$RUN_DIR"/*-r1-*.cmd; do
		if [[ -f $f ]]; then printf '%s: %s\n' "$(basename "$f" .cmd)" "$(sed "s|$ROOT/||g" "$f")"; fi
	done)
	REPORT=$OUT/results-$(basename "$RUN_DIR").md
	{
		python3 "$LIB" report "$RESULTS" "$RUN_DIR/meta.json"
		echo
		echo "## Exact generator commands (round 1)"
		echo
		echo '```'
		echo "$cmds"
		echo '```'
	} >"$REPORT"
	python3 "$LIB" report "$RESULTS" "$RUN_DIR/meta.json" | sed -n '/^## [0-9]/,/^## Every run/p' | sed '$d'
	log "report: $REPORT"
	log "raw runs: $RUN_DIR"
}

# REPORT_ONLY=bench/out/<stamp>: rewrite that run's report and stop.
if [[ -n ${REPORT_ONLY:-} ]]; then
	RUN_DIR=$(cd "$REPORT_ONLY" && pwd)
	RESULTS=$RUN_DIR/results.jsonl
	write_report
	exit 0
fi

STAMP=$(date -u +%Y%m%d-%H%M%S)
RUN_DIR=$OUT/$STAMP
RESULTS=$RUN_DIR/results.jsonl
NOTES=$RUN_DIR/notes.txt
mkdir -p "$RUN_DIR" "$GOBIN_DIR"
: >"$RESULTS"
: >"$NOTES"

# ------------------------------------------------------------------ install

install_peers() {
	if ! command -v wrk >/dev/null; then
		log "installing wrk (Debian)"
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null
	fi
	if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -f '%M' true >/dev/null 2>&1; then
		log "installing GNU time (Debian)"
		apt-get update -qq && apt-get install -y -qq time >/dev/null
	fi
	for c in jq python3 taskset ss curl; do
		command -v "$c" >/dev/null || { log "missing $c"; exit 1; }
	done
	log "go install vegeta@$VEGETA_VERSION hey@$HEY_VERSION fortio@$FORTIO_VERSION into $GOBIN_DIR"
	GOBIN=$GOBIN_DIR GOFLAGS= go install \
		"github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
	GOBIN=$GOBIN_DIR GOFLAGS= go install "github.com/rakyll/hey@$HEY_VERSION"
	GOBIN=$GOBIN_DIR GOFLAGS= go install "fortio.org/fortio@$FORTIO_VERSION"
	log "building barrage"
	make -s -C "$ROOT" build
	if [[ " $PHASES " == *" memory "* ]]; then
		# the real etcd server, from the version go.mod pins (memory round)
		log "building etcd (go.etcd.io/etcd/server/v3, as pinned in go.mod) into $GOBIN_DIR"
		(cd "$ROOT" && CGO_ENABLED=0 go build -o "$GOBIN_DIR/etcd" go.etcd.io/etcd/server/v3)
	fi
}

if [[ $SKIP_INSTALL != 1 ]]; then install_peers; fi
# a private copy: other people's `make build` must not swap it mid-run
cp "$ROOT/bin/barrage" "$RUN_DIR/barrage"
BARRAGE=$RUN_DIR/barrage
VEGETA=$GOBIN_DIR/vegeta
HEY=$GOBIN_DIR/hey
FORTIO=$GOBIN_DIR/fortio
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ machine state

# cpu_busy_ticks: busy jiffies of the two pinned CPUs (user..steal, not idle/iowait).
cpu_busy_ticks() {
	awk -v a="cpu$TARGET_CPU" -v b="cpu$GEN_CPU" \
		'$1==a || $1==b {s += $2+$3+$4+$7+$8+$9} END {print s}' /proc/stat
}
cpu_all_ticks() {
	awk -v a="cpu$TARGET_CPU" -v b="cpu$GEN_CPU" \
		'$1==a || $1==b {for (i=2;i<=9;i++) s += $i} END {print s}' /proc/stat
}

# idle_share: share of the two CPUs idle over the next 2 s.
idle_share() {
	local b0 a0 b1 a1
	b0=$(cpu_busy_ticks) a0=$(cpu_all_ticks)
	sleep 2
	b1=$(cpu_busy_ticks) a1=$(cpu_all_ticks)
	awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN {if (a <= 0) print 1; else printf "%.3f\n", 1 - b / a}'
}

# wait_quiet: wait (up to IDLE_WAIT s) until the machine is idle enough; sets IDLE.
wait_quiet() {
	local deadline=$((SECONDS + IDLE_WAIT)) warned=0
	while :; do
		IDLE=$(idle_share)
		if awk -v i="$IDLE" -v m="$IDLE_MIN" 'BEGIN {exit !(i >= m)}'; then return; fi
		if ((SECONDS >= deadline)); then
			note "machine busy before a $1 run (CPUs ${IDLE} idle after waiting ${IDLE_WAIT}s; load $(cut -d' ' -f1-3 /proc/loadavg)); ran anyway"
			return
		fi
		if ((!warned)); then
			log "machine busy (CPUs $IDLE idle, load $(cut -d' ' -f1-3 /proc/loadavg)); waiting"
			warned=1
		fi
		sleep 3
	done
}

# wait_timewait: vegeta binds its local address before connecting, so a
# previous run's TIME_WAIT sockets can exhaust its ephemeral ports; wait
# until fewer than $1 are left (at most 70 s: they last 60 s).
wait_timewait() {
	local max=${1:-2000} deadline=$((SECONDS + 70)) n
	while :; do
		n=$(ss -Htan state time-wait | wc -l)
		((n < max || SECONDS >= deadline)) && return
		sleep 2
	done
}

# ------------------------------------------------------------------ target

TP=""
TPORT=0
start_target() { # extra barrage-target flags...
	TPORT=$PORT
	PORT=$((PORT + 1))
	taskset -c "$TARGET_CPU" "$BARRAGE" target --listen "127.0.0.1:$TPORT" --log-level warn "$@" \
		>"$RUN_DIR/target-$TPORT.log" 2>&1 &
	TP=$!
	local i
	for i in $(seq 200); do
		curl -fsS "http://127.0.0.1:$TPORT/_stats" >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	log "target did not start on port $TPORT"
	exit 1
}
target_requests() { curl -fsS "http://127.0.0.1:$TPORT/_stats" | jq -r .requests; }
target_cpu_s() {
	awk -v hz="$CLK_TCK" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$TP/stat"
}
stop_target() {
	[[ -n $TP ]] || return 0
	kill "$TP" 2>/dev/null || true
	wait "$TP" 2>/dev/null || true
	TP=""
}
cleanup() { stop_target; }
trap cleanup EXIT INT TERM

# ------------------------------------------------------------------ generators

# scenario FILE MODEL DURATION_S VALUE [MAX_INFLIGHT]: a barrage scenario for
# GET /small on the current target; VALUE is a concurrency (closed) or rate (open).
scenario() {
	local f=$1 model=$2 dur=$3 val=$4 mi=${5:-0} load
	if [[ $model == closed ]]; then
		load="{model: closed, stages: [{duration: ${dur}s, concurrency: $val}]}"
	elif [[ $mi != 0 ]]; then
		load="{model: open, max_inflight: $mi, stages: [{duration: ${dur}s, rate: $val}]}"
	else
		load="{model: open, stages: [{duration: ${dur}s, rate: $val}]}"
	fi
	cat >"$f" <<EOF
name: bench-$model
target: {base_url: "http://127.0.0.1:$TPORT", timeout: 10s}
load: $load
agents: 1
requests:
  - {name: small, path: /small}
EOF
}

# gen_cmd PHASE TOOL PREFIX: sets CMD (array) and JSON_OUT for one run.
gen_cmd() {
	local phase=$1 tool=$2 p=$3 url="http://127.0.0.1:$TPORT/small"
	JSON_OUT=""
	STDIN_FILE=/dev/null
	case "$phase/$tool" in
	throughput/barrage | memory/barrage | memcal/barrage)
		scenario "$p.yaml" closed "$DUR" "$CONNS"
		JSON_OUT=$p.json
		CMD=("$BARRAGE" run "$p.yaml" --json "$JSON_OUT" --agents 1 --log-level warn) ;;
	baseline/barrage)
		scenario "$p.yaml" open "$DUR" 1
		JSON_OUT=$p.json
		CMD=("$BARRAGE" run "$p.yaml" --json "$JSON_OUT" --agents 1 --log-level warn) ;;
	throughput/wrk)
		CMD=(wrk -t1 "-c$CONNS" "-d${DUR}s" --latency "$url") ;;
	throughput/vegeta)
		echo "GET $url" >"$p.targets"
		CMD=("$VEGETA" attack "-targets=$p.targets" -rate=0 "-workers=$CONNS" "-max-workers=$CONNS"
			"-duration=${DUR}s" "-output=$p.bin") ;;
	throughput/hey)
		CMD=("$HEY" -c "$CONNS" -z "${DUR}s" "$url") ;;
	throughput/fortio)
		JSON_OUT=$p.json
		CMD=("$FORTIO" load -qps 0 -c "$CONNS" -t "${DUR}s" -json "$JSON_OUT" -loglevel Warning "$url") ;;
	open/barrage)
		scenario "$p.yaml" open "$DUR" "$OPEN_RATE" "$OPEN_MAX_INFLIGHT"
		JSON_OUT=$p.json
		CMD=("$BARRAGE" run "$p.yaml" --json "$JSON_OUT" --agents 1 --log-level warn) ;;
	open/vegeta | co/vegeta)
		local rate=$OPEN_RATE mw=$VEGETA_OPEN_MAX_WORKERS
		if [[ $phase == co ]]; then rate=$CO_RATE mw=0; fi
		echo "GET $url" >"$p.targets"
		CMD=("$VEGETA" attack "-targets=$p.targets" "-rate=$rate" "-duration=${DUR}s" "-output=$p.bin")
		if [[ $mw != 0 ]]; then CMD+=("-max-workers=$mw"); fi ;;
	open/fortio)
		JSON_OUT=$p.json
		CMD=("$FORTIO" load -qps "$OPEN_RATE" -c "$CONNS" -t "${DUR}s" -json "$JSON_OUT" -loglevel Warning "$url") ;;
	co/barrage)
		scenario "$p.yaml" open "$DUR" "$CO_RATE" "$CO_MAX_INFLIGHT"
		JSON_OUT=$p.json
		CMD=("$BARRAGE" run "$p.yaml" --json "$JSON_OUT" --agents 1 --log-level warn) ;;
	co/hey)
		local q
		q=$(awk -v r="$CO_RATE" -v c="$CONNS" 'BEGIN {printf "%g", r / c}')
		CMD=("$HEY" -c "$CONNS" -q "$q" -z "${DUR}s" "$url") ;;
	co/fortio)
		JSON_OUT=$p.json
		CMD=("$FORTIO" load -qps "$CO_RATE" -c "$CONNS" -t "${DUR}s" -json "$JSON_OUT" -loglevel Warning "$url") ;;
	*)
		return 1 ;;
	esac
}

# run_one PHASE ROUND TOOL DURATION [TARGET_FLAGS...]: one measured run,
# appended to results.jsonl. For phase co the target stalls and the start is
# aligned to the stall period.
run_one() {
	local phase=$1 round=$2 tool=$3
	DUR=$4
	shift 4
	local p
	CMD=()
	if [[ $tool == vegeta ]]; then wait_timewait 2000; fi
	wait_quiet "$phase/$tool"
	start_target "$@"
	p=$RUN_DIR/$phase-r$round-$tool
	gen_cmd "$phase" "$tool" "$p" || { stop_target; return 0; }
	printf '%q ' taskset -c "$GEN_CPU" "${CMD[@]}" >"$p.cmd"
	echo >>"$p.cmd"

	local t0="" extra=()
	if [[ $phase == co ]]; then
		# The target stalls the first STALL_MS of every period counted from
		# its start: a request sent now is held until the first stall ends,
		# which fixes the phase (t0 = that end - stall).
		local s e
		s=$(date +%s.%N)
		curl -fsS -o /dev/null "http://127.0.0.1:$TPORT/small"
		e=$(date +%s.%N)
		t0=$(awk -v e="$e" -v s="$s" -v st="$STALL_MS" 'BEGIN {
			if (e - s < 0.05) { print "" } else { printf "%.6f", e - st / 1000 } }')
		if [[ -z $t0 ]]; then
			note "co/$tool round $round: stall probe was not held; phase unknown, truth uses the target's launch time"
			t0=$s
		fi
		# Start the load CO_PHASE s into a period (barrage starts its load
		# BARRAGE_LEAD s after launch: embedded etcd, coordinator, countdown).
		local lead=0 at now
		if [[ $tool == barrage ]]; then lead=$BARRAGE_LEAD; fi
		at=$(awk -v t0="$t0" -v ph="$CO_PHASE" -v ev="$STALL_EVERY_S" -v lead="$lead" -v now="$(date +%s.%N)" 'BEGIN {
			a = t0 + ph - lead; while (a < now + 0.05) a += ev; printf "%.6f", a }')
		now=$(date +%s.%N)
		sleep "$(awk -v a="$at" -v n="$now" 'BEGIN {printf "%.3f", a - n}')"
		extra+=("t0=$t0")
	fi

	local before_req before_busy before_all launch conns_f=$p.conns
	before_req=$(target_requests)
	before_busy=$(cpu_busy_ticks) before_all=$(cpu_all_ticks)
	# sample the target's established connections half-way through
	local lead_s=0
	if [[ $tool == barrage ]]; then lead_s=${BARRAGE_LEAD:-2}; fi
	(sleep "$(awk -v d="$DUR" -v l="$lead_s" 'BEGIN {print l + d / 2}')"
		ss -Htn state established "( sport = :$TPORT )" | wc -l >"$conns_f") &
	local sampler=$!
	launch=$(date +%s.%N)
	log "$phase round $round: $tool (${DUR}s, port $TPORT)"
	local rc=0
	/usr/bin/time -o "$p.time" -f '%U %S %M %e %x' taskset -c "$GEN_CPU" "${CMD[@]}" \
		<"$STDIN_FILE" >"$p.log" 2>&1 || rc=$?
	local after_busy after_req tcpu
	after_busy=$(cpu_busy_ticks)
	wait "$sampler" 2>/dev/null || true
	after_req=$(target_requests || echo 0)
	tcpu=$(target_cpu_s)
	stop_target
	if ((rc != 0)); then
		note "$phase/$tool round $round exited $rc; see $(basename "$p").log (last line: $(tr '\r' '\n' <"$p.log" | grep -v '^\s*$' | tail -1 | cut -c1-200))"
	fi
	if [[ $tool == vegeta && -f $p.bin ]]; then
		JSON_OUT=$p.json
		"$VEGETA" report -type=json "$p.bin" >"$JSON_OUT" || true
		rm -f "$p.bin"
	fi
	local rec
	rec=$(python3 "$LIB" record phase="$phase" round="$round" tool="$tool" duration="$DUR" \
		log="$p.log" json="${JSON_OUT:-}" time="$p.time" launch="$launch" \
		target_requests=$((after_req - before_req)) target_cpu_s="$tcpu" \
		conns="$(cat "$conns_f" 2>/dev/null || echo 0)" idle_before="$IDLE" \
		busy_s="$(awk -v d=$((after_busy - before_busy)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d / hz}')" \
		"${extra[@]}")
	# CPU time on the two CPUs that was neither the generator's nor the target's
	rec=$(jq -c '.other_cpu_s = ((.busy_s - (.cpu_s // 0) - .target_cpu_s) * 100 | round / 100)' <<<"$rec")
	if [[ $phase == co ]]; then
		local start truth
		start=$(jq -r '.load_start // .launch' <<<"$rec")
		truth=$(python3 "$LIB" truth start="$start" t0="$t0" rate="$CO_RATE" duration="$DUR" \
			stall="$(awk -v s="$STALL_MS" 'BEGIN {print s / 1000}')" every="$STALL_EVERY_S")
		rec=$(jq -c --argjson t "$truth" --argjson ev "$STALL_EVERY_S" '. + {truth_p99_ms: $t.p99_ms,
			truth_p999_ms: $t.p999_ms, truth_held_frac: $t.held_frac,
			load_phase_s: (((.load_start // .launch) - .t0) as $x | $x - ($x / $ev | floor) * $ev)}' <<<"$rec")
	fi
	echo "$rec" >>"$RESULTS"
	jq -r '"    → requests \(.requests // "?") · cpu \(.cpu_s // "?") s · rss \((.rss_kb // 0) / 1024 | floor) MB · p50 \(.p50_ms // "?") ms · p99 \(.p99_ms // "?") ms · exit \(.exit // "?")"' <<<"$rec" >&2
}

# run_faults ROUND RATIO: barrage against the shop API (its generated
# scenario, closed model), valid-only (RATIO 0) or with that share of
# mutated requests; the cost of fault mixing is the drop in requests per
# generator CPU-second between the two.
run_faults() {
	local round=$1 ratio=$2 tool p
	tool=faults-$(awk -v r="$ratio" 'BEGIN {printf "%d", r * 100}')
	DUR=$DURATION
	p=$RUN_DIR/faults-r$round-$tool
	wait_quiet "faults/$tool"
	start_target --api shop
	curl -fsS "http://127.0.0.1:$TPORT/openapi.yaml" >"$RUN_DIR/shop.yaml"
	"$BARRAGE" generate "$RUN_DIR/shop.yaml" -o "$p.gen.yaml" --base-url "http://127.0.0.1:$TPORT" 2>/dev/null
	sed -e "s|{duration: 30s, rate: 20}|{duration: ${DUR}s, concurrency: $CONNS}|" -e "s|model: open|model: closed|" \
		-e "s|ratio: 0.05|ratio: $ratio|" -e 's|"${BEARER_AUTH}"|alice-token|' -e "s|spec: .*|spec: shop.yaml|" \
		"$p.gen.yaml" >"$RUN_DIR/faults-$tool.yaml"
	local launch before_req after_req rc=0 tcpu
	before_req=$(target_requests)
	launch=$(date +%s.%N)
	log "faults round $round: barrage, ratio $ratio (${DUR}s, port $TPORT)"
	/usr/bin/time -o "$p.time" -f '%U %S %M %e %x' taskset -c "$GEN_CPU" "$BARRAGE" run "$RUN_DIR/faults-$tool.yaml" \
		--json "$p.json" --agents 1 --log-level warn >"$p.log" 2>&1 || rc=$?
	after_req=$(target_requests || echo 0)
	tcpu=$(target_cpu_s)
	stop_target
	((rc == 0)) || note "faults/$tool round $round exited $rc; see $(basename "$p").log"
	local rec
	rec=$(python3 "$LIB" record phase=faults round="$round" tool="$tool" duration="$DUR" \
		log="$p.log" json="$p.json" time="$p.time" launch="$launch" \
		target_requests=$((after_req - before_req)) target_cpu_s="$tcpu" conns="$CONNS" idle_before="$IDLE" busy_s=0)
	echo "$rec" >>"$RESULTS"
	jq -r '"    → requests \(.requests // "?") · cpu \(.cpu_s // "?") s · findings \(.findings // 0)"' <<<"$rec" >&2
}

# run_memory_agent DURATION: the memory round measures the agent alone, as it
# runs in a cluster: etcd (the real binary) and a coordinator on the target's
# CPU, the agent on the generator CPU under GNU time, the run submitted with
# `barrage submit --wait`. Local mode would also count the embedded etcd,
# whose stored result windows grow with the run.
run_memory_agent() {
	DUR=$1
	local p=$RUN_DIR/memory-r1-barrage etcd_port coord_port
	local ETCD_BIN=${ETCD_BIN:-$GOBIN_DIR/etcd}
	[[ -x $ETCD_BIN ]] || { note "memory round skipped: no etcd binary at $ETCD_BIN"; return 0; }
	wait_quiet "memory/barrage"
	start_target
	etcd_port=$((TPORT + 1000)) coord_port=$((TPORT + 2000))
	taskset -c "$TARGET_CPU" "$ETCD_BIN" --name bench --data-dir "$p.etcd" \
		--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
		--listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
		--initial-cluster "bench=http://127.0.0.1:$((etcd_port + 1))" --log-level error >"$p.etcd.log" 2>&1 &
	local etcd_pid=$!
	for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break; sleep 0.1; done
	taskset -c "$TARGET_CPU" "$BARRAGE" coordinator --etcd-endpoints "http://127.0.0.1:$etcd_port" \
		--listen "127.0.0.1:$coord_port" --log-level warn >"$p.coord.log" 2>&1 &
	local coord_pid=$!
	/usr/bin/time -o "$p.time" -f '%U %S %M %e %x' taskset -c "$GEN_CPU" "$BARRAGE" agent \
		--coordinator "127.0.0.1:$coord_port" --name bench --log-level warn >"$p.log" 2>&1 &
	local time_pid=$!
	for _ in $(seq 100); do
		"$BARRAGE" agents --coordinator "127.0.0.1:$coord_port" 2>/dev/null | grep -q bench && break
		sleep 0.1
	done
	scenario "$p.yaml" closed "$DUR" "$CONNS"
	local launch before_req after_req rc=0
	before_req=$(target_requests)
	launch=$(date +%s.%N)
	log "memory round 1: barrage agent alone (${DUR}s, port $TPORT)"
	taskset -c "$TARGET_CPU" "$BARRAGE" submit "$p.yaml" --coordinator "127.0.0.1:$coord_port" --wait \
		--json "$p.json" >"$p.submit.log" 2>&1 || rc=$?
	after_req=$(target_requests || echo 0)
	# SIGTERM the agent (the child of time and taskset) so time reports.
	for child in $(pgrep -P "$time_pid"); do kill -TERM "$child" 2>/dev/null || true; done
	wait "$time_pid" 2>/dev/null || true
	kill "$coord_pid" "$etcd_pid" 2>/dev/null || true
	wait "$coord_pid" "$etcd_pid" 2>/dev/null || true
	rm -rf "$p.etcd"
	stop_target
	((rc == 0)) || note "memory round: submit exited $rc; see $(basename "$p").submit.log"
	local rec
	rec=$(python3 "$LIB" record phase=memory round=1 tool=barrage duration="$DUR" \
		log="$p.submit.log" json="$p.json" time="$p.time" launch="$launch" \
		target_requests=$((after_req - before_req)) target_cpu_s=0 conns=0 idle_before="$IDLE" busy_s=0)
	echo "$rec" >>"$RESULTS"
	jq -r '"    → requests \(.requests // "?") · agent cpu \(.cpu_s // "?") s · agent rss \((.rss_kb // 0) / 1024 | floor) MB"' <<<"$rec" >&2
}

# ------------------------------------------------------------------ rounds

BARRAGE_LEAD=${BARRAGE_LEAD:-}
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }
has_tool() { [[ " $TOOLS " == *" $1 "* ]]; }

log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
log "phases: $PHASES; rounds: $ROUNDS; tools: $TOOLS; output: $RUN_DIR"

for r in $(seq "$ROUNDS"); do
	if has_phase throughput; then
		for t in $TOOLS; do run_one throughput "$r" "$t" "$DURATION"; done
	fi
	if has_phase open; then
		for t in barrage vegeta fortio; do
			if has_tool "$t"; then run_one open "$r" "$t" "$OPEN_DURATION"; fi
		done
	fi
	if has_phase co; then
		if [[ -z $BARRAGE_LEAD ]]; then
			# barrage's load starts this long after launch: from a previous
			# barrage run of this benchmark, else 2 s
			BARRAGE_LEAD=$(jq -rs '[.[] | select(.tool == "barrage" and .load_start != null) | .load_start - .launch] |
				if length > 0 then (sort | .[length / 2 | floor]) else 2 end' "$RESULTS")
			log "barrage load starts ${BARRAGE_LEAD}s after launch"
		fi
		for t in barrage vegeta hey fortio; do
			if has_tool "$t"; then
				run_one co "$r" "$t" "$CO_DURATION" --stall "${STALL_MS}ms" --stall-every "${STALL_EVERY_S}s"
			fi
		done
	fi
done

if has_phase faults && has_tool barrage; then
	for r in $(seq "$ROUNDS"); do
		run_faults "$r" 0
		run_faults "$r" 0.05
	done
fi

if has_phase throughput && has_tool barrage; then
	# the fixed cost of barrage's local mode: same length, 1 rps
	run_one baseline 1 barrage "$DURATION"
fi

if has_phase memory; then
	rps=$(jq -rs '[.[] | select(.phase == "throughput" and .tool == "barrage" and .exit == 0) | .requests / .duration] |
		if length > 0 then (sort | .[length / 2 | floor]) else 0 end' "$RESULTS")
	if [[ $rps == 0 ]]; then
		# no throughput round: measure 5 s
		run_one memcal 1 barrage 5
		rps=$(jq -rs '[.[] | select(.phase == "memcal")][0] | .requests / .duration' "$RESULTS")
	fi
	for n in "$MEM_SMALL" "$MEM_LARGE"; do
		d=$(awk -v n="$n" -v r="$rps" 'BEGIN {d = int(n / r + 0.5); if (d < 1) d = 1; print d}')
		run_memory_agent "$d"
		tmp=$(mktemp)
		jq -c --argjson n "$n" 'if .phase == "memory" and .planned_requests == null then .planned_requests = $n else . end' \
			"$RESULTS" >"$tmp" && mv "$tmp" "$RESULTS"
	done
fi

# ------------------------------------------------------------------ report

versions="$("$BARRAGE" version 2>/dev/null | head -1) (sha256 $(sha256sum "$BARRAGE" | cut -c1-12)); wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null); vegeta $VEGETA_VERSION; hey $HEY_VERSION; fortio $FORTIO_VERSION; $(go version | cut -d' ' -f3)"
settings="DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS OPEN_RATE=$OPEN_RATE OPEN_DURATION=$OPEN_DURATION OPEN_MAX_INFLIGHT=$OPEN_MAX_INFLIGHT VEGETA_OPEN_MAX_WORKERS=$VEGETA_OPEN_MAX_WORKERS CO_RATE=$CO_RATE CO_DURATION=$CO_DURATION CO_MAX_INFLIGHT=$CO_MAX_INFLIGHT STALL_MS=$STALL_MS STALL_EVERY_S=$STALL_EVERY_S PHASES=\"$PHASES\""
cmds=$(for f in "$RUN_DIR"/*-r1-*.cmd; do
	if [[ -f $f ]]; then printf '%s: %s\n' "$(basename "$f" .cmd)" "$(sed "s|$ROOT/||g" "$f")"; fi
done)
open_note="barrage: \`load: {model: open, max_inflight: $OPEN_MAX_INFLIGHT, ...}\` (0 = its default, peak rate × 1 s); vegeta: \`-rate=$OPEN_RATE\`$(if [[ $VEGETA_OPEN_MAX_WORKERS != 0 ]]; then echo " \`-max-workers=$VEGETA_OPEN_MAX_WORKERS\`"; fi); fortio: \`-qps $OPEN_RATE -c $CONNS\`."
jq -n --arg date "$(date -u +%Y-%m-%d' '%H:%M' UTC')" --arg nproc "$(nproc)" \
	--arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
	--arg mem "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)" \
	--arg kernel "$(uname -r)" --arg command "make bench  (= bench/run.sh; ${settings})" \
	--arg settings "$settings" --arg versions "$versions" --arg cmds "$cmds" \
	--arg tc "$TARGET_CPU" --arg gc "$GEN_CPU" --arg conns "$CONNS" --arg dur "$DURATION" \
	--arg orate "$OPEN_RATE" --arg od "$OPEN_DURATION" --arg cr "$CO_RATE" --arg cd "$CO_DURATION" \
	--arg sm "$STALL_MS" --arg se "$STALL_EVERY_S" --arg on "$open_note" \
	--rawfile notes "$NOTES" \
	'{date: $date, nproc: $nproc, cpu_model: $cpu, mem: $mem, kernel: $kernel, command: $command,
	  settings: $settings, versions: $versions, target_cpu: $tc, gen_cpu: $gc, conns: $conns, duration: $dur,
	  open_rate: ($orate | tonumber), open_duration: $od, co_rate: $cr, co_duration: $cd, stall_ms: $sm,
	  stall_every_s: $se, open_note: $on, commands: $cmds,
	  notes: ($notes | split("\n") | map(select(length > 0)))}' >"$RUN_DIR/meta.json"

write_report
