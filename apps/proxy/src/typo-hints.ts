/**
 * Typo hints: which of our variable names a name that is not ours was probably meant to be
 * (`SCAN_ENGINE` → `SCAN_ENGINES`, `CLAMD_ADRESS` → `CLAMD_ADDRESS`, `SCAN_TIMEOUT_MS` →
 * `SCAN_TIMEOUT`). A misspelt variable is otherwise silently ignored and its default applies,
 * which is how `SCAN_ENGINE=clamd` ran the built-in engine alone.
 *
 * Pure: the caller passes our names (taken from the configuration schema, never a second list)
 * and the names it saw. It does not read the environment, and it never warns about the
 * environment every process has (PATH, HOME, npm_*, NODE_*, OTEL_* …).
 */

/** Names and prefixes of other software's variables: never hinted, however close they look. */
const FOREIGN_PREFIXES = [
  'npm_', 'NODE_', 'OTEL_', 'PNPM_', 'LC_', 'XDG_', 'SSH_', 'GIT_', 'GITHUB_', 'RUNNER_', 'CI_', 'KUBERNETES_',
  'DOCKER_', 'SYSTEMD_', 'DBUS_', 'VSCODE_', 'TERM_', 'JAVA_', 'PYTHON', 'VITEST', 'TURBO_', 'COREPACK_', 'UV_',
];
const FOREIGN_NAMES = new Set([
  'PATH', 'HOME', 'HOSTNAME', 'HOSTTYPE', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'TERM', 'LANG', 'LANGUAGE', 'TZ',
  'SHLVL', '_', 'INIT_CWD', 'MAIL', 'EDITOR', 'PAGER', 'TMPDIR', 'TEMP', 'TMP', 'COLORTERM', 'INVOCATION_ID',
  'JOURNAL_STREAM', 'NOTIFY_SOCKET', 'LISTEN_FDS', 'LISTEN_PID', 'MAINPID', 'MANAGERPID', 'DEBUG', 'CI', 'FORCE_COLOR',
  'NO_COLOR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'CREDENTIALS_DIRECTORY',
  'STATE_DIRECTORY', 'RUNTIME_DIRECTORY', 'CACHE_DIRECTORY', 'LOGS_DIRECTORY', 'CONFIGURATION_DIRECTORY',
]);

export function isForeign(name: string): boolean {
  return FOREIGN_NAMES.has(name) || FOREIGN_PREFIXES.some((p) => name.startsWith(p));
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps count 1. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...Array<number>(b.length).fill(0)]);
  const r0 = rows[0] as number[];
  for (let j = 0; j <= b.length; j++) r0[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const up = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row[j] = d;
    }
  }
  return rows[a.length]?.[b.length] ?? 0;
}

const words = (s: string): string[] => s.split('_').filter((t) => t.length > 0);

/**
 * How far `name` is from `ours`, or null when it does not look like it. Close means one of:
 * - a small edit distance: 1, or 2 for names of 12 characters and more (short names sit close to
 *   unrelated ones: HOST and HOME differ by 2);
 * - ours with a unit or word appended (`SCAN_TIMEOUT_MS`), or with a namespace of ours in front
 *   (`MMSGUARD_LOG_LEVEL`); not any prefix, or TF_CLI_CONFIG_FILE would be "ours";
 * - ours without its protocol or first word (`OVERSIZE_LIMIT`, `NOTICE_URL`), two words at least;
 * - an abbreviation (`CLAMD_ADDR`), or the same words but the last (`QUARANTINE_MAX_SIZE`), three
 *   words at least.
 */
function closeness(name: string, ours: string): number | null {
  const d = editDistance(name, ours);
  if (d <= (ours.length >= 12 ? 2 : 1)) return d;
  const [n, o] = [words(name), words(ours)];
  if (o.length >= 2 && (name.startsWith(`${ours}_`) || (name.startsWith('MMS') && name.endsWith(`_${ours}`)))) return 3;
  if (n.length >= 2 && ours.endsWith(`_${name}`)) return 3;
  const abbreviation = name.length >= 0.6 * ours.length && name.length < ours.length && ours.startsWith(name);
  if (abbreviation && n.length >= 2) return 4;
  if (n.length >= 3 && n.length === o.length && n.slice(0, -1).join('_') === o.slice(0, -1).join('_')) return 5;
  return null;
}

/** Our names that `name` was likely meant to be, best first (at most three); [] when it looks unrelated. */
export function suggest(name: string, ours: readonly string[]): string[] {
  if (ours.includes(name) || isForeign(name) || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) return [];
  // Variable names are case-sensitive: `scan_engines` or `SCAN-ENGINES` is not read at all.
  const norm = name.toUpperCase().replace(/-/g, '_');
  if (norm !== name && ours.includes(norm)) return [norm];
  const scored: [string, number][] = [];
  for (const o of ours) {
    const c = closeness(norm, o);
    if (c !== null) scored.push([o, c]);
  }
  scored.sort((x, y) => x[1] - y[1]);
  const best = scored[0]?.[1];
  return scored.filter(([, c]) => c === best).slice(0, 3).map(([o]) => o);
}

export function didYouMean(names: readonly string[]): string {
  if (names.length === 0) return '';
  const last = names[names.length - 1] ?? '';
  return names.length === 1 ? last : `${names.slice(0, -1).join(', ')} or ${last}`;
}

/** One warning line per name that looks like one of ours but is not (`where`: "the environment"). */
export function typoHints(names: Iterable<string>, ours: readonly string[], where: string): string[] {
  const out: string[] = [];
  for (const name of names) {
    const s = suggest(name, ours);
    if (s.length === 0) continue;
    out.push(`warning: ${name} in ${where} is not a mmsguard variable; did you mean ${didYouMean(s)}?`);
  }
  return out;
}
