/** wg-quick texts: a peer's client config and the gateway's own config. Pure functions, no I/O. */
import { hostRoute } from './pool.js';

export const PRIVATE_KEY_PLACEHOLDER = '<your-private-key>';
export const PRESHARED_KEY_PLACEHOLDER = '<preshared-key-shown-once-at-creation>';

/** WG_ENDPOINT may be a bare host or host:port; a bare host gets the listen port. */
export function endpointWithPort(endpoint: string | null, listenPort: number): string | null {
  if (!endpoint) return null;
  if (/^\[.+\]:\d+$/.test(endpoint) || /^[^:]+:\d+$/.test(endpoint)) return endpoint;
  return endpoint.includes(':') ? `[${endpoint}]:${listenPort}` : `${endpoint}:${listenPort}`;
}

export function clientConfig(p: {
  name: string;
  assignedIp: string;
  privateKey: string | null;
  presharedKey: string | null;
  hasPresharedKey: boolean;
  persistentKeepalive: number | null;
  serverPublicKey: string;
  endpoint: string | null;
  network: string;
}): string {
  const lines = [
    '[Interface]',
    `# MassaCorp peer: ${p.name.replace(/[\r\n]/g, ' ')}`,
    `PrivateKey = ${p.privateKey ?? PRIVATE_KEY_PLACEHOLDER}`,
    `Address = ${hostRoute(p.assignedIp)}`,
    '',
    '[Peer]',
    `PublicKey = ${p.serverPublicKey}`,
  ];
  if (p.hasPresharedKey) lines.push(`PresharedKey = ${p.presharedKey ?? PRESHARED_KEY_PLACEHOLDER}`);
  // Only the tunnel network goes through the tunnel: the API, not the client's whole traffic.
  lines.push(`AllowedIPs = ${p.network}`);
  lines.push(
    p.endpoint
      ? `Endpoint = ${p.endpoint}`
      : '# Endpoint = <gateway-host>:<port> (WG_ENDPOINT is not configured)',
  );
  if (p.persistentKeepalive) lines.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  return `${lines.join('\n')}\n`;
}

export function serverConfig(p: {
  privateKey: string;
  address: string;
  listenPort: number;
  peers: { name: string; publicKey: string; presharedKey: string | null; assignedIp: string }[];
}): string {
  const lines = [
    '[Interface]',
    `Address = ${p.address}`,
    `ListenPort = ${p.listenPort}`,
    `PrivateKey = ${p.privateKey}`,
  ];
  for (const peer of p.peers) {
    lines.push('', '[Peer]', `# ${peer.name.replace(/[\r\n]/g, ' ')}`, `PublicKey = ${peer.publicKey}`);
    if (peer.presharedKey) lines.push(`PresharedKey = ${peer.presharedKey}`);
    lines.push(`AllowedIPs = ${hostRoute(peer.assignedIp)}`);
  }
  return `${lines.join('\n')}\n`;
}
