/**
 * This browser's WebGPU capabilities, probed once per page load and shared by the home page's status panel and
 * every verdict on the model page (asking for an adapter is not free, and the answer does not change in a tab).
 */
import { probeDeviceCaps, type DeviceCaps } from '../compat/device-caps.ts';

let probe: Promise<DeviceCaps> | undefined;

export function thisDeviceCaps(): Promise<DeviceCaps> {
  probe ??= probeDeviceCaps();
  return probe;
}
