/** Wire format of the linkward UDP echo: shared by the probe client and the probe server. */
import { timingSafeEqual } from 'node:crypto';

/** Packet magic: "LWP1". */
export const ECHO_MAGIC = Buffer.from('LWP1', 'ascii');
/** Header: magic (4) + sequence (4) + nonce (8). Replies are exactly the header: never larger than the request. */
export const ECHO_HEADER_BYTES = 16;
/** Requests larger than this are dropped (header + a token of at most 240 bytes). */
export const ECHO_MAX_REQUEST_BYTES = 256;
/** IPv4 + UDP header bytes, plus Ethernet framing: used to count what a probe puts on the wire. */
export const UDP_WIRE_OVERHEAD_BYTES = 20 + 8 + 14;

/** Builds a request: header plus the token (if any). */
export function encodeEcho(seq: number, nonce: Buffer, token: string | undefined): Buffer {
  const head = Buffer.alloc(ECHO_HEADER_BYTES);
  ECHO_MAGIC.copy(head, 0);
  head.writeUInt32BE(seq >>> 0, 4);
  nonce.copy(head, 8, 0, 8);
  return token ? Buffer.concat([head, Buffer.from(token, 'utf8')]) : head;
}

/** Server side: the reply to send, or null to drop (bad magic, size or token). */
export function echoReply(msg: Buffer, token: string | undefined): Buffer | null {
  if (msg.length < ECHO_HEADER_BYTES || msg.length > ECHO_MAX_REQUEST_BYTES) return null;
  if (!msg.subarray(0, 4).equals(ECHO_MAGIC)) return null;
  if (token) {
    const given = msg.subarray(ECHO_HEADER_BYTES);
    const want = Buffer.from(token, 'utf8');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
  }
  return Buffer.from(msg.subarray(0, ECHO_HEADER_BYTES));
}

/** Client side: sequence number of a valid reply for `nonce`, else null. */
export function parseEchoReply(msg: Buffer, nonce: Buffer): number | null {
  if (msg.length !== ECHO_HEADER_BYTES || !msg.subarray(0, 4).equals(ECHO_MAGIC)) return null;
  if (!msg.subarray(8, 16).equals(nonce.subarray(0, 8))) return null;
  return msg.readUInt32BE(4);
}
