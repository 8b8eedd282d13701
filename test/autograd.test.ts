// Autograd semantics against PyTorch's: leaf accumulation, retain_grad, no_grad,
// requires_grad rules, backward's argument checks, detach, in-place checks.
import * as cr from '../lib';
import type { Tensor } from '../lib';

const f64 = (values: number[], requiresGrad = false): Tensor =>
  cr.tensor(Float64Array.from(values), { dtype: 'float64', requiresGrad });

const values = (t: Tensor | null): number[] => {
  if (t === null) throw new Error('expected a tensor, got null');
  return Array.from(t.dataSync());
};

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
}

let baseline = 0;
beforeEach(() => {
  baseline = cr.memory().numTensors;
});
afterEach(() => {
  expect(cr.isGradEnabled()).toBe(true);
  expect(cr.memory().numTensors).toBe(baseline);
});

describe('leaf gradients', () => {
  test('accumulate across two backward calls like PyTorch', () => {
    cr.tidy(() => {
      const x = f64([1, 2, 3], true);
      cr.sum(cr.mul(x, 3)).backward();
      expect(values(x.grad)).toEqual([3, 3, 3]);
      const g1 = x.grad;
      cr.sum(cr.square(x)).backward();
      expect(values(x.grad)).toEqual([5, 7, 9]);
      // accumulated in place (torch keeps the same .grad tensor)
      expect(x.grad).toBe(g1);
      expect(x.grad!.requiresGrad).toBe(false);
      expect(x.grad!.dtype).toBe('float64');
    });
  });

  test('setting .grad = null resets accumulation', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      cr.sum(x).backward();
      x.grad!.dispose();
      x.grad = null;
      cr.sum(cr.mul(x, 2)).backward();
      expect(values(x.grad)).toEqual([2, 2]);
    });
  });

  test('zero_ on .grad under noGrad (optimizer.zero_grad) then accumulate', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      cr.sum(cr.mul(x, x)).backward();
      cr.noGrad(() => x.grad!.zero_());
      cr.sum(x).backward();
      expect(values(x.grad)).toEqual([1, 1]);
    });
  });

  test('a leaf used by two branches gets the summed gradient', () => {
    cr.tidy(() => {
      const x = f64([0.5, -1], true);
      const y = cr.add(cr.mul(x, x), cr.mul(x, 4));
      cr.sum(y).backward();
      expect(values(x.grad)).toEqual([5, 2]);
    });
  });

  test('gradient flows through views to the base leaf', () => {
    cr.tidy(() => {
      const x = f64([1, 2, 3, 4, 5, 6], true);
      const v = cr.narrow(cr.reshape(x, [2, 3]), 1, 1, 2);
      cr.sum(cr.mul(v, f64([10, 20, 30, 40]).reshape(2, 2))).backward();
      expect(values(x.grad)).toEqual([0, 10, 20, 0, 30, 40]);
    });
  });

  test('int32 operands get no gradient; the float operand does', () => {
    cr.tidy(() => {
      const a = f64([1, 2, 3], true);
      const b = cr.tensor(Int32Array.from([4, 5, 6]), { dtype: 'int32' });
      const y = cr.mul(a, b);
      expect(y.dtype).toBe('float64');
      cr.sum(y).backward();
      expect(values(a.grad)).toEqual([4, 5, 6]);
      expect(b.grad).toBeNull();
    });
  });

  test('a leaf\'s gradient has the leaf\'s dtype when ops promote (float32 leaf, float64 operand)', () => {
    cr.tidy(() => {
      const a = cr.tensor([1, 2, 3], { requiresGrad: true }); // float32
      const b = cr.tensor(Float64Array.from([0.5, 0.25, 2]), { shape: [3], dtype: 'float64' });
      const y = cr.mul(a, b);
      expect(y.dtype).toBe('float64');
      cr.sum(y).backward();
      expect(a.grad!.dtype).toBe('float32'); // torch: grad dtype == leaf dtype
      expect(values(a.grad)).toEqual([0.5, 0.25, 2]);
      const c = cr.tensor([[1], [2]], { requiresGrad: true });
      cr.sum(cr.add(c, cr.zeros([2, 3], { dtype: 'float64' }))).backward();
      expect(c.grad!.dtype).toBe('float32');
      expect(c.grad!.shape).toEqual([2, 1]);
      expect(values(c.grad)).toEqual([3, 3]);
    });
  });

  test('backward on a leaf itself accumulates the given gradient', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      x.backward(f64([3, 4]));
      expect(values(x.grad)).toEqual([3, 4]);
    });
  });

  test('backward(gradient) of another dtype is cast to the output dtype', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const y = cr.mul(x, 2);
      y.backward(cr.tensor([1, 0.5]));
      expect(values(x.grad)).toEqual([2, 1]);
      expect(x.grad!.dtype).toBe('float64');
    });
  });

  test('outputs of ops whose inputs need no grad do not require grad', () => {
    cr.tidy(() => {
      const x = f64([1, 2]);
      const y = cr.exp(x);
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(y.isLeaf).toBe(true);
    });
  });

  test('comparisons, argmax and to(int32) are not differentiable', () => {
    cr.tidy(() => {
      const x = f64([1, 3, 2], true);
      expect(cr.gt(x, 1.5).requiresGrad).toBe(false);
      expect(cr.eq(x, x).requiresGrad).toBe(false);
      expect(cr.argmax(x).requiresGrad).toBe(false);
      expect(cr.to(x, 'int32').requiresGrad).toBe(false);
    });
  });

  test('gradFn names follow PyTorch', () => {
    cr.tidy(() => {
      const x = f64([1, 2, 3, 4], true);
      const m = cr.reshape(x, [2, 2]);
      const cases: Array<[Tensor, string]> = [
        [cr.add(x, x), 'AddBackward0'], [cr.sub(x, 1), 'SubBackward0'], [cr.mul(x, x), 'MulBackward0'],
        [cr.div(x, 2), 'DivBackward0'], [cr.exp(x), 'ExpBackward0'], [cr.tanh(x), 'TanhBackward0'],
        [cr.sum(x), 'SumBackward0'], [cr.sum(x, 0), 'SumBackward1'], [cr.mean(x), 'MeanBackward0'],
        [cr.matmul(m, m), 'MmBackward0'], [cr.matmul(x, x), 'DotBackward0'], [cr.permute(m, [1, 0]), 'PermuteBackward0'],
        [cr.t(m), 'TBackward0'], [cr.softmax(x, 0), 'SoftmaxBackward0'], [cr.logSoftmax(x, 0), 'LogSoftmaxBackward0'],
        [cr.relu(x), 'ReluBackward0'], [cr.sigmoid(x), 'SigmoidBackward0'], [cr.neg(x), 'NegBackward0'],
        [cr.cat([x, x]), 'CatBackward0'], [cr.stack([x, x]), 'StackBackward0'], [cr.clone(x), 'CloneBackward0'],
        [cr.unsqueeze(x, 0), 'UnsqueezeBackward0'], [cr.select(m, 0, 1), 'SelectBackward0'], [cr.narrow(x, 0, 1, 2), 'SliceBackward0'],
        [cr.expand(cr.unsqueeze(x, 0), [2, 4]), 'ExpandBackward0'], [cr.view(x, [4, 1]), 'ViewBackward0'],
        [cr.amax(x), 'AmaxBackward0'], [cr.log(x), 'LogBackward0'], [cr.abs(x), 'AbsBackward0'], [cr.sqrt(x), 'SqrtBackward0'],
      ];
      for (const [t, name] of cases) {
        expect(t.gradFn?.name).toBe(name);
        expect(t.isLeaf).toBe(false);
        expect(t.requiresGrad).toBe(true);
      }
    });
  });
});

describe('non-leaf gradients', () => {
  test('.grad of a non-leaf is null after backward', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const h = cr.mul(x, 3);
      cr.sum(cr.square(h)).backward();
      expect(h.grad).toBeNull();
      expect(values(x.grad)).toEqual([18, 36]);
    });
  });

  test('retainGrad() keeps it (and it accumulates)', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const h = cr.mul(x, 3).retainGrad();
      const y = cr.sum(cr.square(h));
      y.backward(undefined, { retainGraph: true });
      expect(values(h.grad)).toEqual([6, 12]);
      y.backward();
      expect(values(h.grad)).toEqual([12, 24]);
      expect(values(x.grad)).toEqual([36, 72]);
    });
  });

  test('retainGrad on a tensor that does not require grad throws like PyTorch', () => {
    cr.tidy(() => {
      const x = f64([1]);
      expect(() => x.retainGrad()).toThrow("can't retain_grad on Tensor that has requires_grad=False");
    });
  });

  test('requiresGrad = false on a non-leaf throws', () => {
    cr.tidy(() => {
      const h = cr.mul(f64([1], true), 2);
      const e = thrown(() => { h.requiresGrad = false; });
      expect(e.message).toContain('you can only change requires_grad flags of leaf variables');
    });
  });
});

describe('grad mode', () => {
  test('noGrad disables recording and restores the mode', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const y = cr.noGrad(() => {
        expect(cr.isGradEnabled()).toBe(false);
        return cr.mul(cr.exp(x), 2);
      });
      expect(cr.isGradEnabled()).toBe(true);
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(() => cr.sum(y).backward()).toThrow('element 0 of tensors does not require grad and does not have a grad_fn');
    });
  });

  test('noGrad restores the mode when fn throws', () => {
    expect(() => cr.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(cr.isGradEnabled()).toBe(true);
  });

  test('enableGrad inside noGrad records again', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const y = cr.noGrad(() => cr.enableGrad(() => cr.mul(x, x)));
      expect(y.requiresGrad).toBe(true);
      cr.sum(y).backward();
      expect(values(x.grad)).toEqual([2, 4]);
    });
  });

  test('setGradEnabled(false) is global until turned back on', () => {
    cr.tidy(() => {
      const x = f64([1], true);
      cr.setGradEnabled(false);
      try {
        expect(cr.isGradEnabled()).toBe(false);
        expect(cr.add(x, 1).requiresGrad).toBe(false);
      } finally {
        cr.setGradEnabled(true);
      }
      expect(cr.add(x, 1).requiresGrad).toBe(true);
    });
  });

  test('leaves created under noGrad can still require grad', () => {
    cr.tidy(() => {
      const x = cr.noGrad(() => f64([2], true));
      expect(x.requiresGrad).toBe(true);
    });
  });
});

describe('requiresGrad rules', () => {
  test('int32 tensors cannot require grad (setter, requiresGrad_, creation option)', () => {
    cr.tidy(() => {
      const i = cr.tensor(Int32Array.from([1, 2]), { dtype: 'int32' });
      expect(thrown(() => { i.requiresGrad = true; }).message).toContain('only Tensors of floating point dtype can require gradients');
      expect(thrown(() => i.requiresGrad_()).message).toContain('only Tensors of floating point dtype can require gradients');
      expect(i.requiresGrad).toBe(false);
      const e = thrown(() => cr.zeros([2], { dtype: 'int32', requiresGrad: true }));
      expect(e.name).toBe('TypeError');
      expect(e.message).toContain('only Tensors of floating point dtype can require gradients');
      expect(() => cr.arange(3, { dtype: 'int32', requiresGrad: true })).toThrow(/floating point/);
      i.requiresGrad = false; // allowed
    });
  });

  test('requiresGrad_ returns this; float32 leaves work', () => {
    cr.tidy(() => {
      const x = cr.tensor([1, 2]);
      expect(x.requiresGrad_()).toBe(x);
      expect(x.requiresGrad).toBe(true);
      cr.sum(cr.mul(x, x)).backward();
      expect(x.grad!.dtype).toBe('float32');
      expect(values(x.grad)).toEqual([2, 4]);
    });
  });
});

describe('backward argument checks', () => {
  test('non-scalar output without gradient throws PyTorch\'s message', () => {
    cr.tidy(() => {
      const y = cr.mul(f64([1, 2], true), 2);
      const e = thrown(() => y.backward());
      expect(e.message).toBe('grad can be implicitly created only for scalar outputs');
    });
  });

  test('one-element non-0-d output is fine without gradient', () => {
    cr.tidy(() => {
      const x = f64([3], true);
      cr.mul(x, x).backward();
      expect(values(x.grad)).toEqual([6]);
    });
  });

  test('a gradient of the wrong shape throws and names both shapes', () => {
    cr.tidy(() => {
      const y = cr.mul(f64([1, 2], true), 2);
      const e = thrown(() => y.backward(f64([1, 2, 3])));
      expect(e.message).toContain('Mismatch in shape');
      expect(e.message).toContain('[3]');
      expect(e.message).toContain('[2]');
    });
  });

  test('backward on a tensor that does not require grad throws', () => {
    cr.tidy(() => {
      expect(() => cr.sum(f64([1, 2])).backward()).toThrow('element 0 of tensors does not require grad and does not have a grad_fn');
    });
  });
});

describe('failed backward passes do not leak', () => {
  test('second backward without retainGraph, outside tidy', () => {
    const before = cr.memory().numTensors;
    const x = f64([1, 2], true);
    const m = cr.mul(x, x);
    const y = cr.sum(m);
    y.backward();
    expect(() => y.backward()).toThrow('Trying to backward through the graph a second time');
    for (const t of [x, m, y]) t.dispose();
    expect(cr.memory().numTensors).toBe(before);
  });

  test('version error, outside tidy', () => {
    const before = cr.memory().numTensors;
    const x = f64([1, 2], true);
    const w = f64([3, 4]);
    const m = cr.mul(x, w);
    const y = cr.sum(m);
    w.mul_(2);
    expect(() => y.backward()).toThrow(/modified by an inplace operation/);
    for (const t of [x, w, m, y]) t.dispose();
    expect(cr.memory().numTensors).toBe(before);
  });
});

describe('detach', () => {
  test('shares storage, is a leaf without grad, and stops gradients', () => {
    cr.tidy(() => {
      const x = f64([1, 2, 3], true);
      const h = cr.mul(x, 2);
      const d = h.detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.gradFn).toBeNull();
      expect(d.isLeaf).toBe(true);
      expect(values(d)).toEqual([2, 4, 6]);
      cr.noGrad(() => d.fill_(7));
      expect(values(h)).toEqual([7, 7, 7]);
      const y = cr.sum(cr.add(cr.mul(x, d), x));
      y.backward();
      expect(values(x.grad)).toEqual([8, 8, 8]);
    });
  });
});

describe('in-place checks', () => {
  test('in-place on a leaf that requires grad throws; under noGrad it works', () => {
    cr.tidy(() => {
      const w = f64([1, 2], true);
      for (const op of [() => w.add_(1), () => w.mul_(2), () => w.sub_(f64([1, 1])), () => w.fill_(0), () => w.zero_(), () => w.copy_(f64([5, 6])), () => w.div_(2)]) {
        const e = thrown(op);
        expect(e.message).toContain('a leaf Variable that requires grad is being used in an in-place operation');
      }
      expect(values(w)).toEqual([1, 2]);
      cr.noGrad(() => w.sub_(f64([0.5, 0.5]), { alpha: 2 }));
      expect(values(w)).toEqual([0, 1]);
      expect(w.requiresGrad).toBe(true);
    });
  });

  test('in-place on a non-leaf in the graph throws', () => {
    cr.tidy(() => {
      const h = cr.mul(f64([1, 2], true), 2);
      expect(() => h.add_(1)).toThrow();
    });
  });

  test('modifying a saved input then backward throws the version error', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const w = f64([3, 4]);
      const y = cr.sum(cr.mul(x, w)); // MulBackward0 saves w
      w.mul_(2);
      const e = thrown(() => y.backward());
      expect(e.message).toContain('one of the variables needed for gradient computation has been modified by an inplace operation');
      expect(e.message).toContain('MulBackward0');
      expect(e.message).toMatch(/is at version 1; expected version 0 instead/);
    });
  });

  test('modifying a saved output under noGrad then backward throws the version error', () => {
    cr.tidy(() => {
      const x = f64([0.1, 0.2], true);
      const out = cr.exp(x); // ExpBackward0 saves its output
      cr.noGrad(() => out.add_(1));
      expect(() => cr.sum(out).backward()).toThrow(/modified by an inplace operation/);
    });
  });

  test('modifying a tensor that was not saved is fine', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const b = f64([3, 4]);
      const y = cr.sum(cr.add(x, b)); // add saves nothing
      b.mul_(2);
      y.backward();
      expect(values(x.grad)).toEqual([1, 1]);
    });
  });

  test('disposing a saved tensor before backward gives a coded error', () => {
    cr.tidy(() => {
      const x = f64([1, 2], true);
      const w = f64([3, 4]);
      const y = cr.sum(cr.mul(x, w));
      w.dispose();
      const e = thrown(() => y.backward());
      expect(e.code).toBe('ERR_CUDNN_RNN_DISPOSED');
    });
  });
});
