'use client';

import { useMemo, useRef, type KeyboardEvent, type Ref } from 'react';
import { tokenize } from '@/lib/sqltokens';

function Tokens({ sql }: { sql: string }) {
  const tokens = useMemo(() => tokenize(sql), [sql]);
  return (
    <>
      {tokens.map((t, i) => (t.kind === 'space' || t.kind === 'ident' || t.kind === 'op' ? t.text : <span key={i} className={`tok-${t.kind}`}>{t.text}</span>))}
    </>
  );
}

/** SQL, highlighted, read-only. */
export function SqlCode({ sql, label = 'SQL', small }: { sql: string; label?: string; small?: boolean }) {
  return (
    <pre className={`sql${small ? ' small' : ''}`} aria-label={label}>
      <code>
        <Tokens sql={sql} />
      </code>
    </pre>
  );
}

/**
 * A plain textarea (native editing, undo, selection, accessibility) over a highlighted copy of its
 * text: the textarea's own glyphs are transparent and the layers scroll together.
 */
export function SqlEditor({
  id,
  label,
  value,
  onChange,
  onEscape,
  inputRef,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  onEscape?: () => void;
  inputRef?: Ref<HTMLTextAreaElement>;
}) {
  const layer = useRef<HTMLPreElement>(null);
  const rows = Math.min(14, Math.max(4, value.split('\n').length + 1));
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') onEscape?.();
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="sql-editor" style={{ ['--rows' as string]: rows }}>
        <pre className="sql-layer" aria-hidden="true" ref={layer}>
          <code>
            <Tokens sql={value} />
            {'\n'}
          </code>
        </pre>
        <textarea
          id={id}
          ref={inputRef}
          className="code"
          rows={rows}
          value={value}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => {
            if (layer.current) {
              layer.current.scrollTop = e.currentTarget.scrollTop;
              layer.current.scrollLeft = e.currentTarget.scrollLeft;
            }
          }}
          onKeyDown={onKey}
        />
      </div>
    </div>
  );
}
