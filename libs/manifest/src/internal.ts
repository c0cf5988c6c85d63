/** Helpers shared with sibling packages; not part of the public API. */
export { describeFsError } from "./fs-error.js";
