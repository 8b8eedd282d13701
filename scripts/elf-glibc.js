// The glibc versions an ELF shared object needs (its .gnu.version_r), read
// directly so that no binutils are needed. Used by the prepack check and
// test/glibc.test.ts: the released binary must load on glibc >= 2.28.
'use strict';
const fs = require('fs');

const SHT_GNU_VERNEED = 0x6ffffffe;

/** { file: versions[] } for every library the object needs versions of (ELF64 little-endian only). */
function neededVersions(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const section = (i) => {
    const o = shoff + i * shentsize;
    return { type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), link: b.readUInt32LE(o + 0x28), info: b.readUInt32LE(o + 0x2c) };
  };
  const out = {};
  for (let i = 0; i < shnum; ++i) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link).offset;
    const str = (off) => b.toString('latin1', strtab + off, b.indexOf(0, strtab + off));
    let vn = s.offset;
    for (let n = 0; n < s.info; ++n) {
      const cnt = b.readUInt16LE(vn + 2);
      const fileName = str(b.readUInt32LE(vn + 4));
      const versions = (out[fileName] = out[fileName] || []);
      let aux = vn + b.readUInt32LE(vn + 8);
      for (let k = 0; k < cnt; ++k) {
        versions.push(str(b.readUInt32LE(aux + 8)));
        aux += b.readUInt32LE(aux + 12);
      }
      const next = b.readUInt32LE(vn + 12);
      if (next === 0) break;
      vn += next;
    }
  }
  return out;
}

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); ++i) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest GLIBC_x.y the object needs, e.g. '2.28' ('' when none). */
function maxGlibc(file) {
  const all = Object.values(neededVersions(file)).flat();
  const glibc = all.filter((v) => /^GLIBC_\d+(\.\d+)*$/.test(v)).map((v) => v.slice('GLIBC_'.length));
  return glibc.sort(compareVersions).pop() || '';
}

module.exports = { neededVersions, maxGlibc, compareVersions };

if (require.main === module) {
  for (const f of process.argv.slice(2)) console.log(`${f}: needs GLIBC_${maxGlibc(f)}`, JSON.stringify(neededVersions(f)));
}
