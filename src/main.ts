#!/usr/bin/env node
import { Command } from 'commander';
import type { App } from './app.js';
import { registerClientCommands } from './cli/index.js';
import { ConfigError, loadConfig } from './config.js';
import { limitHeapGrowth } from './heap.js';

// The server's modules (Fastify, the database drivers, argon2, nodemailer) are imported only by
// the commands that need them, so that the client commands start in a fraction of the time.
const serverModules = async () => {
  // Before the server's modules load, so that loading them does not grow the heap already.
  limitHeapGrowth();
  return {
    ...(await import('./app.js')),
    ...(await import('./db/database.js')),
    ...(await import('./db/migrate.js')),
    ...(await import('./demo/seed.js')),
    ...(await import('./jobs/loop.js')),
  };
};

const SHUTDOWN_GRACE_MS = 10_000;

const program = new Command()
  .name('elevate')
  .description('Privileged Identity Management for privileged access groups');

program
  .command('serve')
  .description('Migrate the database and serve the API and the portal')
  .option('--demo', 'start on a fresh database (./data/demo.db) with an example organisation')
  .action(async (options: { demo?: boolean }) => {
    const { buildApp, demoConfig, describeDemo, seedDemo } = await serverModules();
    const config = options.demo ? demoConfig(process.env) : loadConfig();
    const app = await buildApp(config, {
      logger: { level: process.env.ELEVATE_LOG_LEVEL ?? 'info' },
    });

    printBootstrapPassword(app);
    if (options.demo) {
      process.stdout.write(describeDemo(await seedDemo(app, config), config.publicUrl));
    }

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.server.log.info({ signal }, 'shutting down');

      // In-flight requests and the jobs' current batch get a bounded time to finish; a stuck
      // one must not keep the process from stopping when its supervisor asks.
      setTimeout(() => {
        app.server.log.error('shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          app.server.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));

    try {
      await app.server.listen({ port: config.port, host: config.host });
    } catch (error) {
      await app.close();
      throw error;
    }
    app.jobs.start();
    app.outbox.start();
  });

program
  .command('jobs')
  .description('The side effects of time passing: expiries, reminders, approval timeouts')
  .command('run')
  .description('Do everything that is due now, in one pass, then exit (for an external scheduler)')
  .action(async () => {
    const { buildApp, total } = await serverModules();
    const config = loadConfig();
    const app = await buildApp(config, {
      logger: { level: process.env.ELEVATE_LOG_LEVEL ?? 'info' },
    });
    try {
      printBootstrapPassword(app);
      const report = await app.jobs.runPass();
      const done = Object.entries(report.processed)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ');
      process.stdout.write(
        `Handled ${total(report)} due items (${done}) in ${report.batches} batches, ` +
          `${Math.round(report.durationMs)} ms.\n`,
      );
    } finally {
      await app.close();
    }
  });

program
  .command('migrate')
  .description('Bring the database schema up to date, then exit')
  .action(async () => {
    const { openDatabase, migrateToLatest } = await serverModules();
    const config = loadConfig();
    const db = await openDatabase(config.databaseUrl);
    try {
      const applied = await migrateToLatest(db);
      process.stdout.write(
        applied.length ? `Applied ${applied.join(', ')}\n` : 'The database is up to date.\n',
      );
    } finally {
      await db.close();
    }
  });

/** The bootstrap admin's generated password, on the first start only. */
function printBootstrapPassword(app: App): void {
  if (!app.bootstrap?.password) return;
  // Printed once, to the terminal only: it is never logged or stored in clear.
  process.stdout.write(
    `\nCreated ${app.bootstrap.userPrincipalName} with the password ` +
      `${app.bootstrap.password}\nKeep it now: it will not be shown again.\n\n`,
  );
}

registerClientCommands(program);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`elevate: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`elevate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
