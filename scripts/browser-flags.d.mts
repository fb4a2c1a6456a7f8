export declare const chromiumPath: string;
export declare const chromiumArguments: string[];
