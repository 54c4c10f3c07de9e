/** Pure WireGuard logic: keys, the address pool, wg dump parsing, the reconcile plan, config texts, env checks. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/config.js';
import { clientConfig, endpointWithPort, serverConfig } from '../../src/modules/wireguard/config-file.js';
import { generateKeyPair, generatePresharedKey, publicKeyProblem } from '../../src/modules/wireguard/keys.js';
import { addressAt, hostRoute, parsePool } from '../../src/modules/wireguard/pool.js';
import { planReconcile } from '../../src/modules/wireguard/reconcile.js';
import { parseDump } from '../../src/modules/wireguard/wg-driver.js';
import { CidrSet } from '../../src/platform/http/network.js';

const hex = (h: string) => Buffer.from(h, 'hex').toString('base64');

describe('keys', () => {
  it('generates raw 32-byte x25519 keys whose public half matches the private one', () => {
    const pair = generateKeyPair();
    expect(Buffer.from(pair.privateKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(pair.publicKey, 'base64')).toHaveLength(32);
    expect(publicKeyProblem(pair.publicKey)).toBeNull();
    expect(generateKeyPair().publicKey).not.toBe(pair.publicKey);
    expect(Buffer.from(generatePresharedKey(), 'base64')).toHaveLength(32);
  });

  it('accepts keys made by other x25519 implementations', () => {
    const x = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!;
    expect(publicKeyProblem(Buffer.from(x, 'base64url').toString('base64'))).toBeNull();
  });

  it.each([
    ['', 'empty'],
    ['abc', 'short'],
    [Buffer.alloc(31, 9).toString('base64'), '31 bytes'],
    [Buffer.alloc(33, 9).toString('base64'), '33 bytes'],
    [Buffer.alloc(32, 9).toString('base64url').slice(0, 43), 'url-safe, unpadded'],
    [`${Buffer.alloc(32, 9).toString('base64').slice(0, 42)}B=`, 'non-canonical padding bits'],
    [Buffer.alloc(32).toString('base64'), 'all zero'],
    [hex('0100000000000000000000000000000000000000000000000000000000000000'), 'order 1'],
    [hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'), 'order 8'],
    [hex('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'), 'order 8'],
    [hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), 'p - 1'],
    [hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), 'p'],
    [hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), 'p + 1'],
  ])('refuses %s (%s)', (key) => {
    expect(publicKeyProblem(key)).not.toBeNull();
  });
});

describe('address pool', () => {
  it('a /24: server .1, clients .2 to .254 (253)', () => {
    const p = parsePool('10.10.0.0/24');
    expect(p).toMatchObject({
      network: '10.10.0.0/24',
      serverAddress: '10.10.0.1/24',
      serverIp: '10.10.0.1',
      firstClient: 2n,
      lastClient: 254n,
      capacity: 253n,
    });
    expect(addressAt(p, 2n)).toBe('10.10.0.2');
    expect(addressAt(p, 254n)).toBe('10.10.0.254');
  });

  it('normalises a CIDR written with host bits and handles any prefix', () => {
    expect(parsePool('10.10.0.77/24').network).toBe('10.10.0.0/24');
    expect(parsePool('10.10.0.0/28').capacity).toBe(13n);
    expect(parsePool('10.10.0.0/30').capacity).toBe(1n);
    expect(parsePool('10.10.0.0/31').capacity).toBe(0n);
    expect(parsePool('10.10.0.0/32').capacity).toBe(0n);
    expect(parsePool('10.0.0.0/8').capacity).toBe(16_777_213n);
    expect(addressAt(parsePool('10.0.0.0/16'), 258n)).toBe('10.0.1.2');
  });

  it('IPv6: no broadcast, offsets beyond 64 bits are capped to what PostgreSQL can add', () => {
    const p = parsePool('fd00:abcd::/120');
    expect(p).toMatchObject({
      family: 6,
      serverAddress: 'fd00:abcd::1/120',
      lastClient: 255n,
      capacity: 254n,
    });
    expect(addressAt(p, 2n)).toBe('fd00:abcd::2');
    const big = parsePool('fd00::/48');
    expect(big.lastClient).toBe((1n << 63n) - 1n);
    expect(hostRoute('fd00::2')).toBe('fd00::2/128');
    expect(hostRoute('10.1.2.3')).toBe('10.1.2.3/32');
  });
});

describe('wg show dump', () => {
  const dump = [
    'cHJpdmF0ZQ==\tc2VydmVy\t51820\toff',
    'QQ==\t(none)\t192.168.77.2:41000\t10.10.0.2/32\t1764230000\t1234\t5678\toff',
    'Qg==\tcHNr\t(none)\t10.10.0.3/32,10.20.0.0/24\t0\t0\t0\t25',
    '',
  ].join('\n');

  it('parses the interface and its peers', () => {
    const d = parseDump(dump);
    expect(d).toMatchObject({ privateKey: 'cHJpdmF0ZQ==', publicKey: 'c2VydmVy', listenPort: 51820 });
    expect(d.peers).toEqual([
      {
        publicKey: 'QQ==',
        presharedKey: null,
        endpoint: '192.168.77.2:41000',
        allowedIps: ['10.10.0.2/32'],
        latestHandshake: 1764230000,
        rxBytes: 1234,
        txBytes: 5678,
      },
      {
        publicKey: 'Qg==',
        presharedKey: 'cHNr',
        endpoint: null,
        allowedIps: ['10.10.0.3/32', '10.20.0.0/24'],
        latestHandshake: 0,
        rxBytes: 0,
        txBytes: 0,
      },
    ]);
    expect(parseDump('(none)\t(none)\t0\toff\n')).toEqual({
      privateKey: null,
      publicKey: null,
      listenPort: 0,
      peers: [],
    });
  });
});

describe('reconcile plan', () => {
  const actual = (publicKey: string, allowedIps: string[], presharedKey: string | null = null) => ({
    publicKey,
    presharedKey,
    endpoint: null,
    allowedIps,
    latestHandshake: 0,
    rxBytes: 0,
    txBytes: 0,
  });

  it('adds missing peers, updates changed ones, leaves matching ones', () => {
    const plan = planReconcile(
      [
        { publicKey: 'A', presharedKey: null, allowedIps: ['10.0.0.2/32'] },
        { publicKey: 'B', presharedKey: 'psk', allowedIps: ['10.0.0.3/32'] },
        { publicKey: 'C', presharedKey: null, allowedIps: ['10.0.0.4/32'] },
      ],
      [actual('A', ['10.0.0.2/32']), actual('B', ['10.0.0.3/32'], null), actual('C', ['10.0.0.9/32'])],
      new Set(['A', 'B', 'C']),
    );
    expect(plan.upserts.map((p) => p.publicKey)).toEqual(['B', 'C']);
    expect(plan.removals).toEqual([]);
  });

  it('removes only the peers it manages, unless told to prune unknown ones', () => {
    const current = [actual('MINE', ['10.0.0.2/32']), actual('FOREIGN', ['10.0.0.100/32'])];
    expect(planReconcile([], current, new Set(['MINE'])).removals).toEqual(['MINE']);
    expect(planReconcile([], current, new Set(['MINE']), true).removals).toEqual(['MINE', 'FOREIGN']);
  });
});

describe('config texts', () => {
  it('client config: full when the server generated the key, placeholders otherwise', () => {
    const base = {
      name: 'laptop\nInjected = x',
      assignedIp: '10.10.0.2',
      persistentKeepalive: 25,
      serverPublicKey: 'SRV=',
      endpoint: 'vpn.example:51820',
      network: '10.10.0.0/24',
    };
    const full = clientConfig({ ...base, privateKey: 'PRIV=', presharedKey: 'PSK=', hasPresharedKey: true });
    expect(full).toContain('PrivateKey = PRIV=\nAddress = 10.10.0.2/32');
    expect(full).toContain('PresharedKey = PSK=');
    expect(full).toContain(
      'AllowedIPs = 10.10.0.0/24\nEndpoint = vpn.example:51820\nPersistentKeepalive = 25',
    );
    expect(full).not.toMatch(/^Injected/m); // a name cannot add config lines
    const partial = clientConfig({
      ...base,
      privateKey: null,
      presharedKey: null,
      hasPresharedKey: true,
      endpoint: null,
      persistentKeepalive: null,
    });
    expect(partial).toContain('PrivateKey = <your-private-key>');
    expect(partial).toContain('PresharedKey = <preshared-key-shown-once-at-creation>');
    expect(partial).toContain('# Endpoint =');
    expect(partial).not.toContain('PersistentKeepalive');
  });

  it('server config and endpoints', () => {
    const text = serverConfig({
      privateKey: 'K=',
      address: '10.10.0.1/24',
      listenPort: 51820,
      peers: [{ name: 'p', publicKey: 'P=', presharedKey: null, assignedIp: '10.10.0.2' }],
    });
    expect(text).toBe(
      '[Interface]\nAddress = 10.10.0.1/24\nListenPort = 51820\nPrivateKey = K=\n\n[Peer]\n# p\nPublicKey = P=\nAllowedIPs = 10.10.0.2/32\n',
    );
    expect(endpointWithPort('vpn.example', 51820)).toBe('vpn.example:51820');
    expect(endpointWithPort('vpn.example:443', 51820)).toBe('vpn.example:443');
    expect(endpointWithPort('2001:db8::1', 51820)).toBe('[2001:db8::1]:51820');
    expect(endpointWithPort('[2001:db8::1]:9', 51820)).toBe('[2001:db8::1]:9');
    expect(endpointWithPort(null, 51820)).toBeNull();
  });
});

describe('network settings', () => {
  it.each([
    ['WG_NETWORK', '10.10.0.0/33'],
    ['WG_NETWORK', 'not-a-cidr'],
    ['WG_EXTRA_ALLOWED_CIDRS', '127.0.0.1/32,300.1.1.1/8'],
    ['TRUSTED_PROXIES', '10.0.0.0/8,nope'],
    ['WG_AGENT_INTERVAL', '0'],
    ['WG_LISTEN_PORT', '70000'],
    ['WG_INTERFACE', '-rf'],
    ['WG_INTERFACE', 'wg0; rm -rf /'],
    ['WG_INTERFACE', 'a-very-long-interface-name'],
  ])('refuses %s=%s at boot', (name, value) => {
    expect(() => testConfig({ [name]: value })).toThrow(ConfigError);
  });

  it('the guard matches IPv4, IPv4-mapped IPv6 and IPv6 ranges', () => {
    const set = new CidrSet(['10.10.0.0/24', 'fd00::/64', '127.0.0.1']);
    expect(set.contains('10.10.0.9')).toBe(true);
    expect(set.contains('::ffff:10.10.0.9')).toBe(true);
    expect(set.contains('10.10.1.9')).toBe(false);
    expect(set.contains('fd00::5')).toBe(true);
    expect(set.contains('127.0.0.1')).toBe(true);
    expect(set.contains('127.0.0.2')).toBe(false);
    expect(set.contains('garbage')).toBe(false);
  });
});
