/*! craft-text | MIT */
// The request scheduler behind detect()/detectBatch() and recognize(): stage pipelining, a bounded inference pool, a bounded queue,
// micro-batching (BatchPolicy: the detector's by padded shape, the recogniser's merges calls' crops), and cancellation
// (AbortSignal / timeoutMs).
//
//   submit ─▶ queue ─▶ prepare (decode + pre-process) ─▶ ready ─▶ infer (≤ concurrency runs, batched) ─▶ finish ─▶ settle
//             (FIFO,    ≤ stageConcurrency jobs shared         grouped by          one RunControl            (post-process,
//            maxQueue)  with finish; prepares run ahead of     BatchPolicy.key,    per run                   stage slots)
//                       inference by concurrency × maxSize     up to maxSize
//                       in BatchPolicy.weight)                 weight)
//
// Every native stage is an AsyncWorker on the libuv pool, so at most concurrency + stageConcurrency pool threads are
// busy with one detector. Network runs are held to `concurrency` where they run, in the session (binding/craft/session.h,
// RunGate): the infer stage's, and also the extra passes of scale 'auto', which run inside prepare and finish; a
// stage whose pass waits there for a slot keeps its pool thread. Each stage call gets a RunControl, so cancelling a
// request stops its passes too. A request that could start its prepare now and would be inferred
// alone right after runs prepare and infer in one native call holding the inference slot (prepareInfer): one
// hand-over between threads less, the same order and bounds. Intermediate tensors stay in C++ (opaque refs) and are
// released as soon as a request settles.
//
// The recogniser's merged-queue mode (a BatchPolicy with queueKey, a native prepareInferMany, batch.maxSize > 1) has
// no prepare stage: calls wait in the queue, and each free inference slot takes the queued calls of one key (their
// share of what is queued, up to maxSize weight) and loads + runs them in one native call; finish as above.
import { performance } from 'node:perf_hooks';
import {
  binding, type NativeInput, type NativeManyOutput, type NativePrepared, type NativePreparedOutput, type NativeRunControl,
} from './binding';
import { craftError, nativeError } from './errors';
import { StatsRecorder, type DetectorStats, type SchedulerConfig } from './stats';

/** What a stage result must carry for the scheduler's timings. @private */
export interface StageResult {
  timings: { postprocess: number; inference: number; queue?: number };
}

/**
 * The native stages the scheduler drives (the detector's and the recogniser's wrappers implement them):
 * prepare (decode + pre-process) -> infer (a batch of prepared refs of one BatchPolicy key) -> finish (per request).
 * @private
 */
export interface StageNative<O, R extends StageResult> {
  prepare(input: NativeInput, options: O, control?: NativeRunControl): Promise<NativePrepared>;
  infer(refs: unknown[], control?: NativeRunControl): Promise<{ ref: unknown; ms: number }>;
  /** prepare + infer of one request in one native call (optional): one thread-pool hand-over less. */
  prepareInfer?(input: NativeInput, options: O, control?: NativeRunControl): Promise<NativePreparedOutput>;
  /**
   * prepare + infer of several requests in one native call (optional; the recogniser's merged calls): request i's
   * result is finish(undefined, output.ref, i, options[i]), which rejects with its own failure if it had one.
   */
  prepareInferMany?(inputs: NativeInput[], options: O[], control?: NativeRunControl): Promise<NativeManyOutput>;
  /** `control` cancels what finish itself runs (the detector's extra passes of scale 'auto'). */
  finish(prepared: unknown, output: unknown, index: number, options: O, control?: NativeRunControl): Promise<R>;
  release(...refs: unknown[]): void;
  /** The model's network runs, counted by the session (every run, not only the infer stage's). */
  runStats(): { runs: number; running: number; peak: number };
  /** Frees the model (in-flight native calls keep it alive until they end). */
  dispose(): void;
}

/**
 * Which prepared requests may share an inference run, and how much of a run each one fills. The detector's: same
 * padded shape, one image each; the recogniser's (lib/recognizer.ts): same batchSize, one share per crop.
 * @private
 */
export interface BatchPolicy<O> {
  /** Requests with equal keys may be inferred together. */
  key(prepared: NativePrepared, opts: O): string;
  /** A request's share of a run, in the units of `batch.maxSize` (and of the prepare look-ahead). */
  weight(opts: O): number;
  /**
   * The key when it is known before prepare (the options decide it): with a native prepareInferMany and batches of
   * more than one, requests are then not prepared ahead but merged in the queue (Scheduler, #pickQueued).
   */
  queueKey?(opts: O): string;
}

const SHAPE_POLICY: BatchPolicy<object> = {
  key: (p) => `${p.paddedWidth}x${p.paddedHeight}`,
  weight: () => 1,
};

type NativeDetectOptions = object;
type NativeResult = StageResult;

type State = 'queued' | 'preparing' | 'ready' | 'inferring' | 'finishQueued' | 'finishing' | 'settled';

interface Run {
  control: NativeRunControl;
  /** Members not yet settled: when the last one is aborted, the run is terminated. */
  live: number;
}

interface Output {
  ref: unknown;
  /** Members that still need this output for post-processing. */
  users: number;
}

/** Images of one detectBatch() call are batched among themselves (never with other requests). */
interface Group {
  id: number;
  batchSize: number;
  /** Members whose padded shape is not known yet (queued or preparing). */
  unprepared: number;
}

interface Req {
  ticket: Ticket;
  index: number;
  input: NativeInput;
  opts: NativeDetectOptions;
  group?: Group;
  state: State;
  submitAt: number;
  mark: number;
  queueMs: number;
  prepareControl?: NativeRunControl;
  finishControl?: NativeRunControl;
  prepared?: NativePrepared;
  /** BatchPolicy.key, once prepared. */
  batchKey?: string;
  /** BatchPolicy.weight. */
  weight: number;
  run?: Run;
  output?: Output;
  outIndex: number;
  inferMs: number;
}

/** One caller's promise: one request for detect(), N for detectBatch(). */
interface Ticket {
  reqs: Req[];
  results: NativeResult[];
  remaining: number;
  settled: boolean;
  resolve(results: unknown[]): void;
  reject(err: unknown): void;
  cleanup(): void;
}

/** Per-call controls. @private */
export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Node's AbortError shape: name 'AbortError', code 'ABORT_ERR', the signal's reason as `cause`. @private */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/** Failures get the caller's stack (message and code kept); an AbortError passes unchanged (name, code, cause). @private */
export function schedulerError(err: unknown, stack: Error): unknown {
  if (err instanceof Error && err.name === 'AbortError') return err;
  return nativeError(err, stack);
}

/** @private */
export class Scheduler<O extends object = object, R extends StageResult = StageResult> {
  readonly #native: StageNative<O, R>;
  /** 'Detector' / 'Recognizer', for messages. */
  readonly #label: string;
  readonly #config: SchedulerConfig;
  readonly #stats = new StatsRecorder();
  readonly #lookahead: number;
  readonly #policy: BatchPolicy<O>;
  /**
   * Merged-queue mode (the recogniser's): single requests wait in the queue, not prepared ahead; when an inference
   * slot is free, the queued ones of one queueKey (up to batch.maxSize weight, waiting up to maxDelayMs for more) are
   * prepared and inferred in one native call. No decode runs ahead of inference, so no hand-over per request and no
   * decoded image held waiting; what a merged call loses is decoding in parallel with another run (cheap next to a
   * recogniser's runs: docs/recognition.md#merged-calls).
   */
  readonly #mergeQueued: boolean;
  /**
   * Merged-queue mode: set while a merged run's results are being delivered (until the next event-loop turn), so the
   * calls its callers make in response (a client sending its next word) join one run instead of the first of them
   * taking the slot alone.
   */
  #delivering = false;

  readonly #requests = new Set<Req>();
  #queue: Req[] = [];
  #ready: Req[] = [];
  #finishQueue: Req[] = [];
  #stageBusy = 0;
  #inferBusy = 0;
  /** Weight of the single requests in prepare (the look-ahead counts it). */
  #preparingWeight = 0;
  /** Requests in prepare (singles and detectBatch() members). */
  #preparing = 0;
  #groupIds = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #drainWaiters: (() => void)[] = [];
  #disposed = false;

  constructor(native: StageNative<O, R>, config: SchedulerConfig, label = 'Detector', policy: BatchPolicy<O> = SHAPE_POLICY) {
    this.#native = native;
    this.#label = label;
    this.#policy = policy;
    this.#mergeQueued = native.prepareInferMany !== undefined && policy.queueKey !== undefined && config.batch.maxSize > 1;
    this.#config = Object.freeze({ ...config, batch: Object.freeze({ ...config.batch }) });
    // Decode ahead of inference just enough to keep every inference slot fed with a full batch (in weight units).
    this.#lookahead = config.concurrency * config.batch.maxSize;
  }

  get config(): SchedulerConfig {
    return this.#config;
  }

  /** One image. */
  submit(input: NativeInput, opts: O, run: RunOptions): Promise<R> {
    return this.#submit([input], opts, run, undefined).then((r) => r[0]);
  }

  /** Several images: same-shape ones are inferred together, up to `batchSize` per run. Rejects on the first failure. */
  submitBatch(inputs: NativeInput[], opts: O, run: RunOptions, batchSize: number): Promise<R[]> {
    const group: Group = { id: ++this.#groupIds, batchSize, unprepared: inputs.length };
    return this.#submit(inputs, opts, run, group);
  }

  /** Resolves once every accepted request has settled. */
  drain(): Promise<void> {
    if (this.#requests.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Throws ERR_CRAFT_DISPOSED after dispose(): the facade's first check in every call. */
  checkLive(): void {
    if (this.#disposed) throw craftError('ERR_CRAFT_DISPOSED', `${this.#label} is disposed`);
  }

  /**
   * Frees the model once every accepted request has settled (they finish normally); calls after it are refused
   * (checkLive). Resolves when the model is freed; a second call resolves at once.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.drain();
    this.#native.dispose();
  }

  stats(): DetectorStats {
    const stages = { preparing: 0, ready: 0, inferring: 0, finishing: 0 };
    for (const r of this.#requests) {
      if (r.state === 'preparing') stages.preparing++;
      else if (r.state === 'ready') stages.ready++;
      else if (r.state === 'inferring') stages.inferring++;
      else if (r.state === 'finishQueued' || r.state === 'finishing') stages.finishing++;
    }
    const s = this.#stats;
    return {
      queued: this.#queue.length,
      inFlight: stages.preparing + stages.ready + stages.inferring + stages.finishing,
      stages,
      runningInferences: this.#inferBusy,
      networkRuns: this.#native.runStats(),
      submitted: s.submitted,
      completed: s.completed,
      failed: s.failed,
      rejected: s.rejected,
      aborted: s.aborted,
      timedOut: s.timedOut,
      batches: { runs: s.runs, images: s.images },
      timings: s.timings(),
      config: { ...this.#config, batch: { ...this.#config.batch } },
    };
  }

  // ---- admission --------------------------------------------------------------------------------------------------

  #submit(inputs: NativeInput[], opts: O, run: RunOptions, group: Group | undefined): Promise<R[]> {
    const { signal, timeoutMs } = run;
    if (signal?.aborted) {
      this.#stats.submitted += inputs.length;
      this.#stats.aborted += inputs.length;
      return Promise.reject(abortError(signal));
    }
    // Requests that can start decoding right away don't wait in the queue, so maxQueue: 0 still admits work while a
    // stage slot is free. A detectBatch() call is admitted as a unit, like one request: refused only when the queue is
    // already full, never for its size (its images may then take the queue past maxQueue; the caller holds them in
    // memory already).
    // Merged-queue mode: a request starts at once only when an inference slot is free.
    const startable = this.#queue.length > 0 ? 0 : this.#mergeQueued && !group ? (this.#inferBusy < this.#config.concurrency ? 1 : 0) : Math.max(0, Math.min(
      this.#config.stageConcurrency - this.#stageBusy,
      group ? inputs.length : this.#preparingWeight + this.#readyWeight() < this.#lookahead ? 1 : 0,
    ));
    const waitingAfter = this.#queue.length + (group ? (startable > 0 ? 0 : 1) : inputs.length - startable);
    if (waitingAfter > this.#config.maxQueue) {
      this.#stats.rejected += inputs.length;
      return Promise.reject(craftError('ERR_CRAFT_QUEUE_FULL',
        `${this.#label} queue is full (${this.#queue.length} waiting, maxQueue ${this.#config.maxQueue}); retry later`));
    }
    this.#stats.submitted += inputs.length;

    return new Promise<R[]>((resolve, reject) => {
      const now = performance.now();
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const ticket: Ticket = {
        reqs: [],
        results: new Array(inputs.length),
        remaining: inputs.length,
        settled: false,
        resolve: resolve as (results: unknown[]) => void,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          // A hostile signal's removeEventListener may throw: the call settles regardless.
          try {
            if (onAbort) signal!.removeEventListener('abort', onAbort);
          } catch { /* the listener is once-only and checks `settled` */ }
        },
      };
      // Cancellation is armed before anything is queued: a signal whose addEventListener throws rejects the call and
      // leaves nothing behind (no queued request that dispose() would wait for).
      try {
        if (signal) {
          onAbort = () => this.#abortTicket(ticket, abortError(signal), 'aborted');
          signal.addEventListener('abort', onAbort, { once: true });
        }
      } catch (err) {
        ticket.settled = true;
        ticket.cleanup();
        this.#stats.failed += inputs.length;
        reject(err);
        return;
      }
      if (timeoutMs !== undefined) {
        // Counted from submission: queueing time is part of the deadline, as a server's would be.
        timer = setTimeout(() => this.#abortTicket(ticket,
          craftError('ERR_CRAFT_TIMEOUT', `${this.#label === 'Detector' ? 'Detection' : 'Recognition'} timed out after ${timeoutMs} ms`), 'timedOut'), timeoutMs);
      }
      const weight = this.#policy.weight(opts);
      const batchKey = this.#mergeQueued && !group ? this.#policy.queueKey!(opts) : undefined;
      ticket.reqs = inputs.map((input, index) => ({
        ticket, index, input, opts, group, state: 'queued' as State, submitAt: now, mark: now, queueMs: 0,
        outIndex: 0, inferMs: 0, weight, batchKey,
      }));
      for (const r of ticket.reqs) {
        this.#requests.add(r);
        this.#queue.push(r);
      }
      this.#pump();
    });
  }

  /**
   * Runs one native stage call, the only way the scheduler calls the binding. `release` gives back the slot the caller
   * took for it (stage or inference): it runs exactly once however the call ends (a synchronous throw from the
   * binding, a rejection, a resolution), before `done`/`failed`, and the pump runs after. A throw from `done` fails
   * the call's requests instead of escaping as an unhandled rejection.
   */
  #stage<T>(reqs: Req[], start: () => Promise<T>, release: () => void, done: (v: T) => void, failed: (err: unknown) => void): void {
    let call: Promise<T>;
    try {
      call = Promise.resolve(start());
    } catch (err) {
      call = Promise.reject(err);
    }
    let released = false;
    const settle = (fn: () => void) => {
      try {
        if (!released) { released = true; release(); }
        fn();
      } catch (err) {
        for (const r of reqs) this.#fail(r, err);
      } finally {
        this.#pump();
      }
    };
    call.then((v) => settle(() => done(v)), (err) => settle(() => failed(err)));
  }

  // ---- the pump: starts whatever can start ---------------------------------------------------------------------

  /** Weight of the single requests prepared and waiting for inference. */
  #readyWeight(): number {
    let n = 0;
    for (const r of this.#ready) if (!r.group) n += r.weight;
    return n;
  }

  #pump(): void {
    const { stageConcurrency, concurrency } = this.#config;
    // Post-processing first: it completes requests and frees their memory.
    while (this.#stageBusy < stageConcurrency && this.#finishQueue.length > 0) this.#startFinish(this.#finishQueue.shift()!);
    let wakeAt = Infinity;
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (head.batchKey !== undefined) { // merged-queue mode
        if (this.#inferBusy >= concurrency || this.#delivering) break;
        const pick = this.#pickQueued();
        if (!Array.isArray(pick)) {
          wakeAt = pick;
          break;
        }
        this.#startPrepareInferMany(pick);
        continue;
      }
      if (this.#canPrepareInfer(head)) {
        this.#queue.shift();
        this.#startPrepareInfer(head);
        continue;
      }
      if (this.#stageBusy >= stageConcurrency) break;
      if (!head.group && this.#preparingWeight + this.#readyWeight() >= this.#lookahead) break;
      this.#queue.shift();
      this.#startPrepare(head);
    }
    while (this.#inferBusy < concurrency && this.#ready.length > 0) {
      const pick = this.#pickBatch();
      if (Array.isArray(pick)) this.#startInfer(pick);
      else { wakeAt = Math.min(wakeAt, pick); break; }
    }
    this.#armTimer(wakeAt);
  }

  /** Wakes the pump when the oldest partial batch is due. */
  #armTimer(at: number): void {
    if (at === Infinity || at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.max(0, at - performance.now()));
  }

  /** Whether another single request might still join a partial batch (its shape is not known yet). */
  #moreSinglesMayCome(): boolean {
    if (this.#preparingWeight > 0) return true;
    if (this.#readyWeight() >= this.#lookahead) return false;
    return this.#queue.some((r) => !r.group);
  }

  /** The next batch to run, or the time (performance.now()) at which a partial batch becomes due. */
  #pickBatch(): Req[] | number {
    const now = performance.now();
    const { maxSize, maxDelayMs } = this.#config.batch;
    let due = Infinity;
    const seen = new Set<string>();
    for (const r of this.#ready) {
      const key = `${r.group ? r.group.id : 0}|${r.batchKey}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Members in arrival order while their weights fit the limit (a heavier first one runs alone): a batch that
      // cannot take the next partner is full.
      const limit = r.group ? r.group.batchSize : maxSize;
      const members: Req[] = [];
      let weight = 0;
      for (const x of this.#ready) {
        if (x.group !== r.group || x.batchKey !== r.batchKey) continue;
        if (members.length > 0 && weight + x.weight > limit) return members;
        members.push(x);
        weight += x.weight;
        if (weight >= limit) return members;
      }
      if (r.group) {
        if (r.group.unprepared === 0) return members;
        continue;
      }
      const deadline = r.mark + maxDelayMs;
      if (now >= deadline || !this.#moreSinglesMayCome()) return members;
      due = Math.min(due, deadline);
    }
    return due;
  }

  /**
   * Merged-queue mode: the queued requests of the head's key, in arrival order while their weights fit (the head
   * always), or the time at which the head's maxDelayMs ends if they do not fill batch.maxSize yet. What is queued is
   * shared out over the inference slots (a run takes at most 1/concurrency of it), so with concurrency > 1 every slot
   * gets a part instead of one run taking all and the other slots idling.
   */
  #pickQueued(): Req[] | number {
    const head = this.#queue[0];
    const { maxSize, maxDelayMs } = this.#config.batch;
    let total = 0;
    for (const x of this.#queue) if (x.batchKey === head.batchKey) total += x.weight;
    const due = head.submitAt + maxDelayMs;
    if (total < maxSize && performance.now() < due) return due;
    const limit = Math.min(maxSize, Math.ceil(total / this.#config.concurrency));
    const members: Req[] = [];
    let weight = 0;
    for (const x of this.#queue) {
      if (x.batchKey !== head.batchKey) continue;
      if (members.length > 0 && weight + x.weight > limit) break;
      members.push(x);
      weight += x.weight;
      if (weight >= limit) break;
    }
    return members;
  }

  // ---- stages -----------------------------------------------------------------------------------------------------

  #startPrepare(r: Req): void {
    const now = performance.now();
    r.state = 'preparing';
    r.queueMs += now - r.mark;
    this.#stats.h.queue.observe(now - r.mark);
    this.#stageBusy++;
    this.#preparing++;
    if (!r.group) this.#preparingWeight += r.weight;
    this.#stage([r], () => {
      r.prepareControl = new (binding().RunControl)();
      return this.#native.prepare(r.input, r.opts as O, r.prepareControl);
    }, () => this.#endPrepare(r), (p) => {
      if (r.state === 'settled') {
        this.#native.release(p.ref);
      } else {
        this.#stats.h.decode.observe(p.decode);
        this.#stats.h.preprocess.observe(p.preprocess);
        r.prepared = p;
        r.batchKey = this.#policy.key(p, r.opts as O);
        r.state = 'ready';
        r.mark = performance.now();
        this.#ready.push(r);
      }
    }, (err) => this.#fail(r, err));
  }

  #endPrepare(r: Req): void {
    this.#stageBusy--;
    this.#preparing--;
    if (!r.group) this.#preparingWeight -= r.weight;
    else r.group.unprepared--;
    r.prepareControl = undefined;
  }

  /**
   * Whether `r` could start its prepare now and would be inferred as soon as it is prepared, alone: a single request,
   * batches of one, a stage slot and an inference slot free, no post-processing waiting (it goes first: without this
   * check inference would run ahead of slow post-processing and pile up outputs), and no request prepared or being
   * prepared (which would be inferred first).
   */
  #canPrepareInfer(r: Req): boolean {
    return !r.group && this.#native.prepareInfer !== undefined && this.#config.batch.maxSize === 1 &&
      this.#stageBusy < this.#config.stageConcurrency && this.#finishQueue.length === 0 &&
      this.#inferBusy < this.#config.concurrency && this.#ready.length === 0 && this.#preparing === 0;
  }

  /** prepare + infer in one native call; the request holds the inference slot (no stage slot) throughout. */
  #startPrepareInfer(r: Req): void {
    const now = performance.now();
    r.queueMs += now - r.mark;
    this.#stats.h.queue.observe(now - r.mark);
    const run: Run = { control: new (binding().RunControl)(), live: 1 };
    r.state = 'inferring';
    r.run = run;
    this.#inferBusy++;
    this.#stage([r], () => this.#native.prepareInfer!(r.input, r.opts as O, run.control),
      () => { this.#inferBusy--; }, (p) => {
        if (r.state === 'settled') {
          this.#native.release(p.ref, p.output.ref);
          return;
        }
        this.#stats.h.decode.observe(p.decode);
        this.#stats.h.preprocess.observe(p.preprocess);
        this.#stats.runs++;
        this.#stats.images++;
        this.#stats.h.inference.observe(p.output.ms);
        r.prepared = p;
        r.batchKey = this.#policy.key(p, r.opts as O);
        r.output = { ref: p.output.ref, users: 1 };
        r.outIndex = 0;
        r.inferMs = p.output.ms;
        r.state = 'finishQueued';
        r.mark = performance.now();
        this.#finishQueue.push(r);
      }, (err) => this.#fail(r, err));
  }

  /** Merged-queue mode: prepare + infer of queued requests in one native call holding the inference slot. */
  #startPrepareInferMany(members: Req[]): void {
    const now = performance.now();
    const chosen = new Set(members);
    this.#queue = this.#queue.filter((x) => !chosen.has(x));
    for (const m of members) this.#stats.h.queue.observe(now - m.mark);
    const run = this.#beginRun(members, now);
    this.#stage(members, () => this.#native.prepareInferMany!(members.map((m) => m.input), members.map((m) => m.opts as O), run.control),
      () => { this.#inferBusy--; }, (p) => {
        this.#stats.runs++;
        this.#stats.images += members.length;
        this.#stats.h.inference.observe(p.output.ms);
        const output: Output = { ref: p.output.ref, users: 0 };
        const t = performance.now();
        members.forEach((m, i) => {
          if (m.state === 'settled') return;
          this.#stats.h.decode.observe(p.decode[i]);
          this.#stats.h.preprocess.observe(p.preprocess[i]);
          m.state = 'finishQueued';
          m.output = output;
          m.outIndex = i;
          m.inferMs = p.output.ms / members.length;
          m.mark = t;
          output.users++;
          this.#finishQueue.push(m);
        });
        if (output.users === 0) this.#native.release(p.output.ref);
        if (!this.#delivering) {
          this.#delivering = true;
          setImmediate(() => {
            this.#delivering = false;
            this.#pump();
          });
        }
      }, (err) => {
        for (const m of members) this.#fail(m, err);
      });
  }

  /** One inference run for `members` (taken off the queue / ready list by the caller): it holds an inference slot. */
  #beginRun(members: Req[], now: number): Run {
    const run: Run = { control: new (binding().RunControl)(), live: members.length };
    for (const m of members) {
      m.state = 'inferring';
      m.run = run;
      m.queueMs += now - m.mark;
    }
    this.#inferBusy++;
    return run;
  }

  #startInfer(members: Req[]): void {
    const now = performance.now();
    const ready = new Set(members);
    this.#ready = this.#ready.filter((x) => !ready.has(x));
    const run = this.#beginRun(members, now);
    this.#stage(members, () => this.#native.infer(members.map((m) => m.prepared!.ref), run.control),
      () => { this.#inferBusy--; }, (out) => {
        this.#stats.runs++;
        this.#stats.images += members.length;
        this.#stats.h.inference.observe(out.ms);
        const output: Output = { ref: out.ref, users: 0 };
        const t = performance.now();
        members.forEach((m, i) => {
          if (m.state === 'settled') return;
          m.state = 'finishQueued';
          m.output = output;
          m.outIndex = i;
          m.inferMs = out.ms / members.length;
          m.mark = t;
          output.users++;
          this.#finishQueue.push(m);
        });
        if (output.users === 0) this.#native.release(out.ref);
      }, (err) => {
        for (const m of members) this.#fail(m, err);
      });
  }

  #startFinish(r: Req): void {
    const now = performance.now();
    r.state = 'finishing';
    r.queueMs += now - r.mark;
    this.#stageBusy++;
    this.#stage([r], () => {
      r.finishControl = new (binding().RunControl)();
      return this.#native.finish(r.prepared?.ref, r.output!.ref, r.outIndex, r.opts as O, r.finishControl);
    }, () => { this.#stageBusy--; r.finishControl = undefined; }, (result) => {
        if (r.state !== 'settled') {
          this.#stats.h.postprocess.observe(result.timings.postprocess);
          // The detector's finish leaves inference to us (a batch's time shared out); the recogniser measures its runs.
          if (!result.timings.inference) result.timings.inference = r.inferMs;
          result.timings.queue = r.queueMs;
          this.#complete(r, result);
        }
      }, (err) => this.#fail(r, err));
  }

  // ---- settling ---------------------------------------------------------------------------------------------------

  /** Marks a request settled, takes it out of whatever it waits in, stops its native work, frees its refs. */
  #retire(r: Req): void {
    switch (r.state) {
      case 'settled': return;
      case 'queued':
        this.#queue = this.#queue.filter((x) => x !== r);
        if (r.group) r.group.unprepared--;
        break;
      case 'preparing':
        r.prepareControl?.terminate(); // skips the decode if it has not started; the completion releases the ref
        break;
      case 'ready':
        this.#ready = this.#ready.filter((x) => x !== r);
        break;
      case 'inferring':
        // A run serving several requests keeps going while any of them still wants it.
        if (--r.run!.live === 0) r.run!.control.terminate();
        break;
      case 'finishQueued':
        this.#finishQueue = this.#finishQueue.filter((x) => x !== r);
        break;
      case 'finishing':
        // Post-processing of one image is short, but with scale 'auto' it may run whole network passes: stop them
        // (the slot is given back when the native call returns, as for a prepare).
        r.finishControl?.terminate();
        break;
    }
    r.state = 'settled';
    if (r.prepared) this.#native.release(r.prepared.ref);
    if (r.output && --r.output.users === 0) this.#native.release(r.output.ref);
    r.prepared = undefined;
    r.output = undefined;
    this.#requests.delete(r);
    if (this.#requests.size === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  #complete(r: Req, result: NativeResult): void {
    const t = r.ticket;
    this.#retire(r);
    this.#stats.completed++;
    this.#stats.h.total.observe(performance.now() - r.submitAt);
    if (t.settled) return;
    t.results[r.index] = result;
    if (--t.remaining === 0) {
      t.settled = true;
      t.cleanup();
      t.resolve(t.results);
    }
  }

  #fail(r: Req, err: unknown): void {
    if (r.state === 'settled') return;
    const t = r.ticket;
    this.#retire(r);
    // An inference terminated because every member was aborted reaches here only for settled members; anything
    // else is a real failure.
    this.#stats.failed++;
    if (t.settled) return;
    t.settled = true;
    t.cleanup();
    // detectBatch: one failure fails the call; the siblings' remaining work is cancelled.
    for (const s of t.reqs) {
      if (s.state !== 'settled') {
        this.#retire(s);
        this.#stats.aborted++;
      }
    }
    t.reject(err);
  }

  #abortTicket(t: Ticket, err: Error, kind: 'aborted' | 'timedOut'): void {
    if (t.settled) return;
    t.settled = true;
    t.cleanup();
    for (const r of t.reqs) {
      if (r.state !== 'settled') {
        this.#retire(r);
        this.#stats[kind]++;
      }
    }
    t.reject(err);
    this.#pump();
  }
}
