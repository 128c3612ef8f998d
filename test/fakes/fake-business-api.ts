import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake received, as it arrived on the wire. */
export interface BusinessApiRequest {
  method: string;
  /** The raw request target: path and query exactly as sent. */
  target: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Order {
  id: string;
  customer: string;
  status: string;
  items: string[];
}

/**
 * A shop's order API, as a business would expose it to ClariOps' HTTP tools,
 * over real HTTP:
 * - `GET /orders/:id?customer=…`: the order when it belongs to that customer;
 *   404 otherwise (so a tool that lets the model choose the customer would leak).
 * - `GET /orders?customer=…`: that customer's orders.
 * - `POST /tickets`: echoes the JSON body it got, with an id.
 * - `GET /huge`: 10 MB of text, streamed; `GET /hang`: never answers;
 *   `GET /moved`: a redirect to `/secret`; `GET /secret`: must never be reached;
 *   `GET /echo-auth`: answers with the Authorization header it received.
 * Requires `Authorization: Bearer <token>` on every route when a token is set.
 */
export class FakeBusinessApi {
  readonly requests: BusinessApiRequest[] = [];
  readonly orders: Order[] = [];
  token: string | null = null;
  /** How many bytes `/huge` managed to write before the client went away. */
  hugeBytesWritten = 0;
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) =>
      this.server.listen(0, '127.0.0.1', resolve),
    );
    return this.url;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.url ?? '/';
    const parsed = new URL(target, 'http://fake');
    const request: BusinessApiRequest = {
      method: req.method ?? 'GET',
      target,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
      return json(401, { error: 'unauthorized' });
    }
    const order = /^\/orders\/([^/]+)$/.exec(parsed.pathname);
    if (req.method === 'GET' && order) {
      const id = decodeURIComponent(order[1]);
      const found = this.orders.find(
        (o) => o.id === id && o.customer === request.query.customer,
      );
      return found ? json(200, found) : json(404, { error: 'no such order' });
    }
    if (req.method === 'GET' && parsed.pathname === '/orders') {
      return json(
        200,
        this.orders.filter((o) => o.customer === request.query.customer),
      );
    }
    if (req.method === 'POST' && parsed.pathname === '/tickets') {
      return json(201, {
        id: `T-${this.requests.length}`,
        got: JSON.parse(request.body || '{}') as unknown,
      });
    }
    if (parsed.pathname === '/huge') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const block = 'x'.repeat(64 * 1024);
      for (let sent = 0; sent < 10 * 1024 * 1024; sent += block.length) {
        if (res.destroyed) return;
        const more = res.write(block);
        this.hugeBytesWritten += block.length;
        if (!more) {
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
      }
      res.end();
      return;
    }
    if (parsed.pathname === '/hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (parsed.pathname === '/moved') {
      res.writeHead(302, { location: `${this.url}/secret` });
      res.end();
      return;
    }
    if (parsed.pathname === '/echo-auth') {
      return json(200, { youSent: req.headers.authorization ?? null });
    }
    json(404, { error: `no route ${req.method} ${parsed.pathname}` });
  }
}
