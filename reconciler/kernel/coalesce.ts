/**
 * Coalesces calls made within a short window into one batch (one `dmsetup
 * create --concise`, one `dmsetup remove A B C`), while every caller still
 * gets its own outcome. Time comes from an injected Scheduler so tests can
 * flush a window deterministically instead of sleeping.
 */

/** Runs `callback` after `delayMs`; returns a function that cancels it. */
export type Scheduler = (callback: () => void, delayMs: number) => () => void;

export const timerScheduler: Scheduler = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs one batch; must return exactly one outcome per item, in the same order. */
export type BatchRunner<T, R> = (items: readonly T[]) => Promise<ItemOutcome<R>[]>;

export interface CoalescingQueueOptions<T> {
  /** How long the first call of a batch waits for company. */
  windowMs: number;
  /** Items beyond this start a new batch at once (keeps one command line bounded). */
  maxBatchSize?: number;
  scheduler?: Scheduler;
  /** Error a caller gets when its signal aborts before its batch settles. */
  abortError: (item: T) => Error;
}

interface Waiter<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  detachAbort: () => void;
}

export class CoalescingQueue<T, R> {
  private pending: Waiter<T, R>[] = [];
  private cancelTimer: (() => void) | undefined;
  private readonly scheduler: Scheduler;
  private readonly maxBatchSize: number;

  constructor(
    private readonly runBatch: BatchRunner<T, R>,
    private readonly options: CoalescingQueueOptions<T>,
  ) {
    this.scheduler = options.scheduler ?? timerScheduler;
    this.maxBatchSize = options.maxBatchSize ?? 64;
  }

  /** Number of calls waiting for their window to close. */
  get waiting(): number {
    return this.pending.length;
  }

  submit(item: T, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) return Promise.reject(this.options.abortError(item));
    return new Promise<R>((resolve, reject) => {
      const waiter: Waiter<T, R> = { item, resolve, reject, settled: false, detachAbort: () => {} };
      if (signal) {
        // An aborted caller stops waiting at once. If its batch has not started
        // it is dropped from it; if it has, the batch still runs for the others
        // and the reconciler learns the truth from its next observation.
        const onAbort = () => {
          this.pending = this.pending.filter((other) => other !== waiter);
          this.settle(waiter, { ok: false, error: this.options.abortError(item) });
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.push(waiter);
      if (this.pending.length >= this.maxBatchSize) this.flush();
      else this.cancelTimer ??= this.scheduler(() => this.flush(), this.options.windowMs);
    });
  }

  /** Start the batch now (the window's timer calls this; tests may too). */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    void this.run(batch);
  }

  private async run(batch: Waiter<T, R>[]): Promise<void> {
    let outcomes: ItemOutcome<R>[];
    try {
      outcomes = await this.runBatch(batch.map((waiter) => waiter.item));
      if (outcomes.length !== batch.length) {
        throw new Error(`batch runner returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((waiter, index) => this.settle(waiter, outcomes[index]!));
  }

  private settle(waiter: Waiter<T, R>, outcome: ItemOutcome<R>): void {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.detachAbort();
    if (outcome.ok) waiter.resolve(outcome.value);
    else waiter.reject(outcome.error);
  }
}
