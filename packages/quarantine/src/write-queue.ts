/**
 * A FIFO of jobs run one at a time by a single worker, bounded in jobs and in bytes. `offer` only
 * appends and schedules: the worker starts on a later turn of the event loop, so even the job's
 * synchronous part (hashing) never runs inside the caller's request handler. A job's failure is the
 * job's business (it records it); the worker never rejects and never stops.
 */
export class WriteQueue<T> {
  private readonly jobs: { job: T; bytes: number }[] = [];
  private head = 0;
  private bytes = 0;
  private running = false;
  /** 1 while a job is being worked on: it still holds its bytes. */
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly work: (job: T) => Promise<void>,
    private readonly maxBytes: number,
    private readonly maxJobs: number,
  ) {}

  get queuedJobs(): number {
    return this.jobs.length - this.head + this.active;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Whether a job of `bytes` would be taken now (checked before the caller copies its payload). */
  hasRoom(bytes: number): boolean {
    return this.jobs.length - this.head < this.maxJobs && this.bytes + bytes <= this.maxBytes;
  }

  /** Appends `job` unless the queue is at a bound; false means dropped. */
  offer(job: T, bytes: number): boolean {
    if (!this.hasRoom(bytes)) return false;
    this.append(job, bytes);
    return true;
  }

  /** Appends past the bounds: for the few administrative jobs (delete) that carry no payload. */
  force(job: T): void {
    this.append(job, 0);
  }

  /** Resolves once every job offered so far has run. */
  drained(): Promise<void> {
    if (!this.running && this.head === this.jobs.length) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private append(job: T, bytes: number): void {
    this.jobs.push({ job, bytes });
    this.bytes += bytes;
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.run());
    }
  }

  private async run(): Promise<void> {
    while (this.head < this.jobs.length) {
      const next = this.jobs[this.head] as { job: T; bytes: number };
      // Release the slot before the work so the payload can be collected as soon as the job is done.
      this.jobs[this.head++] = undefined as unknown as { job: T; bytes: number };
      this.active = 1;
      try {
        await this.work(next.job);
      } catch {
        // The job records its own failures; a bug in one must not stop the queue.
      }
      this.active = 0;
      this.bytes -= next.bytes;
      if (this.head > 256 && this.head * 2 > this.jobs.length) {
        this.jobs.splice(0, this.head);
        this.head = 0;
      }
    }
    this.jobs.length = 0;
    this.head = 0;
    this.running = false;
    const waiting = this.idle;
    this.idle = [];
    for (const r of waiting) r();
  }
}
