// The application module `raftmesh-peer --app MODULE` loads: its store options (`storeOptions`,
// or the default export), and the version of its reducer, which the module may export beside them.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicatedStoreOptions } from '../index.ts';

interface AppModule {
  readonly storeOptions?: ReplicatedStoreOptions<unknown, unknown>;
  readonly default?: ReplicatedStoreOptions<unknown, unknown>;
  /** The application's version, for a module that exports it beside its options (`storeOptions.version` does the same). */
  readonly version?: number;
}

export async function loadApp(path: string | undefined): Promise<ReplicatedStoreOptions<unknown, unknown> | undefined> {
  if (path === undefined) return undefined;
  const module = (await import(pathToFileURL(resolve(path)).href)) as AppModule;
  const options = module.storeOptions ?? module.default;
  if (options === undefined || typeof options.apply !== 'function') throw new Error(`${path} must export storeOptions (createReplicatedStore options with apply)`);
  return withModuleVersion(path, options, module.version);
}

/**
 * The module's `version` export goes into the store's options, where the store checks it (an
 * integer in 0..2^31-1): without it the peer would fold as version 0 and stop at the first
 * stamped command of its own application. Two different versions are refused, not guessed between.
 */
function withModuleVersion(path: string, options: ReplicatedStoreOptions<unknown, unknown>, version: number | undefined): ReplicatedStoreOptions<unknown, unknown> {
  if (version === undefined || options.version === version) return options;
  if (options.version !== undefined) throw new Error(`${path} exports version ${String(version)} but its storeOptions.version is ${String(options.version)}: export one, or the same`);
  return { ...options, version };
}
