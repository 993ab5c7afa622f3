/*! craft-text | MIT */
// A one-line progress bar for long runs, drawn only on a terminal (stderr by default). When the stream is
// not a TTY (a pipe, a file, CI logs) every method is a no-op, so callers never need to check.
// Dependency-free on purpose: this short file covers what `eval`/`bench` need (count, percent, rate, ETA).

export interface ProgressOptions {
  /** Text before the bar, e.g. 'eval'. */
  label?: string;
  /** Where to draw. Default process.stderr (keeps stdout clean for --json). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force on/off; default: on exactly when the stream is a TTY. */
  enabled?: boolean;
  /** Minimum milliseconds between redraws (the final state is always drawn). Default 100. */
  intervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export interface Progress {
  readonly enabled: boolean;
  /** Advance by `n` (default 1); `note` (e.g. the current file name) is shown after the numbers. */
  tick(n?: number, note?: string): void;
  /** Set the absolute count. */
  update(done: number, note?: string): void;
  /** Draw the final state and end the line (idempotent). */
  stop(): void;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** Creates a progress bar for `total` steps. */
export function createProgress(total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? (stream as { isTTY?: boolean }).isTTY === true;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 100;
  const start = now();
  let done = 0, last = -Infinity, stopped = false, note = '', drawn = '';

  const render = (): void => {
    const width = Math.max(20, ((stream as { columns?: number }).columns ?? 80) - 1);
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const secs = (now() - start) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const stats = ` ${done}/${total} ${Math.floor(frac * 100)}% ${rate.toFixed(1)}/s ` +
      (done >= total ? duration(secs) : `ETA ${duration(eta)}`);
    const label = options.label ? `${options.label} ` : '';
    const barWidth = Math.max(10, Math.min(30, width - label.length - stats.length - 2));
    const filled = Math.round(frac * barWidth);
    let line = `${label}[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${stats}${note ? ' ' + note : ''}`;
    if (line.length > width) line = line.slice(0, width);
    drawn = `${done}|${note}`;
    stream.write(`\r${line}\x1b[K`);
  };

  const update = (value: number, n?: string): void => {
    if (!enabled || stopped) return;
    done = value;
    if (n !== undefined) note = n;
    const t = now();
    if (t - last >= interval || done >= total) {
      last = t;
      render();
    }
  };

  return {
    enabled,
    tick: (n = 1, nt?: string) => update(done + n, nt),
    update,
    stop: () => {
      if (!enabled || stopped) return;
      if (drawn !== `${done}|${note}`) render();
      stream.write('\n');
      stopped = true;
    },
  };
}
