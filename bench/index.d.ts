export interface BenchOptions {
    rounds: number;
    count: number;
    json: boolean;
}
export declare function runBench(options: BenchOptions): number;
