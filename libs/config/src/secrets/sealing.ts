/**
 * Sealed setting values: AES-256-GCM under a cluster key, bound to the plugin and setting they
 * belong to, in a versioned text form that fits a protobuf string map.
 *
 *   tonearm-sealed:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>
 *
 *   key id   8 hex digits identifying the cluster key (derived from it, reveals nothing of it)
 *   iv       12 bytes: HMAC-SHA256(siv key, aad ‖ 0 ‖ value), so sealing is deterministic (the
 *            registry compares what it publishes with what it published) while two different
 *            values never share an IV, as GCM requires
 *   aad      "tonearm-sealed\0v1\0<plugin id>\0<setting>": a sealed value moved to another plugin
 *            or setting fails to open
 *
 * Encryption and IV keys are derived from the 32-byte cluster key with HKDF-SHA256. Equal values
 * of one setting seal equally: that much (whether a value changed) is visible on the bus.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { SecretsError, SecretsErrorCode } from "./errors.js";

export const SEALED_PREFIX = "tonearm-sealed:";
const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_FORM = /^tonearm-sealed:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+)$/;

/** A cluster key ready to seal and open: its derived keys and its id. */
export interface ClusterKey {
  /** 8 hex digits naming the key in sealed values and error texts. */
  readonly id: string;
  /** True for a key generated for this process alone (no cluster key configured). */
  readonly ephemeral: boolean;
  readonly encryptionKey: Buffer;
  readonly ivKey: Buffer;
}

/** Reads a configured cluster key: 32 bytes in base64. */
export function clusterKeyFromBase64(text: string): ClusterKey {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw new SecretsError(SecretsErrorCode.BadKey, `a cluster key is ${KEY_BYTES} random bytes in base64 (e.g. from \`openssl rand -base64 32\`), got ${bytes.length === 0 ? "text that is not base64" : `${bytes.length} bytes`}`);
  }
  return deriveKey(bytes, false);
}

let processKey: ClusterKey | undefined;

/**
 * The key of this process when no cluster key is configured: random, made once, shared by every
 * service of the process, so an embedded registry and worker understand each other and nothing
 * outside the process can open what they seal.
 */
export function processClusterKey(): ClusterKey {
  processKey ??= deriveKey(randomBytes(KEY_BYTES), true);
  return processKey;
}

function deriveKey(secret: Buffer, ephemeral: boolean): ClusterKey {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), `tonearm-sealed/${VERSION}/${info}`, KEY_BYTES));
  return { id: derive("key-id").subarray(0, 4).toString("hex"), ephemeral, encryptionKey: derive("encryption"), ivKey: derive("iv") };
}

/** Whether `value` is in the sealed form (whatever key sealed it). */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** The id of the key that sealed `value`, if it is a well-formed sealed value. */
export function sealedKeyId(value: string): string | undefined {
  return SEALED_FORM.exec(value)?.[1];
}

function associatedData(pluginId: string, setting: string): Buffer {
  return Buffer.from(`tonearm-sealed\0${VERSION}\0${pluginId}\0${setting}`, "utf8");
}

export function sealValue(key: ClusterKey, pluginId: string, setting: string, value: string): string {
  const aad = associatedData(pluginId, setting);
  const plaintext = Buffer.from(value, "utf8");
  const iv = createHmac("sha256", key.ivKey).update(aad).update(Buffer.of(0)).update(plaintext).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.encryptionKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${SEALED_PREFIX}${VERSION}:${key.id}:${body.toString("base64url")}`;
}

/** Opens a sealed value; throws SecretsError `wrong_key` or `corrupt`. */
export function openValue(key: ClusterKey, pluginId: string, setting: string, sealed: string): string {
  const where = `setting ${setting} of plugin ${pluginId}`;
  const match = SEALED_FORM.exec(sealed);
  if (!match) throw new SecretsError(SecretsErrorCode.Corrupt, `the sealed ${where} is not in the ${SEALED_PREFIX}${VERSION} form`);
  const [, keyId = "", encoded = ""] = match;
  if (!timingSafeEqual(Buffer.from(keyId), Buffer.from(key.id))) {
    const mine = key.ephemeral ? `no cluster key is configured here (this process made its own, ${key.id})` : `this process has cluster key ${key.id}`;
    throw new SecretsError(
      SecretsErrorCode.WrongKey,
      `the ${where} is sealed with cluster key ${keyId}, but ${mine}: give every Tonearm process of the cluster the same [security] clusterKey`,
    );
  }
  const body = Buffer.from(encoded, "base64url");
  if (body.length < IV_BYTES + TAG_BYTES) throw new SecretsError(SecretsErrorCode.Corrupt, `the sealed ${where} is truncated`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.encryptionKey, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(pluginId, setting));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch (err) {
    throw new SecretsError(SecretsErrorCode.Corrupt, `the sealed ${where} fails authentication: damaged, or sealed for another plugin or setting`, { cause: err });
  }
}
