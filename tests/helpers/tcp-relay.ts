/**
 * A loopback TCP relay a test points clients at, so it can move them to another server (what Sentinel or
 * HAProxy does after a failover) or cut them off (a network partition: unlike a SIGSTOPped peer, whose kernel
 * still takes the stream into its socket buffer, a cut link carries nothing).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private readonly pairs = new Set<[Socket, Socket]>();
  private target: number | null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    target: number,
  ) {
    this.target = target;
  }

  static async start(targetPort: number): Promise<TcpRelay> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const relay = new TcpRelay(server, typeof addr === 'object' && addr ? addr.port : 0, targetPort);
    server.on('connection', (client) => relay.accept(client));
    return relay;
  }

  private accept(client: Socket): void {
    if (this.target === null) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private dropAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** New connections go to `port`; open ones are closed (their clients reconnect, to the new target). */
  retarget(port: number): void {
    this.target = port;
    this.dropAll();
  }

  /** Every open connection is closed, and new ones are refused until retarget(). */
  cut(): void {
    this.target = null;
    this.dropAll();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
