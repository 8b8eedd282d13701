// GPU discovery on any machine (DESIGN.md decision 1): a missing driver or
// library is a reason, never a failed require; machines without an NVIDIA
// driver print nothing; 'cuda' is refused with causes and fixes.
//
// Fake libraries (compiled with `cc` in a temp dir) stand in for the driver,
// cuDNN and cuBLAS. Cases that would map a fake under a real soname run in a
// child process, so the fakes can never shadow the real libraries of a GPU
// machine for the other test files that share this jest worker.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as cr from '../lib';
import * as cudaLib from '../lib/cuda';
import { runChild } from './helpers/child';

/** Either a linked runtime version (nvcc build) or the CPU-only reason, never both or neither. */
function expectRuntimeReport(runtime: { version: string; reason: string }): void {
  if (runtime.version !== '') {
    expect(runtime.version).toMatch(/^\d+\.\d+$/);
    expect(runtime.reason).toBe('');
  } else {
    expect(runtime.reason).toMatch(/^n\/a: this addon was built without nvcc/);
  }
}

const { cuda } = cudaLib;
const hasDriver = cudaLib.probe().driver.found;
const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const noDriverIt = hasDriver ? it.skip : it;
const ccIt = hasCc ? it : it.skip;
if (hasDriver) console.log('cuda-discovery: this machine has an NVIDIA driver; the no-driver cases are skipped (test/cuda-gpu.test.ts covers it)');
if (!hasCc) console.log('cuda-discovery: no `cc` compiler; the fake-library cases are skipped');

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-cuda-'));
});
afterAll(() => {
  // Back to what the environment says, for whatever runs next in this worker.
  delete process.env.CUDNN_RNN_CUDNN_PATH;
  cuda.discover({ force: true, pythonSites: [] });
  fs.rmSync(tmp, { recursive: true, force: true });
});

function cc(out: string, source: string, soname?: string, extra: string[] = []): void {
  const src = `${out}.c`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(src, source);
  const args = ['-shared', '-fPIC', '-o', out, src, ...(soname ? [`-Wl,-soname,${soname}`] : []), ...extra];
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${args.join(' ')} failed:\n${r.stderr}`);
}

// ---- This process: no driver -------------------------------------------------------

describe('without an NVIDIA driver', () => {
  // First: nothing below may have resolved 'auto' yet in this module registry.
  noDriverIt("'auto' resolves to the CPU and prints nothing", () => {
    const warn = jest.spyOn(process, 'emitWarning');
    const stderr = jest.spyOn(process.stderr, 'write');
    try {
      cr.setDefaultDevice('auto');
      expect(cr.getDefaultDevice()).toEqual({ type: 'cpu', index: 0 });
      expect(cr.zeros([2]).device).toBe('cpu');
      expect(warn).not.toHaveBeenCalled();
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      stderr.mockRestore();
    }
  });

  noDriverIt('the driver is reported missing with the documented reason', () => {
    const d = cuda.discover({ pythonSites: [] });
    expect(d.driver.found).toBe(false);
    expect(d.driver.reason).toBe('no NVIDIA driver (libcuda.so.1 not found)');
    expect(d.devices).toEqual([]);
    expect(cuda.deviceCount()).toBe(0);
    expect(cuda.devices()).toEqual([]);
    expect(cuda.isAvailable()).toBe(false);
  });

  noDriverIt('versions().cuda reports every part, each missing one with a reason', () => {
    const all = cr.versions();
    expect(all.blas.vendor).toEqual(expect.any(String)); // the CPU part is still there
    const v = all.cuda;
    expect(v.available).toBe(false);
    expect(v.driver.reason).toBe('no NVIDIA driver (libcuda.so.1 not found)');
    // The runtime is linked statically when the build found nvcc, absent otherwise.
    expectRuntimeReport(v.runtime);
    expect(v.devices).toEqual([]);
    for (const lib of [v.cudnn, v.cublas]) {
      expect(lib.searched.length).toBeGreaterThan(0);
      if (lib.found) {
        expect(fs.existsSync(lib.path)).toBe(true);
      } else {
        expect(lib.reason).toMatch(/not found|cannot be used/);
        expect(lib.path).toBe('');
      }
    }
    if (!v.cudnn.found) expect(v.cudnn.reason).toMatch(/libcudnn\.so\.9 or libcudnn\.so\.8|cuDNN/);
    if (!cuda.backendHasKernels()) expect(v.reason).toContain('built without CUDA, so it has no GPU kernels');
    expect(v.reason).toContain('no NVIDIA driver');
  });

  noDriverIt("'cuda' is refused with every cause on its own line, each with a fix", () => {
    let err: (Error & { code?: string }) | undefined;
    try {
      cr.zeros([2], { device: 'cuda' });
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err).toBeDefined();
    expect(err!.code).toBe('ERR_CUDNN_RNN_CUDA_UNAVAILABLE');
    const msg = err!.message;
    expect(msg).toMatch(/^zeros: device cuda:0 is not available\. Causes and fixes:\n/);
    if (!cuda.backendHasKernels()) expect(msg).toContain('  - this cudnn-rnn addon was built without CUDA, so it has no GPU kernels\n');
    expect(msg).toContain('  - no NVIDIA driver (libcuda.so.1 not found)\n    fix: install the NVIDIA driver');
    const d = cuda.discover();
    if (!d.cudnn.found) expect(msg).toMatch(/fix: install cuDNN 9: `pip install nvidia-cudnn-cu1[23]`/);
    if (!d.cudnn.found) expect(msg).toContain('CUDNN_RNN_CUDNN_PATH');
    if (!d.cublas.found) expect(msg).toContain('CUDNN_RNN_CUBLAS_PATH');
    expect(msg).toContain('npx cudnn-rnn doctor');
    const causeLines = msg.split('\n').filter((l) => l.startsWith('  - '));
    const fixLines = msg.split('\n').filter((l) => l.startsWith('    fix: '));
    expect(causeLines.length).toBeGreaterThanOrEqual(2);
    expect(fixLines.length).toBe(causeLines.length);
  });

  noDriverIt("setDefaultDevice('cuda') throws and leaves the default alone", () => {
    cr.setDefaultDevice('cpu');
    expect(() => cr.setDefaultDevice('cuda:1')).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE' }));
    expect(cr.getDefaultDevice().type).toBe('cpu');
    cr.setDefaultDevice('auto');
    expect(cr.getDefaultDevice().type).toBe('cpu');
  });
});

// ---- Explicit paths -------------------------------------------------------------------

describe('explicit library paths', () => {
  afterEach(() => {
    delete process.env.CUDNN_RNN_CUDNN_PATH;
  });

  it('CUDNN_RNN_CUDNN_PATH that does not exist: the reason names the path and the loader error', () => {
    process.env.CUDNN_RNN_CUDNN_PATH = '/nonexistent/libcudnn.so.9';
    const d = cuda.discover({ force: true, pythonSites: [] });
    expect(d.cudnn.found).toBe(false);
    expect(d.cudnn.reason).toContain('/nonexistent/libcudnn.so.9');
    expect(d.cudnn.reason).toContain('cannot open shared object file');
    // Only that path: a person who names a library means that one.
    expect(d.cudnn.searched).toEqual(['/nonexistent/libcudnn.so.9']);
    const cause = cudaLib.unavailableCauses(d).find((c) => c.reason === d.cudnn.reason);
    expect(cause?.fix).toContain('CUDNN_RNN_CUDNN_PATH');
  });

  it('a folder without cuDNN: the reason says what was expected there', () => {
    const d = cuda.discover({ force: true, pythonSites: [], cudnnPath: tmp });
    expect(d.cudnn.found).toBe(false);
    expect(d.cudnn.reason).toBe(`cuDNN: the path given (${tmp}) has no libcudnn.so.9 or libcudnn.so.8`);
  });

  ccIt('a library missing symbols: the reason names them', () => {
    const lib = path.join(tmp, 'broken', 'libcudnn.so.9');
    cc(lib, 'unsigned long cudnnGetVersion(void) { return 90100; }\n');
    const d = cuda.discover({ force: true, pythonSites: [], cudnnPath: lib });
    expect(d.cudnn.found).toBe(false);
    expect(d.cudnn.reason).toContain(lib);
    expect(d.cudnn.reason).toContain('missing symbols cudnnGetErrorString, cudnnGetProperty');
  });

  it('options are checked', () => {
    expect(() => cuda.discover({ cudnnPath: 3 as unknown as string })).toThrow(TypeError);
    expect(() => cuda.discover({ pythonSites: 'x' as unknown as string[] })).toThrow(/pythonSites/);
    expect(() => cuda.discover({ cudnn_path: 'x' } as unknown as cudaLib.DiscoverOptions)).toThrow(/did you mean "cudnnPath"/);
  });
});

// ---- Status names --------------------------------------------------------------------

describe('cudnnStatusName', () => {
  it.each([
    [8, 0, 'CUDNN_STATUS_SUCCESS'],
    [8, 3, 'CUDNN_STATUS_BAD_PARAM'],
    [8, 8, 'CUDNN_STATUS_EXECUTION_FAILED'],
    [8, 14, 'CUDNN_STATUS_VERSION_MISMATCH'],
    [9, 0, 'CUDNN_STATUS_SUCCESS'],
    [9, 1001, 'CUDNN_STATUS_NOT_INITIALIZED'],
    [9, 1002, 'CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH'],
    [9, 2000, 'CUDNN_STATUS_BAD_PARAM'],
    [9, 2012, 'CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE'],
    [9, 3007, 'CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH'],
    [9, 4003, 'CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED'],
    [9, 5002, 'CUDNN_STATUS_EXECUTION_FAILED_CUBLAS'],
  ])('cuDNN %i, code %i is %s', (major, code, name) => {
    expect(cuda.cudnnStatusName(major, code)).toBe(name);
  });

  it('the same number means different things in 8 and 9', () => {
    expect(cuda.cudnnStatusName(8, 3)).not.toBe(cuda.cudnnStatusName(9, 3));
    expect(cuda.cudnnStatusName(9, 3)).toBe('CUDNN_STATUS_UNKNOWN');
    expect(cuda.cudnnStatusName(8, 2000)).toBe('CUDNN_STATUS_UNKNOWN');
  });

  it('codes from a newer 9.x are named by category', () => {
    expect(cuda.cudnnStatusName(9, 3099)).toBe('CUDNN_STATUS_NOT_SUPPORTED (detail 99)');
    expect(cuda.cudnnStatusName(9, 1099)).toBe('CUDNN_STATUS_UNKNOWN');
  });

  it('arguments are checked', () => {
    expect(() => cuda.cudnnStatusName(9, 1.5)).toThrow(TypeError);
  });
});

// ---- A whole fake GPU machine, in a child process ----------------------------------------

const FAKE_DRIVER = `
#include <stdio.h>
#include <stddef.h>
int cuInit(unsigned f) { (void)f; return 0; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
int cuDeviceGetCount(int* c) { *c = 1; return 0; }
int cuDeviceGet(int* d, int o) { *d = o; return 0; }
int cuDeviceGetName(char* n, int len, int d) { snprintf(n, len, "Fake GPU %d", d); return 0; }
int cuDeviceTotalMem_v2(size_t* b, int d) { (void)d; *b = (size_t)80 << 30; return 0; }
int cuDeviceGetAttribute(int* v, int a, int d) { (void)d; *v = a == 75 ? 9 : 0; return 0; }
`;
const FAKE_CUDNN = `
#include <stddef.h>
size_t cudnnGetVersion(void) { return 90100; }
size_t cudnnGetCudartVersion(void) { return 13000; }
const char* cudnnGetErrorString(int s) { (void)s; return "fake"; }
int cudnnGetProperty(int t, int* v) { *v = t == 0 ? 9 : t == 1 ? 1 : 0; return 0; }
`;
const FAKE_CUBLAS = `
#include <stddef.h>
int fake_lt(void);
int cublasGetProperty(int t, int* v) { *v = t == 0 ? 13 : t == 1 ? 0 : 2; return fake_lt(); }
size_t cublasGetCudartVersion(void) { return 13000; }
int cublasCreate_v2(void** h) { *h = 0; return 0; }
int cublasDestroy_v2(void* h) { (void)h; return 0; }
const char* cublasGetStatusString(int s) { (void)s; return "fake"; }
`;


describe('a whole machine, in a child process', () => {
  noDriverIt('no driver: the process prints nothing at all', () => {
    const { out, stderr } = runChild(`
out.device = cr.getDefaultDevice();
out.tensor = cr.zeros([2]).device;
out.count = cr.cuda.deviceCount();`, { ...process.env, CUDA_VISIBLE_DEVICES: undefined });
    expect(out).toEqual({ warnings: [], device: { type: 'cpu', index: 0 }, tensor: 'cpu', count: 0 });
    expect(stderr).toBe('');
  });

  ccIt("driver, device, cuDNN 9 and cuBLAS 13 in a pip wheel layout: all found; 'cuda' usable when the addon has GPU code", () => {
    const driverDir = path.join(tmp, 'driver');
    const cudnnDir = path.join(tmp, 'site', 'nvidia', 'cudnn', 'lib');
    const cublasDir = path.join(tmp, 'site', 'nvidia', 'cu13', 'lib');
    cc(path.join(driverDir, 'libcuda.so.1'), FAKE_DRIVER, 'libcuda.so.1');
    for (const sub of ['graph', 'engines_precompiled', 'heuristic', 'ops', 'adv']) {
      cc(path.join(cudnnDir, `libcudnn_${sub}.so.9`), 'int fake_sub(void) { return 0; }\n', `libcudnn_${sub}.so.9`);
    }
    cc(path.join(cudnnDir, 'libcudnn.so.9'), FAKE_CUDNN, 'libcudnn.so.9');
    cc(path.join(cublasDir, 'libcublasLt.so.13'), 'int fake_lt(void) { return 0; }\n', 'libcublasLt.so.13');
    // libcublas needs libcublasLt by soname, which only the preload can satisfy.
    cc(path.join(cublasDir, 'libcublas.so.13'), FAKE_CUBLAS, 'libcublas.so.13', [path.join(cublasDir, 'libcublasLt.so.13')]);

    // Found through the wheel search where this machine has no cuDNN/cuBLAS
    // of its own (the loader's path comes first); else named explicitly.
    const mine = cuda.discover({ pythonSites: [] });
    const viaWheels = !mine.cudnn.found && !mine.cublas.found;
    const where = viaWheels
      ? { CUDNN_RNN_PYTHON_SITE: path.join(tmp, 'site'), CUDNN_RNN_CUDNN_PATH: undefined, CUDNN_RNN_CUBLAS_PATH: undefined }
      : { CUDNN_RNN_CUDNN_PATH: cudnnDir, CUDNN_RNN_CUBLAS_PATH: cublasDir };
    const source = viaWheels ? 'pip wheel' : 'explicit path';
    const { out, stderr } = runChild(`
out.first = cr.getDefaultDevice();
out.again = cr.getDefaultDevice();
try { cr.zeros([2]); } catch (e) { out.autoError = { code: e.code, message: e.message }; }
out.available = cr.cuda.isAvailable();
out.count = cr.cuda.deviceCount();
out.devices = cr.cuda.devices();
out.v = cr.versions().cuda;
try { cr.zeros([2], { device: 'cuda' }); } catch (e) { out.error = { code: e.code, message: e.message }; }`,
    { ...process.env, ...where, LD_LIBRARY_PATH: driverDir, CUDA_VISIBLE_DEVICES: undefined });

    const v = out.v as cudaLib.CudaVersions;
    expect(v.driver).toMatchObject({ found: true, initialized: true, cudaVersion: '13.0', reason: '' });
    expect(v.devices).toEqual([{ index: 0, name: 'Fake GPU 0', totalMemory: 80 * 2 ** 30, computeCapability: '9.0' }]);
    expect(out.devices).toEqual(v.devices);
    expect(v.cudnn).toMatchObject({ found: true, version: '9.1.0', major: 9, versionCode: 90100, cudaVersion: '13.0', source, path: path.join(cudnnDir, 'libcudnn.so.9'), reason: '' });
    expect(v.cublas).toMatchObject({ found: true, version: '13.0.2', major: 13, source, path: path.join(cublasDir, 'libcublas.so.13'), reason: '' });
    expectRuntimeReport(v.runtime);

    if (cuda.backendHasKernels()) {
      // Everything found and the addon has GPU code, but no real GPU stands
      // behind the fake driver: the self-test fails at its first step, so
      // 'auto' is the CPU with one coded warning and 'cuda' the same reason
      // as an error (test/cuda-readiness.test.ts has the other steps).
      expect(v.probe).toMatchObject({ ran: true, ok: false, step: 'context' });
      expect(v.available).toBe(false);
      expect(out.available).toBe(false);
      expect(out.first).toEqual({ type: 'cpu', index: 0 });
      expect(out.autoError).toBeUndefined();
      const fallback = out.warnings as Array<{ code: string; message: string }>;
      expect(fallback).toHaveLength(1);
      expect(fallback[0].code).toBe('CUDNN_RNN_CPU_FALLBACK');
      expect(fallback[0].message).toContain("the GPU self-test failed at step 'context'");
      const e = out.error as { code: string; message: string };
      expect(e.code).toBe('ERR_CUDNN_RNN_CUDA_UNAVAILABLE');
      expect(e.message).toContain("the GPU self-test failed at step 'context'");
      return;
    }
    // Everything found, but this addon was built without CUDA: the one honest cause.
    const reason = 'this cudnn-rnn addon was built without CUDA, so it has no GPU kernels (cuDNN 9.1.0 and 1 device(s) were found)';
    expect(out.autoError).toBeUndefined();
    expect(v.available).toBe(false);
    expect(v.causes.map((c) => c.reason)).toEqual([reason]);
    expect(out.available).toBe(false);
    expect(out.count).toBe(1);
    const error = out.error as { code: string; message: string };
    expect(error.code).toBe('ERR_CUDNN_RNN_CUDA_UNAVAILABLE');
    expect(error.message).toContain(`  - ${reason}\n    fix: rebuild the addon on a machine with the CUDA toolkit`);

    // 'auto': the CPU, with exactly one coded warning.
    expect(out.first).toEqual({ type: 'cpu', index: 0 });
    expect(out.again).toEqual({ type: 'cpu', index: 0 });
    const warnings = out.warnings as Array<{ code: string; message: string }>;
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('CUDNN_RNN_CPU_FALLBACK');
    expect(warnings[0].message).toContain(reason);
    expect(stderr.match(/CUDNN_RNN_CPU_FALLBACK/g)).toHaveLength(1);
  });
});
