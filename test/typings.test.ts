// The published types as a strict TypeScript user sees them: the README's
// tour and a few checks compile against dist/ through the package's exports
// (CommonJS .ts and ESM .mts), with strict and noUncheckedIndexedAccess.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');

// The README's first js block, as TypeScript: require() becomes an import.
function readmeTour(): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = (/```js\n([\s\S]*?)```/.exec(readme) as RegExpExecArray)[1] as string;
  const ts = block.replace(/^const (\{[^}]+\}) = require\('cudnn-rnn'\);/m, "import $1 from 'cudnn-rnn';");
  expect(ts).not.toContain('require(');
  return ts;
}

const CHECKS = `
import { nn, randn, ones, Tensor } from 'cudnn-rnn';

const options: nn.GRUOptions = { numLayers: 2, batchFirst: true };
const rnnOptions: nn.RNNOptions = { nonlinearity: 'relu' };
const gru = new nn.GRU(8, 16, options);
const rnn = new nn.RNN(8, 16, rnnOptions);

// forward returns exactly [output, hN].
const [out, hN]: [Tensor, Tensor] = gru.forward(randn([3, 5, 8]));
const [o2]: [Tensor, Tensor] = rnn.forward(randn([5, 3, 8]), ones([1, 3, 16]));
const y: Tensor = new nn.Linear(16, 4).forward(out);

// Parameters: PyTorch's names, typed; a misspelt one is an error.
const w: Tensor = gru.weight_ih_l0;
const b: Tensor | undefined = gru.bias_hh_l0;
const w1: Tensor = gru.getParameter('weight_hh_l1');
const w1r: Tensor = gru.getParameter('bias_ih_l0_reverse');
// @ts-expect-error no such property
gru.weight_ih_l7_typo;
// @ts-expect-error getParameter takes PyTorch's parameter names
gru.getParameter('weight_ih_l7_typo');
// @ts-expect-error nn.GRU has no nonlinearity
new nn.GRU(2, 3, { nonlinearity: 'relu' });
// @ts-expect-error @internal members are not published
gru.spec();

export const used = [hN, o2, y, w, b, w1, w1r];
`;

test('README tour and typing checks compile under strict for CommonJS and ESM users', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-types-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(root, path.join(dir, 'node_modules', 'cudnn-rnn'), 'dir');
    fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noEmit: true,
        module: 'node16', moduleResolution: 'node16', target: 'ES2022', lib: ['ES2022'], types: ['node'], skipLibCheck: false,
      },
      include: ['*.ts', '*.mts'],
    }));
    const tour = readmeTour();
    fs.writeFileSync(path.join(dir, 'readme.ts'), tour);
    fs.writeFileSync(path.join(dir, 'readme-esm.mts'), tour);
    fs.writeFileSync(path.join(dir, 'checks.ts'), CHECKS);
    fs.writeFileSync(path.join(dir, 'checks-esm.mts'), CHECKS);
    let out = '';
    try {
      execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(out).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 180000);
