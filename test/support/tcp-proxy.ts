import {
  createConnection,
  createServer,
  type Server,
  type Socket,
} from 'node:net';

export interface TcpProxyOptions {
  /** Port to listen on, on 127.0.0.1; 0 (the default) picks a free one. */
  listenPort?: number;
  targetHost?: string;
  targetPort: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL, Redis), so
 * that a test can take the server away from the service and give it back:
 *
 * - `drop()` destroys every open connection (the server "crashed");
 * - `refuse()` also closes the listening socket, so new connections get
 *   ECONNREFUSED (the server is down), until `restore()`;
 * - `blackhole()` keeps accepting but forwards nothing in either direction
 *   (a network partition: packets vanish, nothing is refused), until
 *   `heal()` (the connections carry on) or `restore()` (they died).
 */
export class TcpProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  /** Connections accepted during a blackhole, not yet connected upstream. */
  private readonly held = new Set<Socket>();
  /** Connections that were open when the blackhole began. */
  private readonly frozen = new Set<{ client: Socket; upstream: Socket }>();
  private mode: 'forward' | 'refuse' | 'blackhole' = 'forward';
  private listening = false;
  /** Connections accepted so far, forwarded or not. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer();
    const port = await listen(server, options.listenPort ?? 0);
    const proxy = new TcpProxy(
      server,
      port,
      options.targetHost ?? '127.0.0.1',
      options.targetPort,
    );
    proxy.listening = true;
    server.on('connection', (socket: Socket) => proxy.accept(socket));
    return proxy;
  }

  /** `scheme://user@127.0.0.1:<proxy port>/path`: a URL with its host replaced by the proxy. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Open connections through the proxy (both halves alive). */
  get openConnections(): number {
    return this.pairs.size + this.frozen.size + this.held.size;
  }

  /** Destroys every open connection; new ones are still accepted. */
  drop(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.destroyStalled();
  }

  /** Destroys the connections a `blackhole()` froze or held. */
  private destroyStalled(): void {
    for (const { client, upstream } of this.frozen) {
      client.destroy();
      upstream.destroy();
    }
    this.frozen.clear();
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  /** Drops every connection and refuses new ones (ECONNREFUSED) until `restore()`. */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    this.drop();
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }

  /**
   * Open connections stop carrying data and new ones are accepted but never
   * answered, as when the network between the service and the server fails.
   * Ends with `heal()` (the network comes back and the connections carry on)
   * or `restore()` (the connections died meanwhile).
   */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const pair of this.pairs) {
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
      this.frozen.add(pair);
    }
    this.pairs.clear();
  }

  /** Ends a `blackhole()`: held connections resume where they stopped. */
  heal(): void {
    this.mode = 'forward';
    for (const pair of this.frozen) {
      this.pairs.add(pair);
      pair.client.pipe(pair.upstream);
      pair.upstream.pipe(pair.client);
      pair.client.resume();
      pair.upstream.resume();
    }
    this.frozen.clear();
    const waiting = [...this.held];
    this.held.clear();
    for (const client of waiting) this.forward(client);
  }

  /**
   * Forwards again. Connections held by `blackhole()` are destroyed (the
   * partition lasted long enough for both ends to give up on them).
   */
  async restore(): Promise<void> {
    this.destroyStalled();
    this.mode = 'forward';
    if (!this.listening) {
      await listen(this.server, this.port);
      this.listening = true;
    }
  }

  async close(): Promise<void> {
    this.mode = 'refuse';
    this.drop();
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }

  private accept(client: Socket): void {
    this.connections += 1;
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (this.mode === 'blackhole') {
      client.pause();
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.forward(client);
  }

  private forward(client: Socket): void {
    if (client.destroyed) return;
    const upstream = createConnection({
      host: this.targetHost,
      port: this.targetPort,
    });
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      this.frozen.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', close);
    upstream.once('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
