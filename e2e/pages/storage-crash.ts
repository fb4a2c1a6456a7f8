// The page side of e2e/storage-crash.spec.ts: a one-node Raft cluster on IndexedDbRaftStorage that
// proposes as fast as it can and reports every acknowledged proposal to the test (through a
// function the test exposes where the driver can, else kept for the test to take), and a checker
// that reopens the database after a crash.
import { createLoopbackNetwork, createRaftNode, IndexedDbRaftStorage, nodeId, type LogEntry } from '../../src/index.ts';

declare global {
  interface Window {
    /** Exposed by the spec: called once per acknowledged proposal batch with the committed indexes. */
    acknowledge?: (indexes: number[]) => Promise<void>;
    storageCrash: {
      load(name: string, durability: 'strict' | 'relaxed'): Promise<void>;
      /**
       * Without `acknowledge` (puppeteer's Firefox): the indexes acknowledged since the last call.
       * Only what the test has taken counts as acknowledged: a kill loses the rest of this list,
       * not the entries.
       */
      takeAcknowledged(): number[];
      inspect(name: string): Promise<{ indexes: number[]; terms: number[]; commands: string[]; restartedCommitIndex: number }>;
    };
  }
}

const text = new TextEncoder();
/** Acknowledged indexes not yet taken by the test (when it exposes no `acknowledge`); bounded by how often it takes them. */
const untaken: number[] = [];
const id = nodeId('crash');

async function startNode(storage: IndexedDbRaftStorage) {
  const network = createLoopbackNetwork();
  return createRaftNode({
    id,
    clusterConfig: { voters: [id] },
    transport: network.transport(id),
    storage,
    raftConfig: { electionTimeoutMin: 30, electionTimeoutMax: 60, heartbeatInterval: 10 },
  });
}

window.storageCrash = {
  async load(name, durability) {
    // Resolves once the node leads (an open the storage refuses rejects here, for the test to
    // read); the proposal lanes go on after that until the browser is killed.
    const node = await startNode(await IndexedDbRaftStorage.open(name, { durability }));
    await node.awaitLeadership();
    let sequence = 0;
    // 32 proposals in flight at a time; the loop never ends: the test kills the browser.
    const worker = async (): Promise<void> => {
      for (;;) {
        sequence += 1;
        const entry: LogEntry = await node.propose(text.encode(`command ${sequence}`));
        if (window.acknowledge === undefined) untaken.push(entry.index);
        else await window.acknowledge([entry.index]);
      }
    };
    for (let lane = 0; lane < 32; lane += 1) void worker();
  },

  takeAcknowledged: () => untaken.splice(0),

  async inspect(name) {
    const storage = await IndexedDbRaftStorage.open(name);
    const entries = await storage.entries();
    const result = {
      indexes: entries.map((entry) => entry.index),
      terms: entries.map((entry) => entry.term),
      commands: entries.map((entry) => new TextDecoder().decode(entry.command)),
      restartedCommitIndex: 0,
    };
    // The node must also restart from it (restore validates the log) and commit again.
    const node = await startNode(storage);
    await node.awaitLeadership();
    const entry = await node.propose(text.encode('after the crash'));
    result.restartedCommitIndex = entry.index;
    await node.close();
    storage.close();
    return result;
  },
};
