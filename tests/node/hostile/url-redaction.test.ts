// Credentials in URLs (user:password@host, token-like query parameters) never reach an error message or a log line
// (issue 13, item 9, second half): the redaction rule itself, and errors from real requests and the real CLI.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsInText } from '../../../src/lib/url-redaction.ts';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';
import { RbeeError, toRbeeError } from '../../../src/lib/errors.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const SECRETS = ['s3cr3t-pass', 'hf_AbCdEfGhIjKlMnOpQrStUv', 'sig-value-123', 'key-456', 'alice'];
const expectNoSecret = (text: string): void => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

describe('redactUrl', () => {
  it('hides user-info and secret-looking parameters, and leaves other URLs exactly as given', () => {
    expect(redactUrl('https://alice:s3cr3t-pass@example.com/m.gguf')).toBe('https://***@example.com/m.gguf');
    expect(redactUrl('https://alice@example.com/m.gguf')).toBe('https://***@example.com/m.gguf');
    expect(redactUrl('https://h/m.gguf?download=true&token=abc&X-Amz-Signature=sig-value-123&api_key=key-456#access_token=t')).toBe(
      'https://h/m.gguf?download=true&token=***&X-Amz-Signature=***&api_key=***#access_token=***',
    );
    expect(redactUrl('https://h/m.gguf?x=hf_AbCdEfGhIjKlMnOpQrStUv')).toBe('https://h/m.gguf?x=***');
    for (const plain of ['https://huggingface.co/o/r/resolve/main/m.gguf?download=true', 'http://127.0.0.1:7855/v1/jobs/a%20b', 'not a url']) {
      expect(redactUrl(plain)).toBe(plain);
    }
  });

  it('finds URLs inside text', () => {
    expect(redactUrlsInText('Could not reach https://alice:s3cr3t-pass@h/m.gguf?token=hf_AbCdEfGhIjKlMnOpQrStUv: refused (see http://b/x).')).toBe(
      'Could not reach https://***@h/m.gguf?token=***: refused (see http://b/x).',
    );
  });

  it('every RbeeError redacts its message and hint, however it was made', () => {
    const e = new RbeeError('http', 'https://alice:s3cr3t-pass@h/x answered 500', { hint: 'Try https://h/x?token=hf_AbCdEfGhIjKlMnOpQrStUv again.' });
    expectNoSecret(`${e.message} ${e.hint}`);
    expectNoSecret(toRbeeError(new TypeError('fetch failed for https://alice:s3cr3t-pass@h/')).message);
    expectNoSecret(JSON.stringify(e));
  });
});

describe('errors from real requests', () => {
  let server: RangeServer;
  beforeAll(async () => {
    server = await startRangeServer({ '/m.gguf': new Uint8Array(16) });
  });
  afterAll(() => server.close());

  it('HttpByteSource: a URL with credentials and a token, refused or missing, is never echoed in full', async () => {
    const host = server.url.replace('http://', '');
    for (const url of [
      `http://alice:s3cr3t-pass@${host}/m.gguf?token=hf_AbCdEfGhIjKlMnOpQrStUv`,
      `${server.url}/missing.gguf?X-Amz-Signature=sig-value-123&api_key=key-456`,
      `http://127.0.0.1:1/m.gguf?token=hf_AbCdEfGhIjKlMnOpQrStUv`,
    ]) {
      const e = await new HttpByteSource(url).read(0, 8).then(
        () => undefined,
        (x: unknown) => x as RbeeError,
      );
      expect(e, url).toBeInstanceOf(RbeeError);
      expectNoSecret(`${e!.message} ${e!.hint ?? ''}`);
      expect(e!.message).toMatch(/\*\*\*/);
    }
  });

  it('rbee-web inspect prints the error without the credentials', async () => {
    const out = await new Promise<{ stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [resolve(REPO_ROOT, 'bin/rbee-web.mjs'), 'inspect', `${server.url}/missing.gguf?token=hf_AbCdEfGhIjKlMnOpQrStUv`],
        { cwd: REPO_ROOT, timeout: 60_000 },
        (_error, stdout, stderr) => done({ stdout, stderr }),
      ),
    );
    expect(out.stdout + out.stderr).toMatch(/not-found/);
    expectNoSecret(out.stdout + out.stderr);
  });
});
