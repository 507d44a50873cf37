// Only /embed may be framed, by anyone; every other page refuses. The static hosts' _headers file says the same as the
// policy the preview server applies (tests/e2e/embed.spec.ts checks the served headers and real frames).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ALLOW_FRAMING, REFUSE_FRAMING, frameHeaders, headersFile } from '../../../src/lib/framing/frame-policy.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

test('/embed may be framed from any origin; every other path refuses framing', () => {
  for (const path of ['/embed', '/embed/', '/embed.html']) {
    expect(frameHeaders(path)['Content-Security-Policy']).toBe('frame-ancestors *');
    expect(frameHeaders(path)['X-Frame-Options']).toBeUndefined();
  }
  for (const path of ['/', '/index.html', '/model', '/chat', '/library', '/settings', '/compat', '/embedded', '/embed/x', '/x/embed']) {
    expect(frameHeaders(path)).toEqual({ 'Content-Security-Policy': "frame-ancestors 'none'", 'X-Frame-Options': 'DENY' });
  }
  // A site that isolates itself (COEP require-corp) can only frame a cross-origin page that allows it with CORP.
  expect(ALLOW_FRAMING['Cross-Origin-Resource-Policy']).toBe('cross-origin');
  expect(REFUSE_FRAMING['Cross-Origin-Resource-Policy']).toBeUndefined();
});

test('static/_headers is the policy (rewrite it with `npx tsx scripts/headers-file.ts`)', () => {
  const file = readFileSync(resolve(REPO_ROOT, 'static/_headers'), 'utf8');
  expect(file).toBe(headersFile());
  // /* refuses; the /embed rule detaches both refusal headers before allowing.
  const embedRule = file.slice(file.indexOf('\n/embed\n'));
  expect(embedRule).toContain('! X-Frame-Options');
  expect(embedRule).toContain('! Content-Security-Policy');
});
