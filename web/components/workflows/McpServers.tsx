'use client';

// The MCP servers of a workflow, edited in its form: a stdio command or a Streamable HTTP URL per
// server, credentials as secret:// or env:// references only (the server refuses anything else,
// naming the field), and the tools a saved workflow's servers offer, each marked reads or acts.

import { useState } from 'react';
import { apiMore, errorText, type McpServerDef, type ToolInfo } from '@/lib/api';

export interface McpRow {
  name: string;
  kind: 'command' | 'url';
  target: string;
  /** KEY=secret://NAME or KEY=env://VAR, one per line: env for a command, headers for a URL */
  refs: string;
  /** what this form does not show (tools, read_only, acting, timeout_seconds), kept as it was */
  rest: Record<string, unknown>;
}

const splitCommand = (line: string): string[] => line.match(/"[^"]*"|'[^']*'|\S+/g)?.map((w) => w.replace(/^["']|["']$/g, '')) ?? [];
const joinCommand = (argv: readonly string[]): string => argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');

function refsText(values: Record<string, string> | undefined): string {
  return Object.entries(values ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

function refsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export function rowsOf(servers: readonly McpServerDef[] | undefined): McpRow[] {
  return (servers ?? []).map(({ name, command, url, env, headers, ...rest }) => ({
    name,
    kind: url ? 'url' : 'command',
    target: url ?? joinCommand(command ?? []),
    refs: refsText(url ? headers : env),
    rest,
  }));
}

export function serversOf(rows: readonly McpRow[]): McpServerDef[] {
  return rows.map((r) => ({
    ...r.rest,
    name: r.name.trim(),
    ...(r.kind === 'url' ? { url: r.target.trim(), headers: refsOf(r.refs) } : { command: splitCommand(r.target), env: refsOf(r.refs) }),
  }));
}

export function McpServers({ rows, onChange, workflowId }: { rows: McpRow[]; onChange: (rows: McpRow[]) => void; workflowId: string | null }) {
  const [tools, setTools] = useState<ToolInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const update = (i: number, patch: Partial<McpRow>) => onChange(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const listTools = async () => {
    if (!workflowId) return;
    setBusy(true);
    setError(null);
    try {
      setTools((await apiMore.workflowTools(workflowId, true)).tools);
    } catch (err) {
      setError(err);
      setTools(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset className="mcp-servers">
      <legend>MCP servers (for the tools step)</legend>
      {rows.map((r, i) => (
        <div className="mcp-row" key={i} role="group" aria-label={`MCP server ${i + 1}`}>
          <label>
            Name <input value={r.name} onChange={(e) => update(i, { name: e.target.value })} spellCheck={false} />
          </label>
          <label>
            Transport{' '}
            <select value={r.kind} onChange={(e) => update(i, { kind: e.target.value as McpRow['kind'] })}>
              <option value="command">command (stdio)</option>
              <option value="url">URL (Streamable HTTP)</option>
            </select>
          </label>
          <label>
            {r.kind === 'url' ? 'URL' : 'Command'}{' '}
            <input value={r.target} onChange={(e) => update(i, { target: e.target.value })} spellCheck={false}
              placeholder={r.kind === 'url' ? 'https://host/mcp' : 'python servers/tickets.py'} />
          </label>
          <label>
            {r.kind === 'url' ? 'Headers' : 'Environment'} (NAME=secret://… or NAME=env://…, one per line){' '}
            <textarea rows={2} value={r.refs} onChange={(e) => update(i, { refs: e.target.value })} spellCheck={false} />
          </label>
          <button type="button" onClick={() => onChange(rows.filter((_, k) => k !== i))}>
            Remove server {r.name || i + 1}
          </button>
        </div>
      ))}
      <div className="actions">
        <button type="button" onClick={() => onChange([...rows, { name: '', kind: 'command', target: '', refs: '', rest: {} }])}>
          Add MCP server
        </button>
        {workflowId && rows.length ? (
          <button type="button" onClick={listTools} disabled={busy}>
            {busy ? 'Asking the servers…' : 'List the saved servers’ tools'}
          </button>
        ) : null}
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {errorText(error)}
        </p>
      ) : null}
      {tools ? (
        <ul className="tools small" aria-label="Tools">
          {tools.map((t) => (
            <li key={`${t.server}/${t.name}`}>
              <strong>
                {t.server}/{t.name}
              </strong>{' '}
              — {t.read_only ? 'reads' : 'acts: waits for approval'}
              {t.description ? <span className="muted"> · {t.description.split('\n')[0]}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}
