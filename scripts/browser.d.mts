export declare const webgpuArgs: string[];
export declare function chromiumPath(): string | undefined;
