import { BaseSequencer } from 'vitest/node';

export declare const longestNodeTestFiles: string[];
export declare function orderLongestFirst<Item>(items: readonly Item[], projectOf: (item: Item) => string, pathOf: (item: Item) => string, longest?: readonly string[]): Item[];
export declare class LongestFirstSequencer extends BaseSequencer {}
