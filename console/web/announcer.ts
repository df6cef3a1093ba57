/** Status changes for screen readers: one polite live region for the whole console. */
let region: HTMLElement | undefined;

export function announce(message: string): void {
  region ??= document.getElementById('announcer') ?? undefined;
  if (!region) return;
  const target = region;
  // Clearing first makes a repeated message be read again.
  target.textContent = '';
  window.setTimeout(() => (target.textContent = message), 50);
}
