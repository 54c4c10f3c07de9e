/**
 * The interface, through the `wg` tool: execFile with argument arrays (never a shell string), keys in short-lived
 * 0600 files (never in argv, where `ps` would show them). Works the same over the kernel module and wireguard-go.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface DumpPeer {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
}

export interface InterfaceDump {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  peers: DumpPeer[];
}

export interface DesiredPeerConfig {
  publicKey: string;
  presharedKey: string | null;
  allowedIps: string[];
}

export interface WgDriver {
  dump(iface: string): Promise<InterfaceDump>;
  configureInterface(iface: string, privateKey: string, listenPort: number): Promise<void>;
  setPeer(iface: string, peer: DesiredPeerConfig): Promise<void>;
  removePeer(iface: string, publicKey: string): Promise<void>;
}

const none = (v: string | undefined) => (v === undefined || v === '(none)' || v === 'off' ? null : v);

/** Parses `wg show <if> dump`: the interface line, then one tab-separated line per peer. */
export function parseDump(text: string): InterfaceDump {
  const [head, ...rest] = text.trim().split('\n');
  const h = (head ?? '').split('\t');
  return {
    privateKey: none(h[0]),
    publicKey: none(h[1]),
    listenPort: Number(h[2] ?? 0) || 0,
    peers: rest
      .filter((l) => l.trim() !== '')
      .map((line) => {
        const f = line.split('\t');
        return {
          publicKey: f[0] ?? '',
          presharedKey: none(f[1]),
          endpoint: none(f[2]),
          allowedIps: none(f[3]) ? f[3]!.split(',').filter(Boolean) : [],
          latestHandshake: Number(f[4] ?? 0) || 0,
          rxBytes: Number(f[5] ?? 0) || 0,
          txBytes: Number(f[6] ?? 0) || 0,
        };
      }),
  };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(
            `${cmd} ${args[0] ?? ''} ${args[1] ?? ''} failed: ${String(stderr).trim() || err.message}`,
          ),
        );
      else resolve(stdout);
    });
  });
}

/**
 * `wg` reads keys from files only. Node's child stdin is a socket, which `wg` cannot open as /dev/stdin, so the
 * key goes through a 0600 file in a fresh 0700 directory that is removed at once.
 */
async function withKeyFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mc-wg-'));
  try {
    const file = path.join(dir, 'key');
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createWgDriver(wgBinary = 'wg'): WgDriver {
  return {
    async dump(iface) {
      return parseDump(await run(wgBinary, ['show', iface, 'dump']));
    },
    async configureInterface(iface, privateKey, listenPort) {
      await withKeyFile(privateKey, (file) =>
        run(wgBinary, ['set', iface, 'listen-port', String(listenPort), 'private-key', file]),
      );
    },
    async setPeer(iface, peer) {
      const allowed = ['allowed-ips', peer.allowedIps.join(',')];
      if (peer.presharedKey) {
        const psk = peer.presharedKey;
        await withKeyFile(psk, (file) =>
          run(wgBinary, ['set', iface, 'peer', peer.publicKey, 'preshared-key', file, ...allowed]),
        );
      } else {
        await run(wgBinary, ['set', iface, 'peer', peer.publicKey, 'preshared-key', '/dev/null', ...allowed]);
      }
    },
    async removePeer(iface, publicKey) {
      await run(wgBinary, ['set', iface, 'peer', publicKey, 'remove']);
    },
  };
}
