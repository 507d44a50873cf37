// A request that does not complete while the browser knows it is offline says the network is needed, not "Failed to
// fetch … must allow CORS" (issue 17); online, the fetch error and the usual checks stay. A real refused connection
// (a closed local port) stands in for the failing fetch.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';

const CLOSED_PORT_URL = 'http://127.0.0.1:9/model.gguf';

describe('an unreachable model URL', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('offline: "needs the network", and where models still open from', async () => {
    vi.stubGlobal('navigator', { onLine: false });
    await expect(new HttpByteSource(CLOSED_PORT_URL).read(0, 16)).rejects.toMatchObject({
      code: 'network',
      message: `This browser is offline: ${CLOSED_PORT_URL} needs the network.`,
      hint: expect.stringContaining('open from the Library'),
    });
  });

  it('online: the fetch error, with the address / connection / CORS checks', async () => {
    vi.stubGlobal('navigator', { onLine: true });
    const error = await new HttpByteSource(CLOSED_PORT_URL).read(0, 16).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'network', message: expect.stringMatching(/^Could not reach http:\/\/127\.0\.0\.1:9\/model\.gguf: /) });
    expect((error as { hint: string }).hint).toContain('CORS');
  });
});
