// Host-computed int32 index tensors for the packing utilities.
import { Device, deviceName } from '../../device';
import { tensor } from '../../creation';
import { Tensor } from '../../tensor';

/** An int32 1-D tensor of `values` on `device` (the row gathers run where the data is). */
export function indexTensor(values: readonly number[] | Int32Array, device: Device): Tensor<'int32'> {
  const buf = values instanceof Int32Array ? values : Int32Array.from(values);
  return tensor(buf, { dtype: 'int32', device: deviceName(device) });
}
