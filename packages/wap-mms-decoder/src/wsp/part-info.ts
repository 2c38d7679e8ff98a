/**
 * Part metadata the way a scanner or a log line wants it. The single values
 * (`name`, `filename`, ...) are this codec's reading, first occurrence wins,
 * as tshark prints them. The lists hold every value any reader we know of
 * takes from the part (ours, then Android's, MediaTek's, mmsd's): a scanner
 * decides on all of them, never on the one that happens to be harmless.
 */
import { type ContentType, paramValue } from './content-type.js';
import type { PartHeader } from './part-headers.js';
import {
  DECODING_ENCODINGS, FIELDS, NO_READINGS, type PartReadings, ReadingsBuilder, disagreements, encodingName,
} from './part-readings.js';
import { charsetMib } from './tables.js';

export interface PartInfo {
  readonly name: string | null;
  readonly filename: string | null;
  readonly contentLocation: string | null;
  readonly contentId: string | null;
  readonly disposition: string | null;
  readonly charset: number | null;
  /**
   * The transfer encoding to decode by: the first of `transferEncodings` that a receiver decodes
   * (base64, quoted-printable), else the first one, else null. With more than one, scan each.
   */
  readonly transferEncoding: string | null;
  /** Every Content-Transfer-Encoding any reader applies, lower-case, ours first, each once. */
  readonly transferEncodings: readonly string[];
  /** Every Content-Type `name` parameter any reader takes. */
  readonly names: readonly string[];
  /** Every `filename` parameter any reader takes (Content-Disposition, then Content-Type). */
  readonly filenames: readonly string[];
  readonly contentLocations: readonly string[];
  readonly contentIds: readonly string[];
}

export interface PartInfoSource {
  readonly contentType: ContentType;
  readonly headers: readonly PartHeader[];
  /** What other readers take from the part (a decoded MmsPart has it; a PartInit does not). */
  readonly otherReadings?: PartReadings;
}

function isTransferEncoding(name: string): boolean {
  return name.trim().toLowerCase() === 'content-transfer-encoding';
}

/** What this codec's own reading of the part gives, every occurrence. */
export function ownReadings(p: PartInfoSource): PartReadings {
  const b = new ReadingsBuilder();
  for (const h of p.headers) {
    if (h.type === 'content-location') b.add('contentLocations', h.value);
    else if (h.type === 'content-id') b.add('contentIds', h.value);
    else if (h.type === 'content-disposition') {
      for (const q of h.params) if (q.name === 'filename' && typeof q.value === 'string') b.add('filenames', q.value);
    } else if (h.type === 'application' && isTransferEncoding(h.name)) {
      b.add('transferEncodings', encodingName(h.value));
    }
  }
  for (const q of p.contentType.params) {
    if (typeof q.value !== 'string') continue;
    if (q.name === 'name') b.add('names', q.value);
    else if (q.name === 'filename') b.add('filenames', q.value);
  }
  return b.finish();
}

/** Whether our own reading holds exactly `v` in `field` (no allocation: this runs for every decoded part). */
function ownHolds(p: PartInfoSource, field: keyof PartReadings, v: string): boolean {
  if (field === 'names' || field === 'filenames') {
    const param = field === 'names' ? 'name' : 'filename';
    for (const q of p.contentType.params) if (q.name === param && q.value === v) return true;
  }
  for (const h of p.headers) {
    if (field === 'contentLocations' && h.type === 'content-location' && h.value === v) return true;
    if (field === 'contentIds' && h.type === 'content-id' && h.value === v) return true;
    if (field === 'filenames' && h.type === 'content-disposition') {
      for (const q of h.params) if (q.name === 'filename' && q.value === v) return true;
    }
    if (field === 'transferEncodings' && h.type === 'application' && isTransferEncoding(h.name)
      && encodingName(h.value) === v) return true;
  }
  return false;
}

/**
 * The fields in which other readers take a value our reading does not show (or in which we read two
 * transfer encodings). Empty in the common case, which is answered without building our readings.
 */
export function disagreeingFields(p: PartInfoSource, other: PartReadings): (keyof PartReadings)[] {
  let encodings = 0;
  for (const h of p.headers) if (h.type === 'application' && isTransferEncoding(h.name)) encodings++;
  let agree = encodings < 2;
  for (let i = 0; agree && i < FIELDS.length; i++) {
    const field = FIELDS[i] as keyof PartReadings;
    for (const v of other[field]) {
      if (!ownHolds(p, field, v)) {
        agree = false;
        break;
      }
    }
  }
  return agree ? [] : disagreements(ownReadings(p), other);
}

export function partInfo(p: PartInfoSource): PartInfo {
  let contentLocation: string | null = null;
  let contentId: string | null = null;
  let disposition: string | null = null;
  let filename: string | null = null;
  for (const h of p.headers) {
    if (h.type === 'content-location' && contentLocation === null) contentLocation = h.value;
    else if (h.type === 'content-id' && contentId === null) contentId = h.value;
    else if (h.type === 'content-disposition' && disposition === null) {
      disposition = h.disposition;
      for (const q of h.params) {
        if (q.name === 'filename' && typeof q.value === 'string') {
          filename = q.value;
          break;
        }
      }
    }
  }
  const n = paramValue(p.contentType, 'name');
  if (filename === null) {
    const f = paramValue(p.contentType, 'filename');
    if (typeof f === 'string') filename = f;
  }
  const cs = paramValue(p.contentType, 'charset');
  const charset = typeof cs === 'number' ? cs : typeof cs === 'string' ? charsetMib(cs) : null;
  const b = new ReadingsBuilder();
  b.addAll(ownReadings(p));
  b.addAll(p.otherReadings ?? NO_READINGS);
  const all = b.finish();
  const encodings = all.transferEncodings;
  return {
    name: typeof n === 'string' ? n : null,
    filename, contentLocation, contentId, disposition, charset,
    transferEncoding: encodings.find((e) => DECODING_ENCODINGS.has(e)) ?? encodings[0] ?? null,
    transferEncodings: encodings,
    names: all.names,
    filenames: all.filenames,
    contentLocations: all.contentLocations,
    contentIds: all.contentIds,
  };
}
