/** The list screens' table: one shell (scrolling wrapper, caption for screen readers, column headers) for all. */
import type { ReactNode } from 'react';

export interface Column {
  label: string;
  /** Hidden on small screens (the row shows what matters there). */
  hideSm?: boolean;
  /** Named for screen readers only, e.g. the actions column. */
  srOnly?: boolean;
}

/** A table whose caption (the screen's name) is read by screen readers only; `children` are the body's rows. */
export function DataTable(props: {
  caption: string;
  columns: Column[];
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={props.className ? `table ${props.className}` : 'table'}>
        <caption className="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.label} scope="col" className={c.hideSm ? 'hide-sm' : undefined}>
                {c.srOnly ? <span className="sr-only">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
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
