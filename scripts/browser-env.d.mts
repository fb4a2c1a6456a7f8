export declare function loopbackOnly(command: string): [string, string[]];
export declare function findChromium(): string | null;
export declare function findFirefox(): string | null;
