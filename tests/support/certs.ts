import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA: trusting it instead of `ca` must fail, and so must a client certificate it signed. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
}

/** The names the server's certificate holds. */
export const SERVER_NAMES = ['localhost', 'api-key.localhost'];

/**
 * A throwaway CA, a server certificate for 127.0.0.1 and `SERVER_NAMES`, and a client certificate,
 * made with openssl into `dir` (EC keys: quick to make, and what rustls and Node both accept).
 */
export function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path(name));
  const ca = (name: string, subject: string) => {
    key(`${name}.key`);
    openssl('req', '-x509', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.pem`), '-days', '2', '-subj', subject,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const signed = (name: string, subject: string, extensions: string, by = 'ca') => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${by}.pem`), '-CAkey', path(`${by}.key`), '-CAcreateserial',
      '-out', path(`${name}.pem`), '-days', '2', '-extfile', path(`${name}.ext`));
  };
  ca('ca', '/CN=Interlock test CA');
  ca('other-ca', '/CN=Someone else');
  const common = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';
  signed('server', '/CN=localhost', `${common}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,${SERVER_NAMES.map((name) => `DNS:${name}`).join(',')}\n`);
  signed('client', '/CN=interlock-worker', `${common}extendedKeyUsage=clientAuth\n`);
  signed('other-client', '/CN=someone-else', `${common}extendedKeyUsage=clientAuth\n`, 'other-ca');
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    otherCa: path('other-ca.pem'),
    otherClientCert: path('other-client.pem'),
    otherClientKey: path('other-client.key'),
  };
}
