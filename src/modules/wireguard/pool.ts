/**
 * The address pool of WG_NETWORK, IPv4 or IPv6, any prefix length. Offsets count from the network address:
 * 0 is the network itself, 1 the server, clients take 2 and up; IPv4 keeps its broadcast address out.
 */
import ipaddr from 'ipaddr.js';

const BIGINT_MAX = (1n << 63n) - 1n; // PostgreSQL bigint: inet arithmetic works within it

export interface AddressPool {
  /** Canonical CIDR, e.g. 10.10.0.0/24. */
  network: string;
  family: 4 | 6;
  prefix: number;
  /** Server address with the network's prefix (wg-quick Address of the gateway). */
  serverAddress: string;
  serverIp: string;
  firstClient: bigint;
  /** Last client offset; below firstClient when the network has no room for clients. */
  lastClient: bigint;
  capacity: bigint;
}

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const len = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = 0; i < len; i++) bytes.unshift(Number((value >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

export function parsePool(cidr: string): AddressPool {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - prefix);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << hostBits) - 1n);
  const base = toBigInt(addr.toByteArray()) & mask;
  const size = 1n << hostBits;
  const last = family === 4 ? size - 2n : size - 1n;
  const lastClient = last > BIGINT_MAX ? BIGINT_MAX : last;
  const serverIp = fromBigInt(base + 1n, family);
  return {
    network: `${fromBigInt(base, family)}/${prefix}`,
    family,
    prefix,
    serverAddress: `${serverIp}/${prefix}`,
    serverIp,
    firstClient: 2n,
    lastClient,
    capacity: lastClient >= 2n ? lastClient - 1n : 0n,
  };
}

export function addressAt(pool: AddressPool, offset: bigint): string {
  const [addr] = ipaddr.parseCIDR(pool.network);
  return fromBigInt(toBigInt(addr.toByteArray()) + offset, pool.family);
}

/** The /32 or /128 a peer owns on the interface. */
export function hostRoute(ip: string): string {
  return `${ip}/${ipaddr.parse(ip).kind() === 'ipv4' ? 32 : 128}`;
}
