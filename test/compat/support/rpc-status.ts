/**
 * A minimal protobuf wire decoder for `google.rpc.Status` and `google.rpc.ErrorInfo`, written apart
 * from the runtime's encoder on purpose: a wrong field number on either side makes the tests fail
 * instead of agreeing with itself. Field numbers are those of google/rpc/status.proto and
 * google/rpc/error_details.proto.
 */

/** A decoded `google.protobuf.Any`. */
export interface DecodedAny {
  typeUrl: string;
  value: Buffer;
}

/** A decoded `google.rpc.Status`. */
export interface DecodedStatus {
  code: number;
  message: string;
  details: DecodedAny[];
}

/** A decoded `google.rpc.ErrorInfo`. */
export interface DecodedErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

type Field = { number: number; varint?: number; bytes?: Buffer };

function readVarint(buf: Buffer, offset: number): [number, number] {
  let result = 0;
  let shift = 0;
  let pos = offset;
  for (;;) {
    const byte = buf[pos];
    if (byte === undefined) throw new Error('truncated varint');
    result += (byte & 0x7f) * 2 ** shift;
    pos += 1;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

/** The fields of one message, in wire order (only varint and length-delimited types occur here). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const number = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0) {
      const [value, next] = readVarint(buf, afterTag);
      out.push({ number, varint: value });
      pos = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(buf, afterTag);
      out.push({ number, bytes: buf.subarray(start, start + length) });
      pos = start + length;
    } else {
      throw new Error(`unexpected wire type ${wireType} for field ${number}`);
    }
  }
  return out;
}

function text(field: Field | undefined): string {
  return field?.bytes?.toString('utf8') ?? '';
}

/** Decodes a serialized `google.rpc.Status` (the `grpc-status-details-bin` value). */
export function decodeStatus(buf: Buffer): DecodedStatus {
  const all = fields(buf);
  return {
    code: all.find((f) => f.number === 1)?.varint ?? 0,
    message: text(all.find((f) => f.number === 2)),
    details: all
      .filter((f) => f.number === 3)
      .map((f) => {
        const any = fields(f.bytes ?? Buffer.alloc(0));
        return { typeUrl: text(any.find((a) => a.number === 1)), value: any.find((a) => a.number === 2)?.bytes ?? Buffer.alloc(0) };
      }),
  };
}

/** Decodes a serialized `google.rpc.ErrorInfo`. */
export function decodeErrorInfo(buf: Buffer | Uint8Array): DecodedErrorInfo {
  const all = fields(Buffer.from(buf));
  const metadata: Record<string, string> = {};
  for (const entry of all.filter((f) => f.number === 3)) {
    const kv = fields(entry.bytes ?? Buffer.alloc(0));
    metadata[text(kv.find((f) => f.number === 1))] = text(kv.find((f) => f.number === 2));
  }
  return { reason: text(all.find((f) => f.number === 1)), domain: text(all.find((f) => f.number === 2)), metadata };
}
