// torch.nn.utils.rnn: packing batches of variable-length sequences for the
// recurrent layers, and padding them back.
export { PackedSequence } from './packed-sequence';
export { packPaddedSequence, padPackedSequence, packSequence, unpackSequence } from './pack';
export type { PackPaddedSequenceOptions, PadPackedSequenceOptions, PackSequenceOptions } from './pack';
export { padSequence, unpadSequence } from './pad';
export type { PadSequenceOptions, UnpadSequenceOptions } from './pad';
export type { Lengths } from './lengths';
