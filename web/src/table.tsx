/**
 * The list screens' table: one shell (scrolling wrapper, caption for screen readers, column headers) for all, with
 * optional sortable headers (a button in the header, `aria-sort` on the sorted one) and row selection (a
 * checkbox per row and a select-all in the header), so that every list sorts and selects the same way.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { t } from './i18n';

export interface Column {
  label: string;
  /** Hidden on small screens (the row shows what matters there). */
  hideSm?: boolean;
  /** Named for screen readers only, e.g. the actions column. */
  srOnly?: boolean;
  /** The API's sort key of this column (e.g. `email`): its header sorts by it, then reverses. */
  sortKey?: string;
}

/** The table's order: a column's sort key and its direction; null is the API's default order. */
export interface Sort {
  key: string;
  desc: boolean;
}

/** `sort=` of a list route: the key, with a leading `-` when descending. */
export function sortParam(sort: Sort | null): string | undefined {
  return sort ? `${sort.desc ? '-' : ''}${sort.key}` : undefined;
}

/** A click on a sortable header: that column ascending, or the other way when it is already the order. */
export function nextSort(current: Sort | null, key: string): Sort {
  return current?.key === key ? { key, desc: !current.desc } : { key, desc: false };
}

/** Which rows are selected, among the rows on show (`ids`); what a bulk action acts on. */
export interface Selection<K extends string | number> {
  ids: readonly K[];
  selected: ReadonlySet<K>;
  onChange: (next: Set<K>) => void;
}

/** The selection state of a list: forgotten when the rows on show change (another page, filter or order). */
export function useSelection<K extends string | number>(ids: readonly K[], resetOn: unknown[]) {
  const [selected, setSelected] = useState<Set<K>>(new Set());
  const key = JSON.stringify(resetOn);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the caller's list of dependencies
  useEffect(() => setSelected(new Set()), [key]);
  return { ids, selected, onChange: setSelected, clear: () => setSelected(new Set()) };
}

/** A table whose caption (the screen's name) is read by screen readers only; `children` are the body's rows. */
export function DataTable<K extends string | number = number>(props: {
  caption: string;
  columns: Column[];
  className?: string;
  /** The current order and what a click on a sortable header asks for. */
  sort?: Sort | null;
  onSort?: (next: Sort) => void;
  /** Row selection: the header gets a select-all box; each row puts a SelectCell first. */
  selection?: Selection<K>;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={props.className ? `table ${props.className}` : 'table'}>
        <caption className="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.selection && (
              <th scope="col" className="cell-select">
                <SelectAll selection={props.selection} />
              </th>
            )}
            {props.columns.map((c) => (
              <HeaderCell key={c.label} column={c} sort={props.sort ?? null} onSort={props.onSort} />
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

function HeaderCell(props: { column: Column; sort: Sort | null; onSort?: (next: Sort) => void }) {
  const { column: c, sort, onSort } = props;
  const label = c.srOnly ? <span className="sr-only">{c.label}</span> : c.label;
  const className = c.hideSm ? 'hide-sm' : undefined;
  const { sortKey } = c;
  if (!sortKey || !onSort)
    return (
      <th scope="col" className={className}>
        {label}
      </th>
    );
  const active = sort?.key === sortKey;
  return (
    <th
      scope="col"
      className={className}
      aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : undefined}
    >
      {/* The button's name is the column's; aria-sort on the header says the order, the arrow shows it. */}
      <button type="button" className="th-sort" onClick={() => onSort(nextSort(sort, sortKey))}>
        {label}
        <span className="th-sort-mark" aria-hidden="true">
          {active ? (sort.desc ? '▼' : '▲') : '↕'}
        </span>
      </button>
    </th>
  );
}

function SelectAll<K extends string | number>({ selection }: { selection: Selection<K> }) {
  const ref = useRef<HTMLInputElement>(null);
  const on = selection.ids.filter((id) => selection.selected.has(id)).length;
  const all = selection.ids.length > 0 && on === selection.ids.length;
  // A partial selection shows as such (and is announced "mixed"); the attribute exists only as a property.
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = on > 0 && !all;
  }, [on, all]);
  return (
    <input
      ref={ref}
      type="checkbox"
      aria-label={t('table.selectAll')}
      checked={all}
      disabled={selection.ids.length === 0}
      onChange={(e) => selection.onChange(new Set(e.target.checked ? selection.ids : []))}
    />
  );
}

/** The first cell of a selectable row: its checkbox, named after the row (`label`, e.g. the user's email). */
export function SelectCell<K extends string | number>(props: {
  selection: Selection<K>;
  id: K;
  label: string;
}) {
  const { selection, id } = props;
  return (
    <td className="cell-select">
      <input
        type="checkbox"
        aria-label={t('table.select', { name: props.label })}
        checked={selection.selected.has(id)}
        onChange={(e) => {
          const next = new Set(selection.selected);
          if (e.target.checked) next.add(id);
          else next.delete(id);
          selection.onChange(next);
        }}
      />
    </td>
  );
}

/** The one row of an empty table. */
export function EmptyRow({ colSpan, text }: { colSpan: number; text: string }) {
  return (
    <tr>
      <td colSpan={colSpan} className="empty">
        {text}
      </td>
    </tr>
  );
}
