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
  return (arg) => {
    const hit = cache.get(arg);
    if (hit !== undefined || cache.has(arg)) return hit as T;
    const value = fn(arg);
    if (cache.size >= size) cache.clear();
    cache.set(arg, value);
    return value;
  };
}
