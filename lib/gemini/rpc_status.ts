/**
 * Google's error envelope (`google.rpc.Status` as JSON) and its parser. Every Gemini API error comes
 * back in this shape: `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
 * "details": [...]}}`.
 *
 * Source: https://ai.google.dev/gemini-api/docs/troubleshooting and
 * https://cloud.google.com/apis/design/errors#error_model
 *
 * @module
 */

/** A `google.rpc.Status` error body as Google sends it. */
export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    status: string;
    details?: Array<Record<string, unknown>>;
  };
}

/** Parses a body as a Google error envelope; returns null when it is not one. */
export function parseGoogleError(text: string): GoogleErrorBody | null {
  try {
    const v = JSON.parse(text);
    // Some endpoints wrap the envelope in an array.
    const obj = Array.isArray(v) ? v[0] : v;
    if (obj && typeof obj === "object" && obj.error && typeof obj.error === "object") {
      const e = obj.error;
      return {
        error: {
          code: Number(e.code) || 0,
          message: String(e.message ?? ""),
          status: String(e.status ?? ""),
          details: Array.isArray(e.details) ? e.details : undefined,
        },
      };
    }
  } catch {
    // not JSON
  }
  return null;
}
