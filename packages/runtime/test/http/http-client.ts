/** A tiny fetch wrapper for the HTTP tests: status, content type, raw text and parsed JSON. */

/** What a test reads from one response. */
export interface ApiResponse {
  status: number;
  contentType: string | null;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: unknown;
}

/** Sends one request; a plain-object body is sent as JSON, a string as is. */
export async function call(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${baseUrl}${route}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), headers: res.headers, text, json };
}

/** The `errorCode` of a Dapr error body. */
export function errorCodeOf(res: ApiResponse): unknown {
  return (res.json as { errorCode?: unknown } | undefined)?.errorCode;
}

/** The first ErrorInfo `reason` of a Dapr rich error body. */
export function reasonOf(res: ApiResponse): unknown {
  return (res.json as { details?: { reason?: unknown }[] } | undefined)?.details?.[0]?.reason;
}
