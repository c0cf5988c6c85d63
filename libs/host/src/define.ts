/**
 * Host functions are written against typed messages; this adapts them to the byte-level `env`
 * import contract. The message types come from the ABI table, so a handler cannot be registered
 * under a name whose messages it does not speak.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { hostImport } from "@tonearm/abi";

export type ByteHandler<Ctx> = (ctx: Ctx, request: Uint8Array) => Uint8Array;
export type AsyncByteHandler<Ctx> = (ctx: Ctx, request: Uint8Array) => Promise<Uint8Array>;

function messagesOf(name: string): { input: DescMessage; output: DescMessage } {
  const imp = hostImport(name);
  if (!imp) throw new Error(`env.${name} is not a host function of this ABI`);
  return imp;
}

/** A handler answered synchronously (inside the worker thread). A request that does not decode traps, as in Navidrome. */
export function syncHandler<Ctx, I extends DescMessage, O extends DescMessage>(
  name: string,
  _types: { input: I; output: O },
  handle: (ctx: Ctx, request: MessageShape<I>) => MessageInitShape<O>,
): ByteHandler<Ctx> {
  const { input, output } = messagesOf(name);
  return (ctx, bytes) => toBinary(output, create(output, handle(ctx, fromBinary(input, bytes) as MessageShape<I>) as MessageInitShape<DescMessage>));
}

/** A handler answered on the event loop (I/O). */
export function asyncHandler<Ctx, I extends DescMessage, O extends DescMessage>(
  name: string,
  _types: { input: I; output: O },
  handle: (ctx: Ctx, request: MessageShape<I>) => Promise<MessageInitShape<O>> | MessageInitShape<O>,
): AsyncByteHandler<Ctx> {
  const { input, output } = messagesOf(name);
  return async (ctx, bytes) =>
    toBinary(output, create(output, (await handle(ctx, fromBinary(input, bytes) as MessageShape<I>)) as MessageInitShape<DescMessage>));
}
