// The access rules on their own: origins, Host names, pairing tokens, and the CORS / preflight headers they produce.
import { describe, expect, test } from 'vitest';
import { AccessPolicy, newPairingToken, normaliseOrigin } from '../../../src/server/access-policy.ts';
import { CompanionHttpError } from '../../../src/server/http-error.ts';
import { parseInferRequest } from '../../../src/server/job-request.ts';

const statusOf = (f: () => unknown): number | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof CompanionHttpError ? e.status : -1;
  }
};

describe('AccessPolicy', () => {
  const policy = new AccessPolicy({ token: 'a-long-enough-token', allowedOrigins: ['HTTP://App.Example:80/some/path', 'https://b.example'], loopbackOnly: true });

  test('origins are compared as browsers send them (scheme and host lower-case, default port dropped, no path)', () => {
    expect([...policy.allowedOrigins]).toEqual(['http://app.example', 'https://b.example']);
    expect(policy.checkRequester('http://app.example', '127.0.0.1:7855')).toBe('http://app.example');
    expect(statusOf(() => policy.checkRequester('http://app.example:8080', '127.0.0.1:7855'))).toBe(403);
    expect(statusOf(() => policy.checkRequester('https://app.example', '127.0.0.1:7855'))).toBe(403);
    expect(policy.checkRequester(undefined, 'localhost:7855')).toBeUndefined(); // not a web page: the token decides
  });

  test('on loopback, only loopback Host names pass; with --host, any', () => {
    for (const host of ['127.0.0.1:1', 'localhost:1', '[::1]:1', '127.1.2.3', 'LOCALHOST:7855']) expect(statusOf(() => policy.checkRequester(undefined, host)), host).toBeUndefined();
    for (const host of ['evil.example:7855', '192.168.1.5:7855', '', undefined]) expect(statusOf(() => policy.checkRequester(undefined, host)), String(host)).toBe(403);
    const open = new AccessPolicy({ token: 'a-long-enough-token', allowedOrigins: [], loopbackOnly: false });
    expect(statusOf(() => open.checkRequester(undefined, '192.168.1.5:7855'))).toBeUndefined();
    expect(statusOf(() => open.checkRequester('https://b.example', '192.168.1.5:7855'))).toBe(403);
  });

  test('the token: Bearer (any case), exact match, any wrong length is a 401 not a crash', () => {
    expect(statusOf(() => policy.checkToken('Bearer a-long-enough-token'))).toBeUndefined();
    expect(statusOf(() => policy.checkToken('bearer   a-long-enough-token '))).toBeUndefined();
    for (const header of [undefined, '', 'a-long-enough-token', 'Basic a-long-enough-token', 'Bearer a-long-enough-toke', 'Bearer a-long-enough-token2', 'Bearer x']) {
      expect(statusOf(() => policy.checkToken(header)), String(header)).toBe(401);
    }
  });

  test('short tokens are refused; generated ones are 32 URL-safe characters and differ', () => {
    expect(() => new AccessPolicy({ token: 'short', allowedOrigins: [], loopbackOnly: true })).toThrow(/at least 8/);
    const a = newPairingToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newPairingToken()).not.toBe(a);
  });

  test('bad --allow-origin values are refused with a reason', () => {
    expect(() => normaliseOrigin('app.example')).toThrow(/not an origin/);
    expect(() => normaliseOrigin('ftp://app.example')).toThrow(/not an http\(s\) origin/);
  });

  test('preflight headers carry the Private Network Access permission and the token header', () => {
    const headers = policy.preflightHeaders('https://b.example');
    expect(headers).toMatchObject({
      'access-control-allow-origin': 'https://b.example',
      'access-control-allow-private-network': 'true',
      'access-control-allow-headers': 'Authorization, Content-Type',
      vary: 'Origin',
    });
  });
});

describe('job requests', () => {
  test('a full request is kept field by field; defaults are not invented', () => {
    expect(parseInferRequest('{"operation":"infer","hive_id":"h","model":"m","prompt":"p","max_tokens":3,"temperature":0.5,"top_p":0.9,"top_k":40}')).toEqual({
      operation: 'infer', hive_id: 'h', model: 'm', prompt: 'p', max_tokens: 3, temperature: 0.5, top_p: 0.9, top_k: 40,
    });
    expect(statusOf(() => parseInferRequest('{"operation":"infer","prompt":"p","max_tokens":3}'))).toBe(400);
    expect(statusOf(() => parseInferRequest('[1,2]'))).toBe(400);
    expect(statusOf(() => parseInferRequest('{"operation":"infer","prompt":"p","max_tokens":1.5,"temperature":0}'))).toBe(400);
    expect(statusOf(() => parseInferRequest('{"operation":"infer","prompt":"p","max_tokens":2,"temperature":0,"model":7}'))).toBe(400);
  });
});
