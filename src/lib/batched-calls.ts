export interface BatchedCallsOptions<Item, Answer> {
  /** Most items one batch holds; the rest wait for the next. */
  maxBatch: number;
  /** Most batches running at once. */
  maxInFlight: number;
  /** Runs one batch (one statement, say) and answers each item, in the order of `items`. */
  run(items: Item[]): Promise<readonly Answer[]>;
}

/**
 * Calls gathered into batches, so that many callers cost one round trip: each call joins the next
 * batch and gets its own answer. A batch starts once the event loop has run the callbacks of its
 * current pass, so every request handled in that pass joins it (under load, many; idle, one, with no
 * delay beyond the pass). While `maxInFlight` batches run, calls wait, and the next batch starts as
 * one finishes. Exact for lookups: an item's batch always starts after the item was added, never
 * before, so it sees everything committed before its caller asked.
 */
export function batchedCalls<Item, Answer>(options: BatchedCallsOptions<Item, Answer>): (item: Item) => Promise<Answer> {
  const waiting: { item: Item; resolve(answer: Answer): void; reject(error: unknown): void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  const startBatches = (): void => {
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight++;
      (async () => options.run(batch.map((entry) => entry.item)))()
        .then(
          (answers) => batch.forEach((entry, index) => entry.resolve(answers[index] as Answer)),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          inFlight--;
          startBatches();
        });
    }
  };
  // After the callbacks of this pass, not after the current one only: at 50 clients that doubled the
  // items per statement (replay-cache claims 7 → 13, introspection lookups 8 → 15; docs/performance.md).
  const startAfterThisPass = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      startBatches();
    });
  };

  return (item) =>
    new Promise<Answer>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      startAfterThisPass();
    });
}
