import { after, before, describe } from 'node:test';
import { buildApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { RoleIds } from '../../src/directory/roles.js';
import { FakeClock } from './clock.js';
import { databaseTargets, type DatabaseTarget, type TestDatabase } from './databases.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';
export const PUBLIC_URL = 'http://elevate.test:8080';
export const PORTAL_ORIGIN = 'http://elevate.test:8080';

export interface Response<T = Json> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

// Test bodies are read as loosely typed JSON; assertions check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface RequestOptions {
  /** The user to act as, with a token issued at the fake clock's now; the admin by default. */
  as?: TestUser;
  /** Act with a token whose `amr` proves multi-factor authentication. */
  mfa?: boolean;
  /** A raw token instead, or null for none at all. */
  token?: string | null;
  body?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: string;
  upn: string;
}

/** A running Elevate on a fresh database, driven in-process through its real HTTP stack. */
export class TestElevate {
  private counter = 0;

  private constructor(
    readonly app: App,
    readonly clock: FakeClock,
    readonly database: TestDatabase,
    readonly admin: TestUser,
  ) {}

  static async start(
    target: DatabaseTarget,
    env: Record<string, string> = {},
    options: Pick<AppOptions, 'notifier' | 'jobsSleeper'> = {},
  ) {
    const database = await target.create();
    const clock = new FakeClock();
    const config: Config = loadConfig({
      ELEVATE_DATABASE_URL: database.url,
      ELEVATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ELEVATE_PUBLIC_URL: PUBLIC_URL,
      ...env,
    });
    const app = await buildApp(config, { ...options, clock, db: database.db });

    const adminRow = await database.db.kysely
      .selectFrom('users')
      .selectAll()
      .where('user_principal_name', '=', 'admin@elevate.local')
      .executeTakeFirstOrThrow();
    const admin = { id: adminRow.id, upn: adminRow.user_principal_name };
    return new TestElevate(app, clock, database, admin);
  }

  get dialect() {
    return this.app.db.dialect;
  }

  async request<T = Json>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    options: RequestOptions = {},
  ): Promise<Response<T>> {
    const token =
      options.token !== undefined
        ? options.token
        : await this.tokenFor(options.as ?? this.admin, options.mfa ?? false);
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;

    const response = await this.app.server.inject({
      method,
      url,
      headers,
      ...(options.form
        ? { payload: new URLSearchParams(options.form).toString() }
        : options.body !== undefined
          ? { payload: options.body as object }
          : {}),
      ...(options.form
        ? { headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } }
        : {}),
    });
    const text = response.body;
    return {
      status: response.statusCode,
      body: (text ? JSON.parse(text) : null) as T,
      headers: response.headers,
    };
  }

  /** Creates a user through the API as the bootstrap admin. */
  async createUser(
    options: {
      name?: string;
      userType?: 'Member' | 'Guest';
      password?: string;
      mail?: string;
    } = {},
  ) {
    const name = options.name ?? `user${++this.counter}`;
    const upn = `${name}@elevate.local`;
    const response = await this.request('POST', '/v1.0/users', {
      body: {
        displayName: name,
        userPrincipalName: upn,
        userType: options.userType ?? 'Member',
        accountEnabled: true,
        ...(options.mail ? { mail: options.mail } : {}),
        ...(options.password ? { passwordProfile: { password: options.password } } : {}),
      },
    });
    if (response.status !== 201) throw new Error(`createUser: ${JSON.stringify(response.body)}`);
    return { id: response.body.id as string, upn };
  }

  /** Creates a group through the API as the bootstrap admin. */
  async createGroup(options: { name?: string; roleAssignable?: boolean } = {}) {
    const name = options.name ?? `group${++this.counter}`;
    const response = await this.request('POST', '/v1.0/groups', {
      body: {
        displayName: name,
        mailNickname: name.replace(/[^A-Za-z0-9]/g, ''),
        securityEnabled: true,
        mailEnabled: false,
        isAssignableToRole: options.roleAssignable ?? false,
      },
    });
    if (response.status !== 201) throw new Error(`createGroup: ${JSON.stringify(response.body)}`);
    return { id: response.body.id as string, displayName: name };
  }

  /** Gives a principal a directory role through the API as the bootstrap admin. */
  async assignRole(principalId: string, roleDefinitionId: string) {
    const response = await this.request('POST', '/v1.0/roleManagement/directory/roleAssignments', {
      body: { roleDefinitionId, principalId, directoryScopeId: '/' },
    });
    if (response.status !== 201) throw new Error(`assignRole: ${JSON.stringify(response.body)}`);
    return response.body.id as string;
  }

  async createAdmin(role: string = RoleIds.privilegedRoleAdministrator) {
    const user = await this.createUser();
    await this.assignRole(user.id, role);
    return user;
  }

  /** A token for the user, issued now by the fake clock, as the token endpoint would. */
  tokenFor(user: TestUser, mfa = false): Promise<string> {
    const amr = mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'];
    return this.app.services.tokens.issue({ oid: user.id, upn: user.upn, amr });
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.database.drop();
  }
}

/**
 * Runs `body` once per database target, each with its own Elevate on a fresh database.
 * `body` receives a getter, because the instance exists only once `before` has run.
 */
export function describeEachDatabase(
  title: string,
  body: (elevate: () => TestElevate, target: DatabaseTarget) => void,
  env: Record<string, string> = {},
  options: Pick<AppOptions, 'notifier' | 'jobsSleeper'> = {},
): void {
  for (const target of databaseTargets) {
    describe(`${title} [${target.name}]`, () => {
      let instance: TestElevate | undefined;
      before(async () => {
        instance = await TestElevate.start(target, env, options);
      });
      after(async () => {
        await instance?.close();
      });
      body(() => {
        if (!instance) throw new Error('Elevate has not started');
        return instance;
      }, target);
    });
  }
}
