/**
 * Which files "Download to this device" fetches for the model a page shows, and the record the library keeps: all
 * files of the chosen candidate (split GGUF parts, a SafeTensors set with its index, config and tokenizer files) from
 * a Hugging Face repository (with the hub's SHA-256 per file), or the files the descriptor names for a plain URL
 * (split parts found beside it).
 */
import { hfFileId, type CachedModel } from '../../cache/cached-models.ts';
import type { Verdict } from '../../compat/verdict.ts';
import { RbeeError } from '../../errors.ts';
import { hfFileUrl, parseHfRef } from '../../hub/hf.ts';
import type { InspectResult } from '../../model/inspect.ts';
import type { ModelRef } from '../../model/model-ref.ts';

export function downloadPlan(model: ModelRef, result: InspectResult, verdict: Verdict, hubBase: string): CachedModel {
  if (model.kind === 'local') {
    throw new RbeeError('bad-value', 'These files are already on this device.', { hint: 'Open them again from the home page to run them.' });
  }
  const d = result.descriptor;
  const candidate = result.chosen >= 0 ? result.candidates[result.chosen] : undefined;
  const stored = {
    verdict: { runs: verdict.runs, confidence: verdict.confidence, engine: verdict.engine, ...(verdict.reasons[0] ? { summary: verdict.reasons[0] } : {}) },
    format: d.format,
    architecture: d.architecture,
    ...(d.fileType ? { quantization: d.fileType } : candidate?.quantization ? { quantization: candidate.quantization } : {}),
    createdAt: Date.now(),
  };
  if (result.hf && candidate) {
    const { repo, revision } = result.hf;
    const byPath = new Map(result.hf.files.map((f) => [f.path, f]));
    const files = candidate.files.map((path) => {
      const f = byPath.get(path);
      if (!f) throw new RbeeError('not-found', `${repo} does not list ${path}.`);
      const size = f.lfs?.size ?? f.size;
      const sha256 = f.lfs?.oid && /^[0-9a-f]{64}$/i.test(f.lfs.oid) ? f.lfs.oid.toLowerCase() : undefined;
      return { path, fileId: hfFileId(hubBase, repo, revision, path), url: hfFileUrl({ repo, revision }, path, hubBase), size, ...(sha256 ? { sha256 } : {}) };
    });
    return {
      ...stored,
      id: hfFileId(hubBase, repo, revision, candidate.primary),
      name: candidate.label && candidate.label !== candidate.primary ? `${repo} · ${candidate.label}` : `${repo} · ${candidate.primary}`,
      origin: { kind: 'hf', hubBase, repo, revision },
      primary: candidate.primary,
      files,
    };
  }
  // A plain URL (or one HF file URL the page opened as a file): the files the header named, by their URLs.
  const ref = parseHfRef(model.source, hubBase);
  if (ref?.path) {
    const files = d.files.map((f) => {
      const path = decodeURIComponent(new URL(f.location).pathname.split('/').pop() ?? '');
      const full = ref.path!.includes('/') ? `${ref.path!.slice(0, ref.path!.lastIndexOf('/') + 1)}${path}` : path;
      return { path: full, fileId: hfFileId(hubBase, ref.repo, ref.revision, full), url: f.location, size: f.size };
    });
    return { ...stored, id: files[0]!.fileId, name: `${ref.repo} · ${ref.path}`, origin: { kind: 'hf', hubBase, repo: ref.repo, revision: ref.revision }, primary: ref.path, files };
  }
  const files = d.files.map((f) => {
    if (!/^https?:\/\//i.test(f.location)) throw new RbeeError('bad-value', `${f.location} is not a web address; only files from a server can be downloaded.`);
    const path = decodeURIComponent(new URL(f.location).pathname.split('/').pop() || f.location);
    return { path, fileId: f.location, url: f.location, size: f.size };
  });
  return { ...stored, id: files[0]!.fileId, name: d.name === files[0]!.path ? d.name : `${d.name} · ${files[0]!.path}`, origin: { kind: 'url' }, primary: files[0]!.path, files };
}
