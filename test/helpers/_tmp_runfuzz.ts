import { runFuzzChild } from '../helpers/fuzz-runner';
import { generateCases } from '../fuzz/cases';
const only = process.argv[2];
const cases = generateCases(20261207).filter((c) => !only || c.id.startsWith(only));
const t0 = Date.now();
const byGen = new Map<string, number>();
for (let i = 0; i < cases.length; i += 700) {
  const chunk = cases.slice(i, i + 700);
  const t = Date.now();
  const r = runFuzzChild(chunk);
  console.log(`chunk ${i / 700}: ${chunk.length} cases ${Date.now() - t} ms, ${r.failures.length} failures`);
  for (const f of r.failures) console.log('  ' + f.slice(0, 300));
}
console.log('total ms', Date.now() - t0);
