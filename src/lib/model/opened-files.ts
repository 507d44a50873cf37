/**
 * Local files the user dropped or picked, kept in memory for this tab so the model page can read them again by id.
 * A File cannot go into a URL, so the home page stores the files here and navigates to /model?local=<id>. After a
 * reload the map is empty; the model page then asks the user to open the files again (nothing persisted, nothing
 * uploaded).
 */
import { RbeeError } from '../errors.ts';

const opened = new Map<string, File[]>();

export function rememberOpenedFiles(files: File[]): string {
  const id = crypto.randomUUID().slice(0, 8);
  opened.set(id, [...files]);
  return id;
}

export function openedFiles(id: string): File[] | undefined {
  return opened.get(id);
}

/** What the model page and the chat say when their local files are gone (a reload, another tab): why, and what to do. */
export function filesNoLongerOpen(where: 'page' | 'chat'): RbeeError {
  return new RbeeError('files-closed', `The local files of this ${where} are no longer open: the page was reloaded or opened in another tab.`, {
    hint:
      'Open the files again from the home page: they are read in this tab only and never uploaded, so a reload forgets them. ' +
      'To keep a model across reloads and offline, open it from Hugging Face or a URL and choose “Download to this device”.',
  });
}
