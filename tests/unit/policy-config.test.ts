import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../config/load.js';
import { problemsOf } from '../support/config-problems.js';

/** Three teams and two projects; `policies` is YAML indented by 2. */
const withPolicies = (policies: string) => `teams:
  - { id: security, name: Security }
  - { id: release-managers, name: Release managers }
  - { id: sre-leads, name: SRE leads }
projects:
  - id: hello-service
    name: Hello service
    environments: [qa, production]
    process:
      - { name: Deploy, type: script, run: ./deploy.sh }
  - id: payments
    name: Payments
    environments: [production, dr]
    process:
      - { name: Deploy, type: script, run: ./deploy.sh }
policies:
${policies}`;

const PRODUCTION = `  - environments: [production]
    approvals:
      rules: [{teams: [security], count: 1}, {teams: [release-managers], count: 1}]
      preventSelfApproval: true
    window: {days: [Mon, Tue, Wed, Thu], from: "09:00", to: "16:00", timezone: Europe/London}
    freezes: [{from: 2026-12-20T00:00:00Z, to: 2027-01-04T00:00:00Z, reason: Year-end freeze, every: year}]
    override: {teams: [sre-leads]}
`;

describe('policies: in the config', () => {
  it('accepts a production policy as docs/change-control.md writes it, with its defaults', () => {
    const config = parseConfig(withPolicies(PRODUCTION), 'interlock.yaml');
    expect(config.policies).toHaveLength(1);
    const [policy] = config.policies;
    expect(policy).toMatchObject({
      environments: ['production'],
      onClosed: 'wait',
      window: { days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timezone: 'Europe/London' },
      freezes: [{ reason: 'Year-end freeze', every: 'year' }],
      override: { teams: ['sre-leads'] },
    });
    expect(policy!.approvals!.rules).toEqual([{ teams: ['security'], count: 1 }, { teams: ['release-managers'], count: 1 }]);
  });

  it('examples/change-control.yaml is a valid config with one production policy', () => {
    const config = loadConfig(fileURLToPath(new URL('../../examples/change-control.yaml', import.meta.url)));
    expect(config.policies).toEqual([expect.objectContaining({ environments: ['production'], override: { teams: ['sre-leads'] } })]);
    expect(config.users.find((user) => user.username === 'mlee')?.teams).toContain('sre-leads');
  });

  it('has no policies when the config names none', () => {
    expect(parseConfig(withPolicies('  []\n'), 'interlock.yaml').policies).toEqual([]);
  });

  it('narrows a policy to projects, whose environments it must name', () => {
    const config = parseConfig(withPolicies('  - { environments: [dr], projects: [payments], onClosed: fail, window: {days: [Sat], from: "00:00", to: "24:00", timezone: UTC} }\n'), 'x.yaml');
    expect(config.policies[0]).toMatchObject({ environments: ['dr'], projects: ['payments'], onClosed: 'fail' });
  });
});

describe('policies: refusals, by path', () => {
  it('names an unknown team of a rule and of the override', () => {
    const text = withPolicies(PRODUCTION.replace('teams: [security]', 'teams: [secops]').replace('teams: [sre-leads]', 'teams: [sre, sre-leads]'));
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining(['policies[0].approvals.rules[0].teams[0]: unknown team "secops"', 'policies[0].override.teams[0]: unknown team "sre"']),
    );
    expect(problemsOf(text)).toHaveLength(2);
  });

  it('names an unknown time zone, a bad day and a window whose from is not before its to', () => {
    const text = withPolicies(PRODUCTION.replace('[Mon, Tue, Wed, Thu], from: "09:00", to: "16:00", timezone: Europe/London', '[Mon, Funday], from: "16:00", to: "09:00", timezone: Europe/Londn'));
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        'policies[0].window.timezone: not an IANA time zone (e.g. Europe/London, America/New_York, UTC)',
        expect.stringMatching(/^policies\[0\]\.window\.days\[1\]: "Funday" is not a day/),
        expect.stringMatching(/^policies\[0\]\.window\.to: from \(16:00\) must be before to \(09:00\)/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('names a time that is not HH:MM', () => {
    const problems = problemsOf(withPolicies(PRODUCTION.replace('from: "09:00"', 'from: "9am"')));
    expect(problems).toEqual(['policies[0].window.from: a time of day as HH:MM, from 00:00 to 24:00']);
  });

  it('names a freeze that ends before it begins, one without a reason, and one without an offset', () => {
    const text = withPolicies(`  - environments: [production]
    freezes:
      - {from: 2027-01-04T00:00:00Z, to: 2026-12-20T00:00:00Z, reason: Backwards}
      - {from: 2026-12-20T00:00:00Z, to: 2027-01-04T00:00:00Z}
      - {from: "2026-12-20 00:00", to: 2027-01-04T00:00:00Z, reason: No offset}
      - {from: 2026-01-01T00:00:00Z, to: 2027-06-01T00:00:00Z, reason: Too long, every: year}
      - {from: 2026-01-01T00:00:00Z, to: 2026-01-02T00:00:00Z, reason: Monthly, every: month}
`);
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        'policies[0].freezes[0].to: from (2027-01-04T00:00:00Z) must be before to (2026-12-20T00:00:00Z)',
        'policies[0].freezes[1].reason: give the freeze a reason: people read it while they wait',
        expect.stringMatching(/^policies\[0\]\.freezes\[2\]\.from: a date and time with its offset/),
        'policies[0].freezes[3].every: a freeze that recurs every year must last less than a year',
        'policies[0].freezes[4].every: the only recurrence is every: year',
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('names an unknown environment and project', () => {
    const problems = problemsOf(withPolicies('  - { environments: [prod], projects: [hello-service, billing], approvals: {rules: [{teams: [security]}]} }\n'));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^policies\[0\]\.projects\[1\]: unknown project "billing"/),
        expect.stringMatching(/^policies\[0\]\.environments\[0\]: unknown environment "prod"/),
      ]),
    );
    expect(problems).toHaveLength(2);
  });

  it('reads checks as a check step\'s sources and names a bad one by path; reads supersede and holdQueueWhileWaiting as booleans', () => {
    const checked = parseConfig(withPolicies(`${PRODUCTION}    checks: [{name: No paging alerts, alertmanager: {url: 'http://am:9093', matchers: {severity: page}}, every: 1m}]\n`));
    expect(checked.policies[0]!.checks).toEqual([
      { name: 'No paging alerts', alertmanager: { url: 'http://am:9093', matchers: { severity: 'page' } }, every: 60_000, timeout: 600_000, requestTimeout: 10_000 },
    ]);
    expect(problemsOf(withPolicies(`${PRODUCTION}    checks: [{name: Status, http: {url: x, pass: "@.status = 'ok'"}}, {name: Nothing}]\n`))).toEqual([
      "policies[0].checks[0].http.pass: a JSONPath filter expression (RFC 9535) on the answer as @, like @.status == 'ok'",
      'policies[0].checks[1].name: give http or alertmanager (one of them)',
    ]);
    const superseding = parseConfig(withPolicies(`${PRODUCTION}    supersede: true\n    holdQueueWhileWaiting: true\n`));
    expect(superseding.policies[0]).toMatchObject({ supersede: true, holdQueueWhileWaiting: true });
    expect(problemsOf(withPolicies(`${PRODUCTION}    supersede: yes please\n    holdQueueWhileWaiting: 1\n`))).toEqual([
      expect.stringMatching(/^policies\[0\]\.supersede: /),
      expect.stringMatching(/^policies\[0\]\.holdQueueWhileWaiting: /),
    ]);
  });

  it('refuses a process step of type policy: only the server puts policy gates in a deployment', () => {
    const text = withPolicies(PRODUCTION).replace('- { name: Deploy, type: script, run: ./deploy.sh }', '- { name: Gate, type: policy }');
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^projects\[0\]\.process\[0\]/)]);
  });

  it('refuses a policy that enforces nothing, an unknown onClosed and an unknown field', () => {
    expect(problemsOf(withPolicies('  - { environments: [production] }\n'))).toEqual([
      'policies[0]: this policy enforces nothing: give it checks, approvals, a window or freezes',
    ]);
    expect(problemsOf(withPolicies('  - { environments: [production], onClosed: skip, freezes: [] , approvals: {rules: [{teams: [security]}]} }\n'))).toEqual([
      expect.stringMatching(/^policies\[0\]\.onClosed: /),
    ]);
    expect(problemsOf(withPolicies('  - { environments: [production], approvals: {rules: [{teams: [security]}]}, windows: [] }\n'))).toEqual([
      expect.stringMatching(/^policies\[0\]: .*windows/),
    ]);
  });
});
