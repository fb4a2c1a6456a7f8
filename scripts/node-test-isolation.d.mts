export declare const processWideChanges: RegExp[];
export declare function changesProcessWideState(source: string): boolean;
export declare function isolatedNodeTestFiles(root: string, directories: string[]): string[];
