import { AddressInfo, createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP proxy between a client and a server (for tests: between an API process and Redis) that
 * can lose a reply on purpose: armed with markers (bytes that name one command; for a Lua
 * script, its SHA as EVALSHA sends it and a line of its text as EVAL sends it, which ioredis
 * does first on each connection), it forwards the next client write that carries one of them
 * to the server, then drops everything the server answers on that connection and cuts both
 * sides once the server has answered. The server has run the command; the client never learns
 * it, and re-sends it on the next connection (ioredis does) or reports the loss.
 */
export class CuttingProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private armed?: { markers: readonly string[]; cut: () => void; swallow: boolean };
  /** Until this time (epoch ms) every new connection is closed at once: the server is "down". */
  private downUntil = 0;
  private readonly sightings = new Map<string, number>();
  private readonly watched = new Set<string>();

  /** `listenPort` 0: a port the kernel picks (`port` after `start`). */
  constructor(
    private readonly listenPort: number,
    readonly upstream: { readonly host: string; readonly port: number },
  ) {}

  get port(): number {
    return this.server ? (this.server.address() as AddressInfo).port : this.listenPort;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
  }

  /** Takes back a `cutAfter` or `swallowNext` that has not fired (its promise never settles). */
  disarm(): void {
    this.armed = undefined;
  }

  /**
   * Arms the cut: resolves once a command carrying one of `markers` reached the server and the
   * connection it came on was cut before the server's reply got through.
   */
  cutAfter(markers: readonly string[]): Promise<void> {
    this.watch(markers);
    return new Promise((resolve) => (this.armed = { markers, cut: resolve, swallow: false }));
  }

  /**
   * Arms a loss of the command itself: the next client write carrying one of `markers` never
   * reaches the server, the connection is cut, and for `downMs` every new connection is closed
   * at once. Resolves as soon as the command was swallowed. ioredis keeps a command it sent
   * and got no answer for, and re-sends it once a connection is ready again
   * (`autoResendUnfulfilledCommands`): to lose it for good, the test kills the client's process
   * while the server is "down".
   */
  swallowNext(markers: readonly string[], downMs: number): Promise<void> {
    this.watch(markers);
    return new Promise((resolve) => {
      this.armed = {
        markers,
        swallow: true,
        cut: () => {
          this.downUntil = Date.now() + downMs;
          resolve();
        },
      };
    });
  }

  /** Counts, from now on, the client writes that carry one of `markers`. */
  watch(markers: readonly string[]): void {
    for (const marker of markers) this.watched.add(marker);
  }

  /** How often `markers` were seen since watched (a command, then its re-send: 2). */
  seen(markers: readonly string[]): number {
    return markers.reduce((n, marker) => n + (this.sightings.get(marker) ?? 0), 0);
  }

  async stop(): Promise<void> {
    this.downUntil = 0;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private relay(client: Socket): void {
    if (Date.now() < this.downUntil) {
      client.destroy();
      return;
    }
    const server = connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client).add(server);
    let cutting = false;
    // The end of the previous write, so a marker split across two writes is still seen.
    let tail = '';
    const close = () => {
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    client.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      for (const marker of this.watched) {
        const added = occurrences(text, marker) - occurrences(tail, marker);
        if (added > 0) this.sightings.set(marker, (this.sightings.get(marker) ?? 0) + added);
      }
      const armed = this.armed;
      if (armed && armed.markers.some((marker) => text.includes(marker))) {
        this.armed = undefined;
        if (armed.swallow) {
          close();
          armed.cut();
          return;
        }
        cutting = true;
        server.once('data', () =>
          // The server answers a batch it read together in one go; a moment more lets the rest
          // of a long batch land before the cut.
          setTimeout(() => {
            close();
            armed.cut();
          }, 20),
        );
      }
      tail = text.slice(-256);
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (!cutting) client.write(chunk);
    });
    client.on('error', close);
    server.on('error', close);
    client.on('close', close);
    server.on('close', close);
  }
}

function occurrences(text: string, marker: string): number {
  let n = 0;
  for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + marker.length)) n++;
  return n;
}

/**
 * A CuttingProxy in front of each node of a Redis Cluster (one alone in front of one Redis),
 * armed together: a command is cut on whichever node it goes to (a drop's script goes to the
 * primary of the drop's slot), and the others are disarmed once one has fired.
 */
export class CuttingProxies {
  constructor(readonly proxies: readonly CuttingProxy[]) {}

  async start(): Promise<void> {
    for (const proxy of this.proxies) await proxy.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.stop()));
  }

  /** CuttingProxy.cutAfter, on the node the command goes to. */
  cutAfter(markers: readonly string[]): Promise<void> {
    return this.first((proxy) => proxy.cutAfter(markers));
  }

  /** CuttingProxy.swallowNext: the node the command went to is "down" for `downMs`, no other. */
  swallowNext(markers: readonly string[], downMs: number): Promise<void> {
    return this.first((proxy) => proxy.swallowNext(markers, downMs));
  }

  watch(markers: readonly string[]): void {
    for (const proxy of this.proxies) proxy.watch(markers);
  }

  /** How often `markers` were seen on all nodes together. */
  seen(markers: readonly string[]): number {
    return this.proxies.reduce((n, proxy) => n + proxy.seen(markers), 0);
  }

  private async first(arm: (proxy: CuttingProxy) => Promise<void>): Promise<void> {
    const fired = await Promise.race(this.proxies.map((proxy) => arm(proxy).then(() => proxy)));
    for (const proxy of this.proxies) if (proxy !== fired) proxy.disarm();
  }
}
