/** A text progress bar for terminals: `[########------------]  42.0%`. */
export function progressBar(percent: number, width = 20): string {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const full = Math.round((p / 100) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${p.toFixed(1).padStart(5)}%`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
