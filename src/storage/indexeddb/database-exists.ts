// Whether a node's database exists, asked without opening it: an open creates a database that is
// not there. joinRoom reads an id's storage before it starts the node (workerNodeFactory reads in
// a worker), and a join aborted or failed after that read left an empty database behind under
// an id that never ran a node (the newcomer's step 4b: the signaling server unreachable).
import { databaseName } from './schema.ts';

/** Whether the database of the node called `name` exists; null where the browser cannot list databases (then only an open can tell). */
export async function raftDatabaseExists(name: string): Promise<boolean | null> {
  const factory = (globalThis as { indexedDB?: Partial<Pick<IDBFactory, 'databases'>> }).indexedDB;
  if (typeof factory?.databases !== 'function') return null;
  try {
    const fullName = databaseName(name);
    return (await factory.databases()).some((database) => database.name === fullName);
  } catch {
    return null;
  }
}
