import fs from 'node:fs';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import type { Clock } from '../shared/clock.js';
import { isGuid } from '../shared/ids.js';
import { GraphError, graphErrorBody } from './errors.js';

export type Server = FastifyInstance<
  HttpServer,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ServerOptions {
  clock: Clock;
  logger: boolean | { level: string };
  tls?: { certFile: string; keyFile: string } | undefined;
  publicUrl: string;
}

/** Free text fields are capped well below this; it only stops oversized bodies early. */
const BODY_LIMIT = 256 * 1024;

export async function createServer(options: ServerOptions): Promise<Server> {
  const https = options.tls
    ? { key: fs.readFileSync(options.tls.keyFile), cert: fs.readFileSync(options.tls.certFile) }
    : null;

  const server = Fastify({
    logger: options.logger,
    ...(https ? { https } : {}),
    bodyLimit: BODY_LIMIT,
    genReqId: (req) => {
      const given = req.headers['client-request-id'];
      return typeof given === 'string' && isGuid(given) ? given : randomUUID();
    },
    rewriteUrl: (req) => rewriteGraphPath(req.url ?? '/'),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as Server;

  server.decorateRequest('caller', null);
  server.addHook('onSend', async (request, reply) => {
    reply.header('request-id', request.id);
    reply.header('client-request-id', request.id);
  });

  // Over plain HTTP, `upgrade-insecure-requests` would make browsers fetch the portal's and the
  // docs' own scripts over HTTPS, which nothing serves; HSTS means nothing there either.
  const secure = Boolean(options.tls) || options.publicUrl.startsWith('https:');
  // The security headers' middleware is built once. The Fastify plugin for it builds it anew for
  // every answer, parsing the content security policy each time: a twentieth of the CPU of a short
  // request.
  const securityHeaders = helmet({
    hsts: secure,
    contentSecurityPolicy: secure ? true : { directives: { upgradeInsecureRequests: null } },
  });
  server.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined));
  });
  await server.register(cookie);
  await server.register(formbody);
  await server.register(rateLimit, { global: false });
  await server.register(swagger, {
    openapi: {
      info: {
        title: 'Elevate',
        description: 'Privileged Identity Management for groups, in the dialect of Microsoft Graph',
        version: '0.1.0',
      },
      servers: [{ url: options.publicUrl }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await server.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) =>
      secure ? header : header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  server.get('/openapi.json', { schema: { hide: true } }, () => server.swagger());

  server.setErrorHandler((error: FastifyError | GraphError, request, reply) => {
    const { status, code, message } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply
      .status(status)
      .send(graphErrorBody(code, message, request.id, options.clock.now()));
  });

  server.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        graphErrorBody(
          'ResourceNotFound',
          `Resource not found for the segment in ${request.method} ${request.url.split('?')[0]}.`,
          request.id,
          options.clock.now(),
        ),
      ),
  );

  return server;
}

function describeError(error: FastifyError | GraphError): {
  status: number;
  code: string;
  message: string;
} {
  if (error instanceof GraphError) {
    return { status: error.status, code: error.code, message: error.message };
  }
  if (error.validation) {
    const first = error.validation[0];
    const where = error.validationContext ?? 'request';
    const field = first?.instancePath
      ? `${where}${first.instancePath.replaceAll('/', '.')}`
      : where;
    const detail =
      first?.keyword === 'additionalProperties'
        ? `has a property that is not allowed: ${String(first.params.additionalProperty)}`
        : (first?.message ?? 'is invalid');
    return { status: 400, code: 'BadRequest', message: `${field} ${detail}.` };
  }

  const status = error.statusCode ?? 500;
  if (status === 429) {
    return { status, code: 'TooManyRequests', message: 'Too many requests; try again later.' };
  }
  if (status === 413) {
    return { status, code: 'RequestEntityTooLarge', message: 'The request body is too large.' };
  }
  if (status >= 400 && status < 500) {
    return { status, code: 'BadRequest', message: error.message };
  }
  return { status: 500, code: 'InternalServerError', message: 'An internal error occurred.' };
}

/**
 * Graph clients call functions with OData syntax, `.../filterByCurrentUser(on='principal')`,
 * sometimes with the quotes percent-encoded. The router cannot match parentheses and quotes, so
 * the path is rewritten once, here, to `.../filterByCurrentUser/principal`.
 */
export function rewriteGraphPath(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  const rewritten = path.replace(
    /\/filterByCurrentUser\(on=(?:'|%27)([A-Za-z]+)(?:'|%27)\)(?=\/|$)/,
    '/filterByCurrentUser/$1',
  );
  return rewritten + query;
}
