// SafeTensors headers under the 100 MB header limit that used to cost gigabytes and tens of seconds (issue 13, item 3):
// tens of millions of nested arrays, over a million tensors, a shape with millions of dimensions, an entry with
// millions of members. Each is inspected by the real CLI in its own process, timed and with its peak memory measured
// (/usr/bin/time), and must end in a typed limit-exceeded error within 20 s and 800 MB.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { SAFETENSORS_LIMITS } from '../../../src/lib/formats/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'rbee-hostile-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .safetensors file: u64 header length, the header text, then `dataBytes` zero bytes. */
function writeSafetensors(name: string, header: string, dataBytes = 0): string {
  const text = Buffer.from(header, 'utf8');
  expect(text.byteLength).toBeLessThan(SAFETENSORS_LIMITS.headerBytes); // under the limit that used to be the only one
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.byteLength));
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([prefix, text, Buffer.alloc(dataBytes)]));
  return file;
}

interface Run {
  code: number;
  out: Record<string, any>;
  stderr: string;
  seconds: number;
  peakMegabytes: number;
}

function inspectMeasured(file: string): Promise<Run> {
  return new Promise((done) => {
    execFile(
      '/usr/bin/time',
      ['-f', 'TIME %e %M', process.execPath, resolve(REPO_ROOT, 'bin/rbee-web.mjs'), 'inspect', '--json', file],
      { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const m = /TIME ([\d.]+) (\d+)/.exec(stderr);
        done({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          out: stdout.trim() ? (JSON.parse(stdout.trim().split('\n')[0]!) as Record<string, any>) : {},
          stderr: stderr.replace(/TIME .*\n?/, ''),
          seconds: m ? Number(m[1]) : Infinity,
          peakMegabytes: m ? Number(m[2]) / 1024 : Infinity,
        });
      },
    );
  });
}

function expectRefused(run: Run, message: RegExp): void {
  expect(run.out.error, JSON.stringify(run.out).slice(0, 300)).toMatchObject({ code: 'limit-exceeded' });
  expect(run.out.error.message).toMatch(message);
  expect(run.out.error.hint).toBeTruthy();
  expect(run.code).toBe(1);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(run.seconds).toBeLessThan(20);
  expect(run.peakMegabytes).toBeLessThan(800);
}

const tensor = (i: number): string => `"t${i}":{"dtype":"U8","shape":[1],"data_offsets":[${i},${i + 1}]}`;

describe('hostile SafeTensors headers end in limit-exceeded, in bounded time and memory', () => {
  it('tens of millions of nested arrays', async () => {
    const n = 30_000_000;
    const file = writeSafetensors('nested.safetensors', `{"a":${'['.repeat(n)}${']'.repeat(n)}}`);
    expectRefused(await inspectMeasured(file), /nested/);
  }, 60_000);

  it('over a million tensors', async () => {
    const n = 1_100_000;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(tensor(i));
    const file = writeSafetensors('many.safetensors', `{${parts.join(',')}}`, n);
    expectRefused(await inspectMeasured(file), /tensors/);
  }, 60_000);

  it('a shape with millions of dimensions', async () => {
    const dims = new Array<string>(5_000_000).fill('1').join(',');
    const file = writeSafetensors('rank.safetensors', `{"a":{"dtype":"U8","shape":[${dims}],"data_offsets":[0,1]}}`, 1);
    expectRefused(await inspectMeasured(file), /dimensions|items/);
  }, 60_000);

  it('a tensor entry with millions of members', async () => {
    const members: string[] = [];
    for (let i = 0; i < 5_000_000; i++) members.push(`"k${i}":0`);
    const file = writeSafetensors('members.safetensors', `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],${members.join(',')}}}`, 1);
    expectRefused(await inspectMeasured(file), /members/);
  }, 60_000);

  it('a real-shaped header of many tensors still reads (the limits leave room for real checkpoints)', async () => {
    const n = 20_000;
    const parts: string[] = ['"__metadata__":{"format":"pt"}'];
    for (let i = 0; i < n; i++) parts.push(`"model.layers.${i}.weight":{"dtype":"F32","shape":[1,1,1,1],"data_offsets":[${i * 4},${i * 4 + 4}]}`);
    const file = writeSafetensors('real-shaped.safetensors', `{${parts.join(',')}}`, n * 4);
    const run = await inspectMeasured(file);
    expect(run.out.error).toBeUndefined();
    expect(run.out.tensors).toHaveLength(n);
  }, 60_000);
});
