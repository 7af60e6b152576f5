/**
 * `@model-signing/core/internal/node`: the Node-only helpers the adapters of
 * this repository share with core beyond its public API. Outside semver,
 * like `@model-signing/core/internal`.
 *
 * @packageDocumentation
 */
export { hubCacheRepoFolder } from './node/hub-cache.js';
