#!/usr/bin/env bash
# The README's Quick start on a machine without any optional Debian package:
# a clean clone of the committed tree, `pnpm install`, `pnpm start` (proxy + bundled
# simulator), `pnpm demo` against it, stop. Run by .ci/run BEFORE it installs the
# Debian packages; when the Vectorscan headers are present anyway (a reused machine),
# they are hidden with a private mount namespace so the check still means
# "libvectorscan-dev absent". It fails on a tree whose install needs hs.h (the old
# root binding.gyp made pnpm run an implicit `node-gyp rebuild`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
PNPM="${PNPM:-npx -y pnpm@10}"

if [[ -e /usr/include/hs/hs.h && -z "${MMSGUARD_FRESH_INNER:-}" ]]; then
  if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    echo "fresh-machine: hiding /usr/include/hs for this check (private mount namespace)"
    exec unshare -m bash -c 'mount -t tmpfs none /usr/include/hs && MMSGUARD_FRESH_INNER=1 exec "$0"' "$0"
  fi
  echo "fresh-machine: NOTICE: Vectorscan headers are installed and cannot be hidden; the check is weaker"
fi

work="$(mktemp -d)"
proxy_pid=""
cleanup() {
  # pnpm start runs the proxy as a grandchild: end the whole process group it was started in.
  if [[ -n "$proxy_pid" ]]; then
    kill -- "-$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$repo" "$work/repo"
cd "$work/repo"

echo "fresh-machine: pnpm install (clean clone of $(git rev-parse --short HEAD))"
if ! $PNPM install --frozen-lockfile --reporter=append-only 2>&1 | grep -v 'Failed to create bin' | tail -5; then
  echo "fresh-machine: FAILED: pnpm install"
  exit 1
fi

# Ports free right now, chosen by the kernel: any fixed port could be held by a proxy left running (a
# developer's, another check's), and its /healthz would answer for this one before ours is even built.
read -r MM1_PORT ADMIN_PORT SIM_PORT MM7_PORT < <(node -e "
  const net = require('node:net');
  const one = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port; s.close(() => r(p)); }); });
  (async () => { const ps = []; while (ps.length < 4) { const p = await one(); if (!ps.includes(p)) ps.push(p); }
    console.log(ps.join(' ')); })();")
export MM1_PORT ADMIN_PORT SIM_PORT MM7_PORT
setsid $PNPM start >"$work/start.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 240); do
  if node -e "fetch('http://127.0.0.1:$ADMIN_PORT/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    break
  fi
  kill -0 "$proxy_pid" 2>/dev/null || { cat "$work/start.log"; echo "fresh-machine: FAILED: pnpm start exited"; exit 1; }
  sleep 0.5
done
grep -q 'vectorscan' "$work/start.log" && grep 'vectorscan' "$work/start.log" | head -1
DEMO_PROXY_URL=http://127.0.0.1:$MM1_PORT DEMO_MM7_URL=http://127.0.0.1:$MM7_PORT $PNPM demo | tee "$work/demo.log"
grep -Eq '^EICAR attachment +BLOCKED' "$work/demo.log" || { echo "fresh-machine: FAILED: demo printed no verdicts"; exit 1; }
echo "fresh-machine: ok (install, start and demo without the optional Debian packages)"
