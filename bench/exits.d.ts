/**
 * The exits suite: µs per guest exit on femtovm's KVM loop against the C baseline loop, on the same
 * guest, the same KVM, in the same run. Rounds alternate baseline and femtovm (A B A B) so drift on a
 * noisy host hits both; the ratio is taken round by round and its median reported.
 */
import { type GuestArch } from '../src/index';
export interface ExitsRow {
    guest: string;
    variant: string;
    baselineUs: number;
    femtovmUs: number;
    ratio: number;
    goal: number;
}
export declare function exitsSuite(arch: GuestArch, options: {
    rounds: number;
    count: number;
    log: (line: string) => void;
}): ExitsRow[];
