/** Bearer-token authentication of the REST and WebSocket faces: the gateway's one rule, by its old names. */
export { authenticateToken, bearerToken } from '../gateway/auth.js';
