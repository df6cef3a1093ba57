/**
 * Live updates by short polling: the deployments table and the target bucket
 * change from several places (the scorer, the CLI in another terminal, any
 * S3 client) and none of them pushes, so the server would poll anyway. Polling
 * from the page keeps the server stateless and survives its restarts. One
 * request at a time, paused while the tab is hidden.
 */
/** Returns `stop`, whose promise settles once no tick is in flight any more. */
export function startPolling(tick: () => Promise<void>, intervalMs: number): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: number | undefined;

  const schedule = (delay: number) => {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) timer = window.setTimeout(run, delay);
  };
  const run = async () => {
    if (running) return; // the tick in flight schedules the next one
    running = tick().catch(() => {
      // The page shows its own error state; keep trying.
    });
    await running;
    running = undefined;
    schedule(intervalMs);
  };
  const onVisibility = () => schedule(0);

  document.addEventListener('visibilitychange', onVisibility);
  schedule(0);
  return async () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    await running;
  };
}
