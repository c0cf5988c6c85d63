// What generated message modules (assembly/gen) import: the wire format and the host-call helpers.
export { Message, Reader, WireType, Writer } from "./wire";
export { hostRequestPointer, takeHostResponse } from "./memory";
