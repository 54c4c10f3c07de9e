/**
 * The interface, through the `wg` tool: execFile with argument arrays (never a shell string), secrets on stdin
 * (never in argv, where `ps` would show them). Works the same over the kernel module and wireguard-go.
 */
import { execFile, spawn } from 'node:child_process';

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

function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (stdin === undefined) {
      execFile(cmd, args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args[0] ?? ''} ${args[1] ?? ''} failed: ${String(stderr).trim() || err.message}`));
        else resolve(stdout);
      });
      return;
    }
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
    let out = '';
    let errText = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (errText += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args[0] ?? ''} ${args[1] ?? ''} failed: ${errText.trim() || `exit ${code}`}`))));
    child.stdin.end(`${stdin}\n`);
  });
}

export function createWgDriver(wgBinary = 'wg'): WgDriver {
  return {
    async dump(iface) {
      return parseDump(await run(wgBinary, ['show', iface, 'dump']));
    },
    async configureInterface(iface, privateKey, listenPort) {
      await run(wgBinary, ['set', iface, 'listen-port', String(listenPort), 'private-key', '/dev/stdin'], privateKey);
    },
    async setPeer(iface, peer) {
      const allowed = ['allowed-ips', peer.allowedIps.join(',')];
      if (peer.presharedKey) {
        await run(wgBinary, ['set', iface, 'peer', peer.publicKey, 'preshared-key', '/dev/stdin', ...allowed], peer.presharedKey);
      } else {
        await run(wgBinary, ['set', iface, 'peer', peer.publicKey, 'preshared-key', '/dev/null', ...allowed]);
      }
    },
    async removePeer(iface, publicKey) {
      await run(wgBinary, ['set', iface, 'peer', publicKey, 'remove']);
    },
  };
}
