import { randomBytes } from 'node:crypto';
import { AuditLog } from './audit/audit-log.js';
import { auditRoutes } from './audit/routes.js';
import type { Config } from './config.js';
import { openDatabase, type Db } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { AccessService } from './directory/access.js';
import { DirectoryPermissions } from './directory/permissions.js';
import { directoryRoutes } from './directory/routes.js';
import { DirectoryService } from './directory/service.js';
import { createAuthenticator } from './http/authenticate.js';
import { batchRoutes } from './http/batch.js';
import { DEFAULT_PORTAL_DIR, portalRoutes } from './http/portal.js';
import { Metrics } from './http/metrics.js';
import { createServer, type Server } from './http/server.js';
import { signInRoutes, totpRoutes, type IdentityRouteOptions } from './identity/routes.js';
import { SessionStore } from './identity/sessions.js';
import { SignInService } from './identity/sign-in.js';
import { TokenService } from './identity/tokens.js';
import { TotpMethods } from './identity/totp-methods.js';
import { Jobs } from './jobs/jobs.js';
import type { Sleeper } from './jobs/loop.js';
import { instrumentJobs } from './jobs/metrics.js';
import { JobsService } from './jobs/service.js';
import { ApprovalService } from './pim/approvals/service.js';
import { PimPermissions } from './pim/permissions.js';
import { policyRoutes } from './pim/policies/routes.js';
import { PolicyService } from './pim/policies/service.js';
import { PimReads } from './pim/reads.js';
import { pimRoutes } from './pim/routes.js';
import { RequestService } from './pim/service.js';
import type { Notifier } from './notify/events.js';
import { registerOutboxMetrics } from './notify/metrics.js';
import { OutboxNotifier } from './notify/notifier.js';
import { outboxRoutes, wakeAfterWrites } from './notify/routes.js';
import { OutboxAdmin } from './notify/service.js';
import { createMailTransport } from './notify/transport.js';
import { OutboxWorker } from './notify/worker.js';
import { SystemClock, type Clock } from './shared/clock.js';

export interface AppOptions {
  clock?: Clock;
  logger?: boolean | { level: string };
  /** An already open database; the app then leaves closing it to the caller. */
  db?: Db;
  notifier?: Notifier;
  /** How the jobs loop waits; tests pass one that never waits on a real timer. */
  jobsSleeper?: Sleeper;
  /** Where the built portal is; `dist/portal` by default. */
  portalDir?: string;
}

export interface App {
  server: Server;
  db: Db;
  clock: Clock;
  services: Services;
  /** The side effects of time passing; `elevate serve` starts their loop. */
  jobs: Jobs;
  metrics: Metrics;
  /** Sends the emails in the outbox; `elevate serve` starts its loop. */
  outbox: OutboxWorker;
  /** The bootstrap administrator's generated password, on the first start only. */
  bootstrap: { userPrincipalName: string; password: string | null } | null;
  close(): Promise<void>;
}

export interface Services {
  audit: AuditLog;
  access: AccessService;
  directory: DirectoryService;
  tokens: TokenService;
  sessions: SessionStore;
  signIn: SignInService;
  totp: TotpMethods;
  policies: PolicyService;
  approvals: ApprovalService;
  requests: RequestService;
  reads: PimReads;
}

/** The composition root: configuration, then the database, then services, then HTTP. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? new SystemClock();
  const db = options.db ?? (await openDatabase(config.databaseUrl));
  await migrateToLatest(db);

  const audit = new AuditLog(clock);
  const access = new AccessService(db.kysely, clock);
  const directory = new DirectoryService(
    db,
    clock,
    audit,
    access,
    new DirectoryPermissions(access),
    config.domain,
  );
  const tokens = await TokenService.load(db, clock, config.publicUrl);
  const sessions = new SessionStore(db, clock);
  const signIn = new SignInService(db, clock, audit);
  const totp = new TotpMethods(db, clock, audit);
  const pimPermissions = new PimPermissions(access);
  const policies = new PolicyService(db, clock, audit, pimPermissions);
  const notifier =
    options.notifier ??
    new OutboxNotifier({ clock, access, publicUrl: config.publicUrl, domain: config.domain });
  // The jobs loop is built once the server exists; writes wake it from then on.
  let wakeJobs: (dueAt?: readonly Date[]) => void = () => {};
  const approvals = new ApprovalService(db, clock, audit, access, notifier, () => wakeJobs());
  const requests = new RequestService(
    db,
    clock,
    audit,
    pimPermissions,
    policies,
    approvals,
    {
      extensionWindowDays: config.extensionWindowDays,
      renewalWindowDays: config.renewalWindowDays,
    },
    notifier,
    (dueAt) => wakeJobs(dueAt),
  );
  const reads = new PimReads(db, clock, pimPermissions, approvals);
  const services: Services = {
    audit,
    access,
    directory,
    tokens,
    sessions,
    signIn,
    totp,
    policies,
    approvals,
    requests,
    reads,
  };

  await directory.ensureBuiltInRoles();
  const bootstrap = await directory.bootstrapAdmin(config.adminPassword, () =>
    randomBytes(18).toString('base64url'),
  );

  const server = await createServer({
    clock,
    logger: options.logger ?? false,
    tls: config.tls,
    publicUrl: config.publicUrl,
  });
  const metrics = new Metrics();
  metrics.instrument(server);
  const jobsService = new JobsService(db, clock, audit, approvals, notifier);
  const jobs = new Jobs(jobsService, clock, server.log, undefined, options.jobsSleeper);
  instrumentJobs(metrics, jobsService, clock);
  wakeJobs = (dueAt) => jobs.wake(dueAt);
  const outbox = new OutboxWorker(db, clock, createMailTransport(config), {
    from: config.mailFrom,
    log: server.log,
  });
  wakeAfterWrites(server, outbox);
  jobs.onWork(() => outbox.wake());
  registerOutboxMetrics(metrics.registry, db);

  const portalOrigin = new URL(config.publicUrl).origin;
  const authenticator = createAuthenticator(db, tokens, sessions, portalOrigin);
  const identityOptions: IdentityRouteOptions = {
    signIn,
    tokens,
    sessions,
    totp,
    portalOrigin,
    secureCookies: config.publicUrl.startsWith('https:'),
  };

  server.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  await server.register(signInRoutes, identityOptions);
  await server.register(
    async (v1) => {
      v1.addHook('onRequest', async (request) => {
        request.caller = await authenticator.authenticate(request);
      });
      await v1.register(totpRoutes, identityOptions);
      await v1.register(directoryRoutes, { directory, publicUrl: config.publicUrl });
      await v1.register(auditRoutes, { db, access, publicUrl: config.publicUrl });
      await v1.register(policyRoutes, { policies, publicUrl: config.publicUrl });
      await v1.register(pimRoutes, { requests, reads, approvals, publicUrl: config.publicUrl });
      await v1.register(outboxRoutes, {
        outbox: new OutboxAdmin(db, clock, audit, access, () => outbox.wake()),
        publicUrl: config.publicUrl,
      });
      await v1.register(batchRoutes);
    },
    { prefix: '/v1.0' },
  );
  await server.register(portalRoutes, {
    dir: options.portalDir ?? DEFAULT_PORTAL_DIR,
    clock,
    secure: Boolean(config.tls) || config.publicUrl.startsWith('https:'),
  });

  return {
    server,
    db,
    clock,
    services,
    jobs,
    metrics,
    outbox,
    bootstrap,
    async close() {
      await jobs.stop();
      await outbox.stop();
      await server.close();
      if (!options.db) await db.close();
    },
  };
}
