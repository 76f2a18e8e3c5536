/**
 * Whether a `ReadableStream` is a byte stream (one a BYOB reader can read), asked without trying:
 * `getReader({ mode: "byob" })` on another stream throws a `TypeError`, whose stack and message cost
 * more than the rest of reading a small body, and `Deno.serve` hands most small request bodies over as
 * plain streams (the bytes that came with the headers), larger ones as byte streams.
 *
 * Deno keeps a stream's controller under an internal symbol (`[[controller]]`); when that symbol is
 * not there (another runtime or version), the answer is unknown and the caller tries.
 *
 * @module
 */

let controllerKey: symbol | null | undefined;

/** True for a byte stream, false for another stream, undefined when this runtime does not tell. */
export function isByteStream(stream: ReadableStream): boolean | undefined {
  if (controllerKey === undefined) {
    controllerKey = Object.getOwnPropertySymbols(stream).find((k) => k.description === "[[controller]]") ??
      null;
  }
  if (controllerKey === null) return undefined;
  const controller = (stream as unknown as Record<symbol, unknown>)[controllerKey];
  if (controller === undefined) return undefined;
  return controller instanceof ReadableByteStreamController;
}

/** A BYOB reader when the stream is a byte stream, else undefined (the caller takes a default reader). */
export function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  if (isByteStream(stream) === false) return undefined;
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return undefined;
  }
}
