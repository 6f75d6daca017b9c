// A small SQL tokenizer for syntax highlighting (not a parser: the server's guard decides what runs).
// Joining the tokens' text gives the input back exactly, so a highlighted layer can sit under a
// textarea and line up character for character.

export type TokenKind = 'keyword' | 'function' | 'string' | 'number' | 'comment' | 'ident' | 'op' | 'space';

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'select from where group by order having limit offset join left right inner outer full cross on using as and or not in is null ' +
    'like ilike between case when then else end distinct union all intersect except with asc desc insert into values update set ' +
    'delete create table view index drop alter over partition filter true false cast interval exists any some nulls first last ' +
    'recursive window rows range current row preceding following unbounded lateral natural returning'
  ).split(' '),
);

const PATTERNS: [TokenKind, RegExp][] = [
  ['space', /\s+/y],
  ['comment', /--[^\n]*|\/\*[\s\S]*?(\*\/|$)/y],
  ['string', /'(?:[^']|'')*'?/y],
  ['ident', /"(?:[^"]|"")*"?|`[^`]*`?/y],
  ['number', /\d+(?:\.\d+)?(?:e[+-]?\d+)?/iy],
  ['ident', /[\p{L}_][\p{L}\p{N}_$]*/uy],
  ['op', /<=|>=|<>|!=|\|\||::|[-+*/%=<>(),.;:[\]{}!|&^~?@#]/y],
];

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    let matched = false;
    for (const [kind, re] of PATTERNS) {
      re.lastIndex = i;
      const m = re.exec(sql);
      if (m && m[0].length) {
        let k = kind;
        if (kind === 'ident' && /^[\p{L}_]/u.test(m[0])) {
          const lower = m[0].toLowerCase();
          if (KEYWORDS.has(lower)) k = 'keyword';
          else if (/^\s*\(/.test(sql.slice(re.lastIndex))) k = 'function';
        }
        out.push({ kind: k, text: m[0] });
        i = re.lastIndex;
        matched = true;
        break;
      }
    }
    if (!matched) {
      out.push({ kind: 'op', text: sql[i]! });
      i++;
    }
  }
  return out;
}
