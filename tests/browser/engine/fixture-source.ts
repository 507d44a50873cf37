// Shared fixture files (../shared/fixtures beside the checkout) read in the browser through the dev server's /@fs/.
import { server } from 'vitest/browser';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';

const root = server.config.root.replace(/\/$/, '');
export const FIXTURES_URL = `/@fs${root.replace(/\/[^/]+$/, '')}/shared/fixtures`;

/** The whole fixture in memory (they are small), or undefined when this checkout has no ../shared/fixtures. */
export async function fixtureSource(rel: string): Promise<MemoryByteSource | undefined> {
  const res = await fetch(`${FIXTURES_URL}/${rel}`);
  if (!res.ok) return undefined;
  return new MemoryByteSource(new Uint8Array(await res.arrayBuffer()), rel.split('/').pop());
}
