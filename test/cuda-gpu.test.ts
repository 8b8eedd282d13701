// On a machine with an NVIDIA GPU, driver and cuDNN 9: what discovery must
// find there. Skipped, with the reason printed, where the driver reports no
// device (CI machines); test/cuda-discovery.test.ts covers those.
//
// Then, where 'cuda' is usable (cuda.isAvailable()): the cuda namespace, and
// the CPU fallback when cuDNN's folder is hidden (a child process).
// The other GPU suites: cuda-gpu-tensors (tensors and ops), cuda-gpu-rnn
// (RNN/GRU parity, dropout, TF32), cuda-gpu-torch (PyTorch's cuDNN on the same
// machine), cuda-gpu-memory (allocator, 1,000 training steps, out of memory).
// Run them all: `npx jest test/cuda-gpu --runInBand`.
import * as fs from 'fs';

import * as cr from '../lib';
import * as cudaLib from '../lib/cuda';
import { runChild } from './helpers/child';
import { gpu, gpuDescribe } from './gpu/common';

const { cuda } = cudaLib;
const count = cuda.deviceCount();
if (count === 0) {
  console.log(`cuda-gpu tests skipped: ${cudaLib.probe().driver.reason || 'the NVIDIA driver reports no CUDA device'}`);
}
const onGpu = count > 0 ? describe : describe.skip;

onGpu('on a machine with an NVIDIA GPU', () => {
  // First: nothing else in this file may resolve 'auto' before it.
  it("'auto' picks CUDA when usable, else the CPU with exactly one coded warning", () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      cr.setDefaultDevice('auto');
      const first = cr.getDefaultDevice();
      const again = cr.getDefaultDevice();
      expect(again).toEqual(first);
      if (cuda.isAvailable()) {
        expect(first).toEqual({ type: 'cuda', index: 0 });
        expect(warn).not.toHaveBeenCalled();
      } else {
        expect(first).toEqual({ type: 'cpu', index: 0 });
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][1]).toMatchObject({ code: 'CUDNN_RNN_CPU_FALLBACK' });
      }
    } finally {
      warn.mockRestore();
    }
  });

  it('the driver reports its devices with name, memory and compute capability', () => {
    const d = cuda.discover();
    expect(d.driver).toMatchObject({ found: true, initialized: true, reason: '' });
    expect(d.driver.cudaVersion).toMatch(/^\d+\.\d+$/);
    const devices = cuda.devices();
    expect(devices.map((x) => x.index)).toEqual([...Array(count).keys()]);
    for (const dev of devices) {
      expect(dev.name.length).toBeGreaterThan(0);
      expect(dev.totalMemory).toBeGreaterThan(2 ** 30);
      expect(dev.computeCapability).toMatch(/^\d+\.\d+$/);
      expect(Number(dev.computeCapability)).toBeGreaterThanOrEqual(5);
    }
  });

  it('versions() reports cuDNN 9 and cuBLAS, with the files they came from', () => {
    const v = cr.versions().cuda;
    const driverMajor = Number(v.driver.cudaVersion.split('.')[0]);
    expect(v.cudnn.reason).toBe(''); // shows why, if this machine lacks cuDNN 9
    expect(v.cudnn).toMatchObject({ found: true, major: 9 });
    expect(v.cudnn.version).toMatch(/^9\.\d+\.\d+$/);
    expect(fs.existsSync(v.cudnn.path)).toBe(true);
    expect(v.cublas.reason).toBe('');
    expect(v.cublas.found).toBe(true);
    expect([12, 13]).toContain(v.cublas.major);
    expect(fs.existsSync(v.cublas.path)).toBe(true);
    // Discovery refuses libraries built for a newer CUDA than the driver runs.
    for (const lib of [v.cudnn, v.cublas]) {
      if (lib.cudaVersion) expect(Number(lib.cudaVersion.split('.')[0])).toBeLessThanOrEqual(driverMajor);
    }
    // A GPU machine's build has nvcc, so the runtime is linked statically.
    expect(v.runtime.version).toMatch(/^\d+\.\d+$/);
  });

  it("'cuda' is refused with the honest reason while this build has no GPU kernels", () => {
    if (cuda.backendHasKernels()) {
      // The self-test (driver, context, cuDNN and cuBLAS handles, a kernel,
      // a tiny cuDNN GRU forward and backward) passed; on failure this shows
      // the step, its reason and the fix.
      expect(cr.versions().cuda.probe).toEqual({ ran: true, ok: true });
      expect(cuda.isAvailable()).toBe(true);
      return;
    }
    expect(cuda.isAvailable()).toBe(false);
    expect(() => cr.zeros([1], { device: 'cuda' })).toThrow(
      expect.objectContaining({
        code: 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE',
        message: expect.stringMatching(/no GPU kernels yet \(cuDNN 9\.\d+\.\d+ and \d+ device\(s\) were found\)/),
      }));
    const v = cr.versions().cuda;
    expect(v.available).toBe(false);
    expect(v.causes).toHaveLength(1); // everything else was found
  });
});

// ---------------------------------------------------------------------------
// Where 'cuda' is usable.

const usable = count > 0 ? gpuDescribe('cuda-gpu (usable device)') : describe.skip;


usable('where device cuda is usable', () => {
  it('the cuda namespace has the memory, synchronisation and TF32 controls', () => {
    for (const fn of ['synchronize', 'memoryAllocated', 'memoryReserved', 'maxMemoryAllocated', 'resetPeakMemoryStats', 'emptyCache', 'memoryStats', 'setAllowTF32', 'getAllowTF32'] as const) {
      expect([fn, typeof gpu[fn]]).toEqual([fn, 'function']);
    }
    const s = gpu.memoryStats();
    expect(Object.keys(s).sort()).toEqual(['allocated', 'driverAllocs', 'peakAllocated', 'reserved']);
    for (const v of Object.values(s)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
    expect(gpu.getAllowTF32()).toBe(false); // opt-in
    expect(gpu.deviceCount()).toBe(count);
    expect(cr.versions().cuda).toMatchObject({ available: true, reason: '', causes: [] });
    // Devices beyond the last one are refused with the count found.
    expect(() => cr.zeros([1], { device: `cuda:${count}` })).toThrow(RangeError);
    const t = cr.zeros([2], { device: `cuda:${count - 1}` });
    expect(t.device).toBe(`cuda:${count - 1}`);
    t.dispose();
  });

  it("cuDNN's folder hidden (CUDNN_RNN_CUDNN_PATH=/nonexistent/folder): 'auto' is the CPU with one warning naming cuDNN; 'cuda' throws ERR_CUDNN_RNN_CUDA_UNAVAILABLE with causes and fixes", () => {
    const hidden = '/nonexistent/folder';
    const { out, stderr } = runChild(`
out.first = cr.getDefaultDevice();
out.again = cr.getDefaultDevice();
out.tensorDevice = cr.zeros([2]).device;
const gru = new cr.nn.GRU(3, 4);
out.gruDevice = gru.device;
out.gruOut = gru.forward(cr.randn([2, 1, 3]))[0].shape;
out.available = cr.cuda.isAvailable();
const v = cr.versions().cuda;
out.v = { available: v.available, reason: v.reason, causes: v.causes, cudnnFound: v.cudnn.found, cublasFound: v.cublas.found, devices: v.devices.length };
attempt('toCuda', () => cr.zeros([2]).to('cuda'));
attempt('factory', () => cr.zeros([2], { device: 'cuda' }));
attempt('moduleOption', () => new cr.nn.GRU(3, 4, { device: 'cuda' }));
attempt('moduleTo', () => gru.to('cuda'));
attempt('setDefault', () => cr.setDefaultDevice('cuda:0'));
out.last = cr.getDefaultDevice();`, { ...process.env, CUDNN_RNN_CUDNN_PATH: hidden, NODE_OPTIONS: undefined, NODE_NO_WARNINGS: undefined });

    expect(out.first).toEqual({ type: 'cpu', index: 0 });
    expect(out.again).toEqual({ type: 'cpu', index: 0 });
    expect(out.last).toEqual({ type: 'cpu', index: 0 });
    expect(out.tensorDevice).toBe('cpu');
    expect(out.gruDevice).toBe('cpu');
    expect(out.gruOut).toEqual([2, 1, 4]); // the CPU path works
    expect(out.available).toBe(false);

    // Exactly one warning, coded, naming cuDNN and the path that failed.
    const warnings = out.warnings as Array<{ code?: string; message: string }>;
    expect(warnings.map((w) => w.code)).toEqual(['CUDNN_RNN_CPU_FALLBACK']);
    expect(warnings[0].message).toMatch(/cuDNN/);
    expect(warnings[0].message).toContain(hidden);
    expect(stderr.split('CUDNN_RNN_CPU_FALLBACK').length - 1).toBe(1); // printed once by node

    // Only cuDNN is missing: the driver, the devices and cuBLAS were found.
    const v = out.v as { available: boolean; reason: string; causes: Array<{ reason: string; fix: string }>; cudnnFound: boolean; cublasFound: boolean; devices: number };
    expect(v).toMatchObject({ available: false, cudnnFound: false, cublasFound: true, devices: count });
    expect(v.causes.length).toBe(1);
    expect(v.causes[0].reason).toMatch(/cuDNN/);
    expect(v.causes[0].fix).toContain('CUDNN_RNN_CUDNN_PATH');

    for (const k of ['toCuda', 'factory', 'moduleOption', 'moduleTo', 'setDefault']) {
      const e = out[k] as { code: string; message: string } | null;
      expect([k, e?.code]).toEqual([k, 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE']);
      const msg = (e as { message: string }).message;
      expect(msg).toContain('Causes and fixes:');
      expect(msg).toMatch(/- .*cuDNN.*\n\s+fix: .*CUDNN_RNN_CUDNN_PATH/);
      expect(msg).toContain(hidden);
      expect(msg).toContain('npx cudnn-rnn doctor');
    }
  });
});
