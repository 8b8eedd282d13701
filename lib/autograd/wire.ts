// Gives the autograd engine the few tensor ops it needs, once all modules are
// loaded (the engine cannot import ops/ directly: ops/ imports the engine).
import { native } from '../native';
import * as ops from '../ops';
import { Tensor } from '../tensor';
import { registerEngineOps } from './engine';

registerEngineOps({
  cast: (g, dtype) => ops.castIfNeeded(g, dtype),
  add: (a, b) => ops.rawBinary('backward', ops.BinaryOp.Add, a, b, a.dtype),
  accumulateInto: (target, g) => {
    // grad += g in place, as PyTorch accumulates .grad.
    native.axpy(...target._view(), 1, ...ops.broadcastView(g, target.shape), ...target._view());
    target._storage.version += 1;
  },
  detachedCopy: (g) => {
    const out = Tensor.empty(g.shape, g.dtype, g.deviceObj, false);
    native.copy(...g._view(), ...out._view());
    return out;
  },
  onesLike: (t) => {
    const out = Tensor.empty(t.shape, t.dtype, t.deviceObj);
    native.fill(...out._view(), 1);
    return out;
  },
  sumToShape: (g, shape) => ops.sumToShape(g, shape),
});
