// Module.getParameter (torch's get_parameter): PyTorch's names and dotted
// paths, the same tensors as the properties and the state dict, and an error
// naming what exists when the name does not.
import { nn } from '../lib';

test('RNN/GRU: every parameter by name; the properties are the same tensors', () => {
  const gru = new nn.GRU(2, 3, { numLayers: 2, bidirectional: true });
  const state = gru.stateDict();
  for (const name of gru.flatWeightsNames) expect(gru.getParameter(name as nn.RNNParameterName)).toBe(state[name]);
  expect(gru.weight_ih_l0).toBe(gru.getParameter('weight_ih_l0'));
  expect(gru.bias_hh_l0).toBe(gru.getParameter('bias_hh_l0'));
  expect(() => gru.getParameter('weight_ih_l2')).toThrow(
    'GRU has no parameter `weight_ih_l2` (its parameters: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l0_reverse,');
  gru.dispose();
});

test('without bias the bias properties are undefined and getParameter refuses them', () => {
  const rnn = new nn.RNN(2, 3, { bias: false });
  expect(rnn.bias_ih_l0).toBeUndefined();
  expect(() => rnn.getParameter('bias_ih_l0')).toThrow(RangeError);
  rnn.dispose();
});

test('dotted paths into children, and errors for a missing child or a non-string', () => {
  const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
  expect(seq.getParameter('1.bias')).toBe(seq.stateDict()['1.bias']);
  expect(() => seq.getParameter('2.weight')).toThrow('Sequential has no attribute `2`');
  expect(() => seq.getParameter('0.scale')).toThrow('Linear has no parameter `scale` (its parameters: weight, bias)');
  expect(() => (seq as unknown as { getParameter(t: unknown): unknown }).getParameter(3)).toThrow(TypeError);
  seq.dispose();
});
