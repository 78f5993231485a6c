/** Dapr's default byte-size histogram buckets (`pkg/diagnostics` `defaultSizeDistribution`). */
export const DEFAULT_SIZE_BUCKETS = [1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296];
