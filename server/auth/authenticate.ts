/** The authentication contract shared by every face: a bearer token in, an actor (or null) out. */
import type { Actor } from '../../shared/protocol.js';

/**
 * Turns the caller's token (from `Authorization: Bearer`, WebSocket connection params, the first
 * WebSocket frame or `?token=`) into an actor. Return `null` (or throw) to refuse: the faces
 * answer UNAUTHORIZED. `token` is `null` when the request carried none.
 */
export type Authenticate = (token: string | null) => Actor | null | Promise<Actor | null>;
