import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/** The sender went away before its body was complete: there is no one to answer and nothing was received. */
export class BodyAborted extends Error {
  constructor() {
    super('the sender closed the connection before the body was complete');
    this.name = 'BodyAborted';
  }
}

/** Reads the body once as bytes (the signature is checked over them, then they are parsed), refusing more than `limit`. */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit} bytes (MAX_BODY_BYTES)`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.resume();
        reject(new HttpError(413, `body is over the limit of ${limit} bytes (MAX_BODY_BYTES)`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (!done) reject(req.complete ? error : new BodyAborted());
      done = true;
    });
    // A closed connection does not always come with an error; without this the delivery would wait forever.
    req.on('close', () => {
      if (!done && !req.complete) reject(new BodyAborted());
      done = true;
    });
  });
}
