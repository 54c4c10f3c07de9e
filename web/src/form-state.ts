/** A form's field values held in one place, so that each form does not keep a useState and a reset line per field. */
import { useEffect, useRef, useState } from 'react';

/**
 * The values of a form's fields: `set('name')` is that field's onChange, `reset()` puts back the first values
 * (a create dialog on opening, a form after saving) and `reset(values)` loads others (an edit dialog, loaded data).
 */
export function useFields<T extends object>(initial: T) {
  // The first values are kept: callers pass a fresh literal on each render.
  const first = useRef(initial);
  const [fields, setFields] = useState(initial);
  const set =
    <K extends keyof T>(key: K) =>
    (value: T[K]) =>
      setFields((f) => ({ ...f, [key]: value }));
  const reset = (values: T = first.current) => setFields(values);
  return { fields, set, reset };
}

/**
 * useFields for a form that edits a record the API returned: filled from it, and filled again each time it
 * changes (loaded, or reloaded after a save, which returns what the API normalised). While the data is still
 * loading (undefined), the fields are `toFields(undefined)`; a failed reload leaves what is typed.
 */
export function useFieldsOf<D, T extends object>(data: D, toFields: (data: D) => T) {
  const form = useFields(toFields(data));
  const { reset } = form;
  // biome-ignore lint/correctness/useExhaustiveDependencies: refilled when the record changes, not on each render
  useEffect(() => {
    if (data !== undefined) reset(toFields(data));
  }, [data]);
  return form;
}

/** A set of checked items with one checked or unchecked: a new Set, since React state is never mutated. */
export function withMember<T>(set: ReadonlySet<T>, item: T, on: boolean): Set<T> {
  const next = new Set(set);
  if (on) next.add(item);
  else next.delete(item);
  return next;
}
