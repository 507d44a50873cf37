/**
 * A request that did not complete. In a browser that knows it is offline (navigator.onLine === false) the cause is
 * the network, whatever fetch's own words ("Failed to fetch") suggest — not CORS, not the address — so the error says
 * that, and where models still open from. Otherwise the fetch error with the usual checks.
 */
import { RbeeError } from '../errors.ts';

export function unreachableError(what: string, e: unknown, hint: string): RbeeError {
  if (isOffline()) {
    return new RbeeError('network', `This browser is offline: ${what} needs the network.`, {
      hint: 'Connect to the network and try again. Models downloaded to this device open from the Library without it.',
      cause: e,
    });
  }
  return new RbeeError('network', `Could not reach ${what}: ${(e as Error)?.message ?? String(e)}`, { hint, cause: e });
}

function isOffline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine === false;
}
