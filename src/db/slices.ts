/** Ids per `in (...)` list: well under both dialects' limits on bound parameters. */
export const IDS_PER_QUERY = 1000;

/**
 * `items` in consecutive slices of at most `size`, for lists and multi-row inserts bound into one
 * statement each: both dialects limit how many parameters a statement may have.
 */
export function* slices<T>(items: readonly T[], size = IDS_PER_QUERY): Generator<T[]> {
  for (let from = 0; from < items.length; from += size) yield items.slice(from, from + size);
}
