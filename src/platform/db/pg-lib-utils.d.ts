/** The one internal module of `pg` that pg-pipeline.ts imports (pg ships no types for it). */
declare module 'pg/lib/utils.js' {
  const utils: {
    /** Serialises a parameter as pg does for client.query (Dates, Buffers, arrays, objects as JSON). */
    prepareValue(value: unknown): unknown;
  };
  export default utils;
}
