// Values build.mjs defines at bundle time (esbuild `define`); tests set them on globalThis.

/** URL path of the bundled inference worker. */
declare const __SF_WORKER_URL__: string;
/** URL paths of onnxruntime-web's WebAssembly runtime, copied under content-hashed names. */
declare const __SF_ORT_WASM__: { mjs: string; wasm: string };
