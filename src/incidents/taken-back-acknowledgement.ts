import type { Alert } from '../alerts/alert.js';

/**
 * Only PagerDuty reports acknowledgements, so only its firing can take one back (`incident.unacknowledged`, or its
 * acknowledgement timing out): such a batch needs the transactional path, which can move an incident back to triggered.
 */
export const mayTakeBackAcknowledgement = (alert: Alert): boolean => alert.source === 'pagerduty' && alert.status === 'firing';
