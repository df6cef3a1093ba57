/**
 * Paces sends at `ratePerSecond`: the n-th item goes no sooner than n / rate
 * seconds after the first (no pacing without a rate). `pace(count)` waits for
 * the turn of the next `count` items, sent together.
 */
export function pacer(ratePerSecond: number | undefined): (count?: number) => Promise<void> {
  const started = Date.now();
  let sent = 0;
  return async (count = 1) => {
    if (!ratePerSecond) return;
    const due = started + (sent / ratePerSecond) * 1000;
    sent += count;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
  };
}
