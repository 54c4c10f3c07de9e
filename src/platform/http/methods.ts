/** The HTTP methods that change state (and so may carry a body): one list for every hook that needs it. */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
