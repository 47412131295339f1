import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/** One POST a receiver got. */
export interface ReceivedDelivery {
  readonly id: string;
  readonly signature: string | undefined;
  readonly body: string;
  readonly json: {
    id: string;
    type: string;
    createdAt: string;
    seq: number;
    data: Record<string, unknown>;
  };
  /** Which attempt of this id it was at this receiver (1 = first). */
  readonly attempt: number;
}

/** What the receiver answers an attempt: a status, or nothing ever ('hang'). */
export type ReceiverAnswer = number | 'hang';

/**
 * A real HTTP receiver on loopback (an ephemeral port, so test slots never meet) that records
 * every delivery and answers as `answer` says, attempt by attempt; `accepted` is deduped by id,
 * as a brand's receiver would.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  /** Ids answered 2xx, once each. */
  readonly accepted = new Map<string, ReceivedDelivery>();
  /** Requests left hanging, still open. */
  readonly hanging = new Set<ServerResponse>();
  /** Hanging requests the sender gave up on (closed by the other side). */
  abandoned = 0;
  private readonly attempts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  constructor(
    private readonly answer: (attempt: number, id: string) => ReceiverAnswer = () => 200,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const json = JSON.parse(body) as ReceivedDelivery['json'];
    const attempt = (this.attempts.get(json.id) ?? 0) + 1;
    this.attempts.set(json.id, attempt);
    const signature = req.headers['flashdrop-signature'];
    const delivery: ReceivedDelivery = {
      id: json.id,
      signature: typeof signature === 'string' ? signature : undefined,
      body,
      json,
      attempt,
    };
    this.received.push(delivery);
    const answer = this.answer(attempt, json.id);
    if (answer === 'hang') {
      this.hanging.add(res);
      res.on('close', () => {
        if (this.hanging.delete(res)) this.abandoned++;
      });
      return;
    }
    if (answer >= 200 && answer < 300 && !this.accepted.has(json.id))
      this.accepted.set(json.id, delivery);
    res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
  }

  async stop(): Promise<void> {
    this.hanging.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
