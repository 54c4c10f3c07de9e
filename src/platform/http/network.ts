/** IP matching for the WireGuard network guard, trusted proxies and tenant allowed_ip_ranges. */
import ipaddr from 'ipaddr.js';

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

function parseIp(ip: string): Parsed | null {
  try {
    const addr = ipaddr.parse(ip);
    // ::ffff:10.10.0.2 (dual-stack sockets) is the IPv4 address it carries.
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (addr as ipaddr.IPv6).toIPv4Address();
    }
    return addr;
  } catch {
    return null;
  }
}

export function normaliseIp(ip: string): string {
  return parseIp(ip)?.toString() ?? ip;
}

export class CidrSet {
  private readonly ranges: [Parsed, number][];
  constructor(cidrs: readonly string[]) {
    this.ranges = cidrs.map(
      (c) =>
        (c.includes('/')
          ? ipaddr.parseCIDR(c)
          : [ipaddr.parse(c), ipaddr.parse(c).kind() === 'ipv4' ? 32 : 128]) as [Parsed, number],
    );
  }
  get size() {
    return this.ranges.length;
  }
  contains(ip: string): boolean {
    const addr = parseIp(ip);
    if (!addr) return false;
    return this.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net as never, bits));
  }
}
