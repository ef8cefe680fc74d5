/**
 * `run`, deferred until the event loop has run the callbacks of its current pass (setImmediate), and
 * run once however often the returned function is called before then. Under load one pass runs
 * the callbacks of many requests, so work they each ask for (a lookup, a claim) can go together.
 */
export function oncePerPass(run: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      run();
    });
  };
}
