import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec, codecKey, ENCRYPTED_ENCODING, loadCodecKeys } from '../../temporal/payload-codec.js';

const key = () => codecKey(randomBytes(32).toString('base64'));
const payload = (value: unknown) => defaultPayloadConverter.toPayload(value)!;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();

describe('the payload codec (AES-256-GCM)', () => {
  it('encrypts every payload, naming its key, and decrypts it back exactly', async () => {
    const codec = new AesGcmCodec([key()]);
    const original = payload({ DbPassword: 's3cret-value', list: [1, 2] });
    const [encrypted] = await codec.encode([original]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata!['encryption-key-id'])).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(encrypted!.data!).includes('s3cret-value')).toBe(false);
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual({ DbPassword: 's3cret-value', list: [1, 2] });
  });

  it('rotates: a payload encrypted with the old key still reads once a new key comes first', async () => {
    const [older, newer] = [key(), key()];
    const [encrypted] = await new AesGcmCodec([older]).encode([payload('hello')]);
    const rotated = new AesGcmCodec([newer, older]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([encrypted!]))[0]!)).toBe('hello');
    const [fresh] = await rotated.encode([payload('again')]);
    expect(text(fresh!.metadata!['encryption-key-id'])).toBe(newer.id);
  });

  it('says which key is missing, refuses a tampered payload, and passes unencrypted ones through', async () => {
    const [encrypted] = await new AesGcmCodec([key()]).encode([payload('x')]);
    await expect(new AesGcmCodec([key()]).decode([encrypted!])).rejects.toThrow(/not in INTERLOCK_CODEC_KEY/);
    const codec = new AesGcmCodec([key()]);
    const [mine] = await codec.encode([payload('x')]);
    const tampered = { ...mine!, data: Buffer.from(mine!.data!).map((byte, i) => (i === 20 ? byte ^ 1 : byte)) };
    await expect(codec.decode([tampered])).rejects.toThrow();
    const plain = payload('recorded before the codec');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('takes keys from INTERLOCK_CODEC_KEY, or makes one in the data directory, readable by its owner only', () => {
    const [a, b] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    expect(loadCodecKeys(`${a},${b}`, '/nonexistent').map((k) => k.key.toString('base64'))).toEqual([a, b]);
    expect(() => loadCodecKeys('c2hvcnQ=', '/nonexistent')).toThrow(/32 bytes in base64/);
    const dir = mkdtempSync(join(tmpdir(), 'interlock-codec-'));
    try {
      const first = loadCodecKeys(undefined, dir);
      expect(statSync(join(dir, 'codec.key')).mode & 0o777).toBe(0o600);
      expect(loadCodecKeys(undefined, dir)).toEqual(first);
      expect(readFileSync(join(dir, 'codec.key'), 'utf8').trim()).toBe(first[0]!.key.toString('base64'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
