import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TEMPLATE_DEFAULTS, TEMPLATE_VARIABLES, Templates, parseTemplates } from '../src/templates.js';

describe('reply templates', () => {
  it('renders the defaults with their variables, and "unknown" for a missing one', () => {
    const t = Templates.defaults();
    expect(t.render('send.blocked', { reason: 'virus Eicar-Test-Signature in 2' }))
      .toBe('Content not accepted: virus Eicar-Test-Signature in 2');
    expect(t.render('replacement', { filename: 'a.exe', reason: 'file type exe not allowed' }))
      .toBe('The attachment "a.exe" was removed by the network\'s content filter: file type exe not allowed.');
    expect(t.render('send.oversize', { limit: 1024 })).toBe('Message too large: the limit is 1024 bytes');
    expect(t.render('notice.text', { reason: 'virus X' })).toBe('Your message to unknown was not delivered: virus X.');
  });

  it('reads a file: overrides, comments, escapes for braces and line breaks', () => {
    const { value, problems } = parseTemplates([
      '# operator texts',
      '',
      'send.blocked = Your MMS was stopped ({virus} in {filename}), ref {transaction_id}',
      'replacement = {{removed}} {filename}\\nCall 123.',
    ].join('\n'));
    expect(problems).toEqual([]);
    expect(value.render('send.blocked', { virus: 'Eicar', filename: 'x.com', transaction_id: 'T1' }))
      .toBe('Your MMS was stopped (Eicar in x.com), ref T1');
    expect(value.render('replacement', { filename: 'x.com' })).toBe('{removed} x.com\nCall 123.');
    // untouched names keep their defaults
    expect(value.render('send.denied')).toBe(TEMPLATE_DEFAULTS['send.denied']);
  });

  it('reports every bad line with its number and keeps the defaults', () => {
    const { value, problems } = parseTemplates([
      'send.blocked = ok {reason}',
      'send.blockd = typo',
      'send.denied = {who}',
      'no equals sign',
      'send.blocked = twice',
      'send.retry = {reason',
      'send.corrupt = a } b',
    ].join('\n'));
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(problems[0]!.reason).toMatch(/unknown template send\.blockd/);
    expect(problems[1]!.reason).toMatch(/unknown variable \{who\}/);
    expect(problems[3]!.reason).toMatch(/already set on line 1/);
    expect(value.render('send.blocked', { reason: 'r' })).toBe('Content not accepted: r');
  });

  it('never throws on any file text; an accepted template renders every variable it names', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
      const { value, problems } = parseTemplates(`send.blocked = ${text.replace(/[\r\n]/g, ' ')}`);
      if (problems.length > 0) return;
      const vars = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, `<${v}>`]));
      const out = value.render('send.blocked', vars);
      // every {known-variable} reference (not a {{ escape) was replaced by its value
      const refs = [...text.replace(/\{\{|\}\}/g, '').matchAll(/\{\s*([a-z_]+)\s*\}/g)].map((m) => m[1]);
      for (const r of refs) expect(out).toContain(`<${r}>`);
    }), { numRuns: 2000 });
  });
});
