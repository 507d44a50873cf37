/**
 * One lock per cached file, shared by every tab of the app: storing a chunk and counting it, marking a file complete,
 * repairing a manifest and deleting a file each run alone. Without it, a tab that deletes a model while another
 * downloads it left a manifest that claimed chunks the delete had removed, marked complete (issue 13): a model that
 * could neither load nor resume.
 *
 * The Web Locks API (navigator.locks) is per origin, across tabs and workers; where it is missing (Node tests, very old
 * browsers) a lock within this realm keeps the same order for this page at least. Locks are not re-entrant: code
 * holding a file's lock must not ask for it again.
 */
const LOCK_PREFIX = 'rbee-cache-file:';

/** The fallback: per name, the tail of a promise chain. */
const local = new Map<string, Promise<unknown>>();

function webLocks(): LockManager | undefined {
  return typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : undefined;
}

/** Runs `work` while holding the file's lock (exclusive, across tabs); resolves with its result. */
export function withFileLock<T>(fileId: string, work: () => Promise<T>): Promise<T> {
  const name = `${LOCK_PREFIX}${fileId}`;
  const locks = webLocks();
  if (locks) return locks.request(name, { mode: 'exclusive' }, () => work()) as Promise<T>;
  const previous = local.get(name) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.catch(() => undefined);
  local.set(name, tail);
  void tail.then(() => {
    if (local.get(name) === tail) local.delete(name);
  });
  return run;
}
