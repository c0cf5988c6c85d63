/**
 * Notices changes to the plugins folder: entries added, removed or renamed in the folder, and
 * files changing inside each plugin directory (symlink targets included, which a watch of the
 * folder alone would not see). Discovery reads nothing deeper, so nothing deeper is watched.
 * Bursts of events (a copy, an editor's save) become one call after `debounceMs` of quiet.
 */
import { watch, type FSWatcher } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "@tonearm/telemetry";

export interface FolderWatchOptions {
  readonly debounceMs: number;
  readonly logger: Logger;
  /** Called once the folder has been quiet for `debounceMs` after a change. */
  readonly onChange: () => void;
}

export interface FolderWatch {
  /** Watches exactly these plugin directories besides the folder (call after every scan). */
  trackPluginDirs(dirs: readonly string[]): void;
  close(): void;
}

export function watchFolder(folder: string, options: FolderWatchOptions): FolderWatch {
  return new DebouncedFolderWatch(resolve(folder), options);
}

class DebouncedFolderWatch implements FolderWatch {
  readonly #folder: string;
  readonly #options: FolderWatchOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(folder: string, options: FolderWatchOptions) {
    this.#folder = folder;
    this.#options = options;
    this.#open(folder);
  }

  trackPluginDirs(dirs: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set([this.#folder, ...dirs.map((dir) => resolve(dir))]);
    for (const [dir, watcher] of this.#watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of wanted) if (!this.#watchers.has(dir)) this.#open(dir);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  #open(dir: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, () => this.#changed());
    } catch (err) {
      // A folder that does not exist yet, or a plugin directory removed since the scan.
      this.#options.logger.warn({ err, dir }, "cannot watch directory for plugin changes");
      return;
    }
    watcher.on("error", (err) => {
      // The directory went away: drop the watch and let a rescan decide what that means.
      this.#options.logger.debug({ err, dir }, "directory watch ended");
      watcher.close();
      if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
      this.#changed();
    });
    this.#watchers.set(dir, watcher);
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#closed) this.#options.onChange();
    }, this.#options.debounceMs);
  }
}
