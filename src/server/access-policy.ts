/**
 * Who may use the companion. A local model server is reachable by every web page the user opens (a page can send
 * requests to 127.0.0.1), so three gates stand in front of it:
 *  1. Origin: browsers name the page's origin on cross-origin requests; only the app's origins are answered, and only
 *     they get CORS headers (and, on preflights, the Private Network Access permission). Requests without an Origin
 *     (curl, the CLI, another server) are not from a web page and pass this gate.
 *  2. Host: while listening on loopback, the Host header must name loopback too; a DNS-rebinding page reaches us under
 *     its own host name and is refused even when the browser sends no Origin (same-origin GETs).
 *  3. Token: every job request (and its stream) carries `Authorization: Bearer <pairing token>`; the token is printed on
 *     the companion's console, so only someone at that console can pair a page.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../lib/companion/loopback.ts';
import { RbeeError } from '../lib/errors.ts';
import { CompanionHttpError } from './http-error.ts';

/** Where the app is served by default: `npm start` / `vite preview` (port 4173), by both names for loopback. */
export const DEFAULT_APP_ORIGINS = ['http://localhost:4173', 'http://127.0.0.1:4173'] as const;

/** A fresh pairing token: 24 random bytes (192 bits), URL-safe so it can travel in the pairing link. */
export function newPairingToken(): string {
  return randomBytes(24).toString('base64url');
}

/** `http://Example.com:80/path` → `http://example.com`: origins compare as the browser sends them. */
export function normaliseOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new RbeeError('bad-value', `'${url}' is not an origin (expected something like https://app.example.com).`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RbeeError('bad-value', `'${url}' is not an http(s) origin.`, { hint: 'Give the address the app is served from, e.g. https://app.example.com.' });
  }
  return parsed.origin;
}

export { isLoopbackHost };

export interface AccessPolicyOptions {
  token: string;
  allowedOrigins: readonly string[];
  /** Check the Host header against loopback names (on when the server listens on loopback only). */
  loopbackOnly: boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class AccessPolicy {
  readonly token: string;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly loopbackOnly: boolean;
  private readonly tokenDigest: Buffer;

  constructor(options: AccessPolicyOptions) {
    if (options.token.length < 8) {
      throw new RbeeError('bad-value', 'The pairing token must be at least 8 characters long.', {
        hint: 'Leave --token out to get a random one.',
      });
    }
    this.token = options.token;
    this.tokenDigest = digest(options.token);
    this.allowedOrigins = new Set(options.allowedOrigins.map(normaliseOrigin));
    this.loopbackOnly = options.loopbackOnly;
  }

  /** Throws 403 for a page on a foreign origin or a non-loopback Host name; returns the origin to echo, if any. */
  checkRequester(origin: string | undefined, host: string | undefined): string | undefined {
    if (this.loopbackOnly) {
      const hostname = host ? host.replace(/:\d+$/, '').toLowerCase() : '';
      if (!isLoopbackHost(hostname)) {
        throw new CompanionHttpError(403, 'forbidden-host', `Requests must address this companion as localhost or 127.0.0.1, not '${hostname}'.`);
      }
    }
    if (origin === undefined) return undefined;
    if (!this.allowedOrigins.has(origin)) {
      throw new CompanionHttpError(
        403,
        'forbidden-origin',
        `Pages on ${origin} may not use this companion. Start it with --allow-origin ${origin} if that page is yours.`,
      );
    }
    return origin;
  }

  /** Throws 401 unless the Authorization header carries the pairing token (compared in constant time). */
  checkToken(authorization: string | undefined): void {
    const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
    if (!match) {
      throw new CompanionHttpError(401, 'missing-token', 'This request needs the pairing token: send Authorization: Bearer <token>.', {
        'www-authenticate': 'Bearer realm="rbee-web companion"',
      });
    }
    if (!timingSafeEqual(digest(match[1]!), this.tokenDigest)) {
      throw new CompanionHttpError(401, 'wrong-token', 'The pairing token is wrong. Copy it again from the companion\'s console.', {
        'www-authenticate': 'Bearer realm="rbee-web companion", error="invalid_token"',
      });
    }
  }

  /** Headers on every answer to an allowed page. */
  corsHeaders(origin: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { vary: 'Origin' };
    if (origin !== undefined) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-expose-headers'] = 'WWW-Authenticate';
    }
    return headers;
  }

  /**
   * A preflight's answer: the methods and headers the app uses, and the Private Network Access permission (Chrome asks
   * with Access-Control-Request-Private-Network before a public page reaches localhost; answering it unasked is harmless).
   */
  preflightHeaders(origin: string): Record<string, string> {
    return {
      ...this.corsHeaders(origin),
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
      'access-control-allow-private-network': 'true',
    };
  }
}
