/**
 * A gateway in front of both mocks: the Gemini API mock for Gemini API keys and the Vertex AI mock for
 * Vertex express keys (`vertex:<key>` entries of `GEMINI_API_KEYS`), on loopback.
 *
 * @module
 */
import { fakeKey, type Harness, startHarness } from "./harness.ts";
import { fakeVertexKey, MockVertex } from "./mock_vertex.ts";

/** A harness with a Vertex mock beside the Gemini one. */
export interface VertexHarness extends Harness {
  vertex: MockVertex;
  /** The Gemini API keys of the pool. */
  geminiKeys: string[];
  /** The Vertex express keys of the pool (without their `vertex:` prefix). */
  vertexKeys: string[];
}

/** Options of {@link startVertexHarness}. */
export interface VertexHarnessOptions {
  /** How many Gemini API keys (default 0). */
  gemini?: number;
  /** How many Vertex express keys (default 2). */
  vertex?: number;
  env?: Record<string, string>;
}

/** Starts both mocks and a gateway whose pool has the asked keys. Close it at the end of the test. */
export async function startVertexHarness(o: VertexHarnessOptions = {}): Promise<VertexHarness> {
  const vertex = await MockVertex.start();
  const geminiKeys = Array.from({ length: o.gemini ?? 0 }, (_, i) => fakeKey(i + 1));
  const vertexKeys = Array.from({ length: o.vertex ?? 2 }, (_, i) => fakeVertexKey(i + 1));
  // Interleaved, so that a round robin over both kinds alternates between them.
  const keys: string[] = [];
  for (let i = 0; i < Math.max(geminiKeys.length, vertexKeys.length); i++) {
    if (geminiKeys[i]) keys.push(geminiKeys[i]);
    if (vertexKeys[i]) keys.push(`vertex:${vertexKeys[i]}`);
  }
  const h = await startHarness({ keys, env: { VERTEX_BASE_URL: vertex.url, ...o.env } });
  vertex.reset();
  return {
    ...h,
    vertex,
    geminiKeys,
    vertexKeys,
    async close() {
      await h.close();
      await vertex.close();
    },
  };
}
