/**
 * The one sequence of checks every message goes through, whatever its
 * protocol and however its bytes travel: MSISDN list → exemption →
 * flood/duplicate → verdict cache → scan → policy. It yields one Verdict
 * (one closed Outcome plus what the records and replies need); what each
 * finding means is decided in @mmsguard/policy, how the verdict is answered
 * in the protocol adapters.
 */
import { createHash } from 'node:crypto';
import {
  bulkOutcome, decideMessage, listOutcome, scanEventRole, scanOutcome, type MessageDecision, type Outcome,
} from '@mmsguard/policy';
import type { Exchange } from '../exchange.js';
import { NO_PART } from '../records.js';
import { spans } from '../spans.js';
import type { TemplateVars } from '../templates.js';
import { countFloodDupe, listCheck } from './bulk.js';
import { checkQuota } from './quota.js';
import { verdictOf, type Inspection, type Replacement, type Verdict } from './inspection.js';
import { partSha256, scanLeaves, type Leaf, type ScannedPart } from './scan.js';
import { rebuildToLength } from './replacement.js';

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * The verdict cache's key for content: SHA-256 over the body in which every target that is a view of it
 * stands as its own SHA-256. Each piece is tagged and length-prefixed (`r<n>:` raw bytes, `p<n>:` a part's
 * hash), so distinct bodies never give the same input: as exact as a hash of the whole body, but the parts are
 * hashed once, since the verdict store and the records need their hashes anyway.
 */
export function contentKey(body: Uint8Array, targets: readonly Leaf[]): string {
  const end = body.byteOffset + body.length;
  const views = targets.map((t) => t.data)
    .filter((d) => d.buffer === body.buffer && d.byteOffset >= body.byteOffset && d.byteOffset + d.length <= end)
    .sort((a, b) => a.byteOffset - b.byteOffset);
  const h = createHash('sha256');
  let from = 0;
  for (const d of views) {
    const at = d.byteOffset - body.byteOffset;
    // A view inside one already hashed (none in practice) stays in its bytes.
    if (at < from || d.length === 0) continue;
    h.update(`r${at - from}:`).update(body.subarray(from, at)).update(`p${d.length}:${partSha256(d)}`);
    from = at + d.length;
  }
  return h.update(`r${body.length - from}:`).update(body.subarray(from)).digest('hex');
}

/**
 * Decides a complete, decodable message. `canRewrite` is asked after scanning, right before
 * deciding: once a comfort byte has gone out a message can only be cut, never rewritten.
 */
export async function inspect(
  ex: Exchange, m: Inspection, body: Uint8Array, canRewrite: () => boolean,
): Promise<Verdict> {
  const { ctx } = ex;
  const bytes = body.length;
  // 1–2. The MSISDN list, and the exemptions it may grant.
  const listed = m.listed ? listCheck(ex, m.envelope) : null;
  const list = listOutcome(listed, m.envelope.senderVouched);
  if (listed !== null && listed.action !== 'exempt-mass') {
    // An exemption the sender is not trusted for (a From, a recipient) lifts nothing: on record as seen.
    const role = listed.action === 'block' ? 'cause' : list.outcome !== null ? 'passthrough' : 'monitored';
    const ignored = listed.action === 'exempt' && !list.honoured
      ? ' not honoured: no sender vouched for by a trusted gateway'
      : '';
    ex.note({ subtype: 'msisdn-filter', role, part: NO_PART, finding: null, note: `${listed.note}${ignored}` });
  }
  if (list.outcome !== null && listed !== null) {
    const denied = list.outcome.kind === 'refuse';
    return verdictOf(list.outcome, bytes, {
      subtype: 'msisdn-filter', reason: denied ? `MSISDN list ${listed.note}` : `exempt from scanning ${listed.note}`,
      vars: { ...ex.vars(), reason: 'service denied' }, notice: denied,
    });
  }
  // 3a. Per-VASP quota (MM7_VASP_LIMITS): before flood/duplicate, so a VASP over its quota is not counted there.
  // An MSISDN-list exemption does not lift it: the quota is the VASP's contract (`unlimited` in the file is).
  if (m.vasp !== undefined) {
    const q = await checkQuota(ex, m.vasp);
    if (q !== null) {
      return verdictOf(q.outcome, bytes, {
        subtype: q.subtype, reason: q.reason, vars: { ...ex.vars(), reason: 'too many messages' },
        ...(q.retryAfterS !== undefined ? { retryAfterS: q.retryAfterS } : {}),
      });
    }
  }
  // 3. Flood and duplicate counting.
  if (list.count && m.counts.length > 0) {
    const hit = await spans().run('bulk', {}, () => countFloodDupe(ex, m.counts));
    if (hit !== null) {
      const outcome = bulkOutcome(hit.kind, ctx.config.bulk.reply);
      const subtype = hit.kind === 'store-down' ? 'scan-error' : hit.kind;
      const hidden = outcome.kind === 'hide' ? ' (hidden: success answered)' : '';
      return verdictOf(outcome, bytes, {
        subtype, reason: `${hit.reason}${hidden}`, vars: { ...ex.vars(), reason: 'too many messages' },
        notice: outcome.kind === 'refuse',
      });
    }
  }
  // 4. A retry of content refused a moment ago is refused at once, without scanning it again.
  const cached = ctx.verdicts.get(m.cacheKey);
  if (cached !== null) {
    ex.note({
      subtype: (cached.subtype ?? 'virus') as 'virus', role: 'cause', finding: null,
      part: { ...NO_PART, filesize: bytes, sha256: sha256(body) }, note: `(cached verdict: ${cached.reason})`,
    });
    return verdictOf({ kind: 'refuse', reason: 'content' }, bytes, {
      subtype: cached.subtype, reason: `cached verdict: ${cached.reason}`,
      vars: { ...ex.vars(), reason: cached.reason },
    });
  }
  // 5–6. Scan every target, then policy.
  const parts = await spans().run('scan', { 'mmsguard.targets': m.targets.length }, () => scanLeaves(m.targets, {
    engines: spans().engines(ctx.engines), timeoutMs: ctx.config.scan.scanTimeoutMs,
    fileFilter: ctx.config.scan.fileFilter,
  }));
  ctx.metrics.parts.inc({ service: ex.service }, parts.length);
  for (const p of parts) {
    for (const [engine, ms] of Object.entries(p.engineMs)) ctx.metrics.scanSeconds.observe({ engine }, ms / 1000);
  }
  // From here to the return nothing awaits: no comfort byte can go out between asking and deciding.
  const removable = ctx.config.removeBlocked && canRewrite();
  const decision = spans().run('policy', {}, () => decideMessage(parts.map((p) => p.findings), {
    unscannableAction: ctx.config.unscannableAction, scanErrorAction: ctx.config.scan.scanErrorAction,
    removeBlocked: removable, monitor: (ex.service === 'MM7' ? ctx.config.mm7 : ctx.config.mm1).scanMode === 'monitor',
  }));
  const reps = decision.action === 'rewrite' ? replacements(ex, parts, decision) : null;
  // REPLACEMENT_SIZE=original: the rewritten message keeps the original's byte length (size-based billing).
  const rewritten = reps === null
    ? null
    : ctx.config.replacementSize === 'original' ? rebuildToLength(m, reps, bytes) : m.rebuild(reps);
  const outcome = scanOutcome(decision, rewritten !== null);
  for (const e of decision.events) {
    const p = parts[e.part];
    if (p === undefined) continue;
    const part = { filename: p.filename, filetype: p.fileType ?? p.contentType, filesize: p.size, sha256: p.sha256() };
    ex.note({ subtype: e.subtype, role: scanEventRole(e.action), part, finding: e.finding });
  }
  // In monitor mode nothing caused the outcome: the first finding names what was seen.
  const cause = decision.events.find((e) => e.action !== 'monitored' || decision.monitored === true)?.subtype ?? null;
  const subtype = outcome.kind === 'transient' ? 'scan-error' : cause;
  const reason = outcome.kind === 'transient' ? 'scan failed, fail-closed' : reasonText(parts, decision) || null;
  if (outcome.kind === 'refuse') {
    ctx.verdicts.set(m.cacheKey, {
      subtype, reason: reason ?? '', transactionId: m.envelope.transactionId, messageId: m.envelope.messageId ?? null,
    });
  }
  return verdictOf(outcome, bytes, {
    subtype: outcome.kind === 'forward' && outcome.monitored !== true ? null : subtype, reason, parts: parts.length,
    rewritten,
    vars: blockVars(ex, parts, decision), notice: outcome.kind === 'refuse',
    scanned: parts, blockedParts: decision.blockedParts,
  });
}

/** The verdict for bytes the adapter could not decode: refused as malformed, naming the error code. */
export function malformed(ex: Exchange, body: Uint8Array, code: string, detail?: string): Verdict {
  ex.note({
    subtype: 'malformed', role: 'cause', finding: null, part: { ...NO_PART, filesize: body.length },
    note: `(${detail !== undefined ? `${code}: ${detail}` : code})`,
  });
  return verdictOf({ kind: 'refuse', reason: 'malformed' }, body.length, {
    subtype: 'malformed', reason: code, vars: { ...ex.vars(), reason: detail ?? code },
  });
}

/** The verdict for a message over the protocol's oversize limit: refused, or passed on unscanned. */
export function oversize(ex: Exchange, size: number | null, limit: number, pass: boolean): Verdict {
  const note = `(${size !== null ? `${size} bytes` : `more than ${limit} bytes`}, limit ${limit})`;
  ex.note({ subtype: 'oversize', role: 'cause', finding: null, part: { ...NO_PART, filesize: size }, note });
  const outcome: Outcome = pass
    ? { kind: 'forward-unscanned', why: 'oversize' }
    : { kind: 'refuse', reason: 'oversize' };
  return verdictOf(outcome, size ?? 0, {
    subtype: 'oversize', reason: pass ? 'forwarded unscanned' : `message over ${limit} bytes`,
    vars: { ...ex.vars(), limit, size },
  });
}

/** Plain-language reason for the sender, naming what was found (never payload bytes). */
export function reasonText(parts: readonly ScannedPart[], d: MessageDecision): string {
  const out: string[] = [];
  for (const e of d.events) {
    const p = parts[e.part];
    const f = e.finding;
    if ((e.action === 'monitored' && d.monitored !== true) || p === undefined) continue;
    if (f.kind === 'infected') out.push(`virus ${f.name} in ${f.path}`);
    else if (f.kind === 'file-type') out.push(`file type ${f.type} not allowed (${f.path})`);
    else if (f.kind === 'unscannable') out.push(`${p.filename} could not be scanned`);
    else out.push('content could not be scanned');
  }
  return [...new Set(out)].join('; ');
}

/** Template variables for a blocked message: the reason, and the first blocking finding's virus, file and type. */
function blockVars(ex: Exchange, parts: readonly ScannedPart[], d: MessageDecision): TemplateVars {
  const hit = d.events.find((e) => e.action !== 'monitored' && parts[e.part] !== undefined);
  const p = hit === undefined ? undefined : parts[hit.part];
  const f = hit?.finding;
  return {
    reason: reasonText(parts, d), virus: f?.kind === 'infected' ? f.name : null, filename: p?.filename ?? null,
    filetype: f?.kind === 'file-type' ? f.type : p?.fileType ?? p?.contentType ?? null,
    ...ex.vars(),
  };
}

/** One replacement per blocked part, its text from the `replacement` template. */
function replacements(ex: Exchange, parts: readonly ScannedPart[], d: MessageDecision): Replacement[] {
  return [...d.blockedParts].flatMap((i) => {
    const p = parts[i];
    if (p === undefined) return [];
    const own = { ...d, events: d.events.filter((e) => e.part === i).map((e) => ({ ...e, part: 0 })) };
    return [{ target: p.leaf, text: ex.ctx.text('replacement', blockVars(ex, [p], own)) }];
  });
}
