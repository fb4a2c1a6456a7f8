/** Vite `resolve.alias` entries mapping the package's own names to its sources (source-aliases.mjs). */
export declare const raftmeshSourceAliases: ReadonlyArray<{ readonly find: RegExp; readonly replacement: string }>;
