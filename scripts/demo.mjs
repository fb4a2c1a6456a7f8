// `npm run demo` will start the signaling server and the collaborative demo app. Until that
// app exists, say so plainly rather than pretend.
console.error('The raftmesh demo app is not built yet (issue: "The collaborative demo app and Playwright multi-browser end-to-end tests").');
console.error('What runs today: `npm test` (every suite), `npm run sim -- --seeds 100` (fault simulation) and `npm run bench`.');
process.exit(1);
