/** Live-connection bounds shared by the SSE, raw WebSocket and tRPC faces. */
export { liveConnections, type LiveConnections } from './connections.js';
export {
  openLiveStream,
  type LiveStream,
  type LiveStreamOptions,
  type LiveTransport,
} from './slow-consumers.js';
export {
  SLOW_CONSUMER_CLOSE_CODE,
  liveTransportOf,
  responseTransport,
  withLiveConnection,
  wsTransport,
} from './transports.js';
