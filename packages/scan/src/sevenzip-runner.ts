/**
 * Runs 7-Zip (the `7z-wasm` WebAssembly build) off the event loop: one worker
 * thread, jobs queued in order, every job bounded in time and in output.
 * 7-Zip's decoders are synchronous (in WASM, bzip2 of 31 MiB of text took
 * ~2 s here), so on the main thread one archive within every byte limit
 * could stall every connection of the proxy for seconds.
 *
 * Each job gets a fresh 7-Zip instance on an in-memory file system holding
 * only its input (it cannot touch our files; what it allocated is freed with
 * it); the compiled module is shared inside the worker. Output (stdout)
 * streams back chunk by chunk; when the caller refuses a chunk, a shared flag
 * makes the next write fail with EIO and 7-Zip stops. A job past its time
 * limit terminates the worker (the next job gets a new one).
 * This module knows nothing of archive formats or limits beyond those bounds.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface RunResult {
  /** 7-Zip's exit code; null when it threw (a C++ exception, e.g. encrypted headers) or was stopped by time. */
  readonly code: number | null;
  readonly messages: readonly string[];
  /** True when the caller refused a chunk, or the output bound was reached, and the run was stopped. */
  readonly stopped: boolean;
  /** True when the run passed its time limit and was killed. */
  readonly timedOut: boolean;
}

export interface RunBounds {
  /** Wall-clock milliseconds for the run (queue wait excluded). Stops archives that cost seconds of CPU each. */
  readonly timeoutMs: number;
  /** Bytes of stdout the worker may produce at all, whatever the caller does. Bounds memory of chunks in flight. */
  readonly maxOutBytes: number;
}

/**
 * Jobs waiting for the worker beyond this are refused at once (the caller reports the content unscannable). Stops a
 * flood of expensive archives from queueing every later message behind minutes of decoding.
 */
export const MAX_QUEUED_JOBS = 16;

// The worker is plain JavaScript evaluated from this string, so it runs the same from src (tests) and dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const factory = require(workerData.factoryPath);
const compiled = WebAssembly.compile(readFileSync(workerData.wasmPath));
parentPort.on('message', async (job) => {
  const messages = [];
  let stopped = false;
  let code = null;
  try {
    const mod = await compiled;
    const sz = await factory({
      instantiateWasm: (imports, receive) => {
        WebAssembly.instantiate(mod, imports).then((i) => receive(i, mod));
        return {};
      },
      print: (s) => messages.push(s), printErr: (s) => messages.push(s), stdin: () => null,
    });
    const stop = new Int32Array(job.stop);
    let out = 0;
    const stdout = sz.FS.streams[1];
    stdout.stream_ops = { ...stdout.stream_ops, write: (_s, buffer, offset, length) => {
      if (stopped || Atomics.load(stop, 0) !== 0 || out + length > job.maxOut) {
        stopped = true;
        throw new sz.FS.ErrnoError(29);
      }
      out += length;
      const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length).slice();
      parentPort.postMessage({ id: job.id, chunk }, [chunk.buffer]);
      return length;
    } };
    sz.FS.writeFile('/in', job.input);
    try { code = sz.callMain(job.args); } catch { code = null; }
  } catch (e) {
    messages.push('ERROR: ' + (e && e.message ? e.message : String(e)));
  }
  parentPort.postMessage({ id: job.id, done: { code, messages: messages.slice(-20), stopped } });
});
`;

interface Job {
  readonly id: number;
  readonly input: Uint8Array;
  readonly args: readonly string[];
  readonly bounds: RunBounds;
  readonly onOut: (c: Uint8Array) => boolean;
  readonly resolve: (r: RunResult) => void;
  readonly stop: Int32Array;
  refused: boolean;
}

type FromWorker = { id: number; chunk: Uint8Array } | { id: number; done: Omit<RunResult, 'timedOut'> };

class SevenZipWorker {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextId = 1;

  run(
    input: Uint8Array, args: readonly string[], bounds: RunBounds, onOut: (c: Uint8Array) => boolean,
  ): Promise<RunResult> {
    if (this.queue.length >= MAX_QUEUED_JOBS) {
      return Promise.resolve({
        code: null, stopped: false, timedOut: false,
        messages: [`ERROR: ${MAX_QUEUED_JOBS} archive extractions already waiting`],
      });
    }
    return new Promise((resolve) => {
      const stop = new Int32Array(new SharedArrayBuffer(4));
      this.queue.push({ id: this.nextId++, input, args, bounds, onOut, resolve, stop, refused: false });
      this.pump();
    });
  }

  private spawn(): Worker {
    const require = createRequire(import.meta.url);
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { factoryPath: require.resolve('7z-wasm'), wasmPath: require.resolve('7z-wasm/7zz.wasm') },
    });
    w.unref(); // an idle worker never keeps the process alive
    w.on('message', (m: FromWorker) => this.onMessage(m));
    // A worker that dies takes its current job with it; one we killed (time limit) is no longer ours to mourn.
    const died = (why: string) => (): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.fail(why);
    };
    w.on('error', died('7-Zip worker failed'));
    w.on('exit', died('7-Zip worker exited'));
    return w;
  }

  private pump(): void {
    if (this.current !== null) return;
    const job = this.queue.shift();
    if (job === undefined) return;
    this.current = job;
    this.worker ??= this.spawn();
    this.worker.ref(); // keep the process alive while a job runs
    this.timer = setTimeout(() => this.kill(job), job.bounds.timeoutMs);
    // A copy with its own ArrayBuffer, which the worker may own. Never transfer the caller's: a Buffer is often a view
    // into a shared pool (Buffer#slice does not copy), and transferring would detach the message's other bytes.
    const input = new Uint8Array(job.input);
    const message = { id: job.id, input, args: job.args, maxOut: job.bounds.maxOutBytes, stop: job.stop.buffer };
    this.worker.postMessage(message, [input.buffer]);
  }

  private onMessage(m: FromWorker): void {
    const job = this.current;
    if (job === null || m.id !== job.id) return; // late output of a killed job
    if ('chunk' in m) {
      if (job.refused) return;
      if (!job.onOut(m.chunk)) {
        job.refused = true;
        Atomics.store(job.stop, 0, 1);
      }
      return;
    }
    this.finish(job, { ...m.done, stopped: m.done.stopped || job.refused, timedOut: false });
  }

  private finish(job: Job, r: RunResult): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.current = null;
    this.worker?.unref();
    job.resolve(r);
    this.pump();
  }

  private kill(job: Job): void {
    if (this.current !== job) return;
    const w = this.worker;
    this.worker = null;
    this.finish(job, { code: null, stopped: true, timedOut: true, messages: [] });
    void w?.terminate();
  }

  private fail(why: string): void {
    const job = this.current;
    if (job === null) return;
    this.finish(job, { code: null, stopped: job.refused, timedOut: false, messages: [`ERROR: ${why}`] });
  }
}

let shared: SevenZipWorker | null = null;

/** One 7-Zip run on `input` (as /in) in the shared worker; stdout goes to onOut chunk by chunk until it says false. */
export function runSevenZip(
  input: Uint8Array, args: readonly string[], bounds: RunBounds, onOut: (c: Uint8Array) => boolean,
): Promise<RunResult> {
  shared ??= new SevenZipWorker();
  return shared.run(input, args, bounds, onOut);
}
