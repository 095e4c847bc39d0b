/** `model` strings of this form name a model in the OPFS cache by id (e.g. an imported local file). */
export const CACHE_SCHEME = 'opfs:';
