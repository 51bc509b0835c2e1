#!/usr/bin/env bash
# Burn against wgpu-activations on one graphics API, in turns, one table.
#
#   benches/peers/burn/compare.sh [--backend vulkan|gl] [--rounds R]
#                                 [--sizes 2^10,2^24] [--ops relu,gelu] [--keep DIR]
#                                 [--precision fast|precise]
#
# Builds (release) `cli/examples/bench.rs` (the CLI crate's) and the Burn peer of
# this directory (20-35 minutes cold for Burn on two cores), then runs, R times
# (default 3), `bench --api --json` (ours: `ctx.apply` and the kernel alone)
# and `burn_peer --json` one after the other, the first of the two
# alternating by round. Both time each (op, N) as the median of 21 calls,
# each submitted and waited for, after 5 warm-up calls, on the same inputs
# (cli/src/api_timing.rs). The table gives, per op and N, the
# median over rounds of each time and of each round's ratios Burn/apply and
# Burn/kernel (above 1: ours is faster). On GL timings swing from run to run:
# use several rounds there. Needs python3 (standard library only).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

backend=vulkan
rounds=3
sizes=""
ops=""
keep=""
precision=""
usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    --backend=*) backend="${1#*=}"; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --sizes) sizes="$2"; shift 2 ;;
    --sizes=*) sizes="${1#*=}"; shift ;;
    --ops) ops="$2"; shift 2 ;;
    --ops=*) ops="${1#*=}"; shift ;;
    --keep) keep="$2"; shift 2 ;;
    --keep=*) keep="${1#*=}"; shift ;;
    --precision) precision="$2"; shift 2 ;;
    --precision=*) precision="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$backend" in
  vulkan) adapter_filter=vulkan ;;
  gl|opengl|gles) backend=gl; adapter_filter=gl ;;
  *) echo "compare.sh: --backend is vulkan or gl" >&2; exit 2 ;;
esac
case "$rounds" in ''|*[!0-9]*|0) echo "compare.sh: --rounds needs a positive integer" >&2; exit 2 ;; esac

ours_args=(--api --json --adapter "$adapter_filter")
burn_args=(--json --backend "$backend")
if [ -n "$sizes" ]; then ours_args+=(--sizes "$sizes"); burn_args+=(--sizes "$sizes"); fi
# Our tier (default: precise, f32's default); Burn has one.
if [ -n "$precision" ]; then ours_args+=(--precision "$precision"); fi
if [ -n "$ops" ]; then
  burn_args+=(--ops "$ops")
  # Ours has no default for threshold; the peer uses PyTorch's example (0.1, 20).
  ours_args+=(--ops "$(echo "$ops" | sed -E 's/(^|,)[[:space:]]*threshold[[:space:]]*(,|$)/\1threshold(0.1,20)\2/g')")
fi

echo "building (release): cli/examples/bench.rs, then the Burn peer ..." >&2
(cd "$root" && cargo build --release -p wgpu-activations-cli --example bench --quiet)
# BURN_TARGET_DIR: where the Burn peer builds (a directory outside the clone
# keeps its ~25-minute cold build for later runs), default its own target/.
burn_target="${BURN_TARGET_DIR:-$here/target}"
(cd "$here" && CARGO_TARGET_DIR="$burn_target" cargo build --release --quiet)
ours_bin="$root/target/release/examples/bench"
burn_bin="$burn_target/release/burn_peer"

if [ -n "$keep" ]; then out="$keep"; mkdir -p "$out"; else out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT; fi

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(ours burn); else order=(burn ours); fi
  for who in "${order[@]}"; do
    echo "round $r/$rounds: $who" >&2
    if [ "$who" = ours ]; then
      "$ours_bin" "${ours_args[@]}" > "$out/ours_$r.json"
    else
      "$burn_bin" "${burn_args[@]}" > "$out/burn_$r.json"
    fi
  done
done

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
python3 - "$out" "$rounds" "$backend" "$cpu" <<'EOF'
import json, math, statistics, sys

out, rounds, backend, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

burn_adapter = None

def load(who, r):
    global burn_adapter
    with open(f"{out}/{who}_{r}.json") as f:
        doc = json.load(f)
    # Ours may list several adapters on the API: the one Burn got if there,
    # else the first.
    adapters = [a for a in doc["adapters"] if a["backend"].lower() == backend] or doc["adapters"]
    adapters = [a for a in adapters if a["adapter"] == burn_adapter] or adapters
    if not adapters:
        sys.exit(f"compare.sh: no adapter in {who}_{r}.json")
    if who == "burn":
        burn_adapter = adapters[0]["adapter"]
    return doc, adapters[0]

times = {}  # (op, n) -> {"burn": [...], "apply": [...], "kernel": [...]} per round
order = []
heads = {}
for r in range(1, rounds + 1):
    for who in ("burn", "ours"):
        doc, adapter = load(who, r)
        heads[who] = (doc, adapter)
        for row in adapter["rows"]:
            key = (row["op"], row["n"])
            if key not in times:
                times[key] = {}
                order.append(key)
            times[key].setdefault(row["api"], {})[r] = row["median_s"]

def size(n):
    return f"2^{n.bit_length() - 1}" if n & (n - 1) == 0 else str(n)

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def fmt(v, spec):
    return format(v, spec) if v is not None else "-".rjust(len(format(1.0, spec)))

print(f"host CPU: {cpu or 'unknown'}")
for who, label in (("ours", "wgpu-activations"), ("burn", "Burn")):
    doc, a = heads[who]
    print(f"{label}: {a['adapter']} ({a['backend']}); {a['detail']}")
print(f"statistic: {heads['ours'][0]['statistic']}; {rounds} round(s) in turns, "
      "median over rounds (ratios: of each round's ratio)")
print(f"{'op':<12}  {'N':>5}  {'Burn ms':>10}  {'apply ms':>10}  {'kernel ms':>10}  "
      f"{'Burn/apply':>10}  {'Burn/kernel':>11}")
by_n = {}
for op, n in order:
    t = times[(op, n)]
    burn, apply, kernel = (t.get(k, {}) for k in ("burn", "apply", "kernel"))
    ratio = lambda other: med([burn[r] / other[r] for r in burn if r in other and other[r] > 0])
    ra, rk = ratio(apply), ratio(kernel)
    if ra and rk:
        by_n.setdefault(n, []).append((ra, rk))
    ms = lambda d: med([v * 1e3 for v in d.values()])
    print(f"{op:<12}  {size(n):>5}  {fmt(ms(burn), '10.4f')}  {fmt(ms(apply), '10.4f')}  "
          f"{fmt(ms(kernel), '10.4f')}  {fmt(ra, '9.2f')}x  {fmt(rk, '10.2f')}x")
for n, pairs in sorted(by_n.items()):
    geo = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
    print(f"geometric mean over {len(pairs)} ops at N={size(n)}: "
          f"Burn/apply {geo([p[0] for p in pairs]):.2f}x, Burn/kernel {geo([p[1] for p in pairs]):.2f}x")
EOF
if [ -n "$keep" ]; then echo "raw JSON in $keep" >&2; fi
