/**
 * Which host names mean "this computer": the companion's Host-header gate (src/server/access-policy.ts) and the
 * app's pairing confirmation (pairing.ts) ask the same question. localhost and *.localhost (browsers resolve them to
 * loopback and never ask DNS), 127.0.0.0/8, and ::1 — not names that merely start or end like them.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}
