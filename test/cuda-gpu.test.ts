// On a machine with an NVIDIA GPU, driver and cuDNN 9: what discovery must
// find there. Skipped, with the reason printed, where the driver reports no
// device (CI machines); test/cuda-discovery.test.ts covers those.
import * as fs from 'fs';

import * as cr from '../lib';
import * as cudaLib from '../lib/cuda';

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
