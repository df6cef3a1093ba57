/**
 * Live updates by short polling: the deployments table and the target bucket
 * change from several places (the scorer, the CLI in another terminal, any
 * S3 client) and none of them pushes, so the server would poll anyway. Polling
 * from the page keeps the server stateless and survives its restarts. One
 * request at a time, paused while the tab is hidden.
 */
export function startPolling(tick: () => Promise<void>, intervalMs: number): () => void {
  let stopped = false;
  let running = false;
  let timer: number | undefined;

  const schedule = (delay: number) => {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) timer = window.setTimeout(run, delay);
  };
  const run = async () => {
    if (running) return; // the tick in flight schedules the next one
    running = true;
    try {
      await tick();
    } catch {
      // The page shows its own error state; keep trying.
    } finally {
      running = false;
    }
    schedule(intervalMs);
  };
  const onVisibility = () => schedule(0);

  document.addEventListener('visibilitychange', onVisibility);
  schedule(0);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
