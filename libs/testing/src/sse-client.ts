/** A minimal server-sent-events reader over fetch, for tests and measurements. */
export class SseClient<T> {
  private readonly abort = new AbortController();
  private waiters: { test: (frame: T) => boolean; resolve: (at: number) => void }[] = [];
  frames = 0;
  last?: T;

  static async open<T>(url: string): Promise<SseClient<T>> {
    const client = new SseClient<T>();
    const res = await fetch(url, { signal: client.abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`live stream answered ${res.status}`);
    void client.read(res.body.getReader());
    return client;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let text = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = text.indexOf('\n\n')) >= 0) {
          const data = text
            .slice(0, cut)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          text = text.slice(cut + 2);
          if (!data) continue;
          const at = performance.now();
          const frame = JSON.parse(data.slice(6)) as T;
          this.frames++;
          this.last = frame;
          this.waiters = this.waiters.filter((w) => {
            if (!w.test(frame)) return true;
            w.resolve(at);
            return false;
          });
        }
      }
    } catch {
      // closed
    }
  }

  /** Resolves with the arrival time (performance.now()) of the first frame passing `test`. */
  waitFor(test: (frame: T) => boolean, timeoutMs = 10_000): Promise<number> {
    if (this.last && test(this.last)) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such frame in time')), timeoutMs);
      this.waiters.push({
        test,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  close(): void {
    this.abort.abort();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
