import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  /** A short hash of the key: names it in each payload's metadata, never reveals it. */
  id: string;
  key: Buffer;
}

/** A key from its base64 text (32 bytes, AES-256). */
export function codecKey(base64: string): CodecKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error('INTERLOCK_CODEC_KEY: each key is 32 bytes in base64 (openssl rand -base64 32)');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * Encrypts every payload Interlock hands to Temporal (workflow input, results, activity inputs and
 * outputs, memos) with AES-256-GCM, so the history on the server's disk holds no value in clear
 * (docs/configuration.md). The first key encrypts; every key decrypts, by the id in the payload's metadata, so
 * keys rotate by putting the new one first. Payloads without our encoding pass through unchanged:
 * histories recorded before the codec still replay and read.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('a payload codec needs at least one key');
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = PayloadMessage.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.byId.get(id);
      if (!key) throw new Error(`A payload is encrypted with key ${id}, which is not in INTERLOCK_CODEC_KEY; add it (after the current one) to read it.`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return PayloadMessage.decode(plain) as Payload;
    });
  }
}

/**
 * The codec's keys: `INTERLOCK_CODEC_KEY` (comma-separated base64, the first encrypts), else the key
 * kept in `dataDir/codec.key`, made on first start (mode 0600). Processes on several machines
 * must share `INTERLOCK_CODEC_KEY`.
 */
export function loadCodecKeys(configured: string | undefined, dataDir: string): CodecKey[] {
  if (configured) return configured.split(',').filter((part) => part.trim()).map(codecKey);
  const file = join(dataDir, 'codec.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').split(/[\n,]/).filter((part) => part.trim()).map(codecKey);
}

/** The data converter every Interlock client and worker uses. */
export const dataConverterWith = (keys: CodecKey[]): DataConverter => ({ payloadCodecs: [new AesGcmCodec(keys)] });
