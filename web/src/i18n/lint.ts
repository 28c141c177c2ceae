// The catalogue check (run by `npm test`, src/i18n/catalogue.test.ts): both
// catalogues have the same keys, every key the code asks for exists, and no
// .vue template shows text that did not come from a catalogue.
import { parse } from 'vue/compiler-sfc';

type Json = string | { [key: string]: Json };

/** "a.b.c" for every message in a nested catalogue. */
export function keysOf(catalogue: Json, prefix = ''): string[] {
  if (typeof catalogue === 'string') return [prefix];
  return Object.entries(catalogue).flatMap(([k, v]) => keysOf(v, prefix ? `${prefix}.${k}` : k));
}

/** Keys the source asks for by name: t or $t called with a quoted key, and route titles. */
export function keysUsed(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/(?:\$t|\bt)\(\s*'([\w.]+)'/g)) found.add(m[1]!);
  for (const m of source.matchAll(/\btitle:\s*'(title\.\w+)'/g)) found.add(m[1]!);
  return [...found];
}

/** Attributes a person reads or hears. */
const VISIBLE = new Set(['aria-label', 'aria-description', 'aria-placeholder', 'aria-roledescription', 'aria-valuetext', 'title', 'placeholder', 'alt', 'label']);
const LETTER = /\p{L}/u;

/** The string literals in a JavaScript expression, with their quotes (template literals' text parts). */
export function stringLiterals(expression: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expression.length) {
    const quote = expression[i]!;
    if (quote !== "'" && quote !== '"' && quote !== '`') {
      i++;
      continue;
    }
    let j = i + 1;
    let text = '';
    while (j < expression.length && expression[j] !== quote) {
      if (expression[j] === '\\') {
        text += expression[j + 1] ?? '';
        j += 2;
      } else if (quote === '`' && expression.startsWith('${', j)) {
        // Skip the substitution (its own literals are not this one's text).
        let depth = 1;
        j += 2;
        while (j < expression.length && depth > 0) {
          if (expression[j] === '{') depth++;
          if (expression[j] === '}') depth--;
          j++;
        }
        text += ' ';
      } else {
        text += expression[j];
        j++;
      }
    }
    out.push(`${quote}${text}${quote}`);
    i = j + 1;
  }
  return out;
}

/** A literal with a word and a space in it ('Sign in', `${n} seats`): prose, not a code, a key or a path. */
function prose(expression: string): string | null {
  return stringLiterals(expression).find((literal) => /\p{L}[^]*\s|\s[^]*\p{L}/u.test(literal.slice(1, -1)) && /\p{L}{2}/u.test(literal)) ?? null;
}

interface Node {
  type: number;
  tag?: string;
  content?: unknown;
  props?: { type: number; name: string; value?: { content: string }; arg?: { content?: string }; exp?: { content?: string } }[];
  children?: Node[];
  loc: { start: { line: number } };
}

/** Text in a template that is not from a catalogue: "file:line what". */
export function literalsIn(file: string, sfc: string): string[] {
  const { descriptor, errors } = parse(sfc, { filename: file });
  if (errors.length) return [`${file}: does not parse: ${String(errors[0])}`];
  const root = descriptor.template?.ast as unknown as Node | undefined;
  if (!root) return [];
  const found: string[] = [];
  const at = (node: { loc: { start: { line: number } } }) => `${file}:${node.loc.start.line}`;
  const visit = (node: Node) => {
    if (node.type === 2 && typeof node.content === 'string' && LETTER.test(node.content)) {
      found.push(`${at(node)} text "${node.content.trim()}"`);
    }
    if (node.type === 5) {
      const expression = (node.content as { content?: string } | undefined)?.content ?? '';
      const literal = prose(expression);
      if (literal) found.push(`${at(node)} literal ${literal} in {{ }}`);
    }
    for (const prop of node.props ?? []) {
      if (prop.type === 6 && VISIBLE.has(prop.name) && prop.value && LETTER.test(prop.value.content)) {
        found.push(`${at(node)} ${prop.name}="${prop.value.content}"`);
      }
      if (prop.type === 7 && prop.name === 'bind' && VISIBLE.has(prop.arg?.content ?? '')) {
        const literal = prose(prop.exp?.content ?? '');
        if (literal) found.push(`${at(node)} :${prop.arg?.content} literal ${literal}`);
      }
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(root);
  return found;
}
