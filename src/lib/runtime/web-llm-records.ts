/**
 * web-llm model records built from a repository rather than web-llm's built-in catalogue:
 *
 *   model      the folder of the build on the hub: `${hub}/${repo}/resolve/${revision}/${folder}`
 *   model_id   the repository name (plus the folder, for repositories with several builds)
 *   model_lib  the compiled model library (.wasm). A build cannot run without one that matches its architecture,
 *              quantization and context setting. It is taken from the repository when it ships one, else from
 *              web-llm's catalogue entry for the same repository (those libraries are fetched from GitHub at load
 *              time: the first load needs the internet even when the weights come from a local hub).
 */
import { RbeeError } from '../errors.ts';
import { hfFileUrl } from '../hub/hf.ts';

/** The subset of web-llm's ModelRecord we build (kept structural so this file does not import web-llm). */
export interface MlcModelRecord {
  model: string;
  model_id: string;
  model_lib: string;
  required_features?: string[];
  overrides?: { context_window_size?: number };
}

export interface MlcBuildLocation {
  hubBase: string;
  repo: string;
  revision: string;
  /** Folder of mlc-chat-config.json in the repository, '' or ending in '/'. */
  folder: string;
  /** A .wasm model library in the same repository (path), when it ships one. */
  modelLibPath?: string;
  requiredFeatures: string[];
  contextLength?: number;
}

export function mlcModelId(repo: string, folder: string): string {
  const name = repo.slice(repo.indexOf('/') + 1);
  return folder ? `${name}/${folder.replace(/\/$/, '')}` : name;
}

/** Whether a catalogue record is the same repository (web-llm lists `https://huggingface.co/owner/name`). */
function sameRepository(recordModel: string, repo: string): boolean {
  const m = /huggingface\.co\/([^/]+\/[^/]+)/.exec(recordModel);
  return m !== null && m[1]!.toLowerCase() === repo.toLowerCase();
}

export function buildMlcRecord(build: MlcBuildLocation, catalogue: readonly { model: string; model_lib: string }[]): MlcModelRecord {
  const modelLib = build.modelLibPath
    ? hfFileUrl({ repo: build.repo, revision: build.revision }, build.modelLibPath, build.hubBase)
    : catalogue.find((r) => sameRepository(r.model, build.repo))?.model_lib;
  if (!modelLib) {
    throw new RbeeError('unsupported-architecture', `web-llm has no compiled model library for ${build.repo}, and the repository ships none (.wasm).`, {
      hint: "Choose a build from web-llm's catalogue (the mlc-ai/…-MLC repositories), or a GGUF version of this model.",
    });
  }
  const folderUrl = hfFileUrl({ repo: build.repo, revision: build.revision }, build.folder || '.', build.hubBase).replace(/\/\.?$/, '');
  return {
    model: `${folderUrl}/`,
    model_id: mlcModelId(build.repo, build.folder),
    model_lib: modelLib,
    ...(build.requiredFeatures.length > 0 ? { required_features: [...build.requiredFeatures] } : {}),
    ...(build.contextLength !== undefined ? { overrides: { context_window_size: build.contextLength } } : {}),
  };
}
