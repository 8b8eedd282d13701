// GPU suite: nn.utils.rnn's packing utilities on device 'cuda' give the CPU's
// results bit for bit (they only move values), gradients included, and a
// PackedSequence keeps batchSizes on the CPU while data and indices live on
// the GPU. Skipped, with the reason printed, where 'cuda' is not usable.
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { gpuDescribe } from './gpu/common';

const { packPaddedSequence, padPackedSequence, packSequence, unpackSequence, padSequence, unpadSequence } = cr.nn.utils.rnn;

const onGpu = gpuDescribe('cuda-gpu-packing');

function bits(t: Tensor): number[] {
  return Array.from(t.cpu().dataSync());
}

/** Runs `fn` on CPU and GPU copies of the same leaf; compares outputs and gradients exactly. */
function sameOnBoth(shape: number[], fn: (x: Tensor) => Tensor[]): void {
  cr.tidy(() => {
    const base = cr.randn(shape, { dtype: 'float64' });
    const results = ['cpu', 'cuda'].map((device) => {
      const x = base.to(device).detach().requiresGrad_();
      const outs = fn(x);
      outs.forEach((o) => expect(o.device).toBe(device === 'cuda' ? 'cuda:0' : 'cpu'));
      outs.map((o, k) => cr.sum(cr.mul(o, k + 1))).reduce((a, b) => cr.add(a, b)).backward();
      return { outs: outs.map(bits), grad: bits(x.grad as Tensor) };
    });
    expect(results[1]).toEqual(results[0]);
  });
}

onGpu('packing on cuda', () => {
  test('pack -> pad with sorting, batchFirst and totalLength, as on the CPU', () => {
    sameOnBoth([4, 6, 3], (x) => {
      const p = packPaddedSequence(x, [3, 6, 1, 6], { batchFirst: true, enforceSorted: false });
      expect(p.batchSizes.device).toBe('cpu');
      expect((p.sortedIndices as Tensor).device).toBe(x.device);
      expect((p.unsortedIndices as Tensor).device).toBe(x.device);
      const [padded, lengths] = padPackedSequence(p, { batchFirst: true, paddingValue: -2, totalLength: 8 });
      expect(lengths.device).toBe('cpu');
      return [p.data, padded];
    });
  });

  test('padSequence, packSequence, unpackSequence and unpadSequence, as on the CPU', () => {
    sameOnBoth([9, 2], (x) => {
      const seqs = [x.narrow(0, 0, 2), x.narrow(0, 2, 4), x.narrow(0, 6, 3)];
      const packed = packSequence(seqs, { enforceSorted: false });
      return [
        padSequence(seqs, { paddingSide: 'left', paddingValue: 1 }),
        packed.data,
        ...unpackSequence(packed),
        ...unpadSequence(padSequence(seqs, { batchFirst: true }), [2, 4, 3], { batchFirst: true }),
      ];
    });
  });

  test("PackedSequence.to('cuda') moves data and indices, not batchSizes", () => {
    cr.tidy(() => {
      const p = packPaddedSequence(cr.randn([3, 2, 2]), [1, 3], { enforceSorted: false });
      const q = p.to('cuda');
      expect(q.data.device).toBe('cuda:0');
      expect((q.sortedIndices as Tensor).device).toBe('cuda:0');
      expect(q.batchSizes.device).toBe('cpu');
      expect(bits(q.data)).toEqual(bits(p.data));
      const back = q.to('cpu');
      expect(bits(back.sortedIndices as Tensor)).toEqual([1, 0]);
    });
  });
});
