/** The Weft runtime version reported by the metadata API. */
export const RUNTIME_VERSION = '0.1.0';
