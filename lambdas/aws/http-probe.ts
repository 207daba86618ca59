/**
 * One GET against the live service: a deadline for the whole exchange (redirects and body
 * included), redirects followed only where the caller's policy allows, and the body read up to a
 * bound. Never throws for an HTTP or network failure: the answer says what happened.
 */
import { MAX_REDIRECTS, type SmokeResponse } from '../domain/smoke';

export type ProbeOutcome =
  | ({ readonly kind: 'response'; readonly url: string } & SmokeResponse)
  | { readonly kind: 'failure'; readonly url: string; readonly reason: string; readonly retryable: boolean };

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  /** Where a redirect may lead; a refusal ends the probe. */
  readonly followRedirect: (
    current: URL,
    location: string,
  ) => { readonly url: URL } | { readonly refused: string };
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export async function probe(fetchFn: typeof fetch, start: URL, options: ProbeOptions): Promise<ProbeOutcome> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = start;
  for (let redirects = 0; ; redirects += 1) {
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { accept: 'application/json, text/html;q=0.9, */*;q=0.5' },
      });
    } catch (error) {
      return networkFailure(url, error, options.timeoutMs);
    }
    if (!REDIRECT_STATUSES.has(response.status)) {
      try {
        const { text, truncated } = await readBounded(response, options.maxBodyBytes);
        return {
          kind: 'response',
          url: url.href,
          status: response.status,
          contentType: response.headers.get('content-type') ?? undefined,
          body: text,
          truncated,
        };
      } catch (error) {
        return networkFailure(url, error, options.timeoutMs);
      }
    }
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location) {
      return {
        kind: 'failure',
        url: url.href,
        reason: `HTTP ${response.status} without a Location`,
        retryable: false,
      };
    }
    if (redirects >= MAX_REDIRECTS) {
      return {
        kind: 'failure',
        url: url.href,
        reason: `more than ${MAX_REDIRECTS} redirects`,
        retryable: false,
      };
    }
    const next = options.followRedirect(url, location);
    if ('refused' in next) return { kind: 'failure', url: url.href, reason: next.refused, retryable: false };
    url = next.url;
  }
}

async function readBounded(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const bytes = Buffer.concat(chunks).subarray(0, maxBytes);
  return { text: new TextDecoder().decode(bytes), truncated };
}

/** The connection or the body read failed (or ran out of time): worth another try. */
function networkFailure(url: URL, error: unknown, timeoutMs: number): ProbeOutcome {
  return { kind: 'failure', url: url.href, reason: describeFetchError(error, timeoutMs), retryable: true };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no complete answer within ${timeoutMs} ms`;
  const message = (error as { message?: string })?.message ?? String(error);
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${message} (${detail})` : message;
}
