/**
 * Reply templates: every text the proxy writes to a person (m-send-conf
 * Response-Text, m-retrieve-conf Retrieve-Text, replacement parts, MM7
 * StatusText, the notice to a blocked sender) comes from here, with plain
 * defaults that an operator may override in a file (REPLY_TEMPLATES):
 *
 *     # comment
 *     send.blocked = Your MMS was stopped: {reason}
 *     replacement = "{filename}" was removed ({reason}).\nCall 123 for help.
 *
 * `{name}` is a variable, `{{` and `}}` are literal braces, `\n` a line
 * break. Unknown template names and unknown variables are refused with their
 * line, so a typo is found at start (or at reload, keeping the last good set)
 * rather than in front of a subscriber.
 */
import type { Parsed } from './watched-file.js';

export const TEMPLATE_VARIABLES = [
  'reason', 'virus', 'filename', 'filetype', 'sender', 'recipient', 'subject', 'transaction_id', 'limit', 'size',
  'date',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateVars = Partial<Record<TemplateVariable, string | number | null>>;

export const TEMPLATE_DEFAULTS = {
  /** m-send-conf 0xE5: content blocked (virus, file type, unscannable). */
  'send.blocked': 'Content not accepted: {reason}',
  /** m-send-conf 0xE5: over MM1_OVERSIZE_LIMIT with MM1_OVERSIZE_ACTION=block. */
  'send.oversize': 'Message too large: the limit is {limit} bytes',
  /** m-send-conf 0xE2: the PDU could not be decoded. */
  'send.corrupt': 'Message format corrupt',
  /** m-send-conf 0xE1: MSISDN list block, flood or duplicate block (never names the threshold). */
  'send.denied': 'Service denied',
  /** m-send-conf 0xC0/0xC3: scanner or MMSC unavailable, state store down with fail-closed. */
  'send.retry': 'Temporary network problem, please retry',
  /** m-send-conf 0xC0: an engine failed with SCAN_ERROR_ACTION=block. */
  'send.scan-error': 'Temporary failure: the message could not be scanned, please retry',
  /** m-retrieve-conf 0xE3: the message being downloaded was blocked. */
  'retrieve.blocked': 'Content not delivered: {reason}',
  /** m-retrieve-conf 0xE3: over MM1_OVERSIZE_LIMIT with block. */
  'retrieve.oversize': 'Message too large to be delivered (limit {limit} bytes)',
  /** m-retrieve-conf 0xC0: an engine failed with SCAN_ERROR_ACTION=block. */
  'retrieve.scan-error': 'Temporary failure: the message could not be scanned, please retry',
  /** The text/plain part that replaces a blocked attachment (REMOVE_BLOCKED=on), MM1 and MM7. */
  replacement: 'The attachment "{filename}" was removed by the network\'s content filter: {reason}.',
  /** MM7 StatusText with 2004 (content refused). */
  'mm7.refused': 'Multimedia content refused',
  /** MM7 StatusText with 2007 (malformed). */
  'mm7.corrupt': 'Message format corrupt',
  /** MM7 StatusText with 4006 (scanner or MMSC unavailable, busy). */
  'mm7.unavailable': 'Service unavailable',
  /** MM7 StatusText with 4007 (VASP flood/duplicate block). */
  'mm7.denied': 'Service denied',
  /** Subject and text of the MMS notice to a blocked sender (SENDER_NOTICE_URL). */
  'notice.subject': 'Message not delivered',
  'notice.text': 'Your message to {recipient} was not delivered: {reason}.',
} as const;
export type TemplateName = keyof typeof TEMPLATE_DEFAULTS;

/** A template as pieces: literal text and variable names, so rendering is a join. */
type Compiled = readonly (string | { readonly v: TemplateVariable })[];

export class Templates {
  private constructor(private readonly compiled: ReadonlyMap<TemplateName, Compiled>) {}

  static defaults(): Templates {
    return Templates.from({});
  }

  /** Defaults overridden by `overrides`; throws on an unknown name or variable. */
  static from(overrides: Partial<Record<TemplateName, string>>): Templates {
    const m = new Map<TemplateName, Compiled>();
    for (const name of Object.keys(TEMPLATE_DEFAULTS) as TemplateName[]) {
      const c = compile(overrides[name] ?? TEMPLATE_DEFAULTS[name]);
      if (typeof c === 'string') throw new RangeError(`template ${name}: ${c}`);
      m.set(name, c);
    }
    return new Templates(m);
  }

  get size(): number {
    return this.compiled.size;
  }

  /** The text with variables filled in; a missing or null variable renders as "unknown". */
  render(name: TemplateName, vars: TemplateVars = {}): string {
    const pieces = this.compiled.get(name) ?? [];
    return pieces.map((p) => (typeof p === 'string' ? p : String(vars[p.v] ?? 'unknown'))).join('');
  }
}

/** Compiles a template, or returns why it is wrong. */
function compile(text: string): Compiled | string {
  const out: (string | { v: TemplateVariable })[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      lit += c;
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) return `unclosed '{' at column ${i + 1}`;
      const v = text.slice(i + 1, end).trim();
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(v)) {
        return `unknown variable {${v}} (known: ${TEMPLATE_VARIABLES.join(', ')})`;
      }
      if (lit !== '') out.push(lit);
      lit = '';
      out.push({ v: v as TemplateVariable });
      i = end;
    } else if (c === '}') return `stray '}' at column ${i + 1} (write }} for a brace)`;
    else if (c === '\\' && text[i + 1] === 'n') {
      lit += '\n';
      i++;
    } else lit += c;
  }
  if (lit !== '') out.push(lit);
  return out;
}

/** Parses a REPLY_TEMPLATES file: `name = text` lines, `#` comments. */
export function parseTemplates(text: string): Parsed<Templates> {
  const overrides: Partial<Record<TemplateName, string>> = {};
  const problems: { line: number; reason: string }[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const eq = s.indexOf('=');
    if (eq < 0) return problems.push({ line, reason: 'expected name = text' });
    const name = s.slice(0, eq).trim();
    const value = s.slice(eq + 1).trim();
    if (!(name in TEMPLATE_DEFAULTS)) {
      const known = Object.keys(TEMPLATE_DEFAULTS).join(', ');
      return problems.push({ line, reason: `unknown template ${name} (known: ${known})` });
    }
    if (seen.has(name)) return problems.push({ line, reason: `${name} already set on line ${seen.get(name)}` });
    seen.set(name, line);
    const c = compile(value);
    if (typeof c === 'string') return problems.push({ line, reason: c });
    overrides[name as TemplateName] = value;
    return undefined;
  });
  return { value: problems.length > 0 ? Templates.defaults() : Templates.from(overrides), problems };
}
