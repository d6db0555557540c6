// When and how fast to reconnect after a connection is lost.

/** Fatal error codes after which reconnecting cannot help (configuration, limits, client faults). */
const PERMANENT_ERRORS = new Set([
  'unauthorized',
  'frame_too_large',
  'start_timeout',
  'idle_timeout',
  'max_duration',
  'upstream_auth_failed',
  'model_not_found',
  'upstream_invalid_argument',
  'location_not_supported',
  'quota_exhausted',
]);

/** Close codes after which reconnecting cannot help. */
const PERMANENT_CLOSE_CODES = new Set([1000, 1008, 1009, 4001, 4002, 4003, 4006, 4007, 4008, 4009, 4010]);

/**
 * Decides whether to reconnect after the socket of a started session closed.
 * @param {{ userStopped: boolean, sessionEnded: boolean, goingAway: boolean, closeCode: number, fatalErrorCode: string | null }} facts
 * @returns {boolean}
 */
export function shouldReconnect({ userStopped, sessionEnded, goingAway, closeCode, fatalErrorCode }) {
  if (userStopped || sessionEnded) return false;
  if (goingAway) return true;
  if (fatalErrorCode !== null) return !PERMANENT_ERRORS.has(fatalErrorCode);
  return !PERMANENT_CLOSE_CODES.has(closeCode);
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential with full jitter, capped.
 * After `going_away` the first attempt is immediate: the server asked us to move.
 * @param {number} attempt
 * @param {{ baseMs?: number, maxMs?: number, random?: () => number, immediateFirst?: boolean }} [options]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, options = {}) {
  const { baseMs = 250, maxMs = 5000, random = Math.random, immediateFirst = false } = options;
  if (immediateFirst && attempt === 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  // Half fixed, half random: never zero (no hammering), never all clients at once.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
