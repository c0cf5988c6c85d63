/** Why a sealed setting could not be opened (or a cluster key not read). */
export const SecretsErrorCode = {
  /** The cluster key given is not 32 bytes of base64. */
  BadKey: "bad_key",
  /** The value was sealed with another cluster key than this process has. */
  WrongKey: "wrong_key",
  /** The value does not decode or fails authentication: damaged, or moved to another plugin or key. */
  Corrupt: "corrupt",
} as const;
export type SecretsErrorCode = (typeof SecretsErrorCode)[keyof typeof SecretsErrorCode];

const isSecretsError = Symbol.for("tonearm.SecretsError");

/** A failure to read a cluster key or to open a sealed value; `instanceof` works across realms. */
export class SecretsError extends Error {
  readonly code: SecretsErrorCode;

  constructor(code: SecretsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SecretsError";
    this.code = code;
    Object.defineProperty(this, isSecretsError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): value is SecretsError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[isSecretsError] === true;
  }
}
