/**
 * Writing a new spec file into the config dir the way the daemon wants to
 * find it: whole or not at all (written to a hidden temporary name, which
 * the loader ignores, fsynced, then linked into place), never over an
 * existing file, mode 0644 like the rest of the config dir.
 */
import { constants } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Create `file` holding `text`; false (and nothing written) when `file` exists already. */
export async function createSpecFile(file: string, text: string): Promise<boolean> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await handle.writeFile(text);
    await handle.chmod(0o644); // whatever the umask
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // link(2), unlike rename(2), fails rather than replace a file someone wrote meanwhile.
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
  await syncDirectory(path.dirname(file));
  return true;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
