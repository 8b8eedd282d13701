// The `cuda` namespace: what the NVIDIA side of this machine offers, and
// whether device 'cuda' can be used (DESIGN.md decision 1). The native side
// (src/cuda/discovery) finds the driver, its devices, cuDNN and cuBLAS; this
// file decides what that means and words the causes and fixes.
import { execFileSync } from 'child_process';

import { checkOptionKeys, typeError } from './errors';
import { native } from './native';
import type { CudaDiscoverOptionsNative, NativeBinding } from './native';

export interface CudaLibraryInfo {
  found: boolean;
  /** The file loaded, symlinks resolved ('' when not found). */
  path: string;
  /** e.g. '9.1.0' for cuDNN, '13.0.2' for cuBLAS. */
  version: string;
  major: number;
  /** The library's own version number (cudnnGetVersion: 90100 for 9.1.0). */
  versionCode: number;
  /** The CUDA version the library was built for ('' when unknown). */
  cudaVersion: string;
  /** Where it came from: 'explicit path', 'loader path', 'CUDA toolkit', 'pip wheel' or 'already loaded' (in this process before discovery looked). */
  source: string;
  /** Why it is not usable ('' when found). */
  reason: string;
  /** 'path: why' for every candidate refused on the way. */
  tried: string[];
  /** The places looked in, in order. */
  searched: string[];
}

export interface CudaDriverInfo {
  /** A real NVIDIA driver is installed (libcuda.so.1 that is not the toolkit's stub). */
  found: boolean;
  /** cuInit succeeded. */
  initialized: boolean;
  path: string;
  /** The kernel module's version, e.g. '550.54.14' ('' when unknown). */
  version: string;
  /** The newest CUDA version the driver runs, e.g. '12.4'. */
  cudaVersion: string;
  reason: string;
  tried: string[];
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** Bytes. */
  totalMemory: number;
  /** e.g. '8.6'. */
  computeCapability: string;
}

export interface CudaDiscovery {
  driver: CudaDriverInfo;
  devices: CudaDeviceInfo[];
  cudnn: CudaLibraryInfo;
  cublas: CudaLibraryInfo;
}

/** One reason 'cuda' cannot be used, and what a person can do about it. */
export interface CudaCause {
  reason: string;
  fix: string;
}

/**
 * The GPU self-test's verdict (src/cuda/self_test.h): run once, lazily, when
 * discovery finds nothing missing, before 'auto' or 'cuda' commits to the GPU.
 */
export interface CudaProbe {
  /** The self-test ran (it does not when discovery already gives a cause). */
  ran: boolean;
  ok: boolean;
  /** The step that failed: 'driver', 'context', 'cudnnCreate', 'cublasCreate', 'kernel', 'cudnnRNNForward' or 'cudnnRNNBackward'. */
  step?: string;
  /** Why it failed, or why it did not run. */
  reason?: string;
  /** What a person can do about it. */
  fix?: string;
}

export interface CudaVersions extends CudaDiscovery {
  /** Device 'cuda' can be used. */
  available: boolean;
  /** Why not ('' when available): the causes' reasons joined. */
  reason: string;
  causes: CudaCause[];
  /** The CUDA runtime the addon links statically (none in a CPU-only build). */
  runtime: { version: string; reason: string };
  /** The GPU self-test of device 0. */
  probe: CudaProbe;
}

export interface DiscoverOptions {
  /** libcudnn.so.9/.8 or its folder; default: env CUDNN_RNN_CUDNN_PATH. When set, nothing else is searched. */
  cudnnPath?: string;
  /** libcublas.so.13/.12 or its folder; default: env CUDNN_RNN_CUBLAS_PATH. */
  cublasPath?: string;
  /**
   * site-packages folders holding NVIDIA's wheels (globs allowed). Default: env
   * CUDNN_RNN_PYTHON_SITE (colon-separated), the active virtualenv/conda env,
   * and, when a library is still missing, what `python3` reports.
   */
  pythonSites?: string[];
  /** Search again instead of returning the cached result. */
  force?: boolean;
}

/**
 * Whether this addon carries the GPU backend (it was compiled with nvcc).
 * A CPU-only build reports why 'cuda' is unusable even on a GPU machine.
 */
export function backendHasKernels(): boolean {
  return (native as Partial<NativeBinding>).cudaBuiltWithKernels === true;
}

// ---- Discovery ----------------------------------------------------------------

const STALE_ADDON = 'the loaded cudnn-rnn addon predates GPU discovery (rebuild it: npm rebuild cudnn-rnn --build-from-source)';

function absentLibrary(reason: string): CudaLibraryInfo {
  return { found: false, path: '', version: '', major: 0, versionCode: 0, cudaVersion: '', source: '', reason, tried: [], searched: [] };
}

function callNative(options: CudaDiscoverOptionsNative): CudaDiscovery {
  // An addon built before this file existed has no cudaDiscover: report it
  // like a machine without a driver (silently CPU) rather than throw from
  // every tensor creation.
  const discover = (native as Partial<NativeBinding>).cudaDiscover;
  if (typeof discover !== 'function') {
    return {
      driver: { found: false, initialized: false, path: '', version: '', cudaVersion: '', reason: STALE_ADDON, tried: [] },
      devices: [],
      cudnn: absentLibrary(STALE_ADDON),
      cublas: absentLibrary(STALE_ADDON),
    };
  }
  return discover(options);
}

function envString(name: string): string {
  return process.env[name] ?? '';
}

// Python environments the user has activated, then CUDNN_RNN_PYTHON_SITE.
function envSites(): string[] {
  const sites = envString('CUDNN_RNN_PYTHON_SITE').split(':').filter((s) => s.length > 0);
  for (const prefix of [envString('VIRTUAL_ENV'), envString('CONDA_PREFIX')]) {
    if (prefix) sites.push(`${prefix}/lib/python3*/site-packages`);
  }
  return sites;
}

// What the machine's python3 says, asked once and only when a library is
// still missing (it costs a process start); [] when there is no python3.
let pythonSites: string[] | undefined;
const PYTHON_SITES = [
  'import site, sys',
  's = list(getattr(site, "getsitepackages", lambda: [])())',
  's.append(getattr(site, "getusersitepackages", lambda: "")())',
  's += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]',
  'print("\\n".join(p for p in s if p))',
].join('\n');

function askPython(): string[] {
  if (pythonSites !== undefined) return pythonSites;
  try {
    const out = execFileSync('python3', ['-c', PYTHON_SITES], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] });
    pythonSites = out.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
  } catch {
    pythonSites = [];
  }
  return pythonSites;
}

function checkString(where: string, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw typeError(where, name, 'a string', value);
  return value;
}

/**
 * Finds the NVIDIA driver, its devices, cuDNN and cuBLAS. Searched once per
 * process (per set of paths) and cached; `force` searches again.
 */
export function discover(options: DiscoverOptions = {}): CudaDiscovery {
  const where = 'cuda.discover';
  if (typeof options !== 'object' || options === null) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, ['cudnnPath', 'cublasPath', 'pythonSites', 'force']);
  const cudnnPath = checkString(where, 'cudnnPath', options.cudnnPath) ?? envString('CUDNN_RNN_CUDNN_PATH');
  const cublasPath = checkString(where, 'cublasPath', options.cublasPath) ?? envString('CUDNN_RNN_CUBLAS_PATH');
  const given = options.pythonSites;
  if (given !== undefined && (!Array.isArray(given) || given.some((s) => typeof s !== 'string'))) {
    throw typeError(where, 'pythonSites', 'an array of strings', given);
  }
  const force = options.force === true;
  const base = { cudnnPath, cublasPath, libraries: true };
  let d = callNative({ ...base, pythonSites: given ?? [...envSites(), ...(pythonSites ?? [])], force });
  if (given === undefined && pythonSites === undefined && (!d.cudnn.found || !d.cublas.found)) {
    const extra = askPython();
    if (extra.length > 0) d = callNative({ ...base, pythonSites: [...envSites(), ...extra], force });
  }
  return d;
}

/**
 * The driver and its devices only: cheap, and never maps cuDNN. Library
 * fields are those of an earlier full discovery, or empty.
 */
export function probe(): CudaDiscovery {
  return callNative({ cudnnPath: envString('CUDNN_RNN_CUDNN_PATH'), cublasPath: envString('CUDNN_RNN_CUBLAS_PATH'), pythonSites: [...envSites(), ...(pythonSites ?? [])], libraries: false, force: false });
}

// ---- What it means ------------------------------------------------------------

/** CUDA_VISIBLE_DEVICES='' or '-1': the user hid every GPU on purpose. */
export function devicesHiddenByUser(): boolean {
  const v = process.env.CUDA_VISIBLE_DEVICES;
  return v !== undefined && (v.trim() === '' || v.trim() === '-1');
}

function cudaMajor(d: CudaDiscovery): number {
  return d.driver.cudaVersion ? Number(d.driver.cudaVersion.split('.')[0]) : 0;
}

// The native reasons say "the path given" when an explicit path failed.
function cudnnFix(d: CudaDiscovery): string {
  if (d.cudnn.reason.includes('the path given')) {
    return 'correct CUDNN_RNN_CUDNN_PATH (or the cudnnPath option), or unset it: while it is set no other place is searched';
  }
  const major = cudaMajor(d);
  const pip = major >= 13 ? '`pip install nvidia-cudnn-cu13`' : major === 12 ? '`pip install nvidia-cudnn-cu12`'
    : '`pip install nvidia-cudnn-cu13` (CUDA 13 drivers) or `pip install nvidia-cudnn-cu12` (CUDA 12)';
  const apt = major === 12 ? 'libcudnn9-cuda-12' : major >= 13 ? 'libcudnn9-cuda-13' : 'libcudnn9-cuda-13 / libcudnn9-cuda-12';
  return `install cuDNN 9: ${pip}, or the apt package ${apt} from NVIDIA's repository, or set CUDNN_RNN_CUDNN_PATH to libcudnn.so.9 or its folder`;
}

function cublasFix(d: CudaDiscovery): string {
  if (d.cublas.reason.includes('the path given')) {
    return 'correct CUDNN_RNN_CUBLAS_PATH (or the cublasPath option), or unset it: while it is set no other place is searched';
  }
  const major = cudaMajor(d);
  const pip = major >= 13 ? '`pip install nvidia-cublas`' : major === 12 ? '`pip install nvidia-cublas-cu12`'
    : '`pip install nvidia-cublas` (CUDA 13 drivers) or `pip install nvidia-cublas-cu12` (CUDA 12)';
  return `install cuBLAS: ${pip}, or the CUDA toolkit's libcublas package, or set CUDNN_RNN_CUBLAS_PATH to libcublas.so.13/.12 or its folder`;
}

function kernelsCause(d: CudaDiscovery, rest: CudaCause[]): CudaCause {
  const rebuild = 'rebuild the addon on a machine with the CUDA toolkit (nvcc on PATH, CUDNN_RNN_CPU_ONLY unset): `npm rebuild cudnn-rnn --build-from-source`; or reinstall cudnn-rnn: its prebuilt binary has the GPU backend';
  if (rest.length === 0) {
    return {
      reason: `this cudnn-rnn addon was built without CUDA, so it has no GPU kernels (cuDNN ${d.cudnn.version} and ${d.devices.length} device(s) were found)`,
      fix: rebuild,
    };
  }
  return {
    reason: 'this cudnn-rnn addon was built without CUDA, so it has no GPU kernels',
    fix: `${rebuild}; the causes below also need fixing`,
  };
}

/**
 * Why 'cuda' cannot be used, each cause with a fix; [] when it can.
 * Libraries not searched yet (see probe) are not counted.
 */
export function unavailableCauses(d: CudaDiscovery): CudaCause[] {
  const causes: CudaCause[] = [];
  if (!d.driver.found) {
    causes.push({
      reason: d.driver.reason,
      fix: 'install the NVIDIA driver (`nvidia-smi` must list the GPU); in a container, start it with the NVIDIA Container Toolkit (`docker run --gpus all`)',
    });
  } else if (d.devices.length === 0) {
    causes.push({
      reason: d.driver.reason || 'the NVIDIA driver reports no CUDA devices',
      fix: devicesHiddenByUser() ? 'CUDA_VISIBLE_DEVICES hides every GPU: unset it or list a device'
        : 'check that `nvidia-smi` lists the GPU, and that CUDA_VISIBLE_DEVICES does not hide it',
    });
  }
  if (!d.cudnn.found && d.cudnn.searched.length > 0) causes.push({ reason: d.cudnn.reason, fix: cudnnFix(d) });
  if (!d.cublas.found && d.cublas.searched.length > 0) causes.push({ reason: d.cublas.reason, fix: cublasFix(d) });
  if (!backendHasKernels()) causes.unshift(kernelsCause(d, causes));
  return causes;
}

// ---- The self-test -------------------------------------------------------------

/** The oldest Linux driver of each CUDA major (NVIDIA's CUDA toolkit release notes, table 3). */
const MIN_DRIVER: Record<number, string> = { 12: '525.60.13', 13: '580' };

function selfTestFix(step: string, d: CudaDiscovery): string {
  const runtime = linkedRuntime().version;
  const major = Number(runtime.split('.')[0]) || 0;
  const compat = `cuda-compat-${major}-${runtime.split('.')[1] ?? '0'}`;
  const doctor = 'run `npx cudnn-rnn doctor` for the libraries found';
  // cuDNN must match the cuBLAS found (discovery pairs them by CUDA major).
  const pair = (d.cublas.cudaVersion || String(d.cublas.major || major)).split('.')[0];
  const cc = d.devices[0]?.computeCapability ?? '?';
  switch (step) {
    case 'driver':
      return `install an NVIDIA driver that runs CUDA ${runtime}` +
        (MIN_DRIVER[major] ? ` (version ${MIN_DRIVER[major]} or newer)` : '') +
        `, or, where the driver cannot be changed (datacenter GPUs), NVIDIA's forward-compatibility package ${compat} with its folder (/usr/local/cuda-${runtime}/compat) first on LD_LIBRARY_PATH`;
    case 'context':
      return 'check that `nvidia-smi` lists the GPU and that no other process holds it in exclusive mode; in a container, start it with the NVIDIA Container Toolkit (`docker run --gpus all`)' +
        (MIN_DRIVER[major] ? `; if the reason says the driver is insufficient, install driver ${MIN_DRIVER[major]} or newer, or ${compat}` : '');
    case 'cudnnCreate':
      return `cuDNN ${d.cudnn.version} (${d.cudnn.path}) could not start on this GPU (compute capability ${cc}): install a cuDNN 9 built for CUDA ${pair}, the cuBLAS's major, that supports it (\`pip install nvidia-cudnn-cu${pair}\`); ${doctor}`;
    case 'cublasCreate':
      return `cuBLAS ${d.cublas.version} (${d.cublas.path}) could not start on this GPU (compute capability ${cc}): install the cuBLAS of cuDNN's CUDA major (${d.cudnn.cudaVersion || 'unknown'}) for this driver; ${doctor}`;
    case 'kernel':
      return `this addon's GPU code does not run on this GPU (compute capability ${cc}): rebuild the addon here with a CUDA toolkit that supports it (\`npm rebuild cudnn-rnn\`)`;
    case 'cudnnRNNForward':
    case 'cudnnRNNBackward':
      return `cuDNN's RNN failed on a tiny GRU: cuDNN ${d.cudnn.version} (CUDA ${d.cudnn.cudaVersion || '?'}) and cuBLAS ${d.cublas.version} (CUDA ${d.cublas.cudaVersion || d.cublas.major}) must be built for the same CUDA major and support this GPU; reinstall a matching pair; ${doctor}`;
    default:
      return doctor;
  }
}

const selfTests = new Map<number, CudaProbe>();

/**
 * The self-test of `device`, run once per process (native code caches it
 * too). Only meaningful when unavailableCauses(d) is empty.
 */
export function selfTest(d: CudaDiscovery, device = 0): CudaProbe {
  const known = selfTests.get(device);
  if (known) return known;
  const fn = (native as Partial<NativeBinding>).cudaSelfTest;
  let probe: CudaProbe;
  if (typeof fn !== 'function') {
    probe = { ran: false, ok: false, reason: STALE_ADDON };
  } else {
    const r = fn(device);
    probe = r.ok ? { ran: true, ok: true } : { ran: true, ok: false, step: r.step, reason: r.reason, fix: selfTestFix(r.step, d) };
  }
  selfTests.set(device, probe);
  return probe;
}

function selfTestCause(p: CudaProbe): CudaCause {
  return { reason: `the GPU self-test failed at step '${p.step}': ${p.reason}`, fix: p.fix ?? '' };
}

/**
 * Why device `device` cannot be used: discovery's causes, else the
 * self-test's (it runs only when discovery finds nothing missing); [] when it can.
 */
export function usableCauses(d: CudaDiscovery, device = 0): CudaCause[] {
  const causes = unavailableCauses(d);
  if (causes.length > 0) return causes;
  const p = selfTest(d, device);
  return p.ok ? [] : [p.ran ? selfTestCause(p) : { reason: p.reason ?? 'the GPU self-test could not run', fix: 'rebuild the addon: `npm rebuild cudnn-rnn`' }];
}

/** Causes as indented lines, for errors, warnings and the doctor. */
export function formatCauses(causes: CudaCause[], indent = '  '): string {
  return causes.map((c) => `${indent}- ${c.reason}\n${indent}  fix: ${c.fix}`).join('\n');
}

// ---- The public namespace -------------------------------------------------------

/**
 * Whether device 'cuda' can be used here: discovery finds everything and the
 * one-time GPU self-test passes (it runs here the first time, making a CUDA context).
 */
export function isAvailable(): boolean {
  const p = probe();
  if (!p.driver.found || p.devices.length === 0) return false;
  return usableCauses(discover()).length === 0;
}

/** CUDA devices the driver reports (0 without a driver), usable or not. */
export function deviceCount(): number {
  return probe().devices.length;
}

/** The devices the driver reports: name, memory, compute capability. */
export function devices(): CudaDeviceInfo[] {
  return probe().devices.map((d) => ({ ...d }));
}

/**
 * Everything found, for versions() and `npx cudnn-rnn doctor`. Where discovery
 * finds a device and every library, this runs the one-time GPU self-test.
 */
export function report(): CudaVersions {
  const d = discover();
  const found = unavailableCauses(d);
  const probe: CudaProbe = found.length > 0
    ? { ran: false, ok: false, reason: `not run: discovery already found ${found.length === 1 ? 'a cause' : `${found.length} causes`} (see causes)` }
    : d.devices.length === 0 ? { ran: false, ok: false, reason: 'not run: no CUDA device' } : selfTest(d, 0);
  const causes = found.length > 0 ? found : usableCauses(d, 0);
  return {
    ...d,
    available: causes.length === 0,
    reason: causes.map((c) => c.reason).join('; '),
    causes,
    runtime: linkedRuntime(),
    probe,
  };
}

/** The CUDA runtime linked statically into the addon when it was built with nvcc. */
function linkedRuntime(): { version: string; reason: string } {
  const v = native.cudaRuntimeVersion ?? 0;
  if (v > 0) return { version: `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`, reason: '' };
  return { version: '', reason: 'n/a: this addon was built without nvcc (CPU-only build); rebuild it with `npm rebuild cudnn-rnn --build-from-source` on a machine with the CUDA toolkit' };
}

/** cuDNN's name for a status code; cuDNN 8 and 9 number them differently. */
export function cudnnStatusName(major: number, code: number): string {
  if (!Number.isInteger(major)) throw typeError('cuda.cudnnStatusName', 'major', 'an integer', major);
  if (!Number.isInteger(code)) throw typeError('cuda.cudnnStatusName', 'code', 'an integer', code);
  const fn = (native as Partial<NativeBinding>).cudnnStatusName;
  if (typeof fn !== 'function') throw new Error(`cuda.cudnnStatusName: ${STALE_ADDON}`);
  return fn(major, code);
}

/** Discovery's part of the public `cuda` namespace (lib/cuda-memory.ts adds the runtime controls). */
export const cuda = Object.freeze({ isAvailable, deviceCount, devices, discover, backendHasKernels, cudnnStatusName });
