/**
 * What reading and validating each spec file found, kept between loads so a
 * file that did not change is neither read nor parsed again (the daemon loads
 * the whole config dir every pass).
 *
 * A file counts as unchanged when its device, inode, size, mtime and ctime
 * (in nanoseconds) are what they were when it was read. Like git's "racy"
 * index entries, that is trusted only for a file whose mtime and ctime were
 * already older than RACY_MARGIN_NS when it was read: a filesystem stamps
 * times with a coarse clock (a kernel tick, or whole seconds on some), so a
 * same-size rewrite right after the read could carry the same times. Such a
 * file is read again on each load until its times are old enough.
 *
 * Only the file's content is cached: its ownership and mode are checked on
 * every load, from the stat that also finds whether it changed.
 */
import type { BigIntStats } from 'node:fs';
import type { Diagnostic } from './types.js';
import type { CheckedDocument } from './validate-text.js';

/** Coarser than any filesystem's time stamps (FAT's are 2 s). */
export const RACY_MARGIN_NS = 3_000_000_000n;

/** What validating a file's content found, whoever may change it. */
export interface ContentOutcome {
  documents: CheckedDocument[];
  declaredNames: string[];
  diagnostics: Diagnostic[];
}

/** The stat fields that change whenever a file's content (or the file behind the name) does. */
export type FileFingerprint = Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

interface Entry {
  fingerprint: FileFingerprint;
  outcome: ContentOutcome;
  /** Loads since the last sweep in which the file was looked up. */
  seen: boolean;
}

export interface SpecFileCacheOptions {
  /** The wall clock in nanoseconds since the epoch, as file times are (default: Date.now()). */
  nowNs?: () => bigint;
}

export class SpecFileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly nowNs: () => bigint;
  /** Files read and validated (not served from the cache) since the cache was made. */
  reads = 0;

  constructor(options: SpecFileCacheOptions = {}) {
    this.nowNs = options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  /** The time to give `remember` for a file about to be stat'ed and read. */
  now(): bigint {
    return this.nowNs();
  }

  /** The outcome of `file` as last read, if its fingerprint says it has not changed since. */
  lookup(file: string, fingerprint: FileFingerprint): ContentOutcome | undefined {
    const entry = this.entries.get(file);
    if (entry === undefined) return undefined;
    entry.seen = true;
    return sameFingerprint(entry.fingerprint, fingerprint) ? entry.outcome : undefined;
  }

  /**
   * Keeps what reading `file` found, if the fingerprint taken before reading it (at `statedAtNs`) can tell
   * a later change; else forgets the file, so it is read again next time.
   */
  remember(file: string, fingerprint: FileFingerprint, statedAtNs: bigint, outcome: ContentOutcome): void {
    this.reads += 1;
    if (isRacy(fingerprint, statedAtNs)) {
      this.entries.delete(file);
      return;
    }
    this.entries.set(file, { fingerprint, outcome, seen: true });
  }

  /** Forgets the files not looked up since the last sweep (deleted or renamed away): memory stays per file. */
  sweep(): void {
    for (const [file, entry] of this.entries) {
      if (entry.seen) entry.seen = false;
      else this.entries.delete(file);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Could a write after `statedAtNs` leave the file with these same times? */
export function isRacy(fingerprint: FileFingerprint, statedAtNs: bigint): boolean {
  const newest = fingerprint.mtimeNs > fingerprint.ctimeNs ? fingerprint.mtimeNs : fingerprint.ctimeNs;
  return newest >= statedAtNs - RACY_MARGIN_NS;
}

function sameFingerprint(a: FileFingerprint, b: FileFingerprint): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}
