export interface BaselineRun {
    exits: number;
    seconds: number;
    usPerExit: number;
}
export declare function baselineBinary(): string;
export declare function runBaseline(binary: string, image: string, count: number): BaselineRun;
