import { AddressInfo, createServer, Server, Socket, connect } from 'node:net';

/** One request message a client sent over Nest's TCP transport. */
export interface TappedMessage {
  readonly pattern: string;
  readonly data: unknown;
}

/**
 * A TCP proxy in front of a Nest TCP microservice (the wallet) that records every request
 * message a client sends through it, decoded from the transport's framing (`<length>#<json>`,
 * length in characters). For tests of what goes over the wire, e.g. that debits asked together
 * leave as one message: nothing is changed on the way, answers flow back untouched.
 */
export class FrameTap {
  readonly messages: TappedMessage[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  /** Listens on an ephemeral loopback port; answers it. */
  async start(): Promise<number> {
    this.server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** The messages sent with `pattern`. */
  sent(pattern: string): unknown[] {
    return this.messages.filter((m) => m.pattern === pattern).map((m) => m.data);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    let buffer = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => {
      upstream.write(chunk);
      buffer += chunk;
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash < 0) break;
        const length = Number(buffer.slice(0, hash));
        if (buffer.length < hash + 1 + length) break;
        const json = buffer.slice(hash + 1, hash + 1 + length);
        buffer = buffer.slice(hash + 1 + length);
        const message = JSON.parse(json) as { pattern: unknown; data: unknown };
        const pattern =
          typeof message.pattern === 'string' ? message.pattern : JSON.stringify(message.pattern);
        this.messages.push({ pattern, data: message.data });
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }
}
