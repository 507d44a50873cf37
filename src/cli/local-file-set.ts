/**
 * A model on disk as a ModelFileSet (CLI only: Node file APIs). A file path opens that file with its folder around
 * it (split parts, shards, config.json beside it); a folder path lists the folder so `inspect` picks its model(s).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { RbeeError } from '../lib/errors.ts';
import type { ByteSource } from '../lib/formats/byte-source.ts';
import type { ListedFile } from '../lib/model/model-candidates.ts';
import type { ModelFileSet } from '../lib/model/model-file-set.ts';
import { NodeFileSource } from '../lib/formats/node-file-source.ts';

/** A model folder has a few dozen files; this bounds a walk started at the wrong place (a home directory). */
const MAX_LISTED_FILES = 10_000;
const MAX_DEPTH = 3;

export function isLocalPath(input: string): boolean {
  return existsSync(input);
}

/**
 * An input that names a file on this machine rather than a hub reference or URL: an absolute or relative path, a
 * Windows path, or a bare file name with a model file's extension ("model.gguf" — a hub reference has an owner/).
 */
export function looksLikeLocalPath(input: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input) || /^hf:/i.test(input)) return false;
  if (/^(\/|\.{1,2}[\/]|~[\/]|[A-Za-z]:[\/])/.test(input) || input.includes('\\')) return true;
  return !input.includes('/') && /\.(gguf|safetensors|json|bin|onnx|pt|pth)$/i.test(input);
}

/** A path-looking input that does not exist: "file not found", not "neither a reference nor a URL". */
export function localFileMissing(input: string): RbeeError {
  return new RbeeError('not-found', `There is no file or folder ${input}.`, {
    hint: 'Check the path (it is read relative to the current folder), or give an http(s) URL or a Hugging Face reference (owner/repo).',
  });
}

export function localFileSet(path: string): ModelFileSet {
  const full = resolve(path);
  const isDir = statSync(full).isDirectory();
  const root = isDir ? full : dirname(full);
  const opened: NodeFileSource[] = [];
  return {
    label: path,
    ...(isDir ? { listing: listFolder(root) } : { primary: basename(full) }),
    modelName: basename(root),
    async open(p: string): Promise<ByteSource | undefined> {
      const target = resolve(root, p);
      // Paths come from file contents (an index's weight_map): never leave the model's folder.
      if (relative(root, target).startsWith('..') || !existsSync(target) || !statSync(target).isFile()) return undefined;
      const source = await NodeFileSource.open(target);
      opened.push(source);
      return source;
    },
    async close() {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    },
  };
}

function listFolder(root: string): ListedFile[] {
  const out: ListedFile[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = resolve(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) walk(full, depth + 1);
      else if (entry.isFile()) {
        out.push({ path: relative(root, full).split(sep).join('/'), size: statSync(full).size });
        if (out.length > MAX_LISTED_FILES) {
          throw new RbeeError('limit-exceeded', `${root} holds more than ${MAX_LISTED_FILES} files: that is not a model folder.`, {
            hint: 'Give the model file or its own folder.',
          });
        }
      }
    }
  };
  walk(root, 0);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
