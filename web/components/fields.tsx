'use client';

import type { ReactNode } from 'react';
import type { FieldError } from '@/lib/api';

/** Groups the API's field errors (details.errors[].loc, e.g. "body.connections[0].path") by the form field that shows them. */
export function groupErrors(errors: FieldError[], fieldOf: (loc: string) => string | null): { byField: Record<string, string[]>; other: FieldError[] } {
  const byField: Record<string, string[]> = {};
  const other: FieldError[] = [];
  for (const e of errors) {
    const loc = String(e.loc).replace(/^body\.?/, '');
    const f = fieldOf(loc);
    if (f) (byField[f] ??= []).push(e.msg);
    else other.push(e);
  }
  return { byField, other };
}

export function Field({ id, label, errors, hint, children }: { id: string; label: string; errors?: string[]; hint?: ReactNode; children: ReactNode }) {
  return (
    <div className={`field${errors?.length ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p className="muted small" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {errors?.length ? (
        <p className="field-error" id={`${id}-error`}>
          {errors.join('; ')}
        </p>
      ) : null}
    </div>
  );
}

/** aria attributes of an input whose Field may show an error or a hint */
export function described(id: string, errors?: string[], hint?: boolean) {
  const ids = [errors?.length ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ');
  return { 'aria-invalid': errors?.length ? true : undefined, 'aria-describedby': ids || undefined } as const;
}
