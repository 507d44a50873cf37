// A pairing link is a request, not a change (issue 13, item 6): what the settings page asks, and what confirming saves.
import { describe, expect, test } from 'vitest';
import { confirmPairing, isLoopbackHost, loadCompanionSettings, pairingRequest } from '../../../src/lib/companion/pairing.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

describe('pairing requests', () => {
  test('loopback means this computer: localhost, *.localhost, 127/8, ::1 — and nothing that only looks like it', () => {
    for (const host of ['localhost', 'LOCALHOST', 'rbee.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['localhost.evil.example', '127.0.0.1.nip.io', '128.0.0.1', '10.0.0.2', '192.168.1.5', 'evil.example', '0.0.0.0', '127.0.0.256'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  test('a request names the host, says whether it is this computer and what it replaces', () => {
    expect(pairingRequest({ url: '127.0.0.1:7855', token: ' t ' }, null)).toEqual({ endpoint: { url: 'http://127.0.0.1:7855', token: 't' }, host: '127.0.0.1:7855', loopback: true });
    expect(pairingRequest({ url: 'https://any.host', token: 'x' }, { url: 'http://127.0.0.1:7855', token: 'y' })).toEqual({
      endpoint: { url: 'https://any.host', token: 'x' },
      host: 'any.host',
      loopback: false,
      replaces: '127.0.0.1:7855',
    });
  });

  test('confirming saves; another machine is refused with a typed error unless the user also confirmed it', () => {
    const storage = memoryStorage();
    const remote = pairingRequest({ url: 'https://any.host', token: 'x' }, null);
    const refused = (() => {
      try {
        confirmPairing(remote, { otherMachineConfirmed: false }, storage);
      } catch (e) {
        return e;
      }
    })();
    expect(isRbeeError(refused) && refused.code).toBe('companion');
    expect((refused as Error).message).toMatch(/any\.host.*not this computer/);
    expect(loadCompanionSettings(storage)).toBeNull();
    expect(confirmPairing(remote, { otherMachineConfirmed: true }, storage)).toEqual({ url: 'https://any.host', token: 'x' });
    expect(loadCompanionSettings(storage)).toEqual({ url: 'https://any.host', token: 'x' });
    const local = pairingRequest({ url: 'http://localhost:7855', token: 'z' }, loadCompanionSettings(storage));
    expect(confirmPairing(local, { otherMachineConfirmed: false }, storage)).toEqual({ url: 'http://localhost:7855', token: 'z' });
  });
});
