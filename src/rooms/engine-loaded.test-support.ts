// Imported by tests that drive joinRoom's default engine on a VirtualClock. That engine's code
// loads on first use (default-node.ts); a first load reads files for real, and virtual timers
// would fire while it did, so a test's timeline (and a simulation seed's replay) would depend on
// how fast the disk answered. Loaded here, before any test starts its clock, each join then finds
// it in a few microtasks, the same every run. (An application's tests import the package's root,
// which loads the engine with it.)
import { loadDefaultCreateNode } from './default-node.ts';

await loadDefaultCreateNode();
