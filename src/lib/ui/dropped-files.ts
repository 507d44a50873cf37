/**
 * The files in a drop: plain files as they are, and dropped folders (a SafeTensors model folder dragged from the
 * file manager) walked for the files inside. Walking is bounded, so dropping a home folder by mistake cannot hang
 * the tab: a model folder has a few dozen files.
 */
const MAX_FILES = 2000;
const MAX_DEPTH = 4;

export async function filesFromDrop(data: DataTransfer): Promise<File[]> {
  // Entries must be taken synchronously, before the event handler returns (the DataTransfer is then emptied).
  const entries = [...data.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((e) => e === null)) return [...data.files];
  const files: File[] = [];
  for (const entry of entries) await collect(entry!, files, 0);
  return files;
}

async function collect(entry: FileSystemEntry, into: File[], depth: number): Promise<void> {
  if (into.length >= MAX_FILES) return;
  if (entry.isFile) {
    into.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    return;
  }
  if (!entry.isDirectory || depth >= MAX_DEPTH) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the listing in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await collect(child, into, depth + 1);
  }
}
