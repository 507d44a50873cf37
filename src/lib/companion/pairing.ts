/**
 * Where the app keeps the companion's address and pairing token (localStorage: small, per origin, survives reloads),
 * and how a pairing link (`/settings?companion=<url>&token=<token>`, printed by `rbee-web companion`) fills them in.
 */
import { RbeeError } from '../errors.ts';
import type { CompanionEndpoint } from './client.ts';

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
