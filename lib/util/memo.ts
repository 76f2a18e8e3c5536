/**
 * Bounded memoisation of pure functions of one string, for values computed per request from a
 * handful of distinct inputs (a client's address, its throttle scope). The cache holds at most `size`
 * entries and is emptied when full, so inputs a client chooses cannot grow it.
 *
 * @module
 */

/**
 * `fn` with its results remembered per argument (at most `size` of them, default 4096; then the
 * cache starts over). `fn` must be pure: same argument, same result.
 */
export function memoize<T>(fn: (arg: string) => T, size = 4096): (arg: string) => T {
  const cache = new Map<string, T>();
  // The last argument and answer: asked again with the same string, no map lookup (no hash of it).
  let lastArg: string | undefined;
  let lastValue: T | undefined;
  return (arg) => {
    if (arg === lastArg) return lastValue as T;
    let value = cache.get(arg);
    if (value === undefined && !cache.has(arg)) {
      value = fn(arg);
      if (cache.size >= size) cache.clear();
      cache.set(arg, value);
    }
    lastArg = arg;
    lastValue = value;
    return value as T;
  };
}
