import type { EscalationPolicy } from './transitions.js';

/** What an incident pins from its runbook at open: the exact text the responder follows and the retro reads. */
export interface PinnableRunbook {
  id: string;
  title: string;
  hash: string;
  file: string;
  text: string;
}

export interface Route {
  monId: string | null;
  /** False when the MON- id is missing or not in the matrix: the incident is flagged "no runbook" and gets the default escalation. */
  known: boolean;
  title: string | null;
  severity: string;
  escalation: string[];
  runbook: PinnableRunbook | null;
}

export interface ContactChannel {
  type: 'webhook' | 'slack';
  url: string;
}

export interface Contact {
  id: string;
  name: string;
  notify: ContactChannel[];
}

/** The matrix as the incident code sees it; built from the runbook catalog, swapped on reload. */
export interface Routing {
  route(monId: string | null): Route;
  policy(severity: string): EscalationPolicy;
  contact(id: string): Contact | undefined;
}
