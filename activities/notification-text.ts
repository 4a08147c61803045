/**
 * What a notification says, in words, for every event Interlock sends (docs/notifications.md) and for Keptn's
 * `sh.keptn.event.*` events (docs/keptn.md): one description of the event, rendered as plain text, HTML
 * (every value escaped) and a Slack message. Pure: no I/O, so the wording is unit-tested.
 */
import { type AuditAction, type AuditEvent, type CloudEvent, INTERLOCK_EVENT_PREFIX, KEPTN_EVENT_PREFIX } from '../core/cloud-events.js';
import { describeOpening } from '../core/deployment-windows.js';
import { escalatedTeamsOf, type Interruption, isOpen, type Person, teamsOf } from '../core/interruptions.js';
import { progressLines } from '../core/approval-rules.js';
import { describeDeclared, describeInputs } from '../core/approver-inputs.js';
import { describeChanges, describePrevious } from '../core/decision-context.js';

/** A signed `/i/<token>` link to the decision page of one person. */
export interface DecideLink {
  username: string;
  url: string;
}

export interface RenderOptions {
  /** The deployment's page; the decision pages of the people who may act on an open interruption. */
  links: { deployment?: string; decide?: DecideLink[] };
  /** The message goes to one person who may act on the interruption ("waiting for you"). */
  personal?: boolean;
}

export interface SubjectOptions extends RenderOptions {
  /** `[Interlock]` unless the channel says otherwise. */
  prefix?: string;
}

/** Slack's incoming-webhook body: `text` is the fallback for notifications, `blocks` the message. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}
export type SlackBlock =
  | { type: 'section'; text?: { type: 'mrkdwn'; text: string }; fields?: { type: 'mrkdwn'; text: string }[] }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  | { type: 'actions'; elements: { type: 'button'; text: { type: 'plain_text'; text: string }; url: string }[] };

/** The event as a person reads it, before any format. */
interface Description {
  /** One line: what happened. */
  headline: string;
  /** The subject's words after the prefix. */
  subject: string;
  /** Label and value, in reading order. */
  facts: [string, string][];
  /** Longer texts, each under its heading: instructions, notes, a notify step's message. */
  sections: { heading: string; text: string }[];
}

/** `hello-service 1.4.2 to production`, with whatever the event knows. */
function target(event: CloudEvent): string {
  const { project, release, environment, stage } = event.data;
  const where = environment ?? stage;
  return [project, release, where ? `to ${where}` : undefined].filter(Boolean).join(' ');
}

const who = (person: Person | null | undefined): string | undefined => (person ? `${person.displayName} (${person.username})` : undefined);

/** `2025-01-01 09:00 UTC`: the same for every reader, whatever their time zone. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const stringField = (data: Record<string, unknown>, key: string): string | undefined =>
  typeof data[key] === 'string' && data[key] !== '' ? data[key] : undefined;

const STATUS_WORDS: Record<string, string> = {
  Succeeded: 'succeeded',
  Failed: 'failed',
  Aborted: 'was aborted',
  Cancelled: 'was cancelled',
  Superseded: 'was superseded by a newer release',
  Expired: 'expired: it was not past its gates by its start-by time',
};
/** Own names only: a status of `constructor` reads as itself, never as Object's. */
const statusWords = (status: string): string => (Object.hasOwn(STATUS_WORDS, status) ? STATUS_WORDS[status]! : `finished: ${status}`);

function describeInterruption(event: CloudEvent, interruption: Interruption, name: string, personal: boolean): Description {
  const what = target(event);
  const step = interruption.step;
  const kind = interruption.kind;
  // Who may act, escalation included, as the interruption itself says (core's rule).
  const escalated = escalatedTeamsOf(interruption);
  const facts: [string, string][] = [['Deployment', what], ['Step', step]];
  if (event.data.deployment?.id) facts.push(['Deployment id', event.data.deployment.id]);
  const teams = teamsOf(interruption);
  const opens = interruption.opensAt ? `${describeOpening(interruption.opensAt, interruption.timezone, event.time)} (${formatTime(interruption.opensAt)})` : undefined;
  if (kind === 'Window') {
    // Nobody decides a window: it opens by itself; its override teams may break glass (docs/change-control.md).
    if (opens && name !== 'interruption.decided') facts.push(['Opens', opens]);
    if (interruption.reason) facts.push(['Why', interruption.reason]);
    const overriders = interruption.overrideTeams ?? [];
    facts.push(['Who may override', overriders.length > 0 ? `members of ${overriders.join(', ')}, with a reason` : 'nobody']);
  } else facts.push(['Who may act', teams.length > 0 ? `members of ${teams.join(', ')} (and admins)` : 'any deployer']);
  if (interruption.assignee && (interruption.state === 'Pending' || interruption.state === 'Assigned')) facts.push(['Responsible', who(interruption.assignee)!]);
  facts.push(['Waiting since', formatTime(interruption.createdAt)]);
  if (interruption.timeoutAt && name !== 'interruption.decided') {
    facts.push(['Times out', `${formatTime(interruption.timeoutAt)}, then the deployment ${interruption.onTimeout === 'proceed' ? 'goes on' : 'aborts'}`]);
  }
  if ((interruption.requiredApprovals ?? 1) > 1) {
    facts.push(['Approvals', `${interruption.approvals?.length ?? 0} of ${interruption.requiredApprovals}`]);
  }
  // Approval rules (docs/manual-steps.md#approval-rules): each rule's progress, and who may still approve.
  if (interruption.rules && !interruption.requiredApprovals) {
    facts.push([`Approval rules${interruption.ordered ? ', in order' : ''}`, progressLines(interruption).join('; ')]);
    if (interruption.remaining) facts.push(['May still approve', interruption.remaining.mayApprove.join(', ') || 'nobody the open rules name (an admin may)']);
  }
  if (interruption.inputs?.length && isOpen(interruption)) facts.push(['Asks whoever proceeds', describeDeclared(interruption.inputs)]);
  const sections: Description['sections'] = [];
  if (interruption.instructions.trim()) sections.push({ heading: 'Instructions', text: interruption.instructions.trimEnd() });
  // What is being decided (docs/change-control.md#the-context-to-decide); release notes are text here as everywhere.
  const { context } = interruption;
  if (context) {
    const where = event.data.environment ?? event.data.stage;
    facts.push([`Previous${where ? ` in ${where}` : ''}`, describePrevious(context.previous, formatTime)]);
    if (context.previous) facts.push(['Changed', describeChanges(context.changedVariables)]);
    if (context.evaluation) facts.push(['Evaluation', `${context.evaluation.step}: ${context.evaluation.result} (score ${context.evaluation.score})`]);
    if (context.releaseNotes?.trim()) sections.push({ heading: 'Release notes', text: context.releaseNotes.trimEnd() });
  }

  const waitingFor =
    kind === 'Window' ? `its deployment window, which opens ${opens ?? 'later'}`
    : kind === 'Approval' ? (personal ? 'your approval' : 'an approval')
    : kind === 'GuidedFailure' ? (personal ? 'you to choose: retry, ignore or fail' : 'someone to choose: retry, ignore or fail')
    : personal ? 'you' : 'someone to take responsibility';
  const failed = kind === 'GuidedFailure' ? ' failed and' : '';

  switch (name) {
    case 'interruption.created':
      return {
        headline: `"${step}"${failed} is waiting for ${waitingFor} in ${what}.`,
        subject: `${personal ? 'Waiting for you' : 'Waiting'}: ${step} — ${what}`,
        facts,
        sections,
      };
    case 'interruption.reminder': {
      const held = interruption.assignee && interruption.state === 'Assigned' ? ` ${who(interruption.assignee)} has taken it.` : '';
      return {
        headline: `Reminder: "${step}"${failed} is still waiting for ${waitingFor} in ${what}, since ${formatTime(interruption.createdAt)}.${held}`,
        subject: `Reminder${personal ? ', waiting for you' : ''}: ${step} — ${what}`,
        facts,
        sections,
      };
    }
    case 'interruption.escalated':
      return {
        headline: `"${step}" has waited too long in ${what}${escalated.length ? `; ${escalated.join(', ')} may now act on it too` : ''}.`,
        subject: `Escalated: ${step} — ${what}`,
        facts,
        sections,
      };
    case 'interruption.decided': {
      const by = who(interruption.assignee);
      const outcome = decisionWords(interruption, kind, by);
      const decided: [string, string][] = [['Deployment', what], ['Step', step], ['Outcome', outcome.short]];
      if (by) decided.push(['By', by]);
      if (interruption.decidedAt) decided.push(['At', formatTime(interruption.decidedAt)]);
      if (interruption.approvals && interruption.approvals.length > 1) decided.push(['Approved by', interruption.approvals.map((approval) => who(approval.user)!).join(', ')]);
      if (interruption.inputValues) decided.push(['Inputs', describeInputs(interruption.inputValues)]);
      if (event.data.deployment?.id) decided.push(['Deployment id', event.data.deployment.id]);
      const notes = interruption.notes?.trim() ? [{ heading: by ? `Notes from ${by}` : 'Notes', text: interruption.notes.trimEnd() }] : [];
      return { headline: `"${step}" in ${what}: ${outcome.long}.`, subject: `${outcome.short}: ${step} — ${what}`, facts: decided, sections: notes };
    }
    default:
      return { headline: `${event.type}: "${step}" in ${what}.`, subject: `${name}: ${step} — ${what}`, facts, sections };
  }
}

function decisionWords(interruption: Interruption, kind: string, by: string | undefined): { short: string; long: string } {
  const state: string = interruption.state;
  const byWhom = by ? ` by ${by}` : '';
  switch (state) {
    case 'Proceeded':
      return kind === 'Approval' ? { short: 'Approved', long: `approved${byWhom}` } : { short: 'Proceeded', long: `proceeded${byWhom}` };
    case 'Aborted':
      return kind === 'Approval' ? { short: 'Declined', long: `declined${byWhom}` } : { short: 'Aborted', long: `aborted${byWhom}` };
    case 'TimedOut':
      return { short: 'Timed out', long: `nobody decided in time; the deployment ${interruption.onTimeout === 'proceed' ? 'goes on' : 'aborts'}` };
    case 'Retried':
      return { short: 'Retried', long: `the step runs again, as chosen${byWhom}` };
    case 'Ignored':
      return { short: 'Ignored', long: `the failure is ignored and the deployment goes on, as chosen${byWhom}` };
    case 'Failed':
      return { short: 'Failed', long: `the deployment fails, as chosen${byWhom}` };
    case 'WindowOpened':
      return { short: 'Window opened', long: 'its deployment window opened; the deployment goes on' };
    case 'Overridden': {
      const override = interruption.override;
      return { short: 'Overridden', long: override ? `overridden by ${who(override.user)} (break-glass): ${override.reason}` : 'overridden (break-glass)' };
    }
    default:
      return { short: state, long: `${state}${byWhom}` };
  }
}

function describeKeptn(event: CloudEvent): Description {
  const data = event.data;
  const parts = event.type.slice(KEPTN_EVENT_PREFIX.length).split('.');
  const phase = parts.length > 1 ? parts.pop()! : '';
  const task = parts.join('.');
  const labels = typeof data.labels === 'object' && data.labels !== null ? (data.labels as Record<string, unknown>) : {};
  const release = data.release ?? stringField(labels, 'release');
  const stage = data.stage ?? data.environment;
  const result = stringField(data, 'result');
  const status = stringField(data, 'status');
  const outcome = result ? `: ${result}${status ? ` (${status})` : ''}` : '';
  const headline = [task, phase, stage ? `in ${stage}` : undefined, `for ${[data.project, release].filter(Boolean).join(' ')}`]
    .filter(Boolean)
    .join(' ');
  const facts: [string, string][] = [['Project', data.project]];
  if (data.service) facts.push(['Service', data.service]);
  if (stage) facts.push(['Stage', stage]);
  if (release) facts.push(['Release', release]);
  if (result) facts.push(['Result', result]);
  if (status) facts.push(['Status', status]);
  if (event.shkeptncontext) facts.push(['Keptn context', event.shkeptncontext]);
  const message = stringField(data, 'message');
  return {
    headline: `${headline}${outcome}.`,
    subject: `${headline}${outcome}`,
    facts,
    sections: message ? [{ heading: 'Message', text: message }] : [],
  };
}

function describe(event: CloudEvent, personal: boolean): Description {
  if (event.type.startsWith(KEPTN_EVENT_PREFIX)) return describeKeptn(event);
  const name = event.type.startsWith(INTERLOCK_EVENT_PREFIX) ? event.type.slice(INTERLOCK_EVENT_PREFIX.length) : event.type;
  const data = event.data;
  const what = target(event);
  const facts: [string, string][] = [['Deployment', what]];
  if (data.deployment?.id) facts.push(['Deployment id', data.deployment.id]);

  if (name.startsWith('interruption.') && data.interruption) return describeInterruption(event, data.interruption, name, personal);
  switch (name) {
    case 'deployment.queued': {
      const behind = stringField(data, 'queuedBehind');
      if (behind) facts.push(['Waiting for', behind]);
      return {
        headline: `${what} is queued${behind ? ` behind ${behind}` : ''}: another deployment of the same project and environment is waiting at a blocking step.`,
        subject: `Queued: ${what}`,
        facts,
        sections: [],
      };
    }
    case 'policy.overridden': {
      const override = data.override as { part?: string; user?: Person; reason?: string; at?: string } | undefined;
      const by = who(override?.user) ?? 'someone';
      const part = override?.part === 'window' ? 'the deployment window (or a freeze)' : 'the approvals';
      if (data.step) facts.push(['Step', data.step]);
      facts.push(['Overridden', part], ['By', by]);
      if (override?.at) facts.push(['At', formatTime(override.at)]);
      return {
        headline: `${by} broke glass on "${data.step ?? 'a policy gate'}" in ${what}: ${part} passed without waiting.`,
        subject: `Overridden: ${data.step ?? 'policy gate'} — ${what}`,
        facts,
        sections: override?.reason ? [{ heading: 'Reason', text: override.reason }] : [],
      };
    }
    case 'deployment.finished': {
      const status = data.deployment?.status ?? 'Finished';
      if (data.step) facts.push(['Last step', data.step]);
      return {
        headline: `${what} ${statusWords(status)}.`,
        subject: `${status}: ${what}`,
        facts: [...facts, ['Status', status]],
        sections: [],
      };
    }
    case 'release.finished': {
      const status = stringField(data, 'status') ?? data.deployment?.status ?? 'Finished';
      const result = stringField(data, 'result');
      const release = [data.project, data.release].filter(Boolean).join(' ');
      return {
        headline: `Release ${release} ${statusWords(status)}${result ? ` (result ${result})` : ''}.`,
        subject: `Release ${status}: ${release}`,
        facts: [['Release', release], ['Status', status], ...(result ? [['Result', result] as [string, string]] : [])],
        sections: [],
      };
    }
    case 'notify': {
      const message = data.message ?? '';
      const first = message.split('\n').find((line) => line.trim() !== '')?.trim() ?? `A message from ${what}`;
      if (data.step) facts.push(['Step', data.step]);
      return {
        headline: first.length > 200 ? `${first.slice(0, 199)}…` : first,
        subject: `${data.step ? `${data.step} — ` : ''}${what}`,
        facts,
        sections: message.trim() ? [{ heading: 'Message', text: message.trimEnd() }] : [],
      };
    }
    default:
      return { headline: `${event.type} for ${what}.`, subject: `${event.type}: ${what}`, facts, sections: [] };
  }
}

export function subjectOf(event: CloudEvent, { prefix = '[Interlock]', personal = false }: Partial<SubjectOptions> = {}): string {
  const subject = describe(event, personal).subject.replace(/[\r\n]+/g, ' ');
  return prefix ? `${prefix} ${subject}` : subject;
}

const DECIDE_ONE = 'Open the decision page (you will be asked to sign in)';
const DECIDE_MANY = 'Decision pages, one for each person who may act (each asks that person to sign in)';

/** The plain-text body of an email. */
export function renderText(event: CloudEvent, { links, personal = false }: RenderOptions): string {
  const { headline, facts, sections } = describe(event, personal);
  const width = Math.max(0, ...facts.map(([label]) => label.length)) + 2;
  const lines = [headline, '', ...facts.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`)];
  for (const { heading, text } of sections) lines.push('', `${heading}:`, text);
  const decide = links.decide ?? [];
  if (decide.length === 1) lines.push('', `${DECIDE_ONE}:`, decide[0]!.url);
  else if (decide.length > 1) lines.push('', `${DECIDE_MANY}:`, ...decide.map(({ username, url }) => `  ${username}: ${url}`));
  if (links.deployment) lines.push('', 'The deployment:', links.deployment);
  lines.push('', '— Interlock');
  return `${lines.join('\n')}\n`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
/** Escaped, with its line breaks kept. */
const htmlLines = (text: string): string => escapeHtml(text).replace(/\r?\n/g, '<br>\n');
/** Only our own http(s) links become hrefs. */
const safeUrl = (url: string): string | undefined => (/^https?:\/\//i.test(url) ? escapeHtml(url) : undefined);

/** The HTML body of an email: every value escaped, so nothing from a config, a trigger or a person becomes markup. */
export function renderHtml(event: CloudEvent, { links, personal = false }: RenderOptions): string {
  const { headline, subject, facts, sections } = describe(event, personal);
  const button = (url: string, label: string) => {
    const href = safeUrl(url);
    return href
      ? `<p><a href="${href}" style="display:inline-block;padding:8px 14px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(label)}</a></p>`
      : '';
  };
  const link = (url: string, label: string) => {
    const href = safeUrl(url);
    return href ? `<a href="${href}">${escapeHtml(label)}</a>` : escapeHtml(label);
  };
  const body: string[] = [`<p style="font-size:16px"><strong>${htmlLines(headline)}</strong></p>`];
  body.push(
    '<table style="border-collapse:collapse">',
    ...facts.map(([label, value]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(label)}</th><td style="padding:2px 0">${htmlLines(value)}</td></tr>`),
    '</table>',
  );
  for (const { heading, text } of sections) {
    body.push(`<h3 style="margin:16px 0 4px">${escapeHtml(heading)}</h3>`, `<p style="margin:0">${htmlLines(text)}</p>`);
  }
  const decide = links.decide ?? [];
  if (decide.length === 1) body.push(button(decide[0]!.url, DECIDE_ONE));
  else if (decide.length > 1) {
    body.push(`<p>${escapeHtml(DECIDE_MANY)}:</p>`, '<ul>', ...decide.map(({ username, url }) => `<li>${link(url, username)}</li>`), '</ul>');
  }
  if (links.deployment) body.push(`<p>${link(links.deployment, 'Open the deployment')}</p>`);
  body.push('<p style="color:#666">— Interlock</p>');
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.4;color:#111">',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

/** Slack's mrkdwn: `&`, `<` and `>` escaped, so a value can neither link nor `<!channel>`. */
const mrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const slackLink = (url: string, label: string): string => `<${url.replace(/[<>|]/g, encodeURIComponent)}|${mrkdwn(label).replace(/\|/g, '¦')}>`;
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** People listed by name before "and N more" in a shared channel. */
const SLACK_DECIDE_LIMIT = 10;
/** Slack's limit for a text object. */
const SLACK_TEXT_LIMIT = 3000;

/**
 * A Slack incoming-webhook message. A channel is read by many, so each person who may act finds
 * their own decision link by name; the link still asks them to sign in.
 */
export function renderSlack(event: CloudEvent, { links, personal = false }: RenderOptions): SlackMessage {
  const { headline, facts, sections } = describe(event, personal);
  const blocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${mrkdwn(headline)}*`, SLACK_TEXT_LIMIT) } }];
  if (facts.length > 0) {
    blocks.push({
      type: 'section',
      fields: facts.slice(0, 10).map(([label, value]) => ({ type: 'mrkdwn', text: clip(`*${mrkdwn(label)}*\n${mrkdwn(value)}`, 2000) })),
    });
  }
  for (const { heading, text } of sections) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${mrkdwn(heading)}*\n${mrkdwn(text)}`, SLACK_TEXT_LIMIT) } });
  }
  const decide = links.decide ?? [];
  if (decide.length > 0) {
    // Whole links only: a link cut short would lead nowhere.
    const lead = 'Decide, each with your own link (you will be asked to sign in): ';
    const named: string[] = [];
    for (const { username, url } of decide.slice(0, SLACK_DECIDE_LIMIT)) {
      const next = slackLink(url, username);
      if (lead.length + [...named, next].join(' · ').length > SLACK_TEXT_LIMIT - 60) break;
      named.push(next);
    }
    const more = decide.length > named.length ? ` and ${decide.length - named.length} more: open the deployment` : '';
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${lead}${named.join(' · ')}${more}` }] });
  }
  if (links.deployment && /^https?:\/\//i.test(links.deployment)) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the deployment' }, url: links.deployment }] });
  }
  const text = links.deployment ? `${headline} ${links.deployment}` : headline;
  return { text: mrkdwn(text), blocks };
}

const AUDIT_WORDS: Record<AuditAction, string> = {
  'signed-in': 'signed in',
  'signed-out': 'signed out',
  'sign-in-refused': 'sign-in refused',
  refused: 'refused',
  'config-reloaded': 'config reloaded',
  'config-refused': 'config change refused',
};

/** An audit record in one line: who, what, why, where. */
export function auditLine({ data }: AuditEvent): string {
  const who = data.actor ? `${data.actor.username}${data.actor.via ? ` (${data.actor.via})` : ''}` : 'someone unknown';
  const what = data.action.startsWith('config') ? AUDIT_WORDS[data.action] : `${who}: ${AUDIT_WORDS[data.action]}`;
  const why = data.reason ? ` — ${data.reason}${data.code ? ` (${data.code})` : ''}` : '';
  const where = data.request ? ` [${data.request.method} ${data.request.path}]` : data.config ? ` [${data.config.source}]` : '';
  return `${what}${why}${where}`;
}

/** An audit record for Slack: one line, escaped like every other message. */
export function renderAuditSlack(event: AuditEvent): SlackMessage {
  return { text: clip(`Interlock audit: ${auditLine(event)}`, SLACK_TEXT_LIMIT), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*Interlock audit*\n${mrkdwn(auditLine(event))}`, SLACK_TEXT_LIMIT) } }] };
}
