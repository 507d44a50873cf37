/**
 * What /embed shows, from its URL: `?model=<HF reference | file URL>[&file=<name in the repository>]` — the same
 * parameters as a "try it now" link, so a site that has one can frame the other.
 */
import { RbeeError } from '../../errors.ts';

export interface EmbedRequest {
  source: string;
  file?: string;
}

/** The model the embed names, or a typed error a site owner can fix from the message alone. */
export function embedRequestFromUrl(url: URL): EmbedRequest | RbeeError {
  const source = url.searchParams.get('model')?.trim();
  if (!source) {
    return new RbeeError('bad-value', 'No model given.', {
      hint: 'Add ?model=<owner/repo, a huggingface.co link or a file URL> (and &file=<file in the repository>) to the embed address.',
    });
  }
  const file = url.searchParams.get('file')?.trim() || undefined;
  return file ? { source, file } : { source };
}
