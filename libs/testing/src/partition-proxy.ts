import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of one server that a test can cut off from its clients, as a network
 * partition does: while cut, nothing is forwarded either way and nothing is closed (no error,
 * no reset: a client's command simply gets no answer); what was written meanwhile is held and
 * delivered once the cut heals, as TCP delivers it after a partition. Listens on a port the
 * kernel picks (`port` after `start`), so proxies of different test slots never meet.
 */
export class PartitionProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  /** Writes held while cut, in arrival order, to deliver on heal. */
  private held: { to: Socket; chunk: Buffer }[] = [];

  constructor(readonly upstream: { readonly host: string; readonly port: number }) {}

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
  }

  /** From now on nothing passes, either way, until `heal`. */
  partition(): void {
    this.cut = true;
  }

  /** Delivers what was held, in order, and passes everything again. */
  heal(): void {
    this.cut = false;
    const held = this.held;
    this.held = [];
    for (const { to, chunk } of held) if (!to.destroyed) to.write(chunk);
  }

  async stop(): Promise<void> {
    this.held = [];
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private relay(client: Socket): void {
    const server = connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client).add(server);
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (this.cut) this.held.push({ to, chunk });
      else to.write(chunk);
    };
    client.on('data', forward(server));
    server.on('data', forward(client));
    const close = () => {
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    client.on('error', close);
    server.on('error', close);
    client.on('close', close);
    server.on('close', close);
  }
}
