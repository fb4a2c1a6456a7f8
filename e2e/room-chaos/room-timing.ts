// The room's Raft timing, one source for every member of a campaign: the chaos pages and, unless
// `--edge-default-timeouts`, the edge peer (raftmesh-peer's --election-timeout-ms and
// --heartbeat-interval-ms). A member with shorter timeouts than the rest wins nearly every
// election: its timer fires first after every leader loss, and under CPU starvation it times out
// its leader while the others still wait.

/**
 * Slower than the engine's defaults (150–300 ms): up to six Chromium processes share two loaded
 * cores here, and the campaign is about faults it injects, not about elections CPU starvation
 * would cause by itself (those are legal and would only slow it down).
 */
export const chaosRaftTiming = { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 } as const;
