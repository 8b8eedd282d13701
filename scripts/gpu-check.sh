#!/usr/bin/env bash
# The whole GPU check in one call (at most 10 minutes), for a machine with an
# NVIDIA GPU and no Node (the lent device machine): the addon (build/), dist/
# and node_modules are built on the CPU machine and carried (see README,
# Development). Writes every log under $OUT (default /tmp/gpu-check) and the
# summary $OUT/gpu.json (scripts/gpu-summary.js: commit, device and driver,
# cuDNN/cuBLAS, the self-test, GPU test counts, each bench config beside
# PyTorch with the ratio, our per-call overhead), and prints it.
#   on the CPU machine:  npm ci && npx cmake-js compile && npm run build:ts && mkdir -p .gpu &&
#                        git rev-parse HEAD > .gpu/commit &&
#                        xz -T2 -c "$(command -v node)" > .gpu/node.xz &&
#                        tar -cf - node_modules | xz -T2 > .gpu/node_modules.tar.xz
#   carry .gpu, build and dist, then run:  bash scripts/gpu-check.sh
# Time limits per step (seconds; override in the environment): the GPU tests
# JEST_TIMEOUT_S (270), the bench BENCH_TIMEOUT_S (180, 2 rounds); 30 s each for
# versions() and the doctor: 510 s at most, leaving 90 s to unpack node.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
JEST_TIMEOUT_S=${JEST_TIMEOUT_S:-270}
BENCH_TIMEOUT_S=${BENCH_TIMEOUT_S:-180}
mkdir -p "$OUT"
start=$SECONDS

unxz() {  # xz, else python3's lzma
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$1"; fi
}
if ! command -v node >/dev/null; then
  unxz .gpu/node.xz > /usr/local/bin/node && chmod +x /usr/local/bin/node
fi
[ -d node_modules ] || unxz .gpu/node_modules.tar.xz | tar -xf -
{ git rev-parse HEAD 2>/dev/null || cat .gpu/commit 2>/dev/null || echo unknown; } > "$OUT/commit"

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
timeout 30 node -e 'process.stdout.write(JSON.stringify(require("./dist/cjs/index.js").versions(), null, 2))' \
  > "$OUT/versions.json" 2> "$OUT/versions.txt"
timeout 30 node bin/cudnn-rnn.js doctor > "$OUT/doctor.txt" 2>&1
timeout "$JEST_TIMEOUT_S" node node_modules/.bin/jest test/cuda-gpu --runInBand \
  --json --outputFile "$OUT/jest-gpu.json" > "$OUT/jest-gpu.txt" 2>&1
echo "jest (GPU suites): exit $? after $((SECONDS - start)) s"
timeout "$BENCH_TIMEOUT_S" node bench/run.js --device cuda --rounds 2 --json "$OUT/bench-cuda.json" \
  > "$OUT/bench-cuda.txt" 2>&1
echo "bench --device cuda: exit $? after $((SECONDS - start)) s"
grep -E "^Tests:|✕" "$OUT/jest-gpu.txt" | head -40
tail -12 "$OUT/bench-cuda.txt"
node scripts/gpu-summary.js "$OUT"
