/**
 * WireGuard peers: the server's interface, the peers with their last handshake and traffic, creating a peer
 * (the server generates the key pair unless a public key is given; its config and QR code are shown once),
 * downloading a peer's config, enabling/disabling and revoking.
 */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { api, authedFetch, call, saveBlob } from '../api/client';
import { t } from '../i18n';
import { useSession } from '../session';
import { DataTable, EmptyRow } from '../table';
import {
  Badge,
  Checkbox,
  ConfirmFor,
  CopyButton,
  FormDialog,
  fmtBytes,
  fmtRelative,
  Loaded,
  PageHeader,
  Select,
  ShownOnceDialog,
  TextField,
  toast,
  useAsync,
  withErrorToast,
} from '../ui';
import { ONLINE_WINDOW_MS } from './Overview';

type Peer = {
  id: string;
  name: string;
  description: string | null;
  peer_type: 'client' | 'service' | 'gateway';
  assigned_ip: string;
  public_key: string;
  enabled: boolean;
  revoked_at: string | null;
  expires_at: string | null;
  last_handshake_at: string | null;
  rx_bytes: number;
  tx_bytes: number;
};
type Created = Peer & { config: string; qr_code_base64: string | null; private_key: string | null };

function fileName(name: string) {
  return `${name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60) || 'peer'}.conf`;
}

export function WireguardScreen() {
  const session = useSession();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const server = useAsync(() => call(api.GET('/api/v1/wireguard/server')), []);
  const peers = useAsync(
    () =>
      call(
        api.GET('/api/v1/wireguard/peers', {
          params: { query: { include_revoked: includeRevoked, limit: 500 } },
        }),
      ),
    [includeRevoked],
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<Peer | null>(null);
  const canWrite = session.can('wireguard.write');

  function download(p: Peer) {
    return withErrorToast(async () => {
      const res = await authedFetch(`/api/v1/wireguard/peers/${p.id}/config`);
      saveBlob(new Blob([await res.text()], { type: 'text/plain' }), fileName(p.name));
    });
  }

  function toggle(p: Peer) {
    return withErrorToast(async () => {
      await call(
        api.PATCH('/api/v1/wireguard/peers/{id}', {
          params: { path: { id: p.id } },
          body: { enabled: !p.enabled },
        }),
      );
      toast(p.enabled ? t('wg.disabledToast', { name: p.name }) : t('wg.enabledToast', { name: p.name }));
      peers.reload();
    });
  }

  return (
    <div className="page">
      <PageHeader
        title={t('nav.wireguard')}
        sub={
          server.data
            ? t('wg.serverSub', { network: server.data.network, address: server.data.address })
            : undefined
        }
        actions={
          canWrite && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('wg.create')}
            </button>
          )
        }
      />
      {server.data && (
        <div className="cards">
          <div className="card">
            <span className="card-label">{t('wg.endpoint')}</span>
            <span className="card-value card-value-sm mono-sm">
              {server.data.endpoint
                ? `${server.data.endpoint}:${server.data.listen_port}`
                : t('wg.noEndpoint', { port: server.data.listen_port })}
            </span>
          </div>
          <div className="card">
            <span className="card-label">{t('wg.peersActive')}</span>
            <span className="card-value">
              {server.data.peers_active} <span className="card-sub">/ {server.data.peers_total}</span>
            </span>
          </div>
          <div className="card card-wide">
            <span className="card-label">{t('wg.serverKey')}</span>
            <span className="mono-sm break">{server.data.public_key}</span>
          </div>
        </div>
      )}
      <div className="filters">
        <Checkbox label={t('wg.showRevoked')} checked={includeRevoked} onChange={setIncludeRevoked} />
      </div>
      <Loaded load={peers} error={server.error ?? peers.error}>
        {(data) => (
          <DataTable
            caption={t('nav.wireguard')}
            columns={[
              { label: t('wg.name') },
              { label: t('wg.ip') },
              { label: t('wg.status') },
              { label: t('wg.handshake'), hideSm: true },
              { label: t('wg.traffic'), hideSm: true },
              { label: t('common.actions'), srOnly: true },
            ]}
          >
            {(data.peers as Peer[]).map((p) => {
              const online =
                p.last_handshake_at &&
                Date.now() - new Date(p.last_handshake_at).getTime() < ONLINE_WINDOW_MS;
              return (
                <tr key={p.id}>
                  <td>
                    <strong>{p.name}</strong>{' '}
                    <span className="muted small">{t(`wg.type.${p.peer_type}`)}</span>
                    {p.description && <div className="muted small">{p.description}</div>}
                  </td>
                  <td className="mono-sm">{p.assigned_ip}</td>
                  <td>
                    {p.revoked_at ? (
                      <Badge kind="bad">{t('wg.revoked')}</Badge>
                    ) : !p.enabled ? (
                      <Badge kind="muted">{t('wg.disabled')}</Badge>
                    ) : online ? (
                      <Badge kind="ok">{t('wg.online')}</Badge>
                    ) : (
                      <Badge kind="muted">{t('wg.offline')}</Badge>
                    )}
                  </td>
                  <td className="hide-sm">{fmtRelative(p.last_handshake_at)}</td>
                  <td className="hide-sm small">
                    ↓ {fmtBytes(p.rx_bytes)} · ↑ {fmtBytes(p.tx_bytes)}
                  </td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => void download(p)}
                      aria-label={t('wg.downloadNamed', { name: p.name })}
                    >
                      {t('wg.config')}
                    </button>
                    {canWrite && !p.revoked_at && (
                      <>
                        <button type="button" className="btn btn-small" onClick={() => void toggle(p)}>
                          {p.enabled ? t('wg.disable') : t('wg.enable')}
                        </button>
                        <button
                          type="button"
                          className="btn btn-small btn-danger"
                          onClick={() => setRevoking(p)}
                          aria-label={t('wg.revokeNamed', { name: p.name })}
                        >
                          {t('wg.revoke')}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
            {data.peers.length === 0 && <EmptyRow colSpan={6} text={t('wg.none')} />}
          </DataTable>
        )}
      </Loaded>
      <CreatePeerDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(p) => {
          setCreating(false);
          setCreated(p);
          peers.reload();
          server.reload();
        }}
      />
      <ShownOnceDialog
        item={created}
        title={(p) => t('wg.createdTitle', { name: p.name })}
        done={t('common.done')}
        onClose={() => setCreated(null)}
        actions={(p) => (
          <>
            <CopyButton text={p.config} label={t('wg.copyConfig')} />
            <button
              type="button"
              className="btn"
              onClick={() => saveBlob(new Blob([p.config], { type: 'text/plain' }), fileName(p.name))}
            >
              {t('wg.downloadConfig')}
            </button>
          </>
        )}
        wide
      >
        {(peer) => (
          <>
            {peer.private_key && <p className="notice notice-warn">{t('wg.shownOnce')}</p>}
            <div className="peer-created">
              {peer.qr_code_base64 && (
                <img
                  className="qr"
                  src={`data:image/png;base64,${peer.qr_code_base64}`}
                  alt={t('wg.qrAlt', { name: peer.name })}
                  width={220}
                  height={220}
                />
              )}
              <figure className="config-figure">
                <figcaption className="sr-only">{t('wg.configText')}</figcaption>
                <pre className="config">{peer.config}</pre>
              </figure>
            </div>
          </>
        )}
      </ShownOnceDialog>
      <ConfirmFor
        item={revoking}
        title={t('wg.revoke')}
        body={(p) => t('wg.revokeBody', { name: p.name })}
        action={t('wg.revoke')}
        onConfirm={async (p) => {
          await call(api.POST('/api/v1/wireguard/peers/{id}/revoke', { params: { path: { id: p.id } } }));
          toast(t('wg.revokedToast', { name: p.name }));
          peers.reload();
          server.reload();
        }}
        onClose={() => setRevoking(null)}
      />
    </div>
  );
}

function CreatePeerDialog(props: { open: boolean; onClose: () => void; onCreated: (p: Created) => void }) {
  const { register, reset, getValues } = useForm({
    defaultValues: {
      name: '',
      description: '',
      type: 'client' as Peer['peer_type'],
      publicKey: '',
      psk: false,
    },
  });
  return (
    <FormDialog
      open={props.open}
      title={t('wg.create')}
      onClose={props.onClose}
      onOpen={() => reset()}
      onSubmit={async () => {
        const { name, description, type, publicKey, psk } = getValues();
        const p = await call(
          api.POST('/api/v1/wireguard/peers', {
            body: {
              name,
              peer_type: type,
              ...(description.trim() ? { description: description.trim() } : {}),
              ...(publicKey.trim() ? { public_key: publicKey.trim() } : {}),
              ...(psk ? { preshared_key: true } : {}),
            },
          }),
        );
        props.onCreated(p as Created);
      }}
      submitLabel={t('wg.createSubmit')}
    >
      <TextField
        label={t('wg.name')}
        field="name"
        reg={register('name')}
        required
        maxLength={100}
        autoFocus
      />
      <TextField
        label={t('wg.description')}
        field="description"
        reg={register('description')}
        maxLength={500}
      />
      <Select
        label={t('wg.peerType')}
        reg={register('type')}
        options={[
          { value: 'client', label: t('wg.type.client') },
          { value: 'service', label: t('wg.type.service') },
          { value: 'gateway', label: t('wg.type.gateway') },
        ]}
      />
      <TextField
        label={t('wg.publicKey')}
        field="public_key"
        hint={t('wg.publicKeyHint')}
        reg={register('publicKey')}
        maxLength={64}
      />
      <Checkbox label={t('wg.psk')} reg={register('psk')} />
    </FormDialog>
  );
}
