import { z } from 'zod';
import type { Alert } from './alert.js';
import { alertFromGroupAlert, groupAlertShape, groupShape } from './alert-group.js';
import { monIdsFromFirstSource } from './mon-id-token.js';
import { httpUrl, jsonObject, present, stringMap } from './schema-parts.js';

/** Grafana unified alerting webhook, integration version v1 (`receivers/webhook/v1`). */
export const grafanaBodySchema = jsonObject({
  ...groupShape,
  alerts: z.array(
    z.object({
      ...groupAlertShape,
      silenceURL: z.string().optional(),
      dashboardURL: z.string().optional(),
      panelURL: z.string().optional(),
      imageURL: z.string().optional(),
      ruleUID: z.string().optional(),
      // null for the test button and for rules without numeric results.
      values: z.record(z.string(), z.number()).nullable().optional(),
      valueString: z.string().optional(),
      orgId: z.number().int().optional(),
    }),
  ),
  orgId: z.number().int().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
});

const LEGACY_STATES = ['alerting', 'ok', 'no_data', 'paused', 'pending', 'unknown'] as const;

/** Grafana ≤ 10.x legacy alerting (`pkg/services/alerting/notifiers/webhook.go`): one rule per body, no alerts[]. */
export const grafanaLegacyBodySchema = jsonObject({
  ruleId: z.number().int(),
  ruleName: z.string().optional(),
  ruleUrl: z.string().optional(),
  state: z.enum(LEGACY_STATES),
  title: z.string().optional(),
  message: z.string().optional(),
  imageUrl: z.string().optional(),
  // Go marshals a nil slice or map as null.
  evalMatches: z
    .array(z.object({ value: z.number().nullable().optional(), metric: z.string(), tags: stringMap.nullable().optional() }))
    .nullable()
    .optional(),
  tags: stringMap.nullable().optional(),
  dashboardId: z.number().int().optional(),
  panelId: z.number().int().optional(),
  orgId: z.number().int().optional(),
});

/** Grafana 12's custom payload template replaces the whole body; we cannot know its shape, so it is refused with a reason. */
const unsupportedBodySchema = z.object({
  alerts: z.array(z.unknown(), {
    error: 'expected alerts[] (Grafana unified alerting) or ruleName/evalMatches (legacy alerting); custom payload templates are not supported, keep the default payload',
  }),
});

const anyObject = z.looseObject({}, { error: 'expected a JSON object' });

/**
 * The contact point's "Test" button (`notify/test_receivers.go`): one alert labelled `alertname=TestAlert` and
 * `instance=Grafana`, sent with the group key `<integration>-<that alert's fingerprint>-<unix seconds>`. A real
 * notification's group key is its route's matchers and group labels (`{}/{…}:{…}`), so the key keeps a rule that someone
 * named TestAlert from being taken for a test: a real alert must never be dropped.
 */
const TEST_GROUP_KEY = /^[^{}]+-([^-{}]+)-\d+$/;

function isTestButton(group: z.output<typeof grafanaBodySchema>): boolean {
  const [alert, ...more] = group.alerts;
  if (alert === undefined || more.length > 0) return false;
  if (alert.labels.alertname !== 'TestAlert' || alert.labels.instance !== 'Grafana') return false;
  return TEST_GROUP_KEY.exec(group.groupKey ?? '')?.[1] === alert.fingerprint;
}

/**
 * Legacy alerting's "Send Test" (`pkg/services/alerting/test_notification.go`): a rule named `Test notification` with
 * Grafana's fixed message (`grafana.` in older releases). Its ruleId is 0 in older releases and random (63 bits) in
 * later ones, so the name and message tell it, not the id.
 */
const legacyTestSchema = z.object({
  ruleId: z.number(),
  ruleName: z.literal('Test notification'),
  message: z.string().regex(/^Someone is testing the alert notification within grafana\.$/i),
});

export function adaptGrafana(body: unknown, receivedAt: Date): Alert[] {
  const raw = anyObject.parse(body);
  if ('alerts' in raw) return adaptUnified(body);
  if ('ruleName' in raw || 'evalMatches' in raw) return adaptLegacy(body, receivedAt);
  // Always throws here (alerts is absent): the ZodError carries the path and the reason to the 400.
  unsupportedBodySchema.parse(body);
  return [];
}

/**
 * A test opens no incident: nothing would ever resolve it, and it would page the default chain. The delivery is still kept
 * in the inbox and answered 202, which is what the contact point's test checks for.
 */
function adaptUnified(body: unknown): Alert[] {
  const group = grafanaBodySchema.parse(body);
  if (isTestButton(group)) return [];
  return group.alerts.map((alert) => {
    const measurements: Record<string, string | number> = {};
    for (const [key, value] of [
      ['dashboardURL', alert.dashboardURL],
      ['panelURL', alert.panelURL],
      ['silenceURL', alert.silenceURL],
      ['imageURL', alert.imageURL],
    ] as const) {
      // Grafana sends "" for URLs of rules without a dashboard; an empty link is noise on the incident page.
      const url = httpUrl(value);
      if (url !== undefined) measurements[key] = url;
    }
    const valueString = present(alert.valueString);
    if (valueString !== undefined) measurements.valueString = valueString;
    Object.assign(measurements, alert.values ?? {});
    return alertFromGroupAlert('grafana', alert, measurements);
  });
}

function adaptLegacy(body: unknown, receivedAt: Date): Alert[] {
  // Before the full schema: its ruleId is a database id, a safe integer, and it would refuse the test's random 63-bit one.
  if (legacyTestSchema.safeParse(body).success) return [];
  const legacy = grafanaLegacyBodySchema.parse(body);
  const status = legacy.state === 'alerting' || legacy.state === 'no_data' ? 'firing' : legacy.state === 'ok' ? 'resolved' : null;
  // paused, pending and unknown say nothing about whether the monitored thing is broken.
  if (status === null) return [];
  const tags = legacy.tags ?? {};
  const [monId] = monIdsFromFirstSource([tags.mon_id, legacy.ruleName, legacy.title]);
  const values: Record<string, string | number> = { state: legacy.state };
  for (const match of legacy.evalMatches ?? []) {
    const matchTags = Object.entries(match.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    values[matchTags ? `${match.metric}{${matchTags}}` : match.metric] = match.value ?? 'no value';
  }
  const message = present(legacy.message);
  if (message !== undefined) values.message = message;
  const imageUrl = httpUrl(legacy.imageUrl);
  if (imageUrl !== undefined) values.imageUrl = imageUrl;
  // The legacy body has no timestamps at all, so arrival time is the best available order.
  const at = receivedAt.toISOString();
  return [
    {
      source: 'grafana',
      monId: monId ?? null,
      status,
      fingerprint: String(legacy.ruleId),
      title: present(legacy.ruleName) ?? present(legacy.title) ?? `Grafana rule ${legacy.ruleId}`,
      labels: { ...tags },
      values,
      url: httpUrl(legacy.ruleUrl) ?? null,
      startsAt: at,
      eventAt: at,
    },
  ];
}
