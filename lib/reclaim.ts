// The garbage-collector safety net for storages nobody disposed (DESIGN.md
// decision 6), made to work inside a synchronous training loop.
//
// Why this is needed: a FinalizationRegistry callback (and an N-API
// finalizer) runs as an event-loop task, after the GC. A training loop that
// never yields to the event loop therefore never frees a forgotten tensor,
// however often V8 collects: measured, 2.77 MB per step leaked with
// reclaimedByGc 0. And V8 sizes its heap by JS objects; a Tensor is a few
// hundred bytes of JS holding megabytes of native memory, so V8 has no reason
// to collect soon enough on its own.
//
// What we do: every native allocation is counted; once the bytes allocated
// since the last reclaim exceed a threshold (CUDNN_RNN_GC_PRESSURE_MB, default
// 256, and never less than the bytes that survived the last reclaim, so the
// cost stays proportional like V8's own heap growth), we run a full GC and
// then FinalizationRegistry.prototype.cleanupSome(), which runs the pending
// callbacks synchronously. Neither is available by default: `gc` needs
// --expose-gc and cleanupSome needs --harmony-weak-refs-with-cleanup-some.
// V8 flags set at run time only affect contexts created afterwards, so we set
// them, create one private vm context to take `gc` and a registry from, and
// restore the flags: the user's own contexts are unchanged. Where either is
// missing (a future V8 dropping cleanupSome), the registry still frees on the
// next event-loop turn. CUDNN_RNN_GC_PRESSURE_MB=0 switches forced collection off.
import * as v8 from 'v8';
import * as vm from 'vm';

export interface ReclaimTools {
  /** A full garbage collection, or null where it cannot be had. */
  gc: (() => void) | null;
  /** Creates a registry; `cleanupSome` is present where V8 supports it. */
  registry<H>(callback: (held: H) => void): FinalizationRegistry<H> & { cleanupSome?: () => void };
}

function pressureSetting(): number {
  const raw = process.env.CUDNN_RNN_GC_PRESSURE_MB;
  const mb = raw === undefined || raw === '' ? 256 : Number(raw);
  return Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : 0;
}

/** Bytes allocated since the last reclaim that trigger the next one (0: never). */
export const PRESSURE_BYTES = pressureSetting();

function createTools(): ReclaimTools {
  const fallback: ReclaimTools = {
    gc: typeof (globalThis as { gc?: unknown }).gc === 'function' ? (globalThis as unknown as { gc: () => void }).gc : null,
    registry: (cb) => new FinalizationRegistry(cb),
  };
  if (PRESSURE_BYTES === 0) return fallback;
  try {
    // Whether --expose-gc is on already (from the command line, or set at run time by the user): then it stays on.
    const hadGc = fallback.gc !== null || vm.runInNewContext('typeof gc') === 'function';
    v8.setFlagsFromString('--expose-gc');
    v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
    const context = vm.createContext({});
    if (!hadGc) v8.setFlagsFromString('--no-expose-gc');
    v8.setFlagsFromString('--no-harmony-weak-refs-with-cleanup-some');
    const gc = vm.runInContext('typeof gc === "function" ? gc : null', context) as (() => void) | null;
    const makeRegistry = vm.runInContext('(cb) => new FinalizationRegistry(cb)', context) as ReclaimTools['registry'];
    return { gc: fallback.gc ?? gc, registry: makeRegistry };
  } catch {
    return fallback;
  }
}

export const reclaimTools = createTools();
