import { MON_IDS } from './fixtures.js';

/**
 * Request bodies, built from string templates so the load generator spends its CPU on sending, not on JSON.stringify.
 * The shapes follow the senders' wire formats (test/fixtures/webhooks): Alertmanager webhook version 4, Grafana unified
 * alerting v1, and Alertmanager's own API (`POST /api/v2/alerts`, an array of alerts) for the peer.
 */

const STARTS_AT = '2026-08-14T09:18:45.512Z';

function fp(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** An Alertmanager webhook delivery with one firing alert; `n` makes the fingerprint (and the body) unique. */
export function alertmanagerSingle(n: number, monId = MON_IDS[n % MON_IDS.length]!, fingerprint = fp(n), evaluation = n): string {
  const labels = `{"alertname":"CheckoutLatencyHigh","instance":"checkout-${n % 997}:8080","job":"checkout","mon_id":"${monId}","severity":"critical","team":"platform"}`;
  const annotations = `{"summary":"${monId}: checkout p99 above 800ms","description":"p99 is ${800 + (evaluation % 400)}ms (evaluation ${evaluation})","runbook_url":"https://runbooks.example.com/${monId}"}`;
  return (
    `{"receiver":"runbook-router","status":"firing","alerts":[{"status":"firing","labels":${labels},"annotations":${annotations},` +
    `"startsAt":"${STARTS_AT}","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus-0:9090/graph?g0.expr=checkout_p99_ms+%3E+800&g0.tab=1","fingerprint":"${fingerprint}"}],` +
    `"groupLabels":{"alertname":"CheckoutLatencyHigh"},"commonLabels":${labels},"commonAnnotations":${annotations},` +
    `"externalURL":"http://alertmanager-0:9093","version":"4","groupKey":"{}/{team=\\"platform\\"}:{alertname=\\"CheckoutLatencyHigh\\"}","truncatedAlerts":0}\n`
  );
}

/**
 * The storm: one alert (same MON- id, same fingerprint) delivered again and again, each delivery a new one (its evaluation
 * counter differs, as re-notifications and HA replicas send them), so each is kept in the inbox and all collapse into
 * one alert instance of one incident.
 */
export function alertmanagerStorm(n: number): string {
  return alertmanagerSingle(0, MON_IDS[0]!, STORM_FINGERPRINT, n);
}

export const STORM_FINGERPRINT = 'feedfacecafebeef';

function grafanaAlert(n: number, monId: string): string {
  const labels = `{"alertname":"Checkout latency","grafana_folder":"Checkout","instance":"checkout-${n}:8080","mon_id":"${monId}","severity":"critical","team":"platform"}`;
  return (
    `{"status":"firing","labels":${labels},"annotations":{"summary":"${monId}: checkout p99 above 800ms","description":"p99 is ${800 + (n % 400)}ms on checkout-${n}:8080"},` +
    `"startsAt":"2026-08-14T09:40:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"https://grafana.example.com/alerting/grafana/be7k2q9xw1kcgd/view?orgId=1",` +
    `"fingerprint":"${fp(n)}","silenceURL":"https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=instance%3Dcheckout-${n}%3A8080",` +
    `"dashboardURL":"https://grafana.example.com/d/checkout-overview?orgId=1","panelURL":"https://grafana.example.com/d/checkout-overview?orgId=1&viewPanel=14",` +
    `"ruleUID":"be7k2q9xw1kcgd","values":{"A":${(800 + (n % 400)) / 1000},"C":1},"valueString":"[ var='A' labels={instance=checkout-${n}:8080} value=${(800 + (n % 400)) / 1000} ]","orgId":1}`
  );
}

/** A Grafana unified-alerting delivery of `size` firing alerts of one rule (one MON- id), each instance with its own fingerprint. */
export function grafanaBatch(n: number, size = 100): string {
  const monId = MON_IDS[n % MON_IDS.length]!;
  const alerts: string[] = [];
  for (let i = 0; i < size; i++) alerts.push(grafanaAlert(n * size + i, monId));
  return (
    `{"receiver":"runbook-router","status":"firing","alerts":[${alerts.join(',')}],"groupLabels":{"alertname":"Checkout latency"},` +
    `"commonLabels":{"alertname":"Checkout latency","mon_id":"${monId}"},"commonAnnotations":{},"externalURL":"https://grafana.example.com/","version":"1",` +
    `"groupKey":"{}:{alertname=\\"Checkout latency\\"}","truncatedAlerts":0,"orgId":1,"title":"[FIRING:${size}] Checkout latency","state":"alerting","message":"${size} alerts firing"}`
  );
}

function amApiAlert(n: number, monId: string, value: number): string {
  return (
    `{"labels":{"alertname":"CheckoutLatencyHigh","instance":"checkout-${n}:8080","job":"checkout","mon_id":"${monId}","severity":"critical","team":"platform"},` +
    `"annotations":{"summary":"${monId}: checkout p99 above 800ms","description":"p99 is ${800 + (value % 400)}ms"},` +
    `"startsAt":"${STARTS_AT}","generatorURL":"http://prometheus-0:9090/graph?g0.expr=checkout_p99_ms+%3E+800&g0.tab=1"}`
  );
}

/** Alertmanager's API: one new alert (unique labels, so a unique fingerprint there too). */
export function amApiSingle(n: number): string {
  return `[${amApiAlert(n, MON_IDS[n % MON_IDS.length]!, n)}]`;
}

/** Alertmanager's API: the same alert (same labels) again and again. */
export function amApiStorm(n: number): string {
  return `[${amApiAlert(0, MON_IDS[0]!, n)}]`;
}

/** Alertmanager's API: 100 alerts in one POST. */
export function amApiBatch(n: number, size = 100): string {
  const monId = MON_IDS[n % MON_IDS.length]!;
  const alerts: string[] = [];
  for (let i = 0; i < size; i++) alerts.push(amApiAlert(n * size + i, monId, i));
  return `[${alerts.join(',')}]`;
}
