/**
 * Local files the user dropped or picked, kept in memory for this tab so the model page can read them again by id.
 * A File cannot go into a URL, so the home page stores the files here and navigates to /model?local=<id>. After a
 * reload the map is empty; the model page then asks the user to open the files again (nothing persisted, nothing
 * uploaded).
 */
const opened = new Map<string, File[]>();

export function rememberOpenedFiles(files: File[]): string {
  const id = crypto.randomUUID().slice(0, 8);
  opened.set(id, [...files]);
  return id;
}

export function openedFiles(id: string): File[] | undefined {
  return opened.get(id);
}
