#!/usr/bin/env bash
# The whole GPU check in one call, for a machine with an NVIDIA GPU and no
# Node (the lent device machine): the addon, dist/ and node_modules are built
# on the CPU machine and carried (see README, Development). Writes every log
# under $OUT (default /tmp/gpu-check) and prints a summary.
#   on the CPU machine:  npm ci && mkdir -p .gpu && xz -T2 -c "$(command -v node)" > .gpu/node.xz &&
#                        tar -cf - node_modules | xz -T2 > .gpu/node_modules.tar.xz
#   carry .gpu, build and dist, then run:  bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"

unxz() {  # xz, else python3's lzma
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$1"; fi
}
if ! command -v node >/dev/null; then
  unxz .gpu/node.xz > /usr/local/bin/node && chmod +x /usr/local/bin/node
fi
[ -d node_modules ] || unxz .gpu/node_modules.tar.xz | tar -xf -

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
node bin/cudnn-rnn.js doctor > "$OUT/doctor.txt" 2>&1
node node_modules/.bin/jest test/cuda-gpu --runInBand > "$OUT/jest-gpu.txt" 2>&1
echo "jest (GPU suites): exit $?"
node bench/run.js --device cuda > "$OUT/bench-cuda.txt" 2>&1
echo "bench --device cuda: exit $?"
grep -E "^Tests:|✕" "$OUT/jest-gpu.txt" | head -40
tail -12 "$OUT/bench-cuda.txt"
