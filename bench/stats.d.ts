/** Summaries of repeated measurements: the median and percentiles of a sample. */
export declare function percentile(sorted: number[], p: number): number;
export declare function median(values: number[]): number;
