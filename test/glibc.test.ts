// The binary this checkout loads must load on glibc >= 2.28 (Debian 10,
// Ubuntu 20.04, RHEL 8) whatever glibc built it: src/compat/glibc_compat.c
// binds libc symbols to old versions, libstdc++ is static, libgcc_s dynamic.
// scripts/glibc-check.sh proves it on a Debian 11 root (not CI: downloads).
import * as path from 'path';

import { loadedBinary } from './helpers/package-copy';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const elf = require('../scripts/elf-glibc.js') as {
  neededVersions(file: string): Record<string, string[]>;
  maxGlibc(file: string): string;
  compareVersions(a: string, b: string): number;
};

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const maybe = linuxX64 ? test : test.skip;

maybe('the addon needs no symbol version above GLIBC_2.28', () => {
  const file = loadedBinary();
  const max = elf.maxGlibc(file);
  expect(max).toMatch(/^2\.\d+/);
  expect({ file: path.basename(file), max, atMost228: elf.compareVersions(max, '2.28') <= 0 }).toEqual({ file: path.basename(file), max, atMost228: true });
});

maybe('it needs no libstdc++ (GLIBCXX/CXXABI) and only libraries every glibc system has', () => {
  const needed = elf.neededVersions(loadedBinary());
  expect(Object.keys(needed).filter((lib) => lib.startsWith('libstdc++'))).toEqual([]);
  const allowed = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2'];
  expect(Object.keys(needed).filter((lib) => !allowed.includes(lib))).toEqual([]);
  // libgcc_s: only its old unwinder interface (the static libgcc's needs glibc 2.35).
  for (const v of needed['libgcc_s.so.1'] ?? []) expect(elf.compareVersions(v.replace(/^GCC_/, ''), '4.3')).toBeLessThanOrEqual(0);
});

test('the ELF reader reports what objdump -T would (this Node binary)', () => {
  const needed = elf.neededVersions(process.execPath);
  expect(Object.values(needed).flat().some((v) => v.startsWith('GLIBC_'))).toBe(true);
});
