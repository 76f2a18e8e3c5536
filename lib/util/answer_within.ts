/**
 * A wait with a limit, for storage that can stop answering (a KV file another process holds).
 *
 * @module
 */

/**
 * `work`'s outcome, or a rejection with `no answer within <ms / 1000> s<hint>` once `ms` passed without
 * one (`work` itself goes on and may still settle later). The timer is cleared when `work` settles.
 */
export function answerWithin<T>(work: Promise<T>, ms: number, hint = ""): Promise<T> {
  let timer: number | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${ms / 1000} s${hint}`)),
      ms,
    ) as unknown as number;
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
