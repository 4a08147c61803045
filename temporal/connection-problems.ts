import { isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** What a connection to a Temporal frontend ran into below gRPC, found by trying it again by hand. */
export type ConnectionProblem =
  | 'refused'
  | 'server-speaks-tls'
  | 'server-speaks-plaintext'
  | 'untrusted'
  | 'expired'
  | 'wrong-name'
  | 'client-certificate-wanted'
  | 'client-certificate-refused'
  | 'none';

export interface ProbeOptions {
  address: string;
  /** As the connection would do TLS; undefined: plain. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string } | undefined;
  timeoutMs?: number;
}

/**
 * gRPC clients say little about why a connection failed (grpc-js: "Failed to connect before the
 * deadline"), so this repeats the connection's TCP and TLS steps with Node's own sockets, whose
 * errors name the cause: nothing listening, TLS on one side only, a certificate not trusted or
 * for another name, or a client certificate the server wants or refuses.
 */
export async function probeConnection({ address, tls, timeoutMs = 3_000 }: ProbeOptions): Promise<ConnectionProblem> {
  const { hostname, port } = new URL(`http://${address}`);
  const host = hostname.replace(/^\[|\]$/g, '');
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timeout')));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(Number(port || 7233), host);
  });
  if (!reachable) return 'refused';

  const handshake = (options: { verify: boolean }) =>
    new Promise<{ ok: true } | { ok: false; code: string }>((resolve) => {
      const servername = tls?.serverName ?? (isIP(host) ? undefined : host);
      const socket = tlsConnect({
        host,
        port: Number(port || 7233),
        ...(servername ? { servername } : {}),
        ALPNProtocols: ['h2'],
        rejectUnauthorized: options.verify,
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
      });
      let settled = false;
      const finish = (result: { ok: true } | { ok: false; code: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => finish({ ok: false, code: 'TIMEOUT' }), timeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => finish({ ok: false, code: error.code ?? error.message }));
      // With TLS 1.3 a server that wants a client certificate says so only after the handshake:
      // give its alert a moment to arrive before calling the handshake good.
      socket.once('secureConnect', () => setTimeout(() => finish({ ok: true }), 300));
      socket.once('end', () => finish({ ok: false, code: 'ECONNRESET' }));
    });

  if (!tls) {
    // Any TLS answer, a completed handshake or an alert (it wants a client certificate), is a TLS server.
    const result = await handshake({ verify: false });
    return result.ok || /ALERT/.test(result.code) ? 'server-speaks-tls' : 'none';
  }
  const result = await handshake({ verify: true });
  if (result.ok) return 'none';
  const code = result.code;
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|ECONNRESET|EPROTO/.test(code)) return 'server-speaks-plaintext';
  if (/ALTNAME|HOSTNAME/.test(code)) return 'wrong-name';
  if (/EXPIRED|NOT_YET_VALID/.test(code)) return 'expired';
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/.test(code)) return 'client-certificate-wanted';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR)/.test(code)) return 'client-certificate-refused';
  if (/VERIFY|SELF_SIGNED|ISSUER|SIGNATURE|UNTRUSTED|CERT_/.test(code)) return 'untrusted';
  return 'none';
}
