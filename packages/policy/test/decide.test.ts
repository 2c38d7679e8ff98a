import { describe, expect, it } from 'vitest';
import type { Finding } from '@mmsguard/scan';
import { decideMessage } from '../src/index.js';

const virus: Finding = { kind: 'infected', path: 'a', engine: 'builtin', name: 'Eicar-Test-Signature' };
const exe: Finding = { kind: 'file-type', path: 'b', type: 'exe' };
const bomb: Finding = { kind: 'unscannable', path: 'c', reason: 'zip bomb' };
const down: Finding = { kind: 'error', path: 'd', engine: 'clamd', code: 'MMS_ERR_CLAMD_CONNECT', message: 'down' };
const strict = { unscannableAction: 'block', scanErrorAction: 'block', removeBlocked: false } as const;

describe('decideMessage', () => {
  it('forwards a message without findings', () => {
    expect(decideMessage([[], []], strict)).toEqual({ action: 'forward', events: [], blockedParts: new Set() });
  });

  it('blocks a message with a virus or a filtered type, naming each part', () => {
    const d = decideMessage([[], [virus], [exe]], strict);
    expect(d.action).toBe('block');
    expect([...d.blockedParts]).toEqual([1, 2]);
    expect(d.events.map((e) => [e.part, e.subtype, e.action]))
      .toEqual([[1, 'virus', 'blocked'], [2, 'file-filter', 'blocked']]);
  });

  it('rewrites instead of blocking with REMOVE_BLOCKED, logging attachment-removed', () => {
    const d = decideMessage([[virus], []], { ...strict, removeBlocked: true });
    expect(d.action).toBe('rewrite');
    expect(d.events[0]?.action).toBe('attachment-removed');
  });

  it('makes an engine error a transient failure when fail-closed, and only monitors it when fail-open', () => {
    expect(decideMessage([[down]], strict).action).toBe('transient');
    const open = decideMessage([[down]], { ...strict, scanErrorAction: 'pass' });
    expect(open.action).toBe('forward');
    expect(open.events[0]).toMatchObject({ subtype: 'scan-error', action: 'monitored' });
  });

  it('prefers a known infection over an engine error', () => {
    expect(decideMessage([[virus, down]], strict).action).toBe('block');
  });

  it('blocks unscannable content unless UNSCANNABLE_ACTION is pass', () => {
    expect(decideMessage([[bomb]], strict).action).toBe('block');
    expect(decideMessage([[bomb]], { ...strict, unscannableAction: 'pass' }).action).toBe('forward');
  });
});
