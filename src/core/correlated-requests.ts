// Requests this node sent to the leader (forwarded proposals, read-index requests), keyed by
// the caller's id and findable in O(1) by the correlation id the answer echoes.
export interface CorrelatedRequest {
  correlationId: number;
}

export class CorrelatedRequests<T extends CorrelatedRequest> {
  private readonly byId = new Map<number, T>();
  private readonly byCorrelation = new Map<number, T>();

  get size(): number {
    return this.byId.size;
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  set(id: number, request: T): void {
    this.byId.set(id, request);
    if (request.correlationId !== 0) this.byCorrelation.set(request.correlationId, request);
  }

  delete(id: number): boolean {
    const request = this.byId.get(id);
    if (request === undefined) return false;
    this.byId.delete(id);
    if (this.byCorrelation.get(request.correlationId) === request) this.byCorrelation.delete(request.correlationId);
    return true;
  }

  /** Gives a request a fresh correlation id (each send gets one; old answers no longer match). */
  correlate(request: T, correlationId: number): void {
    if (this.byCorrelation.get(request.correlationId) === request) this.byCorrelation.delete(request.correlationId);
    request.correlationId = correlationId;
    this.byCorrelation.set(correlationId, request);
  }

  findByCorrelation(correlationId: number): T | undefined {
    return this.byCorrelation.get(correlationId);
  }

  keys(): IterableIterator<number> {
    return this.byId.keys();
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }

  clear(): void {
    this.byId.clear();
    this.byCorrelation.clear();
  }
}
