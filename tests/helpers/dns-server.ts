/** A tiny authoritative DNS server on a loopback UDP port (node:dgram + dns-packet), answering TXT records. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

export interface TestDnsServer {
  address: string;
  txt: Map<string, string[]>;
  queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const txt = new Map<string, string[]>();
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    const q = query.questions?.[0];
    if (!q) return;
    queries.push(q.name);
    const values = q.type === 'TXT' ? txt.get(q.name.toLowerCase()) : undefined;
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (values ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [q],
      answers: (values ?? []).map((v) => ({
        type: 'TXT' as const,
        name: q.name,
        ttl: 60,
        class: 'IN' as const,
        data: v,
      })),
    });
    socket.send(answer, rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    txt,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
