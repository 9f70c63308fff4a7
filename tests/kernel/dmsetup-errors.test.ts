/** dmsetup's strerror texts read as stable codes: what a target message's refusal becomes. */
import test from 'ava';

import { kernelErrorFromProcess } from '../../reconciler/kernel/dmsetup-errors.js';
import { ProcessFailure } from '../../reconciler/kernel/process.js';

function messageFailure(strerror: string): ProcessFailure {
  const stderr = `device-mapper: message ioctl on r failed: ${strerror}\nCommand failed.\n`;
  return new ProcessFailure('dmsetup message failed', 'dmsetup', ['message'], '', stderr, 1, 'exit');
}

test('a proactive remap on a full spare is ENOSPC, one on a suspended device EBUSY', (t) => {
  t.like(kernelErrorFromProcess(messageFailure('No space left on device'), 'message', 'r'), {
    code: 'ENOSPC',
    device: 'r',
  });
  t.like(kernelErrorFromProcess(messageFailure('Device or resource busy'), 'message', 'r'), {
    code: 'EBUSY',
  });
});
