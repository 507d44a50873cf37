/**
 * Where the app keeps the companion's address and pairing token (localStorage: small, per origin, survives reloads),
 * and how a pairing link (`/settings?companion=<url>&token=<token>`, printed by `rbee-web companion`) fills them in.
 *
 * A pairing decides where chats on the native worker go, so a link never pairs by itself: the settings page shows the
 * host and saves only after the user confirms (pairingRequest says what to show). The companion listens on loopback;
 * a host that is not this computer is refused unless the user also confirms that they started the companion there.
 */
import { RbeeError } from '../errors.ts';
import type { CompanionEndpoint } from './client.ts';
import { isLoopbackHost } from './loopback.ts';

export { isLoopbackHost };

const STORAGE_KEY = 'rbee-web:companion';

/** The storage the app uses; a parameter so tests and the CLI can pass their own. */
type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** `127.0.0.1:7855` → `http://127.0.0.1:7855`; anything but http(s) is refused with a reason. */
export function normaliseCompanionUrl(input: string): string {
  const trimmed = input.trim();
  // "localhost:7855" is a host and port, not a URL with scheme "localhost": a scheme is never followed by a digit here.
  const withScheme = /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new RbeeError('bad-value', `'${input}' is not an address.`, { hint: 'Use the address the companion printed, e.g. http://127.0.0.1:7855.', cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RbeeError('bad-value', `'${input}' is not an http(s) address.`, { hint: 'Use the address the companion printed, e.g. http://127.0.0.1:7855.' });
  }
  return url.origin;
}

export function loadCompanionSettings(storage: KeyValueStorage = localStorage): CompanionEndpoint | null {
  try {
    const value = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as Partial<CompanionEndpoint> | null;
    if (!value || typeof value.url !== 'string') return null;
    return { url: value.url, token: typeof value.token === 'string' ? value.token : '' };
  } catch {
    return null; // unreadable settings are as good as none
  }
}

export function saveCompanionSettings(endpoint: CompanionEndpoint, storage: KeyValueStorage = localStorage): CompanionEndpoint {
  const saved = { url: normaliseCompanionUrl(endpoint.url), token: endpoint.token.trim() };
  storage.setItem(STORAGE_KEY, JSON.stringify(saved));
  return saved;
}

export function clearCompanionSettings(storage: KeyValueStorage = localStorage): void {
  storage.removeItem(STORAGE_KEY);
}

/** The endpoint a pairing link carries, or null when the link has none. */
export function pairingFromLink(href: string): CompanionEndpoint | null {
  const url = new URL(href);
  const companion = url.searchParams.get('companion');
  if (!companion) return null;
  return { url: normaliseCompanionUrl(companion), token: url.searchParams.get('token') ?? '' };
}

/** The same link without the pairing parameters: the token should not linger in history or bookmarks. */
export function linkWithoutPairing(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('companion');
  url.searchParams.delete('token');
  return url.toString();
}

/** What the user is asked before a pairing is saved. */
export interface PairingRequest {
  endpoint: CompanionEndpoint;
  /** The host (and port) chats would go to, as shown to the user. */
  host: string;
  /** False: another machine; the page warns and needs a second confirmation. */
  loopback: boolean;
  /** The pairing it would replace, when there is a different one. */
  replaces?: string;
}

export function pairingRequest(endpoint: CompanionEndpoint, current: CompanionEndpoint | null): PairingRequest {
  const url = new URL(normaliseCompanionUrl(endpoint.url));
  const request: PairingRequest = { endpoint: { url: url.origin, token: endpoint.token.trim() }, host: url.host, loopback: isLoopbackHost(url.hostname) };
  if (current && current.url !== url.origin) request.replaces = new URL(current.url).host;
  return request;
}

/**
 * Saves a confirmed pairing. A host other than this computer needs `otherMachineConfirmed` (the user ticked "I started
 * the companion on that machine"); without it the pairing is refused with a typed error.
 */
export function confirmPairing(request: PairingRequest, options: { otherMachineConfirmed: boolean }, storage: KeyValueStorage = localStorage): CompanionEndpoint {
  if (!request.loopback && !options.otherMachineConfirmed) {
    throw new RbeeError('companion', `Not paired with ${request.host}: it is not this computer, and chats on the native worker would go there.`, {
      hint: `Pair with a companion on this computer (127.0.0.1), or confirm that you started the companion on ${request.host} yourself.`,
    });
  }
  return saveCompanionSettings(request.endpoint, storage);
}
