// What `bench:browser-diagnose --timeline` collects: the leader page's light-load commits, and
// each engine worker's marks (commit-timeline-recorder.ts). Every time is on the wall clock that
// all processes share (performance.timeOrigin + performance.now(), in ms).

/** One commit as the leader's page saw it. */
export interface PageCommit {
  readonly index: number;
  /** propose() called. */
  readonly proposedMs: number;
  /** The page posted the proposeBatch call to its worker (Worker.prototype.postMessage). */
  readonly postedMs: number;
  /** The promise resolved (the await went on). */
  readonly resolvedMs: number;
}

export interface WorkerMarks {
  readonly node: string;
  /** When each proposeBatch call arrived in the worker. */
  readonly proposals: number[];
  /**
   * An AppendEntries carrying entries handed to a data channel: send() called and returned
   * (`channel`: one number per channel object in this worker).
   */
  readonly appendsSent: { readonly atMs: number; readonly returnedMs: number; readonly channel: number; readonly firstIndex: number; readonly lastIndex: number }[];
  /** An AppendEntries carrying entries reached the engine (onFrame). */
  readonly appendsReceived: { readonly atMs: number; readonly from: string; readonly firstIndex: number; readonly lastIndex: number }[];
  readonly answersSent: { readonly atMs: number; readonly returnedMs: number; readonly channel: number; readonly success: boolean; readonly matchIndex: number }[];
  readonly answersReceived: { readonly atMs: number; readonly from: string; readonly success: boolean; readonly matchIndex: number }[];
  /** Every data channel message sent (send() called and returned), with the frames it carried. */
  readonly messagesSent: { readonly atMs: number; readonly returnedMs: number; readonly channel: number; readonly frames: readonly string[] }[];
  /** Storage writes: called, synchronous part returned (requests issued), completed. */
  readonly writes: {
    readonly startMs: number;
    readonly issuedMs: number;
    readonly endMs: number;
    readonly firstIndex: number | null;
    readonly lastIndex: number | null;
    readonly hardState: boolean;
  }[];
  /** When each event batch was posted to the page. */
  readonly eventBatches: number[];
  /** Frame batches sent through the page instead of a data channel (none once the channels are here). */
  readonly framesThroughPage: number[];
  readonly notes: string[];
}
