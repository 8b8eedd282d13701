// What a real GPU server must get right on the first run, checked on CPU CI
// with fake libraries and a fake driver (as test/cuda-discovery.test.ts):
//   - cuDNN and cuBLAS chosen as a pair built for the same CUDA major, each
//     skipped candidate reported with its reason;
//   - NVIDIA's wheel folders (nvidia/cu13/lib, cu12/lib) searched, and every
//     cuDNN 9 sub-library in cuDNN's folder preloaded;
//   - the GPU self-test before 'auto' commits to CUDA: a failure is one coded
//     warning and the CPU ('auto'), or the same reason as an error ('cuda'),
//     and versions().cuda.probe says which step failed and the fix;
//   - the cuDNN backend's GPU-free decisions (src/cuda/rnn_policy.h):
//     PyTorch's RNN algorithm choice, devSeqLengths, the release-and-retry
//     on library allocation failures, the weight-space cover check;
//   - RNN flat weight buffers made zero-filled.
// Everything that maps a fake under a real soname runs in a child process.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as cr from '../lib';
import * as cudaLib from '../lib/cuda';
import { native } from '../lib/native';
import { Storage } from '../lib/storage';
import { runChild } from './helpers/child';

const { cuda } = cudaLib;
const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
// The fake-machine cases need this machine to have no driver, cuDNN or
// cuBLAS of its own (the loader's path comes first in the search).
const mine = cuda.discover({ pythonSites: [] });
const bare = !cudaLib.probe().driver.found && !mine.cudnn.found && !mine.cublas.found;
const fakeIt = hasCc && bare ? it : it.skip;
if (!hasCc) console.log('cuda-readiness: no `cc` compiler; the fake-machine cases are skipped');
else if (!bare) console.log('cuda-readiness: this machine has its own NVIDIA driver or libraries; the fake-machine cases are skipped');

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-ready-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function cc(out: string, source: string, soname: string, extra: string[] = []): void {
  const src = `${out}.c`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(src, source);
  const args = ['-shared', '-fPIC', '-o', out, src, `-Wl,-soname,${soname}`, ...extra];
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${args.join(' ')} failed:\n${r.stderr}`);
}

// ---- Fakes -------------------------------------------------------------------------

function fakeDriver(dir: string, cudaVersion: number): void {
  cc(path.join(dir, 'libcuda.so.1'), `
#include <stdio.h>
#include <stddef.h>
int cuInit(unsigned f) { (void)f; return 0; }
int cuDriverGetVersion(int* v) { *v = ${cudaVersion}; return 0; }
int cuDeviceGetCount(int* c) { *c = 1; return 0; }
int cuDeviceGet(int* d, int o) { *d = o; return 0; }
int cuDeviceGetName(char* n, int len, int d) { snprintf(n, len, "Fake GPU %d", d); return 0; }
int cuDeviceTotalMem_v2(size_t* b, int d) { (void)d; *b = (size_t)80 << 30; return 0; }
int cuDeviceGetAttribute(int* v, int a, int d) { (void)d; *v = a == 75 ? 9 : 0; return 0; }
`, 'libcuda.so.1');
}

/** cuDNN 9.1.0 built for `cudart` (12080, 13000), with the given sub-libraries beside it. */
function fakeCudnn(dir: string, cudart: number, subs = ['graph', 'engines_precompiled', 'heuristic', 'ops', 'adv']): void {
  for (const sub of subs) cc(path.join(dir, `libcudnn_${sub}.so.9`), `int fake_${sub}(void) { return 0; }\n`, `libcudnn_${sub}.so.9`);
  cc(path.join(dir, 'libcudnn.so.9'), `
#include <stddef.h>
size_t cudnnGetVersion(void) { return 90100; }
size_t cudnnGetCudartVersion(void) { return ${cudart}; }
const char* cudnnGetErrorString(int s) { (void)s; return "fake"; }
int cudnnGetProperty(int t, int* v) { *v = t == 0 ? 9 : t == 1 ? 1 : 0; return 0; }
`, 'libcudnn.so.9');
}

/** cuBLAS `major`.0.2 built for CUDA major.0, needing its libcublasLt beside it. */
function fakeCublas(dir: string, major: number): void {
  const lt = path.join(dir, `libcublasLt.so.${major}`);
  cc(lt, 'int fake_lt(void) { return 0; }\n', `libcublasLt.so.${major}`);
  cc(path.join(dir, `libcublas.so.${major}`), `
#include <stddef.h>
int fake_lt(void);
int cublasGetProperty(int t, int* v) { *v = t == 0 ? ${major} : t == 1 ? 0 : 2; return fake_lt(); }
size_t cublasGetCudartVersion(void) { return ${major * 1000}; }
int cublasCreate_v2(void** h) { *h = 0; return 0; }
int cublasDestroy_v2(void* h) { (void)h; return 0; }
const char* cublasGetStatusString(int s) { (void)s; return "fake"; }
`, `libcublas.so.${major}`, [lt]);
}

function machine(name: string): { root: string; driver: string; site: string } {
  const root = path.join(tmp, name);
  return { root, driver: path.join(root, 'driver'), site: path.join(root, 'site') };
}

function childEnv(m: { driver: string; site: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LD_LIBRARY_PATH: m.driver,
    CUDNN_RNN_PYTHON_SITE: m.site,
    CUDNN_RNN_CUDNN_PATH: undefined,
    CUDNN_RNN_CUBLAS_PATH: undefined,
    CUDA_VISIBLE_DEVICES: undefined,
    VIRTUAL_ENV: undefined,
    CONDA_PREFIX: undefined,
  };
}

const REPORT = `
out.first = cr.getDefaultDevice();
out.v = cr.versions().cuda;
attempt('cudaError', () => cr.zeros([2], { device: 'cuda' }));
out.maps = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(' ').pop()).filter((p) => p.includes('libcudnn') || p.includes('libcublas'));`;

type Err = { code: string; message: string } | null;

// ---- 1 and 5: the pair, the wheel folders, the sub-libraries ---------------------------

describe('cuDNN and cuBLAS of one CUDA major', () => {
  fakeIt('a cuDNN built for CUDA 12 beside a CUDA 13 cuBLAS wheel: the CUDA 12 cuBLAS (nvidia/cu12/lib) is chosen, the 13 skipped with its reason; every sub-library present is preloaded', () => {
    const m = machine('pair12');
    fakeDriver(m.driver, 13000);
    const cudnnDir = path.join(m.site, 'nvidia', 'cudnn', 'lib');
    // Newer 9.x sub-libraries (tensor_ir), cnn, and one this package has never heard of.
    fakeCudnn(cudnnDir, 12080, ['graph', 'engines_precompiled', 'engines_runtime_compiled', 'engines_tensor_ir', 'engines_future', 'heuristic', 'ops', 'cnn', 'adv']);
    fakeCublas(path.join(m.site, 'nvidia', 'cu13', 'lib'), 13);
    fakeCublas(path.join(m.site, 'nvidia', 'cu12', 'lib'), 12);
    const { out } = runChild(REPORT, childEnv(m));
    const v = out.v as cudaLib.CudaVersions;
    expect(v.cudnn).toMatchObject({ found: true, cudaVersion: '12.8', source: 'pip wheel', path: path.join(cudnnDir, 'libcudnn.so.9') });
    expect(v.cublas).toMatchObject({ found: true, major: 12, cudaVersion: '12.0', path: path.join(m.site, 'nvidia', 'cu12', 'lib', 'libcublas.so.12') });
    const skipped = v.cublas.tried.find((l) => l.includes(path.join('cu13', 'lib', 'libcublas.so.13')));
    expect(skipped).toMatch(/libcublas\.so\.13: built for CUDA 13, but the only usable cuDNN is for CUDA 12: cuDNN and cuBLAS must be built for the same CUDA major \(cuDNN loads the libcublasLt of its own\) \(skipped\)$/);
    // The 13 pair was given back: its libraries are not mapped any more.
    const maps = out.maps as string[];
    expect(maps.filter((p) => p.endsWith("libcublas.so.13") || p.endsWith("libcublasLt.so.13"))).toEqual([]);
    for (const sub of ['graph', 'engines_precompiled', 'engines_runtime_compiled', 'engines_tensor_ir', 'engines_future', 'heuristic', 'ops', 'cnn', 'adv']) {
      expect(maps).toContain(path.join(cudnnDir, `libcudnn_${sub}.so.9`));
    }
  });

  fakeIt('a cuDNN built for CUDA 12 and only a CUDA 13 cuBLAS: cuDNN is refused with the reason, and auto falls back with it', () => {
    const m = machine('mismatch');
    fakeDriver(m.driver, 13000);
    fakeCudnn(path.join(m.site, 'nvidia', 'cudnn', 'lib'), 12080);
    fakeCublas(path.join(m.site, 'nvidia', 'cu13', 'lib'), 13);
    const { out } = runChild(REPORT, childEnv(m));
    const v = out.v as cudaLib.CudaVersions;
    expect(v.cublas).toMatchObject({ found: true, major: 13 });
    expect(v.cudnn.found).toBe(false);
    expect(v.cudnn.reason).toMatch(/^cuDNN was found but cannot be used: .*libcudnn\.so\.9: built for CUDA 12, but the cuBLAS found, cuBLAS 13\.0\.2 \(.*\), is for CUDA 13: cuDNN and cuBLAS must be built for the same CUDA major/);
    expect(v.cudnn.reason).toContain('no cuBLAS for CUDA 12 was found to pair it with');
    expect(v.causes.map((c) => c.reason)).toContain(v.cudnn.reason);
    expect(v.probe).toMatchObject({ ran: false, ok: false });
    expect(out.first).toEqual({ type: 'cpu', index: 0 });
    const warnings = out.warnings as Array<{ code: string; message: string }>;
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('CUDNN_RNN_CPU_FALLBACK');
    expect(warnings[0].message).toContain('built for CUDA 12, but the cuBLAS found');
  });

  fakeIt('cuDNN in nvidia/cu13/lib beside its cuBLAS is found there', () => {
    const m = machine('cu13dir');
    fakeDriver(m.driver, 13000);
    const dir = path.join(m.site, 'nvidia', 'cu13', 'lib');
    fakeCudnn(dir, 13000);
    fakeCublas(dir, 13);
    const { out } = runChild(REPORT, childEnv(m));
    const v = out.v as cudaLib.CudaVersions;
    expect(v.cudnn).toMatchObject({ found: true, path: path.join(dir, 'libcudnn.so.9'), source: 'pip wheel' });
    expect(v.cublas).toMatchObject({ found: true, major: 13 });
  });
});

// ---- 2: the self-test ----------------------------------------------------------------------

describe('the GPU self-test before CUDA is chosen', () => {
  fakeIt("everything found but no real GPU behind the driver: 'auto' is the CPU with one coded warning naming the step, 'cuda' throws the same reason", () => {
    const m = machine('probe-context');
    fakeDriver(m.driver, 13000);
    fakeCudnn(path.join(m.site, 'nvidia', 'cudnn', 'lib'), 13000);
    fakeCublas(path.join(m.site, 'nvidia', 'cu13', 'lib'), 13);
    const { out, stderr } = runChild(`${REPORT}
out.again = cr.getDefaultDevice();
attempt('gru', () => new cr.nn.GRU(2, 2));`, childEnv(m));
    const v = out.v as cudaLib.CudaVersions;
    expect(v.cudnn.found && v.cublas.found).toBe(true);
    expect(out.first).toEqual({ type: 'cpu', index: 0 });
    expect(out.again).toEqual({ type: 'cpu', index: 0 });
    expect(out.gru).toBeNull(); // the model is made on the CPU, not a crash on a GPU
    const warnings = out.warnings as Array<{ code: string; message: string }>;
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('CUDNN_RNN_CPU_FALLBACK');
    expect(stderr.match(/CUDNN_RNN_CPU_FALLBACK/g)).toHaveLength(1);
    const error = out.cudaError as Err;
    expect(error?.code).toBe('ERR_CUDNN_RNN_CUDA_UNAVAILABLE');
    expect(v.available).toBe(false);
    if (!cuda.backendHasKernels()) {
      // A CPU-only build never gets as far as the self-test.
      expect(v.probe).toMatchObject({ ran: false, ok: false });
      expect(warnings[0].message).toContain('built without CUDA');
      return;
    }
    expect(v.probe).toMatchObject({ ran: true, ok: false, step: 'context' });
    expect(v.probe.reason).toMatch(/CUDA/);
    expect(v.probe.fix).toContain('nvidia-smi');
    const reason = `the GPU self-test failed at step 'context': ${v.probe.reason}`;
    expect(v.causes).toEqual([{ reason, fix: v.probe.fix }]);
    expect(warnings[0].message).toContain(reason);
    expect(stderr).toContain(`fix: ${v.probe.fix}`); // the warning's detail
    expect(error?.message).toContain(`  - ${reason}\n    fix: ${v.probe.fix}`);
  });

  fakeIt('a driver older than the addon\'s CUDA runtime: step "driver", and the fix names driver 580 and cuda-compat', () => {
    if (!cuda.backendHasKernels()) return; // no runtime to be older than
    const m = machine('probe-driver');
    fakeDriver(m.driver, 12040);
    fakeCudnn(path.join(m.site, 'nvidia', 'cudnn', 'lib'), 12080);
    fakeCublas(path.join(m.site, 'nvidia', 'cublas', 'lib'), 12);
    const { out } = runChild(REPORT, childEnv(m));
    const v = out.v as cudaLib.CudaVersions;
    expect(v.cudnn.found && v.cublas.found).toBe(true);
    const runtime = v.runtime.version;
    expect(v.probe).toMatchObject({ ran: true, ok: false, step: 'driver' });
    expect(v.probe.reason).toBe(`the NVIDIA driver runs CUDA 12.4 at most, older than this addon's CUDA ${runtime} runtime`);
    if (runtime.startsWith('13.')) {
      expect(v.probe.fix).toContain('(version 580 or newer)');
      expect(v.probe.fix).toContain(`cuda-compat-13-${runtime.split('.')[1]}`);
    }
    expect(out.first).toEqual({ type: 'cpu', index: 0 });
    expect((out.warnings as Array<{ message: string }>)[0].message).toContain("the GPU self-test failed at step 'driver'");
    expect((out.cudaError as Err)?.message).toContain("the GPU self-test failed at step 'driver'");
  });
});

// ---- 3, 4, 5, 6: the backend's decisions --------------------------------------------------

const policy = native.cudaPolicy;
const STANDARD = 0;
const PERSIST_STATIC = 1;
const SMALL_H = 3;
const MODE = { RNN_RELU: 0, RNN_TANH: 1, LSTM: 2, GRU: 3 } as const;

describe("PyTorch's cuDNN RNN algorithm choice (get_algo)", () => {
  // An H100-like device with cuDNN 9.1, float32, a plain unpacked batch.
  const base = { cudnnVersion: 90100, ccMajor: 9, ccMinor: 0, smCount: 132, dataType: 0, inputSize: 128, numLayers: 1, bidirectional: false, packed: false, seqLen: 100, batch: 16, projSize: 0 };
  const algo = (q: Record<string, number | boolean>) => policy.rnnAlgo({ ...base, ...q });

  it.each([
    // mode, hidden, training, expected: forward (inference) thresholds 192 / 384, backward (training) 128 / 256
    ['GRU', 128, false, SMALL_H], ['GRU', 128, true, SMALL_H],
    ['GRU', 192, false, SMALL_H], ['GRU', 193, false, STANDARD],
    ['GRU', 160, true, STANDARD], // PyTorch: forward SMALL_H, backward STANDARD; one descriptor here takes the stricter
    ['LSTM', 192, false, SMALL_H], ['LSTM', 129, true, STANDARD],
    ['RNN_TANH', 384, false, SMALL_H], ['RNN_TANH', 385, false, STANDARD],
    ['RNN_RELU', 256, true, SMALL_H], ['RNN_RELU', 257, true, STANDARD],
  ] as const)('%s hidden %i, training %s -> %i', (mode, hidden, training, expected) => {
    expect(algo({ mode: MODE[mode], hiddenSize: hidden, training })).toBe(expected);
  });

  it('the gru-small bench shape (L 100, N 16, I 128, H 128) runs SMALL_H for inference and training', () => {
    expect(algo({ mode: MODE.GRU, hiddenSize: 128, training: false })).toBe(SMALL_H);
    expect(algo({ mode: MODE.GRU, hiddenSize: 128, training: true })).toBe(SMALL_H);
    expect(policy.algoName(SMALL_H)).toBe('CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H');
  });

  it('never for double, packed input, projections, compute capability < 6 or cuDNN < 8.2.1', () => {
    const small = { mode: MODE.GRU, hiddenSize: 64, training: false };
    expect(algo(small)).toBe(SMALL_H);
    expect(algo({ ...small, dataType: 1 })).toBe(STANDARD);
    expect(algo({ ...small, packed: true })).toBe(STANDARD);
    expect(algo({ ...small, mode: MODE.LSTM, projSize: 32 })).toBe(STANDARD);
    expect(algo({ ...small, ccMajor: 5, ccMinor: 2 })).toBe(STANDARD);
    expect(algo({ ...small, cudnnVersion: 8200 })).toBe(STANDARD);
    expect(algo({ ...small, cudnnVersion: 8201 })).toBe(SMALL_H);
  });

  it('PERSIST_STATIC for half precision on the shapes and devices PyTorch lists', () => {
    const half = { dataType: 2, mode: MODE.LSTM, hiddenSize: 512, inputSize: 512, batch: 64, seqLen: 50, training: false };
    expect(algo(half)).toBe(PERSIST_STATIC); // sm 9.0 with >= 98 SMs, LSTM, batch % 8 == 0, <= 128
    expect(algo({ ...half, dataType: 0 })).toBe(STANDARD); // float32: only SMALL_H
    expect(algo({ ...half, mode: MODE.GRU })).toBe(STANDARD); // "persistent GRU performance is flakier"
    expect(algo({ ...half, smCount: 56 })).toBe(STANDARD); // A30-class SM count
    expect(algo({ ...half, ccMajor: 8, ccMinor: 6 })).toBe(STANDARD); // sm_86 excluded
    expect(algo({ ...half, ccMajor: 7, ccMinor: 5 })).toBe(STANDARD); // Turing excluded
    expect(algo({ ...half, ccMajor: 7, ccMinor: 0, batch: 64, seqLen: 50 })).toBe(PERSIST_STATIC); // Volta: batch % 16, L >= 40
    expect(algo({ ...half, ccMajor: 7, ccMinor: 0, batch: 80 })).toBe(STANDARD); // 80 and 112 weeded out
    expect(algo({ ...half, hiddenSize: 500, inputSize: 500 })).toBe(STANDARD); // not a multiple of 128
    expect(algo({ ...half, numLayers: 2 })).toBe(STANDARD);
    expect(algo({ ...half, bidirectional: true })).toBe(STANDARD);
    expect(algo({ ...half, mode: MODE.RNN_TANH, hiddenSize: 896, inputSize: 128, batch: 96 })).toBe(STANDARD); // bsize >= 96 and hidden >= 896
  });

  it('NOT_SUPPORTED (after which STANDARD is used) in both numberings', () => {
    expect(policy.isNotSupported(8, 9)).toBe(true);
    expect(policy.isNotSupported(8, 3)).toBe(false);
    expect(policy.isNotSupported(9, 3000)).toBe(true);
    expect(policy.isNotSupported(9, 3007)).toBe(true);
    expect(policy.isNotSupported(9, 2000)).toBe(false);
    expect(policy.isNotSupported(9, 9)).toBe(false);
  });
});

describe('devSeqLengths', () => {
  it('a device array for every cuDNN 8, NULL for cuDNN 9', () => {
    expect(policy.passDevSeqLengths(8)).toBe(true);
    expect(policy.passDevSeqLengths(9)).toBe(false);
  });
});

describe("memory cuDNN and cuBLAS take themselves", () => {
  it.each([
    ['cudnn', 8, 2, true], ['cudnn', 8, 3, false],
    ['cudnn', 9, 4003, true], ['cudnn', 9, 4004, true], ['cudnn', 9, 5002, true], ['cudnn', 9, 5000, false], ['cudnn', 9, 2, false],
    ['cublas', 0, 3, true], ['cublas', 0, 13, false],
  ] as const)('%s %i status %i is an allocation failure: %s', (lib, major, status, expected) => {
    expect(policy.libraryAllocFailure(lib, major, status)).toBe(expected);
  });

  it('an allocation failure releases our idle blocks and retries once', () => {
    expect(policy.retryScript('cudnn', 9, [4004, 0], true)).toEqual({ status: 0, calls: 2, releases: 1, retried: true });
    expect(policy.retryScript('cudnn', 9, [5002, 5002], true)).toEqual({ status: 5002, calls: 2, releases: 1, retried: true });
    expect(policy.retryScript('cublas', 0, [3, 0], true)).toEqual({ status: 0, calls: 2, releases: 1, retried: true });
  });

  it('other failures, and a release that fails, are reported at once', () => {
    expect(policy.retryScript('cudnn', 9, [2000], true)).toEqual({ status: 2000, calls: 1, releases: 0, retried: false });
    expect(policy.retryScript('cudnn', 9, [0], true)).toEqual({ status: 0, calls: 1, releases: 0, retried: false });
    expect(policy.retryScript('cudnn', 8, [2, 0], false)).toEqual({ status: 2, calls: 1, releases: 1, retried: false });
  });
});

describe('the weight space', () => {
  it('parameters plus gaps must add up to the weight space', () => {
    expect(policy.weightCover([[0, 6, 2], [12, 6, 0]], 18)).toEqual({ error: '', gaps: 0 });
    expect(policy.weightCover([[0, 6, 2], [16, 6, 0]], 24)).toEqual({ error: '', gaps: 6 }); // padding between and after
    expect(policy.weightCover([[0, 6, 2], [10, 6, 0]], 18).error).toBe('two parameters overlap at element 10');
    expect(policy.weightCover([[0, 6, 2], [14, 6, 0]], 18).error).toMatch(/runs past the 18-element weight space/);
  });

  it('an RNN\'s flat weight buffer is made zero-filled (cuDNN\'s padding between parameters stays 0, as in PyTorch)', () => {
    const alloc = jest.spyOn(Storage, 'alloc');
    try {
      const gru = new cr.nn.GRU(3, 4, { device: 'cpu' });
      const flatBytes = 4 * (3 * 4 * 3 + 3 * 4 * 4 + 2 * 3 * 4); // float32 weight_ih, weight_hh, two biases
      const call = alloc.mock.calls.find((c) => c[0] === flatBytes);
      expect(call).toBeDefined();
      expect(call![2]).toBe(true);
      gru.dispose();
    } finally {
      alloc.mockRestore();
    }
  });
});
