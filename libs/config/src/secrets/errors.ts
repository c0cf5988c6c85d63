import { TonearmError } from "@tonearm/abi";

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

/** A failure to read a cluster key or to open a sealed value. */
export class SecretsError extends TonearmError {
  readonly code: SecretsErrorCode;

  constructor(code: SecretsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
