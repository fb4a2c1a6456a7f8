// raftmesh/testing: the deterministic simulator, safety and linearizability checkers, and an
// example replicated key-value state machine, for testing raftmesh and applications on it.
export { VirtualClock, drainMicrotasks } from './virtual-clock.ts';
export { seededRandom, deriveSeed } from './seeded-random.ts';
export { createSimulatedNetwork, reliableNetwork, validateConditions } from './simulated-network.ts';
export type { NetworkConditions, SimulatedNetwork, SimulatedNetworkOptions } from './simulated-network.ts';
export type { SnapshotSizeProfile } from './simulated-state.ts';
export { CrashableStorage } from './crashable-storage.ts';
export { createSimulatedCluster } from './cluster.ts';
export type { SimulatedCluster, SimulatedClusterOptions, SimulatedNode } from './cluster.ts';
export type { ResumeOrder } from './pausable-process.ts';
export { SafetyChecker, SafetyViolation, fingerprintBytes } from './checkers.ts';
export type { AppliedRecord } from './checkers.ts';
export { LivenessFailure, defaultSimulationDurationMs, livenessDeadlineMs, replayCommand, runSimulation } from './simulation.ts';
export type { SimulationOptions, SimulationResult } from './simulation.ts';
export * from './kv-state-machine.ts';
export * from './linearizability.ts';
