/**
 * Watches the config dir and calls back once per burst of changes. Editors
 * save in several steps (vim: write a backup, rename, write, delete; others:
 * write a temp file and rename it over the original), so events are debounced
 * and a file is reported only once its size has stopped changing. The
 * callback carries no details on purpose: the controller re-reads the whole
 * dir, which makes a missed or reordered event harmless.
 */
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';

export interface ConfigWatchOptions {
  debounceMs: number;
  /** File names the spec loader skips (editor backups, swap files); their churn triggers nothing. */
  ignoreName?: (name: string) => boolean;
}

export interface ConfigWatch {
  /** Resolves once the initial scan is done, so changes after it are seen. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchConfigDir(dir: string, onChange: () => void, options: ConfigWatchOptions): ConfigWatch {
  let timer: NodeJS.Timeout | undefined;
  const trigger = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, options.debounceMs);
  };
  const ignoreName = options.ignoreName;
  const watcher: FSWatcher = watch(dir, {
    ignoreInitial: true,
    depth: 0,
    atomic: true,
    awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 },
    ignored: ignoreName ? (path: string) => path !== dir && ignoreName(baseName(path)) : undefined,
  });
  watcher.on('all', trigger);
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
