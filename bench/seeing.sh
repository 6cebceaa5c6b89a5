#!/usr/bin/env bash
# bench/seeing.sh — what it costs to look at results.
#
# 1. HTML report: build time and size for a one-hour run with 50 endpoints
#    (go test -bench over a synthetic 3600-window × 50-endpoint result).
# 2. Live web view: CPU of the process serving it (barrage run, local mode:
#    coordinator, agents, embedded etcd) during a constant-rate run, in
#    alternating phases with 0 and with VIEWERS live pages (server-sent
#    event streams, as a browser holds them), from /proc/PID/stat. The
#    difference is what the viewers cost.
#
# 3. Side by side with vegeta: the same load (PEER_RATE rps for PEER_S s) run
#    by each tool, then the HTML report each makes of it — `barrage report
#    SAVED --format html` against `vegeta plot` — timed with GNU time (ROUNDS
#    each), and the file sizes.
#
# Usage: bench/seeing.sh            (ROUNDS=3 PHASE_S=8 VIEWERS=10 RATE=300
#                                    PEER_RATE=1000 PEER_S=60)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} PHASE_S=${PHASE_S:-8} VIEWERS=${VIEWERS:-10} RATE=${RATE:-300}
PEER_RATE=${PEER_RATE:-1000} PEER_S=${PEER_S:-60} VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0}
GOBIN_DIR=${BIN_DIR:-bench/out/bin}
OUT=${OUT:-bench/out/seeing-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
log() { printf '[seeing %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "HTML report: go test -bench BenchmarkWriteOneHour50Endpoints (3 counts)"
go test ./internal/htmlreport -run '^$' -bench BenchmarkWriteOneHour50Endpoints -benchtime 5x -count 3 | tee "$OUT/html.txt"

make -s build
BARRAGE=bin/barrage
TPORT=18391 HPORT=18392
$BARRAGE target --listen 127.0.0.1:$TPORT --log-level warn >"$OUT/target.log" 2>&1 &
target_pid=$!
total_s=$(( 2 * ROUNDS * (PHASE_S + 2) + 10 ))
cat >"$OUT/live.yaml" <<YAML
name: live-view-cost
target: {base_url: http://127.0.0.1:$TPORT}
load: {stages: [{duration: ${total_s}s, rate: $RATE}]}
requests:
  - {name: list, weight: 3, path: "/products?limit={{int 1 20}}"}
  - {name: item, path: "/products/{{int 1 1000}}"}
YAML
$BARRAGE run "$OUT/live.yaml" --http 127.0.0.1:$HPORT --agents 2 >"$OUT/run.out" 2>"$OUT/run.err" &
run_pid=$!
viewers=()
cleanup() {
	for p in "${viewers[@]}"; do kill "$p" 2>/dev/null || true; done
	kill "$run_pid" "$target_pid" 2>/dev/null || true
}
trap cleanup EXIT
id=""
for _ in $(seq 200); do
	id=$(sed -n 's/^run \([^:]*\):.*/\1/p' "$OUT/run.err" | head -1)
	[[ -n $id ]] && break
	sleep 0.1
done
[[ -n $id ]] || { log "no run id"; cat "$OUT/run.err"; exit 1; }
sleep 4 # start delay and warm-up
ticks() { awk '{print $14 + $15}' "/proc/$run_pid/stat"; }
hz=$(getconf CLK_TCK)
phase() { # $1 = viewers
	local n=$1 a b
	for ((i = 0; i < n; i++)); do
		curl -s "http://127.0.0.1:$HPORT/runs/$id" >/dev/null
		curl -sN "http://127.0.0.1:$HPORT/runs/$id/events" >/dev/null &
		viewers+=($!)
	done
	sleep 1
	a=$(ticks)
	sleep "$PHASE_S"
	b=$(ticks)
	for p in "${viewers[@]}"; do kill "$p" 2>/dev/null || true; done
	viewers=()
	echo "$n $(( b - a ))"
}
: >"$OUT/live.txt"
for r in $(seq "$ROUNDS"); do
	for n in 0 "$VIEWERS"; do
		read -r v t < <(phase "$n")
		pct=$(awk -v t="$t" -v hz="$hz" -v s="$PHASE_S" 'BEGIN{printf "%.1f", 100*t/hz/s}')
		log "round $r: $v viewers → process CPU $pct % of one core"
		echo "$r $v $pct" >>"$OUT/live.txt"
	done
done
awk -v V="$VIEWERS" '$2==0{a+=$3;na++} $2==V{b+=$3;nb++} END{printf "mean process CPU: %.1f %% with 0 viewers, %.1f %% with %d viewers: the viewers cost %.1f %% of one core\n", a/na, b/nb, V, b/nb-a/na}' "$OUT/live.txt" | tee "$OUT/summary.txt"

trap - EXIT
cleanup

log "side by side with vegeta: ${PEER_RATE} rps for ${PEER_S}s each, then the HTML report of it"
[[ -x $GOBIN_DIR/vegeta ]] || GOBIN=$(realpath -m "$GOBIN_DIR") GOFLAGS= go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
$BARRAGE target --listen 127.0.0.1:$TPORT --log-level warn >"$OUT/target.log" 2>&1 &
target_pid=$!
trap 'kill $target_pid 2>/dev/null || true' EXIT
sleep 0.5
cat >"$OUT/peer.yaml" <<YAML
name: html-peer
target: {base_url: http://127.0.0.1:$TPORT}
load: {stages: [{duration: ${PEER_S}s, rate: $PEER_RATE}]}
requests:
  - {name: item, path: /products/1}
YAML
$BARRAGE run "$OUT/peer.yaml" --agents 1 --http "" --save "$OUT/peer.barrage" >/dev/null 2>"$OUT/peer-run.err"
echo "GET http://127.0.0.1:$TPORT/products/1" | "$GOBIN_DIR/vegeta" attack -rate "$PEER_RATE" -duration "${PEER_S}s" >"$OUT/peer.vegeta.bin"
: >"$OUT/peer.txt"
for r in $(seq "$ROUNDS"); do
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/t.barrage" $BARRAGE report "$OUT/peer.barrage" --format html -o "$OUT/peer.barrage.html" 2>/dev/null
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/t.vegeta" "$GOBIN_DIR/vegeta" plot "$OUT/peer.vegeta.bin" >"$OUT/peer.vegeta.html"
	for tool in barrage vegeta; do
		read -r e u s m <"$OUT/t.$tool"
		size=$(stat -c %s "$OUT/peer.$tool.html")
		echo "$r $tool $e $u $s $m $size" | tee -a "$OUT/peer.txt" >&2
	done
done
awk '{w[$2]+=$3; c[$2]+=$4+$5; m[$2]=($6>m[$2]?$6:m[$2]); sz[$2]=$7; n[$2]++}
	END{for (t in w) printf "%s: HTML report in %.3f s wall, %.3f s CPU, max RSS %d MB, %d KB\n", t, w[t]/n[t], c[t]/n[t], m[t]/1024, sz[t]/1024}' "$OUT/peer.txt" | sort | tee -a "$OUT/summary.txt"
